"""``zfish generate`` against the seed script's own loop and the raw small-file write floor.

At hatch rate 500 (100x the seed) the three contenders write the same files:

* seed loop: :func:`benchmarks.seed_baseline.run_seed_loop`, the seed
  document's generator (one process, ``json.dump`` + Pillow), in this process;
* zfish: :func:`zfish.generator.generate` end to end (validation, worker pool,
  temp folder, manifest, rename), with every core;
* floor: the very same files (names, folders, byte sizes, taken from zfish's
  output) written from a preallocated buffer with ``os.open``/``os.write``/
  ``os.close``, split by day over the same number of forked processes; no
  encoding at all. It is what any generator of this layout must pay.

Target: zfish >= 3x the seed loop's files/s. Every run starts after
``os.sync()`` (so no run pays for the previous one's writeback) in a fresh
folder, and nothing is deleted before the end (see ``main``); the best of the
rounds counts, a second round (``ROUNDS = 2``) in another order. One round by
default: deleting a second round's 531,000 files from ext4 costs more than a
minute of the benchmark's 15. The output folder is a
temporary directory (``$ZFISH_BENCH_DIR`` or the system's), deleted at the end.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from benchmarks.measure import bench_dir, count_files, filesystem_of
from benchmarks.seed_baseline import run_seed_loop
from zfish.generator import StudySpec, generate, plan_counts

RATE = 500
QUICK_RATE = 20
ROUNDS = 1
QUICK_ROUNDS = 1
TARGET = 3.0
START, END = datetime(2025, 4, 1), datetime(2025, 6, 1)  # the seed's dates


@dataclass
class Run:
    name: str
    files: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.files / self.seconds


# ------------------------------------------------------------------ the floor
# (relative folder, [(file name, size)]) per day; set before the pool forks.
DayPlan = list[tuple[str, list[tuple[str, int]]]]
_plan: list[DayPlan] = []
_root = ""
_buffer = b""


def layout_of(study: Path) -> list[DayPlan]:
    """Per day, the folders and (name, size) of every file zfish wrote, in day order."""
    days: dict[str, DayPlan] = {}
    for kind in ("observations", "images", "outcomes"):
        for folder in sorted((study / kind).iterdir()):
            files = [(e.name, e.stat().st_size) for e in os.scandir(folder)]
            days.setdefault(folder.name, []).append((f"{kind}/{folder.name}", files))
    return [days[d] for d in sorted(days)]


def _floor_day(index: int) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    view = memoryview(_buffer)
    written = 0
    for rel, files in _plan[index]:
        path = os.path.join(_root, rel)
        os.mkdir(path)
        dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for name, size in files:
                fd = os.open(name, flags, 0o644, dir_fd=dir_fd)
                os.write(fd, view[:size])
                os.close(fd)
            written += len(files)
        finally:
            os.close(dir_fd)
    return written


def run_floor(plan: list[DayPlan], root: Path, workers: int) -> int:
    """Write the planned files with no encoding work; return how many."""
    global _plan, _root, _buffer
    _plan, _root = plan, str(root)
    _buffer = bytes(max(size for day in plan for _, files in day for _, size in files))
    for kind in ("observations", "images", "outcomes"):
        (root / kind).mkdir(parents=True)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        # One day per task, as zfish splits them.
        written = sum(pool.imap_unordered(_floor_day, range(len(plan)), 1))
    return written


# ------------------------------------------------------------------ the benchmark
def timed(name: str, action: Callable[[], int]) -> Run:
    os.sync()  # start clean: no run pays for the previous one's writeback
    started = time.perf_counter()
    files = action()
    return Run(name, files, time.perf_counter() - started)


def run_zfish(spec: StudySpec, out: Path, workers: int | None, chosen: list[str]) -> int:
    report = generate(spec, out, workers=workers, show_progress=False)
    if workers is None:
        chosen.append(report.worker_choice)
    return report.files


def load() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def main(quick: bool) -> None:
    rate = QUICK_RATE if quick else RATE
    rounds = QUICK_ROUNDS if quick else ROUNDS
    workers = os.cpu_count() or 1
    spec = StudySpec(hatch_rate=rate)
    base = Path(tempfile.mkdtemp(prefix="zfish-bench-gen-", dir=bench_dir()))
    print(
        f"hatch rate {rate} ({rate // 5}x the seed), {spec.start}..{spec.end}; "
        f"{workers} cores; best of {rounds} round(s)"
    )
    print(f"output: {base} ({filesystem_of(base)}); load average before: {load()}")
    names = (
        "seed loop (1 process)",
        "zfish --workers 1",
        f"zfish --workers {workers}",
        "zfish (chosen)",
        f"floor ({workers} processes)",
    )
    need = len(names) * rounds * plan_counts(spec).files * 4096 * 2  # a block per file, margin
    free = shutil.disk_usage(base).free
    if free < need:
        shutil.rmtree(base)
        raise SystemExit(
            f"bench_generator needs ~{need >> 20} MiB free in {base}, has {free >> 20}"
        )
    best: dict[str, Run] = {}
    plan: list[DayPlan] = []
    chosen: list[str] = []

    def keep(run: Run) -> None:
        if run.name not in best or run.seconds < best[run.name].seconds:
            best[run.name] = run

    def measure(which: int, out: Path) -> None:
        if which == 0:
            run = timed(names[0], partial(run_seed_loop, str(out), rate, START, END))
            assert count_files(out) == run.files
        elif which in (1, 2, 3):
            asked = {1: 1, 2: workers, 3: None}[which]
            run = timed(names[which], partial(run_zfish, spec, out, asked, chosen))
            assert count_files(out) - 1 == run.files  # the manifest is not part of the study
            plan[:] = plan or layout_of(out)
        else:
            run = timed(names[4], partial(run_floor, plan, out, workers))
            assert count_files(out) == run.files
        keep(run)

    # Nothing is deleted until the end: on ext4 without a journal (as here) the inode allocator
    # skips every inode freed in the last minute (recently_deleted()), which made file creation
    # after a big delete several times slower; each run would pay for the previous one's rmtree.
    try:
        for r in range(rounds):
            # zfish before the floor (it plans it); the chosen count between the fixed ones.
            order = (0, 1, 3, 2, 4) if r % 2 == 0 else (2, 3, 1, 4, 0)
            for which in order:
                measure(which, base / f"run{r}-{which}")
    finally:
        started = time.perf_counter()
        shutil.rmtree(base, ignore_errors=True)
        cleanup = time.perf_counter() - started

    runs = [best[name] for name in names]
    assert len({run.files for run in runs}) == 1, "every run must write the same files"
    print(f"{'':24} {'files':>9} {'seconds':>9} {'files/s':>10}")
    for run in runs:
        print(f"{run.name:24} {run.files:>9,} {run.seconds:>9.2f} {run.rate:>10,.0f}")
    seed, one, every, auto, floor = runs
    print(f"zfish (chosen) used: {'; '.join(chosen)}")
    fastest_fixed = max(one.rate, every.rate)
    print(
        f"chosen / best fixed count : {auto.rate / fastest_fixed:5.2f}  "
        f"(goal: never slower than 1 worker: chosen / 1 worker = {auto.rate / one.rate:.2f})"
    )
    ratio = auto.rate / seed.rate
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(f"zfish / seed loop : {ratio:5.2f}x  (target >= {TARGET:.0f}x: {verdict})")
    print(
        f"zfish / floor     : {auto.rate / floor.rate:5.2f}   (seed loop / floor: "
        f"{seed.rate / floor.rate:.2f})"
    )
    print(
        f"floor: the same {floor.files:,} files (names, day folders, byte sizes taken from zfish's "
        f"output) written from one preallocated buffer with os.open/os.write/os.close by "
        f"{workers} forked processes split by day, no encoding. Each run starts after os.sync() "
        f"in a fresh folder; all were deleted at the end ({cleanup:.0f}s). "
        f"Load average after: {load()}"
    )
    shm = Path("/dev/shm")
    if not quick and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > need:
        workers_on(shm, spec, workers)


def workers_on(where: Path, spec: StudySpec, workers: int) -> None:
    """The worker counts again on another file system (memory): the disk's share made visible."""
    base = Path(tempfile.mkdtemp(prefix="zfish-bench-gen-", dir=where))
    chosen: list[str] = []
    try:
        runs = [
            timed(
                f"zfish --workers {n}" if n else "zfish (chosen)",
                partial(run_zfish, spec, base / str(n), n, chosen),
            )
            for n in (1, workers, None)
        ]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"on {where} ({filesystem_of(where)}):")
    for run in runs:
        print(f"  {run.name:22} {run.files:>9,} {run.seconds:>9.2f} {run.rate:>10,.0f}")
    print(f"  zfish (chosen) used: {'; '.join(chosen)}")
