"""A range computed in one Spark pass commits what evening-by-evening runs commit."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from zfish import fishtable, simulate
from zfish.generator import StudySpec, generate, scenarios
from zfish.hudi import HudiTable
from zfish.pipeline import job, season
from zfish.settings import LakeLayout

# A season with a gap of two evenings and one of four (skipped evenings), a window of
# 3 days under a label age of 6 (each evening widens it to reach its new outcomes),
# then a corrected re-delivery of an early day and bad records (see _spoil).
EVENINGS = [
    *(date(2025, 4, 3) + timedelta(days=i) for i in range(5)),
    date(2025, 4, 10),
    date(2025, 4, 11),
    *(date(2025, 4, 16) + timedelta(days=i) for i in range(3)),
]
CORRECTED_ON = date(2025, 4, 16)  # the re-delivery lands with this evening's upload
WINDOW_DAYS = 3
# Instant times, commit times and file names differ between any two runs.
RUN_SPECIFIC = ("_hoodie_commit_time", "_hoodie_commit_seqno", "_hoodie_file_name")


def _study(data: Path) -> Path:
    generate(StudySpec(end=date(2025, 4, 18), hatch_rate=3, label_age=6), data, show_progress=False)
    _spoil(data)
    return data


def _observation_files(data: Path, day: str) -> list[Path]:
    return sorted((data / "observations" / f"day={day}").glob("*.json"))


def _spoil(data: Path) -> None:
    """Bad records: a wrong type, and the same image_id twice with different content."""
    wrong = _observation_files(data, "2025-04-04")[0]
    record = json.loads(wrong.read_text())
    wrong.write_text(json.dumps({**record, "age_days": "three"}))
    first, second = _observation_files(data, "2025-04-09")[:2]
    record = json.loads(first.read_text())
    second.write_text(json.dumps({**record, "length_mm": record["length_mm"] + 1.0}))


def _correct(data: Path) -> None:
    """A corrected re-delivery: a day read by earlier evenings gets a newer, longer fish."""
    path = _observation_files(data, "2025-04-08")[0]
    record = json.loads(path.read_text())
    newer = record["timestamp"][:10] + "T23:59:59Z"  # the seed's form: 2025-04-12T00:00:00Z
    assert newer > record["timestamp"]
    path.write_text(json.dumps({**record, "length_mm": 99.5, "timestamp": newer}))


def _simulate(
    spark: SparkSession,
    data: Path,
    root: Path,
    one_pass: bool,
    monkeypatch: pytest.MonkeyPatch,
    days: list[date] = EVENINGS,
    window_days: int = WINDOW_DAYS,
) -> tuple[LakeLayout, list[simulate.EveningReport]]:
    layout = LakeLayout(root=root)
    deliver = simulate.deliver

    def delivering(data_dir: Path, lake: LakeLayout, day: date, **kwargs: Any) -> Any:
        if day == CORRECTED_ON:
            _correct(data_dir)
        return deliver(data_dir, lake, day, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(simulate, "deliver", delivering)
        reports = list(
            simulate.evenings(
                spark,
                data,
                layout,
                days,
                window_days=window_days,
                show_progress=False,
                one_pass=one_pass,
            )
        )
    return layout, reports


def _commits(layout: LakeLayout) -> list[dict[str, Any]]:
    """Each commit: its metadata without times and file names, and its snapshot's rows."""
    table = HudiTable.open(str(layout.table))
    out = []
    for instant, action in table.completed_instants():
        meta = table.commit_metadata(instant)
        stats = {
            part: sorted(
                (s["numWrites"], s["numInserts"], s["numUpdateWrites"], s["numDeletes"])
                for s in writes
            )
            for part, writes in meta["partitionToWriteStats"].items()
        }
        snapshot = fishtable.read(layout.table, as_of=instant)
        rows = snapshot.drop_columns(list(RUN_SPECIFIC)).to_pylist()
        out.append(
            {
                "action": action,
                "operation": meta.get("operationType"),
                "extra": meta.get("extraMetadata"),
                "stats": stats,
                "rows": sorted(rows, key=lambda r: r["image_id"]),
            }
        )
    return out


def _quarantine(layout: LakeLayout) -> dict[str, list[str]]:
    """Rejected records per evening (the folder's end date; its run stamp is a time)."""
    out: dict[str, list[str]] = {}
    root = str(layout.root.resolve())
    for folder in sorted(layout.quarantine.glob("run=*")):
        end = folder.name.split("_end=", 1)[1]
        lines = [
            line.replace(root, "<lake>")
            for f in folder.glob("*.json")
            for line in f.read_text().splitlines()
        ]
        out.setdefault(end, []).extend(sorted(lines))
    return out


