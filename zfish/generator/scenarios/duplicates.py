"""``duplicates``: the same ``image_id`` twice in one day's partition, with different content.

What and when: each observation (of the study as generated) gets a twin with
probability ``RATE`` (0.02, (seed, fish, ``FIELD_DUPLICATE``, age)): a second
file ``{image_id}.dup.json`` in the same partition, the same record with
``length_mm`` plus ``DELTA_MM`` (0.3, rounded to 2 places) and the same
``timestamp``. What a correct pipeline must do: not pick one silently: both
records of the ``image_id`` are rejected ("duplicate image_id ... with
different content"), and the table has no row for it (``--semantics zfish``).
The seed's Hudi upsert keeps one of the two, which one unspecified (same
precombine ``timestamp``): ``--semantics seed`` expects one row per such
``image_id`` and leaves its ``length_mm`` out of the checksum.
"""

from __future__ import annotations

from zfish.generator.scenarios.base import (
    FIELD_DUPLICATE,
    Tree,
    draw,
    dumps,
    observation_entity,
    read_json,
    write,
)

NAME = "duplicates"
RATE = 0.02
DELTA_MM = 0.3
SUFFIX = ".dup.json"


def twinned(tree: Tree, image_id: str) -> bool:
    fish, age = observation_entity(image_id)
    return draw(tree.spec, FIELD_DUPLICATE, fish, age) < RATE


def apply(tree: Tree) -> dict[str, int]:
    twins = 0
    for _, day in tree.days():
        for path in tree.observation_files(day):
            if not twinned(tree, path.stem):
                continue
            record = read_json(path)
            record["length_mm"] = round(record["length_mm"] + DELTA_MM, 2)
            write(path.with_name(path.stem + SUFFIX), dumps(record))
            twins += 1
    return {"image ids delivered twice": twins}
