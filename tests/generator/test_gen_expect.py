"""``zfish expect`` against a plain-Python oracle computed from the generated files."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zfish.cli import cli
from zfish.generator import StudySpec, generate, scenarios
from zfish.generator.expect import SEMANTICS_SEED, expect

EVENING = date(2025, 5, 25)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mixed") / "study"
    spec = StudySpec(hatch_rate=6, scenarios=scenarios.NAMES)
    generate(spec, root, workers=1, show_progress=False)
    return root


def _schema_fields(record: dict[str, Any]) -> dict[str, Any]:
    """What the ETL keeps of a record: its schema's fields (water_temp_c, gene_d are not)."""
    keep = ("fish_id", "image_id", "timestamp", "age_days", "treatment", "length_mm", "sex")
    out = {k: record.get(k) for k in keep}
    out["age_days"] = int(record["age_days"])
    out["markers"] = {g: record["genetic_markers"][g] for g in ("gene_a", "gene_b", "gene_c")}
    return out


def _oracle(root: Path, before: date) -> dict[str, Any]:
    """The zfish-semantics answer, written out again from the files (a second implementation)."""
    refused: set[str] = set()
    obs: list[tuple[str, str, dict[str, Any]]] = []
    partitions = set()
    for path in sorted(root.glob("observations/day=*/*")):
        day = path.parent.name[4:]
        if day >= before.isoformat() or path.suffix != ".json":
            continue
        raw = path.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            record = json.loads(raw)
        except ValueError:
            refused.add(day)
            continue
        partitions.add(day)
        obs.append((day, path.name, record))
    obs = [o for o in obs if o[0] not in refused]
    partitions -= refused
    rejected = set()
    fine = []
    for day, name, record in obs:
        if isinstance(record["length_mm"], str):
            rejected.add((f"observations/day={day}/{name}", "field length_mm"))
        else:
            fine.append((day, name, record))
    first: dict[str, str] = {}
    for day, name, _ in sorted(obs):
        first.setdefault(name, day)  # a re-sent file belongs to its first partition
    by_id: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for item in fine:
        by_id.setdefault(item[2]["image_id"], []).append(item)
    kept = []
    for items in by_id.values():
        newest = max(r["timestamp"] for _, _, r in items)  # one ISO form: text order is time order
        latest = {
            (first[n], json.dumps(_schema_fields(r), sort_keys=True))
            for _, n, r in items
            if r["timestamp"] == newest
        }
        if len(latest) == 1:
            day, _ = latest.pop()
            kept.append((day, "", next(r for _, _, r in items if r["timestamp"] == newest)))
        else:
            for day, name, _ in items:
                rejected.add((f"observations/day={day}/{name}", "duplicate image_id"))
    labels = {}
    for path in sorted(root.glob("outcomes/day=*/outcomes.json")):
        day = path.parent.name[4:]
        if day < before.isoformat():
            for record in json.loads(path.read_bytes()):
                labels[record["fish_id"]] = (record["condition_developed"], day)
    lines = []
    for day, _, r in kept:
        if r["fish_id"] not in labels:
            continue
        m = r["genetic_markers"]
        values = [
            r["image_id"],
            r["fish_id"],
            r["timestamp"],
            int(r["age_days"]),
            r["treatment"],
            m["gene_a"],
            m["gene_b"],
            m["gene_c"],
            float(r["length_mm"]),
            r.get("sex"),
            *labels[r["fish_id"]],
            day,
        ]
        lines.append(json.dumps(values, separators=(",", ":")) + "\n")
    return {
        "partitions": len(partitions),
        "rows": len(obs),
        "checksum": hashlib.sha256("".join(sorted(lines)).encode()).hexdigest(),
        "joined": len(lines),
        "rejected": rejected,
        "refused": refused,
    }


