"""``schema-drift``: from a given day on, observations carry a new field, a float age and a new marker.

What and when: every observation in a partition from day index ``FROM_DAY``
(None, the default, means the study's middle day: ``n_days // 2``) on is
rewritten with three changes: a new top-level field ``NEW_FIELD``
(``water_temp_c``, 26.0 to 30.0 with one decimal, (seed, fish,
``FIELD_DRIFT_TEMP``, age)), ``age_days`` written as a float (``5.0``), and a
new marker ``NEW_MARKER`` (``gene_d``, true with probability 0.5, (seed, fish,
``FIELD_DRIFT_GENE``)) inside ``genetic_markers``. What a correct pipeline must
do: keep every row. ``age_days`` is still the same whole number (``jq -c .``
in the upload prints ``5.0`` as ``5``, so the lake holds integers; a pipeline
reading the raw files must accept ``5.0`` as 5); the new field and the new
marker are not columns of ``joined_fish_data``: a crawler registers a new
table version with ``water_temp_c`` and ``gene_d`` in ``genetic_markers``,
the table's schema does not change.
"""

from __future__ import annotations

from zfish.generator.scenarios.base import (
    FIELD_DRIFT_GENE,
    FIELD_DRIFT_TEMP,
    Tree,
    draw,
    dumps,
    observation_entity,
    read_json,
    write,
)

NAME = "schema-drift"
FROM_DAY: int | None = None
NEW_FIELD = "water_temp_c"
NEW_MARKER = "gene_d"


def first_day(tree: Tree) -> int:
    """The day index from which observations drift."""
    return tree.spec.n_days // 2 if FROM_DAY is None else FROM_DAY


def drifted(record: dict[str, object], tree: Tree) -> bytes:
    """The record as written from the drift day on (``json.dump(indent=2)``; 5.0 stays 5.0)."""
    fish, age = observation_entity(str(record["image_id"]))
    temp = round(26.0 + 4.0 * draw(tree.spec, FIELD_DRIFT_TEMP, fish, age), 1)
    markers = dict(record["genetic_markers"])  # type: ignore[call-overload]
    markers[NEW_MARKER] = draw(tree.spec, FIELD_DRIFT_GENE, fish) < 0.5
    out = dict(record)
    out["age_days"] = float(record["age_days"])  # type: ignore[arg-type]
    out["genetic_markers"] = markers
    out[NEW_FIELD] = temp
    return dumps(out)


def apply(tree: Tree) -> dict[str, int]:
    changed = 0
    start = first_day(tree)
    for d, day in tree.days():
        if d < start:
            continue
        folder = tree.folder("observations", day)
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            write(path, drifted(read_json(path), tree))
            changed += 1
    return {"from day": start, "observations drifted": changed}
