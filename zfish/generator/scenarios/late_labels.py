"""``late-labels``: some outcomes arrive 40 to 60 days after hatching, beyond the 36-day window.

What and when: each labelled fish is late with probability ``RATE`` (0.2),
drawn from (seed, fish, ``FIELD_LATE``); its outcome record leaves the
``outcomes.json`` of its label day (hatch + ``label_age``) and is appended, in
fish order, to the ``outcomes.json`` of day hatch + D, with D drawn from
``DELAY_DAYS`` (40 to 60, both included; (seed, fish, ``FIELD_LATE_DELAY``)).
A label whose day D falls after the study's end is never delivered; an outcomes
day left with no record has no folder, as a day without labels in the seed.
On disk, a late outcome lies in the partition of the evening it is delivered
on (the day it arrives, which ``zfish upload --until`` and ``zfish feed`` use),
as a late lab result lands in that day's delivery. What a correct pipeline must
do: join the label to every observation of its fish although they were all
made more than 36 days earlier. The seed's fixed 36-day window loses those
rows (``--semantics seed``); zfish widens its read to the fish's first
observation (``--semantics zfish``) and loses none.
"""

from __future__ import annotations

from datetime import timedelta

from zfish.generator.scenarios.base import (
    FIELD_LATE,
    FIELD_LATE_DELAY,
    Tree,
    draw,
    draw_int,
    dumps,
    fish_number,
    read_json,
    remove_empty,
    write,
)

NAME = "late-labels"
RATE = 0.2
DELAY_DAYS = (40, 60)


def delay(tree: Tree, fish: int) -> int | None:
    """Days after hatching the fish's outcome arrives, or None when it is on time."""
    if draw(tree.spec, FIELD_LATE, fish) >= RATE:
        return None
    return draw_int(tree.spec, FIELD_LATE_DELAY, fish, *DELAY_DAYS)


def apply(tree: Tree) -> dict[str, int]:
    spec = tree.spec
    moved: dict[int, list[dict[str, object]]] = {}
    late = lost = 0
    for _, day in tree.days():
        path = tree.folder("outcomes", day) / "outcomes.json"
        if not path.is_file():
            continue
        records = read_json(path)
        kept = []
        for record in records:
            fish = fish_number(str(record["fish_id"]))
            wait = delay(tree, fish)
            if wait is None:
                kept.append(record)
                continue
            late += 1
            arrival = fish // spec.hatch_rate + wait
            if arrival < spec.n_days:
                moved.setdefault(arrival, []).append(record)
            else:
                lost += 1
        if len(kept) != len(records):
            if kept:
                write(path, dumps(kept))
            else:
                path.unlink()
                remove_empty(path.parent)
    for arrival, records in sorted(moved.items()):
        path = tree.folder("outcomes", spec.start + timedelta(days=arrival)) / "outcomes.json"
        existing = read_json(path) if path.is_file() else []
        write(path, dumps(existing + sorted(records, key=lambda r: str(r["fish_id"]))))
    return {"late outcomes": late, "never delivered (after the study's end)": lost}