def test_expect_equals_an_oracle_computed_from_the_files(mixed: Path) -> None:
    oracle = _oracle(mixed, EVENING)
    got = expect(mixed, EVENING)
    assert got.catalog["observations"] == {
        "partitions": oracle["partitions"],
        "rows": oracle["rows"],
    }
    assert {r["partition"].removeprefix("observations/day=") for r in got.refused} == oracle[
        "refused"
    ]
    assert oracle["refused"], "the mix refuses at least one partition"
    assert got.joined()["rows"] == oracle["joined"] > 100
    assert got.joined()["checksum"] == oracle["checksum"]
    assert not got.undetermined
    observations = {
        (r["file"], r["reason"].split(":")[0].split(" zfish_")[0])
        for r in got.rejected
        if r["kind"] == "observations"
    }
    assert observations == oracle["rejected"]
    assert {k for _, k in oracle["rejected"]} == {"field length_mm", "duplicate image_id"}


def test_schema_versions_follow_the_drift_and_the_wrong_types(mixed: Path) -> None:
    versions = expect(mixed, EVENING).schema_versions["observations"]
    first, last = versions[0]["columns"], versions[-1]["columns"]
    assert first["age_days"] == "int"
    assert first["genetic_markers"] == "struct<gene_a:boolean,gene_b:boolean,gene_c:boolean>"
    assert last["water_temp_c"] == "double"
    assert last["genetic_markers"].endswith(",gene_d:boolean>")
    assert last["age_days"] == "int"  # 5.0 is 5 once jq has compacted it
    # A wrong-typed length_mm ("4.5 mm") in a delivered partition makes the column a string.
    assert last["length_mm"] == "string"


def test_seed_semantics_lose_the_late_labels_and_reject_nothing(mixed: Path) -> None:
    zfish, seed = expect(mixed, EVENING), expect(mixed, EVENING, SEMANTICS_SEED)
    assert not seed.rejected
    assert zfish.rejected
    late = {r["image_id"] for r in zfish.rows} - {r["image_id"] for r in seed.rows}
    assert late
    lost = [r for r in zfish.rows if r["image_id"] in late]
    for row in lost:
        lag = date.fromisoformat(row["outcome_day"]) - date.fromisoformat(row["day"])
        assert lag.days > 35
    assert any("36-day window" in rule for rule in seed.rules)


def test_cli_expect_json_and_a_mix_that_is_not_the_study(mixed: Path) -> None:
    runner = CliRunner()
    args = ["--data", str(mixed), "expect", "--day", EVENING.isoformat()]
    result = runner.invoke(cli, [*args, "--scenario", "all", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["joined"]["checksum"] == expect(mixed, EVENING).joined()["checksum"]
    assert doc["scenarios"] == list(scenarios.NAMES)
    wrong = runner.invoke(cli, [*args, "--scenario", "corrupt"])
    assert wrong.exit_code != 0
    assert "generated with scenarios late-labels" in wrong.output
    text = runner.invoke(cli, args)
    assert "checksum" in text.output


def test_schema_versions_are_the_ones_zfish_crawl_registers_evening_by_evening(
    tmp_path: Path,
) -> None:
    from datetime import timedelta

    from zfish.catalog import crawler, glue
    from zfish.lake.upload import upload
    from zfish.settings import LakeLayout

    study = tmp_path / "study"
    spec = StudySpec(hatch_rate=1, end=date(2025, 5, 10), scenarios=("schema-drift", "corrupt"))
    generate(spec, study, workers=1, show_progress=False)
    layout = LakeLayout(root=tmp_path / "lake")
    last = date(2025, 5, 11)
    day = date(2025, 4, 3)
    while day <= last:
        upload(study, layout, day, show_progress=False)
        crawler.crawl(layout, ("observations",))
        day += timedelta(days=1)
    want = expect(study, last).schema_versions["observations"]
    got = sorted(glue.load_versions(layout, "observations"), key=lambda v: v.version_id)
    assert len(want) > 1
    assert [{c.name: c.glue_type for c in v.columns if c.name != "day"} for v in got] == [
        v["columns"] for v in want
    ]
