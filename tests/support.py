"""Helpers shared by tests: small hand-made studies, plain-Python oracles, Maven cache states."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from typing import NoReturn

import pytest

from zfish import jars

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(40))


def write_study(root: Path, days: list[date], per_day: int = 3) -> Path:
    """A small study in the seed's layout: pretty JSON, PNG bytes, outcomes arrays."""
    for d in days:
        obs = root / "observations" / f"day={d}"
        img = root / "images" / f"day={d}"
        obs.mkdir(parents=True, exist_ok=True)
        img.mkdir(parents=True, exist_ok=True)
        for i in range(per_day):
            image_id = f"zfish_{d.toordinal() % 1000:03d}{i:02d}_01"
            record = {
                "fish_id": image_id[:-3],
                "image_id": image_id,
                "timestamp": f"{d}T00:00:00Z",
                "age_days": 1,
                "treatment": "placebo",
                "genetic_markers": {"gene_a": True, "gene_b": False, "gene_c": True},
                "length_mm": 2.5,
            }
            (obs / f"{image_id}.json").write_text(json.dumps(record, indent=2))
            (img / f"{image_id}.png").write_bytes(PNG_BYTES + bytes([i]))
        out = root / "outcomes" / f"day={d}"
        out.mkdir(parents=True, exist_ok=True)
        outcomes = [
            {"fish_id": f"zfish_{n:05d}", "condition_developed": n % 2 == 0} for n in range(2)
        ]
        (out / "outcomes.json").write_text(json.dumps(outcomes, indent=2))
    return root


def expected_joined_rows(dataset: Path, before: date) -> dict[str, dict[str, object]]:
    """The rows joined_fish_data must hold after evenings up to ``before``, computed without Spark.

    One row per observation with day < ``before`` whose fish has an outcome with day < ``before``.
    """
    from datetime import datetime

    labels: dict[str, tuple[bool, str]] = {}
    for path in sorted((dataset / "outcomes").glob("day=*/*.json")):
        day = path.parent.name.removeprefix("day=")
        if date.fromisoformat(day) >= before:
            continue
        for line in path.read_text().splitlines():
            for record in json.loads(line):
                labels[record["fish_id"]] = (record["condition_developed"], day)
    rows: dict[str, dict[str, object]] = {}
    for path in sorted((dataset / "observations").glob("day=*/*.json")):
        day = path.parent.name.removeprefix("day=")
        if date.fromisoformat(day) >= before:
            continue
        record = json.loads(path.read_text())
        if record["fish_id"] not in labels:
            continue
        label, outcome_day = labels[record["fish_id"]]
        markers = record.get("genetic_markers") or {}
        rows[record["image_id"]] = {
            "image_id": record["image_id"],
            "fish_id": record["fish_id"],
            "timestamp": datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00")),
            "age_days": record["age_days"],
            "treatment": record.get("treatment"),
            "gene_a": markers.get("gene_a"),
            "gene_b": markers.get("gene_b"),
            "gene_c": markers.get("gene_c"),
            "length_mm": record.get("length_mm"),
            "sex": record.get("sex"),
            "condition_developed": label,
            "outcome_day": outcome_day,
            "day": day,
        }
    return rows


# The Hudi bundle declares it; a pom-only entry of it in ~/.m2 broke `make test` (issue 20).
SLF4J_API = jars.Artifact("org.slf4j", "slf4j-api", "1.7.36")


def unavailable(on_ci: str, elsewhere: str) -> NoReturn:
    """What a registry could not give: the test fails on CI (it must run there), skips elsewhere."""
    if jars.require_bundle():
        pytest.fail(on_ci, pytrace=False)
    pytest.skip(elsewhere)


def central_or_skip(artifact: jars.Artifact, suffix: str) -> bytes:
    """A file of ``artifact`` from Maven Central (a pom, a sha1); skip (fail on CI) offline."""
    url = artifact.url.removesuffix(".jar") + suffix
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            data: bytes = resp.read()
            return data
    except (OSError, urllib.error.URLError) as exc:
        unavailable(
            f"Maven Central must be reachable here (CI): {url}: {exc}",
            f"Maven Central is not reachable: {url}: {exc}",
        )


def pom_only_entry(home: Path, artifact: jars.Artifact) -> Path:
    """What `mvn dependency:get -Dtransitive=false` or a parent-pom lookup leaves in ~/.m2."""
    folder = (home / ".m2" / "repository" / artifact.repository_path).parent
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{artifact.artifact}-{artifact.version}"
    (folder / f"{stem}.pom").write_bytes(central_or_skip(artifact, ".pom"))
    (folder / f"{stem}.pom.sha1").write_bytes(central_or_skip(artifact, ".pom.sha1"))
    (folder / "_remote.repositories").write_text(f"#NOTE: Maven Resolver\n{stem}.pom>central=\n")
    return folder
