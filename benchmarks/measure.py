"""Measuring a command from outside: wall time and the peak memory of its whole process tree.

Spark runs a JVM child (and Python workers) under the Python process, so the
peak is the largest sum of resident set sizes over the process and all its
descendants, sampled every 50 ms (psutil; a walk of the tree costs CPU the
contenders share on 2 cores). Short spikes between two samples
are missed; the figure is a lower bound, the same for every contender.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
SAMPLE_SECONDS = 0.05
SHM = Path("/dev/shm")


def work_dir(prefix: str, need_bytes: int) -> Path:
    """A fresh folder for a benchmark's studies and lakes.

    ``$ZFISH_BENCH_DIR`` if set; else the memory file system ``/dev/shm`` when it
    has room for ``need_bytes`` with a quarter to spare, because a lake of a
    million small files takes minutes to delete from a disk (10 minutes at hatch
    rate 2000 on this machine's ext4) and seconds from memory; else the system's
    temporary folder. The ETL reads its input from the page cache either way.
    """
    chosen = os.environ.get("ZFISH_BENCH_DIR")
    roomy = SHM.is_dir() and os.access(SHM, os.W_OK)
    if not chosen and roomy and shutil.disk_usage(SHM).free > need_bytes * 5 // 4:
        chosen = str(SHM)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=chosen))


@dataclass
class Measured:
    wall: float
    peak_mib: float
    stdout: str
    stderr: str
    returncode: int


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def run(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path = REPO,
    timeout: float = 1800,
    check: bool = True,
) -> Measured:
    """Run ``argv``; wall seconds from start to exit, peak MiB of its process tree."""
    full_env = {**os.environ, **(env or {})}
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            peak = max(peak, _tree_rss(root))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # The output is drained by threads: a JVM child holds the pipes open until it has shut
    # down, after its Python parent exited. The wall time ends when the command exits, as
    # a shell's prompt comes back, not when its JVM is gone.
    output: dict[str, str] = {}
    pumps = [
        threading.Thread(target=lambda k=k, s=s: output.__setitem__(k, s.read()), daemon=True)
        for k, s in (("out", proc.stdout), ("err", proc.stderr))
    ]
    for pump in pumps:
        pump.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    # A JVM that outlives its Python parent (shutting down, or finishing a class-data dump) is
    # waited for here, so that no measurement overlaps the previous one's leftovers.
    _wait_group(proc.pid)
    for pump in pumps:
        pump.join(timeout=30)
    out, err = output.get("out", ""), output.get("err", "")
    result = Measured(wall, peak / 2**20, out, err, proc.returncode)
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited {proc.returncode}:\n{err[-3000:]}\n{out[-2000:]}"
        )
    return result


def _wait_group(pgid: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = False
        for proc in psutil.process_iter(["pid"]):
            try:
                if os.getpgid(proc.pid) == pgid:
                    alive = True
                    break
            except (ProcessLookupError, PermissionError):
                continue
        if not alive:
            return
        time.sleep(0.1)


def python(code: str, *args: str, **kwargs: object) -> Measured:
    """``python -c code args...`` with this interpreter (the venv)."""
    return run([sys.executable, "-c", code, *args], **kwargs)  # type: ignore[arg-type]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def verdict(ratio: float, goal: float, lower_is_better: bool = True) -> str:
    met = ratio <= goal if lower_is_better else ratio >= goal
    sign = "<=" if lower_is_better else ">="
    return f"{ratio:.2f} (goal {sign} {goal:g}: {'met' if met else 'NOT met'})"


def bench_dir() -> Path:
    """$ZFISH_BENCH_DIR, else beside the user's data (the README's ./data): the disk it goes to."""
    explicit = os.environ.get("ZFISH_BENCH_DIR")
    if explicit:
        return Path(explicit)
    data = Path(os.environ.get("ZFISH_DATA", "./data/synthetic_data")).absolute()
    data.parent.mkdir(parents=True, exist_ok=True)
    return data.parent


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def filesystem_of(path: Path) -> str:
    """The mount's filesystem type, from /proc/mounts (best effort)."""
    best, fstype = "", "unknown"
    try:
        with open("/proc/mounts") as mounts:
            for line in mounts:
                parts = line.split()
                if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
                    best, fstype = parts[1], parts[2]
    except OSError:
        pass
    return fstype
