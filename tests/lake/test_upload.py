"""``zfish upload``: the seed's upload_to_s3.sh semantics, incremental, crash-safe, strict on bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support import write_study
from zfish.cli import cli
from zfish.exceptions import EXIT_BAD_INPUT, LakePathError
from zfish.lake.jsoncompact import compact
from zfish.lake.upload import upload
from zfish.settings import LakeLayout, resolve_location

DAYS = [date(2025, 5, 7) + timedelta(days=i) for i in range(4)]  # 05-07 .. 05-10


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return write_study(tmp_path / "synthetic_data", DAYS)


@pytest.fixture
def layout(tmp_path: Path) -> LakeLayout:
    return LakeLayout(root=tmp_path / "lake")


def lake_days(layout: LakeLayout, kind: str) -> list[str]:
    folder = layout.kind_dir(kind)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_copies_partitions_strictly_before_the_day(study: Path, layout: LakeLayout) -> None:
    report = upload(study, layout, date(2025, 5, 9), show_progress=False)
    for kind in ("observations", "images", "outcomes"):
        assert lake_days(layout, kind) == ["day=2025-05-07", "day=2025-05-08"]
        assert report.kinds[kind].partitions_not_due == 2
    assert report.problems == []
    assert layout.dataset == layout.root / "my-data-bucket" / "use-cases" / "fish-demo"


def test_json_is_compacted_like_jq_and_pngs_copied_byte_for_byte(
    study: Path, layout: LakeLayout
) -> None:
    upload(study, layout, date(2025, 5, 8), show_progress=False)
    src_obs = sorted((study / "observations" / "day=2025-05-07").iterdir())
    for src in src_obs:
        lake_file = layout.observations / "day=2025-05-07" / src.name
        assert lake_file.read_bytes() == compact(src.read_bytes())
        assert lake_file.read_bytes().count(b"\n") == 1
    outcomes = (layout.outcomes / "day=2025-05-07" / "outcomes.json").read_bytes()
    assert outcomes.startswith(b'[{"fish_id":"zfish_00000","condition_developed":true},')
    assert outcomes.count(b"\n") == 1
    for src in (study / "images" / "day=2025-05-07").iterdir():
        assert (layout.images / "day=2025-05-07" / src.name).read_bytes() == src.read_bytes()


def test_second_run_copies_nothing_and_later_day_only_new_partitions(
    study: Path, layout: LakeLayout
) -> None:
    first = upload(study, layout, date(2025, 5, 9), show_progress=False)
    assert first.files_copied == 2 * (3 + 3 + 1)
    before = snapshot(layout.root)

    again = upload(study, layout, date(2025, 5, 9), show_progress=False)
    assert again.files_copied == 0
    assert snapshot(layout.root) == before  # not even rewritten (mtimes equal)

    later = upload(study, layout, date(2025, 5, 10), show_progress=False)
    for kind in ("observations", "images", "outcomes"):
        assert later.kinds[kind].partitions_new == ["day=2025-05-09"]
        assert later.kinds[kind].partitions_unchanged == 2
    assert later.files_copied == 3 + 3 + 1


def test_changed_source_partition_is_recopied_and_reported(study: Path, layout: LakeLayout) -> None:
    upload(study, layout, date(2025, 5, 9), show_progress=False)
    src = next((study / "observations" / "day=2025-05-08").glob("*.json"))
    record = json.loads(src.read_text())
    record["length_mm"] = 9.75
    src.write_text(json.dumps(record, indent=2))

    report = upload(study, layout, date(2025, 5, 9), show_progress=False)
    assert report.kinds["observations"].partitions_updated == ["day=2025-05-08"]
    assert report.kinds["observations"].files_updated == 1
    assert report.files_copied == 1
    assert json.loads((layout.observations / "day=2025-05-08" / src.name).read_bytes()) == record
    assert "re-copied" in dict(report.rows())["observations"]


def test_bad_partitions_and_json_are_reported_and_valid_partitions_still_land(
    study: Path, layout: LakeLayout
) -> None:
    (study / "observations" / "2025-05-07").mkdir()  # not day=...
    (study / "observations" / "day=2025-13-40").mkdir()
    bad = study / "observations" / "day=2025-05-08" / "broken.json"
    bad.write_text('{"fish_id": "zfish_1", ')
    (study / "outcomes" / "stray.json").write_text("[]")

    report = upload(study, layout, date(2025, 5, 10), show_progress=False)
    reasons = {str(p.path): p.reason for p in report.problems}
    assert (
        "unknown partition name '2025-05-07'" in reasons[str(study / "observations" / "2025-05-07")]
    )
    assert "names no real day" in reasons[str(study / "observations" / "day=2025-13-40")]
    assert reasons[str(bad)].startswith("invalid JSON:")
    assert "outside any day=" in reasons[str(study / "outcomes" / "stray.json")]
    # The partition with the bad file is not uploaded at all; the others are complete.
    assert lake_days(layout, "observations") == ["day=2025-05-07", "day=2025-05-09"]
    assert len(list((layout.observations / "day=2025-05-09").iterdir())) == 3
    assert lake_days(layout, "images") == ["day=2025-05-07", "day=2025-05-08", "day=2025-05-09"]


def test_cli_exits_non_zero_on_bad_input_and_prints_what_was_copied(
    study: Path, tmp_path: Path
) -> None:
    (study / "outcomes" / "day=2025-05-08" / "outcomes.json").write_bytes(b"\xff\xfe")
    result = CliRunner().invoke(
        cli,
        [
            "--data",
            str(study),
            "--lake",
            str(tmp_path / "lake"),
            "upload",
            "--until",
            "2025-05-10",
            "--quiet",
        ],
    )
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "not UTF-8" in result.output
    assert "outcomes.json" in result.output
    assert "observations" in result.output
    assert "3 new" in result.output


def test_cli_rejects_a_malformed_day(study: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--data", str(study), "--lake", str(tmp_path / "l"), "upload", "--until", "2025-5-1"]
    )
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_missing_study_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--data",
            str(tmp_path / "nope"),
            "--lake",
            str(tmp_path / "l"),
            "upload",
            "--until",
            "2025-05-10",
        ],
    )
    assert result.exit_code == 2
    assert "zfish generate" in result.output


def test_paths_cannot_escape_the_lake_root(tmp_path: Path, study: Path) -> None:
    root = tmp_path / "lake"
    with pytest.raises(LakePathError):
        LakeLayout(root=root, prefix="../../etc")
    with pytest.raises(LakePathError):
        resolve_location("s3://my-data-bucket/a/../../../x", root)
    with pytest.raises(LakePathError):
        LakeLayout(root=root, bucket="Bad_Bucket")
    assert resolve_location("s3://my-data-bucket/use-cases/fish-demo", root) == (
        root / "my-data-bucket" / "use-cases" / "fish-demo"
    )
    # A kind folder symlinked out of the lake is refused before anything is written there.
    outside = tmp_path / "outside"
    outside.mkdir()
    layout = LakeLayout(root=root)
    layout.dataset.mkdir(parents=True)
    (layout.dataset / "observations").symlink_to(outside, target_is_directory=True)
    with pytest.raises(LakePathError):
        upload(study, layout, date(2025, 5, 10), show_progress=False)
    assert list(outside.iterdir()) == []


def test_failure_mid_partition_leaves_no_partial_file_and_rerun_completes(
    study: Path, layout: LakeLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src: str, dst: str) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(OSError, match="No space"):
        upload(study, layout, date(2025, 5, 10), show_progress=False)
    monkeypatch.setattr(os, "replace", real_replace)
    assert not [p for p in layout.root.rglob("*") if p.name.endswith(".zfish-tmp")]

    report = upload(study, layout, date(2025, 5, 10), show_progress=False)
    assert report.problems == []
    assert sum(1 for p in layout.root.rglob("*") if p.is_file()) == 3 * (3 + 3 + 1)


def test_killed_upload_leaves_only_whole_files_and_rerun_completes(tmp_path: Path) -> None:
    days = [date(2025, 4, 1) + timedelta(days=i) for i in range(20)]
    study = write_study(tmp_path / "big", days, per_day=30)
    lake = tmp_path / "lake"
    cmd = [sys.executable, "-m", "zfish", "--data", str(study), "--lake", str(lake)]
    proc = subprocess.Popen([*cmd, "upload", "--until", "2025-06-01", "--quiet"])
    layout = LakeLayout(root=lake)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if layout.images.exists() and any(layout.images.iterdir()):
            break
        time.sleep(0.002)
    assert proc.poll() is None, "upload finished before it could be killed; make the study bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    landed = [p for p in layout.root.rglob("*") if p.is_file() and not p.name.startswith(".")]
    expected_total = len(days) * (30 + 30 + 1)
    assert 0 < len(landed) < expected_total
    for path in landed:  # every visible file is whole
        src = study / path.relative_to(layout.dataset)
        assert path.read_bytes() == (
            compact(src.read_bytes()) if path.suffix == ".json" else src.read_bytes()
        )

    rerun = subprocess.run(
        [*cmd, "upload", "--until", "2025-06-01", "--quiet"], capture_output=True
    )
    assert rerun.returncode == 0, rerun.stderr
    files = [p for p in layout.root.rglob("*") if p.is_file()]
    assert len(files) == expected_total  # complete, and no temp file left behind


def test_default_study_gives_the_seed_numbers(default_study: Path, tmp_path: Path) -> None:
    layout = LakeLayout(root=tmp_path / "lake")
    upload(default_study, layout, date(2025, 5, 10), show_progress=False)
    obs = list(layout.observations.glob("day=*/*.json"))
    pngs = list(layout.images.glob("day=*/*.png"))
    outcome_files = list(layout.outcomes.glob("day=*/outcomes.json"))
    outcomes = [o for f in outcome_files for o in json.loads(f.read_text())]
    assert (len(obs), len(pngs), len(outcome_files), len(outcomes)) == (540, 540, 4, 20)

    report = upload(default_study, layout, date(2025, 5, 11), show_progress=False)
    assert report.kinds["observations"].files_new == 15
    assert report.kinds["images"].files_new == 15
    new_outcomes = json.loads((layout.outcomes / "day=2025-05-10" / "outcomes.json").read_text())
    assert len(new_outcomes) == 5