def _summary(report: simulate.EveningReport) -> tuple[Any, ...]:
    etl = report.etl
    assert etl is not None
    assert etl.commit is not None
    c = etl.commit
    return (
        report.day,
        report.catalog_counts,
        etl.read_window,
        etl.observation_partitions,
        etl.observations_read,
        etl.outcomes_known,
        etl.quarantined,
        etl.unknown_fields,
        etl.labelled_rows,
        etl.table_rows,
        (c.num_inserts, c.num_updates, c.num_deletes, c.files_written, c.partitions_written),
    )


def test_one_pass_commits_what_evening_by_evening_commits(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each run gets its own copy of the study: the correction edits it mid-range.
    each_study, one_study = _study(tmp_path / "study-a"), _study(tmp_path / "study-b")
    by_evening, each = _simulate(spark, each_study, tmp_path / "each", False, monkeypatch)
    in_one, passed = _simulate(spark, one_study, tmp_path / "one", True, monkeypatch)

    assert [r.etl.evenings_in_pass for r in each if r.etl] == [1] * len(EVENINGS)
    # The correction of an early day cut the range into two passes, at that evening.
    cut = EVENINGS.index(CORRECTED_ON)
    assert [r.etl.evenings_in_pass for r in passed if r.etl] == [cut] * cut + [
        len(EVENINGS) - cut
    ] * (len(EVENINGS) - cut)

    expected = [_summary(r) for r in each]
    got = [_summary(r) for r in passed]
    for want, have in zip(expected, got, strict=True):
        assert have == want
    commits = _commits(by_evening)
    assert len(commits) == len(EVENINGS)
    assert _commits(in_one) == commits
    # The season's checks did their work: windows widened, rows updated, records rejected.
    assert any("widened" in r.etl.read_window.note for r in each if r.etl)
    assert any(c["stats"] and any(s[2] for v in c["stats"].values() for s in v) for c in commits)
    quarantined = _quarantine(by_evening)
    assert quarantined
    assert _quarantine(in_one) == quarantined
    assert any("expected an integer" in line for lines in quarantined.values() for line in lines)
    assert any("duplicate image_id" in line for lines in quarantined.values() for line in lines)
    corrected = [r for r in commits[-1]["rows"] if r["length_mm"] == 99.5]
    assert len(corrected) == 1


def test_a_range_falls_back_to_evening_by_evening_where_one_pass_cannot_apply(
    spark: SparkSession,
) -> None:
    base = job.EtlOptions(end_date=simulate.evening_end(date(2025, 5, 10)))
    assert season.why_not(spark, base) is None
    assert "JVM writer" in (
        season.why_not(spark, replace(base, writer=job.WRITER_SPARK_HUDI)) or ""
    )
    assert "reprocess" in (season.why_not(spark, replace(base, reprocess_window=True)) or "")
    assert "cluster" in (season.why_not(spark, replace(base, read_in="tasks")) or "")


def test_a_range_with_reprocess_window_runs_evening_by_evening(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _study(tmp_path / "study")
    layout = LakeLayout(root=tmp_path / "lake")
    days = [date(2025, 4, 8), date(2025, 4, 9)]
    reports = list(simulate.evenings(spark, data, layout, days, reprocess_window=True))
    assert [r.etl.evenings_in_pass for r in reports if r.etl] == [1, 1]
    assert "evening by evening, not in one pass: --reprocess-window" in capsys.readouterr().err
    assert len(HudiTable.open(str(layout.table)).completed_instants()) == len(days)


def test_one_pass_equals_evening_by_evening_over_every_fault_scenario(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Late labels, re-deliveries, days out of order, drift, corrupt files, duplicates, orphans."""
    spec = StudySpec(hatch_rate=2, end=date(2025, 5, 31), scenarios=scenarios.NAMES)
    days = [date(2025, 4, 3) + timedelta(days=4 * i) for i in range(15)]  # every 4th evening
    runs = []
    for name, one_pass in (("each", False), ("one", True)):
        data = tmp_path / f"study-{name}"
        generate(spec, data, workers=1, show_progress=False)
        runs.append(_simulate(spark, data, tmp_path / name, one_pass, monkeypatch, days, 36))
    (each_layout, each), (one_layout, one) = runs
    assert max(r.etl.evenings_in_pass for r in one if r.etl) > 1
    for want, have in zip(each, one, strict=True):
        for i, (a, b) in enumerate(zip(_summary(want), _summary(have), strict=True)):
            assert b == a, f"evening {want.day}, field {i}"
    assert _commits(one_layout) == _commits(each_layout)
    assert _quarantine(one_layout) == _quarantine(each_layout)
    assert _quarantine(each_layout)  # the corrupt and duplicate records were rejected
