"""The synthetic zebra fish study generator behind ``zfish generate``.

It reproduces the seed's ``synthetic_data`` script as a real tool: the same
files and layout (``observations/day=YYYY-MM-DD/{image_id}.json``,
``images/day=YYYY-MM-DD/{image_id}.png``, ``outcomes/day=YYYY-MM-DD/outcomes.json``),
the same rules, but reproducible (``seed``), parallel, and written safely.

>>> from zfish.generator import StudySpec, generate
>>> report = generate(StudySpec(), data_dir)          # doctest: +SKIP

``generate`` is idempotent: when ``data_dir`` already holds the study of the
same spec it returns at once with ``report.up_to_date`` set.
"""

from __future__ import annotations

from zfish.generator.engine import (
    MANIFEST_NAME,
    GenerateReport,
    generate,
    load_spec,
    plan_counts,
    study_exists,
)
from zfish.generator.spec import DEFAULT_SEED, GENES, SEXES, TREATMENTS, StudySpec

__all__ = [
    "DEFAULT_SEED",
    "GENES",
    "MANIFEST_NAME",
    "SEXES",
    "TREATMENTS",
    "GenerateReport",
    "StudySpec",
    "generate",
    "load_spec",
    "plan_counts",
    "study_exists",
]
