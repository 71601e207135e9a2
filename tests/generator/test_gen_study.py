"""The study on disk: manifest, up-to-date reruns, --force, refusals and crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from generator_testlib import tree

from zfish.exceptions import InputDataError, ValidationError
from zfish.generator import MANIFEST_NAME, StudySpec, engine, generate, load_spec, study_exists

SMALL = StudySpec(hatch_rate=2, end=date(2025, 4, 12))


def run(spec: StudySpec, out: Path, *, force: bool = False) -> engine.GenerateReport:
    return generate(spec, out, workers=1, force=force, show_progress=False)


def siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


def test_manifest_records_the_spec(tmp_path: Path) -> None:
    out = tmp_path / "study"
    assert load_spec(out) is None
    report = run(SMALL, out)
    assert not report.up_to_date
    assert load_spec(out) == SMALL
    assert study_exists(out, SMALL)
    assert not study_exists(out, StudySpec(hatch_rate=3, end=date(2025, 4, 12)))
    assert report.observations == report.images == len(list(out.glob("observations/*/*.json")))
    assert report.fish == 24
    assert report.bytes == sum(
        p.stat().st_size for p in out.rglob("*") if p.is_file() and p.name != MANIFEST_NAME
    )
    assert siblings(out) == []  # no temp folder left beside it


def test_rerun_with_the_same_spec_does_nothing(tmp_path: Path) -> None:
    out = tmp_path / "study"
    first = run(SMALL, out)
    inode = (out / "observations").stat().st_ino
    again = run(SMALL, out)
    assert again.up_to_date
    assert again.skipped
    assert (again.observations, again.bytes) == (first.observations, first.bytes)
    assert (out / "observations").stat().st_ino == inode  # not rewritten


def test_force_regenerates_even_when_up_to_date(tmp_path: Path) -> None:
    out = tmp_path / "study"
    run(SMALL, out)
    inode = (out / "observations").stat().st_ino
    before = tree(out)
    report = run(SMALL, out, force=True)
    assert not report.up_to_date
    assert (out / "observations").stat().st_ino != inode
    assert tree(out) == before
    assert siblings(out) == []


def test_a_different_spec_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "study"
    run(SMALL, out)
    before = tree(out)
    other = StudySpec(hatch_rate=3, end=date(2025, 4, 12))
    with pytest.raises(ValidationError, match=r"hatch_rate 2 -> 3.*--force"):
        run(other, out)
    assert tree(out) == before
    run(other, out, force=True)
    assert load_spec(out) == other
    assert len(list(out.glob("observations/*/*.json"))) == 3 * (11 + 9 + 7)
    assert siblings(out) == []


def test_a_foreign_folder_is_never_touched(tmp_path: Path) -> None:
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"precious")
    for force in (False, True):
        with pytest.raises(ValidationError, match="holds no zfish study"):
            run(SMALL, out, force=force)
    assert [p.name for p in out.iterdir()] == ["holiday.jpg"]
    assert (out / "holiday.jpg").read_bytes() == b"precious"


def test_an_empty_folder_or_missing_parents_are_fine(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    run(SMALL, empty)
    assert study_exists(empty, SMALL)
    nested = tmp_path / "a" / "b" / "study"
    run(SMALL, nested)
    assert study_exists(nested, SMALL)


def test_a_file_in_the_way_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "study"
    out.write_text("not a folder")
    with pytest.raises(ValidationError, match="not a directory"):
        run(SMALL, out)


def test_a_corrupt_manifest_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "study"
    run(SMALL, out)
    (out / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(InputDataError, match="--force"):
        load_spec(out)
    assert not study_exists(out, SMALL)
    with pytest.raises(ValidationError, match=r"unreadable.*--force"):
        run(SMALL, out)
    run(SMALL, out, force=True)
    assert study_exists(out, SMALL)


def test_a_failure_leaves_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "study"
    run(SMALL, out)
    before = tree(out)
    real = engine.write_day
    calls = []

    def failing(root: str, files: engine.DayFiles, d: int) -> engine.DayStats:
        calls.append(d)
        if len(calls) == 5:
            raise OSError(28, "No space left on device")
        return real(root, files, d)

    monkeypatch.setattr(engine, "write_day", failing)
    with pytest.raises(OSError, match="No space"):
        run(StudySpec(hatch_rate=3, end=date(2025, 4, 12)), out, force=True)
    assert tree(out) == before  # the old study is intact
    assert siblings(out) == []  # and the temp folder is gone
    fresh = tmp_path / "fresh"
    calls.clear()
    with pytest.raises(OSError, match="No space"):
        run(SMALL, fresh)
    assert not fresh.exists()
    assert siblings(out) == []


def test_a_killed_run_leaves_no_study_and_its_leftovers_are_cleaned(tmp_path: Path) -> None:
    out = tmp_path / "study"
    code = (
        "import sys; from pathlib import Path; from zfish.generator import StudySpec, generate; "
        "generate(StudySpec(hatch_rate=400), Path(sys.argv[1]), workers=1, show_progress=False)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)])
    try:
        temps = wait_until_writing(proc, tmp_path, "killed")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert not out.exists()  # nothing half-written where --data points
    assert len(temps) == 1
    assert temps[0].exists()  # the dead run's temp folder...
    run(SMALL, out)
    assert not temps[0].exists()  # ...is removed by the next run
    assert siblings(out) == []


def wait_until_writing(proc: subprocess.Popen[bytes], folder: Path, what: str) -> list[Path]:
    """The temp folder of a running generate once it holds three days of images."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        temps = [p for p in folder.iterdir() if ".zfish-tmp-" in p.name]
        if temps and len(list(temps[0].glob("images/day=*"))) >= 3:
            return temps
        assert proc.poll() is None, f"the generator finished before it could be {what}"
        time.sleep(0.01)
    pytest.fail("the generator never started writing")


