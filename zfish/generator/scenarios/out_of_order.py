"""``out-of-order``: a day's observations and images arrive only after later days' did.

What and when: each day with observations is held back with probability
``DAY_RATE`` (0.05, (seed, day, ``FIELD_OUT_OF_ORDER_DAY``)) for ``LAG_DAYS``
(2 to 4, (seed, day, ``FIELD_OUT_OF_ORDER_LAG``)); a day that would arrive
after the study's end is not held back. Its observation JSONs and PNGs move,
under their own names, into the partitions of the day they arrive (the evening
``zfish upload --until`` and ``zfish feed`` deliver them on: the lake's
``day=`` folders are delivery days, as the seed's upload script copies
folders); its own folders stay, empty, as the seed leaves days without files.
The records keep their own ``timestamp``, which is now older than their
partition's day. What a correct pipeline must do: lose none of them (the rows
land, in the partition they arrived in, on the evening after they arrive) and
join their labels as usual; a fish whose label day came before its held-back
observations still gets its label joined.
"""

from __future__ import annotations

import os
from datetime import timedelta

from zfish.generator.scenarios.base import (
    FIELD_OUT_OF_ORDER_DAY,
    FIELD_OUT_OF_ORDER_LAG,
    Tree,
    draw,
    draw_int,
)

NAME = "out-of-order"
DAY_RATE = 0.05
LAG_DAYS = (2, 4)


def lag(tree: Tree, d: int) -> int | None:
    """Days day index ``d`` is held back, or None when it arrives on time."""
    if draw(tree.spec, FIELD_OUT_OF_ORDER_DAY, d) >= DAY_RATE:
        return None
    later = draw_int(tree.spec, FIELD_OUT_OF_ORDER_LAG, d, *LAG_DAYS)
    return later if d + later < tree.spec.n_days else None


def apply(tree: Tree) -> dict[str, int]:
    days = moved = 0
    plan = []
    for d, day in tree.days():
        later = lag(tree, d)
        if later is not None and tree.observation_files(day):
            # The day's own files, listed before any move (a held-back day's files are
            # not carried on by a later held-back day).
            own = {k: sorted(tree.folder(k, day).iterdir()) for k in ("observations", "images")}
            plan.append((day + timedelta(days=later), own))
    for when, own in plan:
        days += 1
        for kind, entries in own.items():
            target = tree.folder(kind, when)
            target.mkdir(parents=True, exist_ok=True)
            for entry in entries:
                os.rename(entry, target / entry.name)
                moved += kind == "observations"
    return {"days held back": days, "observations moved": moved}
