"""``redelivery``: a day's observation files are delivered again days later, some corrected.

What and when: each day with observations is redelivered with probability
``DAY_RATE`` (0.1, drawn from (seed, day, ``FIELD_REDELIVER_DAY``)), ``LAG_DAYS``
later (2 to 5, (seed, day, ``FIELD_REDELIVER_LAG``)); a redelivery after the
study's end does not happen. Every observation file of that day is copied,
under its own name, into the partition of the redelivery day (the evening it is
delivered on, the partition ``zfish upload --until`` and ``zfish feed`` deliver
it in, as a supplier's re-send lands in that day's drop); images are not
re-sent. Each copy is corrected with probability ``FIX_RATE`` (0.3, (seed,
fish, ``FIELD_REDELIVER_FIX``, age)): ``length_mm`` plus ``FIX_MM`` (0.05,
rounded to 2 places) and ``timestamp`` the redelivery day at midnight UTC; the
others are byte-identical copies. What a correct pipeline must do: keep each
``image_id`` once, in its first partition: an identical copy changes nothing,
a corrected copy (newer ``timestamp``) replaces the values of the original
(precombine on ``timestamp``).
"""

from __future__ import annotations

from datetime import timedelta

from zfish.generator.scenarios.base import (
    FIELD_REDELIVER_DAY,
    FIELD_REDELIVER_FIX,
    FIELD_REDELIVER_LAG,
    Tree,
    draw,
    draw_int,
    dumps,
    observation_entity,
    read_json,
    write,
)

NAME = "redelivery"
DAY_RATE = 0.1
LAG_DAYS = (2, 5)
FIX_RATE = 0.3
FIX_MM = 0.05


def lag(tree: Tree, d: int) -> int | None:
    """Days after day index ``d`` its files are delivered again, or None."""
    if draw(tree.spec, FIELD_REDELIVER_DAY, d) >= DAY_RATE:
        return None
    later = draw_int(tree.spec, FIELD_REDELIVER_LAG, d, *LAG_DAYS)
    return later if d + later < tree.spec.n_days else None


def corrected(tree: Tree, image_id: str) -> bool:
    fish, age = observation_entity(image_id)
    return draw(tree.spec, FIELD_REDELIVER_FIX, fish, age) < FIX_RATE


def apply(tree: Tree) -> dict[str, int]:
    copies = fixed = days = 0
    plan = []
    for d, day in tree.days():
        later = lag(tree, d)
        files = tree.observation_files(day)
        if later is not None and files:
            plan.append((day, day + timedelta(days=later), files))
    # All copies are taken from the days as generated, before any is written.
    for _, when, files in plan:
        days += 1
        target = tree.folder("observations", when)
        for path in files:
            data = path.read_bytes()
            if corrected(tree, path.stem):
                record = read_json(path)
                record["length_mm"] = round(record["length_mm"] + FIX_MM, 2)
                record["timestamp"] = f"{when.isoformat()}T00:00:00Z"
                data = dumps(record)
                fixed += 1
            write(target / path.name, data)
            copies += 1
    return {"days redelivered": days, "files re-sent": copies, "corrected": fixed}