def test_ctrl_c_exits_130_and_removes_the_temp_folder(tmp_path: Path) -> None:
    out = tmp_path / "study"
    zfish = Path(sys.executable).with_name("zfish")
    args = [str(zfish), "--data", str(out), "generate", "--hatch-rate", "400", "--workers", "2"]
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        wait_until_writing(proc, tmp_path, "interrupted")
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole process group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert b"interrupted" in err
    assert list(tmp_path.iterdir()) == []  # no study, no temp folder


def test_a_live_runs_temp_folder_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "study"
    live = tmp_path / f".study.zfish-tmp-{os.getpid()}-0000abcd"
    live.mkdir()
    run(SMALL, out)
    assert live.exists()


def test_workers_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="workers"):
        generate(SMALL, tmp_path / "study", workers=0, show_progress=False)
    assert engine.resolve_workers(SMALL, 64) == SMALL.n_days
    assert engine.resolve_workers(SMALL, None) == 1  # too small to be worth a pool
    assert engine.resolve_workers(StudySpec(hatch_rate=500), None) == min(os.cpu_count() or 1, 62)


@pytest.mark.parametrize(("per_day", "chosen"), [({1: 0.01, 2: 0.04}, 1), ({1: 0.02, 2: 0.01}, 2)])
def test_the_probe_keeps_two_workers_only_when_they_write_faster(
    monkeypatch: pytest.MonkeyPatch, per_day: dict[int, float], chosen: int
) -> None:
    """A disk where two processes at once are slower (kernel contention) keeps one."""
    monkeypatch.setattr(engine, "_PROBE_SECONDS", 0.1)
    runs: list[tuple[int, int]] = []

    def run(days: list[int], concurrency: int) -> int:
        runs.append((len(days), concurrency))
        # `concurrency` days at a time, each batch taking per_day[concurrency] seconds.
        time.sleep(per_day[concurrency] * -(-len(days) // concurrency))
        return 100 * len(days)

    pending = list(range(200))
    rates: dict[int, float] = {}
    assert engine._probe(pending, 2, rates, run) == chosen
    assert set(rates) == {1, 2}
    one_process_days = sum(n for n, c in runs if c == 1)
    assert runs[-1] == (2 * one_process_days, 2)  # each of the two got as many days as one had
    assert len(pending) == 200 - 3 * one_process_days  # the rest is left to the chosen count
