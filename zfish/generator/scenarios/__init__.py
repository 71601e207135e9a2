"""Seeded, composable faults on top of the study: ``zfish generate --scenario NAME[,NAME...]``.

Each scenario is a module with ``NAME``, its options as constants and
``apply(tree) -> counts``: it rewrites the study in the generator's temp folder
after the clean days are written and before the manifest is, so the study on
disk appears whole, faults included. Scenarios always run in the order of
:data:`ORDER` whatever order they were asked in (so a mix is one study), each
on the files the previous ones left; every draw is keyed by (seed, entity,
field) as in :mod:`zfish.generator.engine`, so the same seed gives the same
bytes. The mix is part of the spec, hence of the manifest: a regenerate with
another mix is a different study.

Where a fault shifts a delivery in time (late labels, redelivery, out of
order), its files lie in the ``day=`` partition of the day they are delivered:
that is how the lake's folders are laid out (a delivery's folder is its day),
and the folder is what ``zfish upload --until``, ``zfish simulate`` and
``zfish feed`` deliver by, so they need no second calendar.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from zfish.generator.scenarios import (
    corrupt,
    duplicates,
    late_labels,
    orphans,
    out_of_order,
    redelivery,
    schema_drift,
)
from zfish.generator.scenarios.base import Tree
from zfish.generator.spec import StudySpec, normalise_scenarios

# The order scenarios run in: moves first, then copies and rewrites, damage last.
ORDER: tuple[ModuleType, ...] = (
    late_labels,
    out_of_order,
    orphans,
    duplicates,
    redelivery,
    schema_drift,
    corrupt,
)
NAMES: tuple[str, ...] = tuple(m.NAME for m in ORDER)
BY_NAME: dict[str, ModuleType] = {m.NAME: m for m in ORDER}
normalise = normalise_scenarios


def parse(text: str) -> tuple[str, ...]:
    """``"corrupt,late-labels"`` -> the names in :data:`ORDER`; ``all`` means every one."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if names == ["all"]:
        return NAMES
    return normalise(names)


def apply_all(
    spec: StudySpec, root: Path, progress: Callable[[str], None] | None = None
) -> dict[str, dict[str, int]]:
    """Apply the spec's scenarios to the study written in ``root``; what each injected."""
    tree = Tree(spec, root)
    done: dict[str, dict[str, int]] = {}
    for name in spec.scenarios:
        done[name] = BY_NAME[name].apply(tree)
        if progress is not None:
            progress(name)
    return done
