"""The generator's engine: deterministic draws, rendering files to bytes, workers and safe writes.

Determinism. Every random value is a pure function of (seed, fish index,
field[, age, element]), drawn by ``draws`` (a splitmix64-style counter hash
in place of the seed script's shared ``random`` stream). Nothing depends on the
order of calls, so work can be split by day over any number of processes and
the study is byte-identical whatever the worker count.

Layout. Fish ``i`` hatches on day ``i // hatch_rate`` (ids ``zfish_00000``,
...). On day ``d`` the fish of age ``a`` (for each observation age) get one
observation JSON and one PNG; the fish of the label age get a line in that
day's ``outcomes.json``. Everything stays within start..end, as in the seed.

Writing. Files are written with ``os.open``/``os.write``/``os.close`` relative
to an open directory descriptor, into a temporary sibling of the target,
which is renamed into place at the end with a manifest recording the spec.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
import multiprocessing.pool
import os
import queue
import secrets
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from zfish import __version__, console
from zfish.exceptions import InputDataError, ValidationError
from zfish.fsutil import pid_alive
from zfish.generator import png
from zfish.generator.draws import (
    F64,
    FIELD_COLOR,
    FIELD_CONDITION,
    FIELD_GENE,
    FIELD_LENGTH,
    FIELD_SEX,
    FIELD_SIGNAL,
    FIELD_TREATMENT,
    I64,
    U64,
    Bool,
    normal,
    randint,
    uniform,
)
from zfish.generator.spec import GENES, SEXES, TREATMENTS, StudySpec

MANIFEST_NAME = "_zfish_study.json"
FORMAT_VERSION = 1
KIND_DIRS = ("observations", "images", "outcomes")

# Below this many files a process pool costs more than it saves.
_POOL_MIN_FILES = 5000
# Upper bound on noise elements drawn at once (memory stays ~100 MB at most).
_NOISE_CHUNK_ELEMS = 4_000_000


# ------------------------------------------------------------------ per-fish draws
@dataclass(frozen=True)
class FishTraits:
    """What the seed draws once per fish, for an array of fish indices."""

    fish: U64
    treatment: I64  # index into TREATMENTS
    sex: I64  # index into SEXES
    markers: Bool  # (n, len(GENES))
    p_condition: F64
    condition: Bool
    signal: Bool  # a sick fish whose images show the red signal


def fish_traits(spec: StudySpec, fish: U64) -> FishTraits:
    seed = spec.seed
    treatment = randint(seed, FIELD_TREATMENT, fish, 0, len(TREATMENTS) - 1)
    sex = randint(seed, FIELD_SEX, fish, 0, len(SEXES) - 1)
    markers = np.stack([uniform(seed, FIELD_GENE[g], fish) < 0.5 for g in GENES], axis=1)
    p = np.full(fish.shape, spec.prevalence, dtype=np.float64)
    for name, delta in spec.treatment_risk:
        p += np.where(treatment == TREATMENTS.index(name), delta, 0.0)
    for name, delta in spec.marker_risk:
        p += np.where(markers[:, GENES.index(name)], delta, 0.0)
    p = np.clip(p, 0.0, 1.0)
    condition = uniform(seed, FIELD_CONDITION, fish) < p
    signal = condition & (uniform(seed, FIELD_SIGNAL, fish) < spec.image_signal)
    return FishTraits(fish, treatment, sex, markers, p, condition, signal)


def red_level(age: int) -> int:
    """The seed's red channel for a sick fish of this age (same float expression)."""
    return min(150 + int((age / 5) * 105), 255)


def image_colours(spec: StudySpec, traits: FishTraits, ages: I64) -> I64:
    """One (r, g, b) per observation: white-ish when healthy, red rising with age when sick."""
    n = len(ages)
    colours = np.empty((n, 3), dtype=np.int64)
    for channel, field in enumerate(FIELD_COLOR):
        u = np.empty(n, dtype=np.float64)
        for age in np.unique(ages):
            rows = ages == age
            u[rows] = uniform(spec.seed, field, traits.fish[rows], sub=int(age))
        healthy = 200 + np.floor(u * 56).astype(np.int64)  # randint(200, 255)
        sick = np.floor(u * 51).astype(np.int64)  # randint(0, 50)
        colours[:, channel] = np.where(traits.signal, sick, healthy)
    for age in np.unique(ages):
        rows = (ages == age) & traits.signal
        colours[rows, 0] = red_level(int(age))
    return colours


def length_draws(spec: StudySpec, fish: U64, ages: I64) -> F64:
    """``2.0 + 0.5*age + uniform(-0.2, 0.2)`` before rounding, with the seed's float operations."""
    u = np.empty(len(ages), dtype=np.float64)
    for age in np.unique(ages):
        rows = ages == age
        u[rows] = uniform(spec.seed, FIELD_LENGTH, fish[rows], sub=int(age))
    # random.uniform(a, b) is a + (b - a) * random(); b - a is 0.4 exactly here.
    result: F64 = (2.0 + 0.5 * ages) + (-0.2 + 0.4 * u)
    return result


# ------------------------------------------------------------------ layout
@dataclass(frozen=True)
class Counts:
    fish: int
    observations: int
    images: int
    outcomes: int
    outcome_files: int

    @property
    def files(self) -> int:
        return self.observations + self.images + self.outcome_files


def plan_counts(spec: StudySpec) -> Counts:
    """What a study will hold, without generating it."""
    rate, n = spec.hatch_rate, spec.n_days
    obs = sum(max(0, n - age) for age in spec.observation_ages) * rate
    outcome_days = max(0, n - spec.label_age)
    return Counts(spec.n_fish, obs, obs, outcome_days * rate, outcome_days)


def day_observations(spec: StudySpec, d: int) -> tuple[U64, I64]:
    """Fish indices and ages observed on day index ``d`` (ages ascending, then fish)."""
    rate = spec.hatch_rate
    fish: list[U64] = []
    ages: list[I64] = []
    for age in spec.observation_ages:
        hatched = d - age
        if hatched >= 0:
            fish.append(np.arange(hatched * rate, (hatched + 1) * rate, dtype=np.uint64))
            ages.append(np.full(rate, age, dtype=np.int64))
    if not fish:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    return np.concatenate(fish), np.concatenate(ages)


def day_labelled(spec: StudySpec, d: int) -> U64:
    """Fish indices whose label age falls on day index ``d``."""
    hatched = d - spec.label_age
    if hatched < 0:
        return np.empty(0, dtype=np.uint64)
    rate = spec.hatch_rate
    return np.arange(hatched * rate, (hatched + 1) * rate, dtype=np.uint64)


# ------------------------------------------------------------------ rendering
_BOOL = ("false", "true")
# The seed's json.dump(indent=2) of genetic_markers, for each of the 2**3 combinations.
_MARKER_BLOCKS = tuple(
    "{\n"
    + ",\n".join(
        f'    "{g}": {_BOOL[(code >> (len(GENES) - 1 - j)) & 1]}' for j, g in enumerate(GENES)
    )
    + "\n  }"
    for code in range(1 << len(GENES))
)
_SEX_SUFFIX = tuple(f',\n  "sex": "{s}"' for s in SEXES)
_TREATMENT_MARKERS = tuple(
    f'  "treatment": "{t}",\n  "genetic_markers": {block}'
    for t in TREATMENTS
    for block in _MARKER_BLOCKS
)


@dataclass
class DayFiles:
    """One day of the study rendered to bytes: file names and contents per kind."""

    day: str
    observations: list[tuple[str, bytes]]
    images: list[tuple[str, bytes]]
    outcomes: bytes | None
    n_outcomes: int


class Renderer:
    """Renders days of one spec; holds the PNG cache of solid colours between days."""

    def __init__(self, spec: StudySpec) -> None:
        self.spec = spec
        width, height = spec.image_size
        self.solid = png.SolidPngCache(width, height)

    def render_day(self, d: int) -> DayFiles:
        spec = self.spec
        day = spec.day(d).isoformat()
        fish, ages = day_observations(spec, d)
        observations: list[tuple[str, bytes]] = []
        images: list[tuple[str, bytes]] = []
        if len(fish):
            traits = fish_traits(spec, fish)
            colours = image_colours(spec, traits, ages)
            pngs = self._pngs(fish, ages, colours)
            lengths = length_draws(spec, fish, ages).tolist()
            # Treatment and markers as one pre-rendered piece of JSON: index t * 8 + markers.
            codes = traits.treatment * len(_MARKER_BLOCKS) + (
                traits.markers.astype(np.int64) @ (1 << np.arange(len(GENES))[::-1])
            )
            fish_l, codes_l, sex_l = fish.tolist(), codes.tolist(), traits.sex.tolist()
            add_observation, add_image = observations.append, images.append
            # day_observations() returns one contiguous run of fish per age.
            bounds = np.flatnonzero(np.diff(ages)) + 1
            for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(ages)], strict=True):
                age = int(ages[lo])
                id_suffix = f"_{age:02d}"
                middle = f'",\n  "timestamp": "{day}T00:00:00Z",\n  "age_days": {age},\n'
                sexes = _SEX_SUFFIX if age >= spec.sex_age else ("",) * len(SEXES)
                for f, code, s, length, image in zip(
                    fish_l[lo:hi],
                    codes_l[lo:hi],
                    sex_l[lo:hi],
                    lengths[lo:hi],
                    pngs[lo:hi],
                    strict=True,
                ):
                    fish_id = f"zfish_{f:05d}"
                    image_id = fish_id + id_suffix
                    text = (
                        f'{{\n  "fish_id": "{fish_id}",\n  "image_id": "{image_id}{middle}'
                        f'{_TREATMENT_MARKERS[code]},\n  "length_mm": {round(length, 2)!r}'
                        f"{sexes[s]}\n}}"
                    )
                    add_observation((image_id + ".json", text.encode()))
                    add_image((image_id + ".png", image))
        labelled = day_labelled(spec, d)
        outcomes = None
        if len(labelled):
            condition = fish_traits(spec, labelled).condition.tolist()
            # The seed's json.dump(records, indent=2), spelled out (tests hold it to json.dumps).
            body = ",\n".join(
                f'  {{\n    "fish_id": "zfish_{f:05d}",\n    "condition_developed": {_BOOL[c]}\n  }}'
                for f, c in zip(labelled.tolist(), condition, strict=True)
            )
            outcomes = f"[\n{body}\n]".encode()
        return DayFiles(day, observations, images, outcomes, len(labelled))

    def _pngs(self, fish: U64, ages: I64, colours: I64) -> list[bytes]:
        spec = self.spec
        if spec.image_noise == 0.0:
            keys = (colours[:, 0] << 16) | (colours[:, 1] << 8) | colours[:, 2]
            return self.solid.many(keys.tolist())
        width, height = spec.image_size
        per_image = width * height * 3
        step = max(1, _NOISE_CHUNK_ELEMS // per_image)
        elems = np.arange(per_image, dtype=np.uint64)
        out: list[bytes] = []
        for lo in range(0, len(fish), step):
            f, a, c = fish[lo : lo + step], ages[lo : lo + step], colours[lo : lo + step]
            noise = np.empty((len(f), per_image), dtype=np.float64)
            for age in np.unique(a):
                rows = a == age
                positions = f[rows, None] * np.uint64(per_image) + elems[None, :]
                noise[rows] = normal(spec.seed, positions, sub=int(age))
            base = np.tile(c.astype(np.float64), width * height)  # (n, per_image), rgb repeated
            pixels = np.clip(np.rint(base + spec.image_noise * noise), 0, 255).astype(np.uint8)
            out.extend(png.encode_batch(pixels.reshape(len(f), height, width, 3)))
        return out


# ------------------------------------------------------------------ writing
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_DIR_FD = os.open in os.supports_dir_fd


def write_files(directory: str, items: list[tuple[str, bytes]]) -> int:
    """Create each file (it must not exist) with one open, write and close; return bytes."""
    total = 0
    dir_fd = os.open(directory, os.O_RDONLY | _O_DIRECTORY) if _DIR_FD else None
    try:
        for name, data in items:
            if dir_fd is not None:
                fd = os.open(name, _FILE_FLAGS, 0o644, dir_fd=dir_fd)
            else:  # pragma: no cover - platforms without dir_fd
                fd = os.open(os.path.join(directory, name), _FILE_FLAGS, 0o644)
            try:
                done = os.write(fd, data)
                while done < len(data):  # short writes are rare on regular files, but legal
                    done += os.write(fd, data[done:])
            finally:
                os.close(fd)
            total += len(data)
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    return total


class DayStats(NamedTuple):
    day: int
    observations: int
    images: int
    outcomes: int
    outcome_files: int
    bytes: int

    @property
    def files(self) -> int:
        return self.observations + self.images + self.outcome_files


def write_day(root: str, files: DayFiles, d: int) -> DayStats:
    """Write one rendered day under ``root`` (whose kind folders exist)."""
    part = f"day={files.day}"
    obs_dir = os.path.join(root, "observations", part)
    img_dir = os.path.join(root, "images", part)
    # Like the seed, every day gets its observation and image folders, even empty ones.
    os.mkdir(obs_dir)
    os.mkdir(img_dir)
    written = write_files(obs_dir, files.observations)
    written += write_files(img_dir, files.images)
    if files.outcomes is not None:
        out_dir = os.path.join(root, "outcomes", part)
        os.mkdir(out_dir)
        written += write_files(out_dir, [("outcomes.json", files.outcomes)])
    return DayStats(
        d,
        len(files.observations),
        len(files.images),
        files.n_outcomes,
        int(files.outcomes is not None),
        written,
    )


# Per-process state of pool workers (set by the initializer, one renderer per process).
_worker: tuple[str, Renderer] | None = None


def _init_worker(root: str, spec: StudySpec) -> None:
    global _worker
    # Ctrl-C is the parent's to handle (it terminates the pool and removes the temp folder).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker = (root, Renderer(spec))


def _work_day(d: int) -> DayStats:
    assert _worker is not None, "worker not initialised"
    root, renderer = _worker
    return write_day(root, renderer.render_day(d), d)


def _pool_context() -> multiprocessing.context.BaseContext:
    """fork when it is safe (one thread), else forkserver (e.g. beside a Spark JVM gateway)."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def resolve_workers(spec: StudySpec, workers: int | None) -> int:
    """Processes to use: as asked, else every core for studies worth a pool; at most one per day.

    Unasked, this is the most :func:`write_study` tries: it starts with one and adds
    workers only while files/s rises (``adaptive``).
    """
    if workers is not None:
        if workers < 1:
            raise ValidationError(f"workers must be at least 1, got {workers}")
        return min(workers, spec.n_days)
    if plan_counts(spec).files < _POOL_MIN_FILES:
        return 1
    return max(1, min(os.cpu_count() or 1, spec.n_days))


@dataclass(frozen=True)
class WorkerChoice:
    """How many processes wrote the study, and the files/s measured for each count tried."""

    workers: int
    rates: dict[int, float]

    def describe(self) -> str:
        if len(self.rates) < 2:
            return f"{self.workers} worker(s)"
        tried = ", ".join(f"{n}: {rate:,.0f}" for n, rate in sorted(self.rates.items()))
        return f"{self.workers} worker(s), chosen by measuring files/s ({tried})"


# A probe step writes about this long before its files/s is read (a day at least).
_PROBE_SECONDS = 0.4
# A count of workers is kept only when it writes this much faster: noise is not a gain.
_PROBE_GAIN = 1.10


def write_study(
    spec: StudySpec,
    root: Path,
    *,
    workers: int = 1,
    adaptive: bool = False,
    show_progress: bool = False,
) -> tuple[list[DayStats], WorkerChoice]:
    """Render and write every day of ``spec`` into the empty directory ``root``.

    ``adaptive``: ``workers`` is the most to use. The first days are written by one
    process, the next by two at once, then three...; a count is kept only while it
    raises files/s by ``_PROBE_GAIN`` (10%) over the best so far, and the remaining days
    go to the best count. Where processes creating files at once contend in the
    kernel (ext4 on some of these machines: 2 workers 51 s, 1 worker 18 s for 177k
    files) one process wins; on a disk without that contention (or /dev/shm),
    every core. The files never depend on the split.
    """
    for kind in KIND_DIRS:
        (root / kind).mkdir()
    counts = plan_counts(spec)
    pending = list(range(spec.n_days))
    stats: list[DayStats] = []
    rates: dict[int, float] = {}
    label = f"generate {counts.files:,} files"
    renderer = Renderer(spec)

    def in_process(d: int) -> DayStats:
        return write_day(str(root), renderer.render_day(d), d)

    # Start the pool before the progress bar: its refresh thread must not be forked.
    pool = _pool_context().Pool(workers, _init_worker, (str(root), spec)) if workers > 1 else None
    try:
        with console.progress(label, counts.files, enabled=show_progress) as advance:

            def run(days: list[int], concurrency: int) -> int:
                """Write ``days`` with ``concurrency`` processes busy at once; the files written."""
                files = 0
                for day_stats in _days_written(pool, in_process, days, concurrency):
                    stats.append(day_stats)
                    advance(day_stats.files)
                    files += day_stats.files
                return files

            chosen = workers
            if adaptive and pool is not None:
                chosen = _probe(pending, workers, rates, run)
            run(pending, chosen)
    except BaseException:
        if pool is not None:  # Ctrl-C or a failed day: the caller removes the temp folder
            pool.terminate()
            pool.join()
        raise
    if pool is not None:
        pool.close()
        pool.join()
    stats.sort()
    return stats, WorkerChoice(chosen, rates)


def _probe(
    pending: list[int], most: int, rates: dict[int, float], run: Callable[[list[int], int], int]
) -> int:
    """Write days from the head of ``pending`` with 1, 2, ... processes; the best count.

    Each step gives every process as many days as the one process took for
    ``_PROBE_SECONDS`` (or a share of the days, whichever is fewer); it stops at the first count that is not ``_PROBE_GAIN`` faster.
    """
    started, files, per_process = time.perf_counter(), 0, 0
    # At most a sixth of the days for one process (with two cores): a fast disk leaves
    # days for the steps that follow, and most of the study for the count chosen.
    most_days = max(1, len(pending) // (2 + 2 * most))
    while pending and per_process < most_days and time.perf_counter() - started < _PROBE_SECONDS:
        files += run([pending.pop(0)], 1)
        per_process += 1
    rates[1] = files / max(time.perf_counter() - started, 1e-9)
    best = 1
    for n in range(2, most + 1):
        if len(pending) < per_process * n:
            break  # too few days left for a fair step: the rest goes to the best so far
        batch, pending[:] = pending[: per_process * n], pending[per_process * n :]
        started = time.perf_counter()
        files = run(batch, n)
        rates[n] = files / max(time.perf_counter() - started, 1e-9)
        if rates[n] < rates[best] * _PROBE_GAIN:
            break
        best = n
    return best


def _days_written(
    pool: multiprocessing.pool.Pool | None,
    in_process: Callable[[int], DayStats],
    days: list[int],
    concurrency: int,
) -> Iterator[DayStats]:
    """Each day's stats as it is written: here for one process, else ``concurrency`` pool tasks in flight."""
    if concurrency <= 1 or pool is None:
        for d in days:
            yield in_process(d)
        return
    done: queue.SimpleQueue[DayStats | BaseException] = queue.SimpleQueue()
    todo = iter(days)
    in_flight = 0
    for d in itertools.islice(todo, concurrency):
        pool.apply_async(_work_day, (d,), callback=done.put, error_callback=done.put)
        in_flight += 1
    while in_flight:
        result = done.get()
        in_flight -= 1
        if isinstance(result, BaseException):
            raise result
        for d in itertools.islice(todo, 1):
            pool.apply_async(_work_day, (d,), callback=done.put, error_callback=done.put)
            in_flight += 1
        yield result


# ------------------------------------------------------------------ the study on disk
@dataclass(frozen=True)
class GenerateReport:
    """What :func:`generate` did (or found: ``up_to_date`` when nothing had to be written)."""

    out_dir: Path
    spec: StudySpec
    fish: int
    observations: int
    images: int
    outcomes: int
    outcome_files: int
    bytes: int
    seconds: float
    workers: int
    up_to_date: bool = False
    worker_choice: str = ""

    @property
    def skipped(self) -> bool:
        return self.up_to_date

    @property
    def files(self) -> int:
        return self.observations + self.images + self.outcome_files

    def rows(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [
            ("study", str(self.out_dir)),
            ("seed", self.spec.seed),
            ("days", f"{self.spec.start.isoformat()} .. {self.spec.end.isoformat()}"),
            ("fish", self.fish),
            ("observations", self.observations),
            ("images", self.images),
            ("outcomes", f"{self.outcomes:,} in {self.outcome_files:,} files"),
            ("bytes", f"{self.bytes:,} ({console.human_bytes(self.bytes)})"),
        ]
        if self.spec.scenarios:
            rows.insert(3, ("scenarios", ", ".join(self.spec.scenarios)))
        if not self.up_to_date:
            rate = self.files / self.seconds if self.seconds > 0 else 0.0
            rows += [
                ("seconds", round(self.seconds, 2)),
                ("files/s", f"{rate:,.0f} ({self.worker_choice or f'{self.workers} worker(s)'})"),
            ]
        return rows


@dataclass(frozen=True)
class Manifest:
    format: int
    spec: StudySpec
    counts: dict[str, int]


def read_manifest(data_dir: Path) -> Manifest | None:
    """The manifest of the study in ``data_dir``; None when there is none."""
    path = Path(data_dir) / MANIFEST_NAME
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    try:
        data = json.loads(raw)
        fmt = data["zfish_study"]
        spec = StudySpec.from_dict(data["spec"])
        counts = {str(k): int(v) for k, v in data.get("counts", {}).items()}
    except (ValueError, KeyError, TypeError, AttributeError, ValidationError) as exc:
        raise InputDataError(
            f"{path} is not a readable zfish study manifest ({exc}); "
            "regenerate the study with `zfish generate --force`"
        ) from exc
    if not isinstance(fmt, int):
        raise InputDataError(f"{path}: 'zfish_study' must be the format number, got {fmt!r}")
    return Manifest(fmt, spec, counts)


def load_spec(data_dir: Path) -> StudySpec | None:
    """The spec of the study in ``data_dir``, or None when it holds no zfish study."""
    manifest = read_manifest(data_dir)
    return manifest.spec if manifest is not None else None


def study_exists(data_dir: Path, spec: StudySpec) -> bool:
    """True when ``data_dir`` holds the study ``spec`` describes, made by this generator format."""
    try:
        manifest = read_manifest(data_dir)
    except InputDataError:
        return False
    return manifest is not None and manifest.format == FORMAT_VERSION and manifest.spec == spec


def _manifest_bytes(spec: StudySpec, stats: list[DayStats]) -> bytes:
    counts = {
        "fish": spec.n_fish,
        "observations": sum(s.observations for s in stats),
        "images": sum(s.images for s in stats),
        "outcomes": sum(s.outcomes for s in stats),
        "outcome_files": sum(s.outcome_files for s in stats),
        "bytes": sum(s.bytes for s in stats),
    }
    # No timestamps or hosts: two runs of one spec give byte-identical trees, manifest included.
    doc = {
        "zfish_study": FORMAT_VERSION,
        "generator": "zfish generate",
        "spec": spec.to_dict(),
        "counts": counts,
    }
    return (json.dumps(doc, indent=2) + "\n").encode()


def _temp_sibling(target: Path, tag: str) -> Path:
    """A fresh, unused directory name next to ``target``; the pid lets later runs clean up."""
    return target.parent / f".{target.name}.zfish-{tag}-{os.getpid()}-{secrets.token_hex(4)}"


def remove_stale_temp_dirs(target: Path) -> list[Path]:
    """Delete temp siblings left by killed generate runs (their process is gone)."""
    removed = []
    prefix = f".{target.name}.zfish-"
    with contextlib.suppress(FileNotFoundError):
        for entry in target.parent.iterdir():
            if not entry.name.startswith(prefix) or not entry.is_dir() or entry.is_symlink():
                continue
            parts = entry.name[len(prefix) :].split("-")
            if len(parts) != 3 or parts[0] not in ("tmp", "old") or not parts[1].isdigit():
                continue
            if not pid_alive(int(parts[1])):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def _state(out_dir: Path) -> tuple[str, Manifest | None]:
    """``missing``, ``empty``, ``study`` (with its manifest, None if unreadable) or ``foreign``."""
    if not out_dir.exists():
        return "missing", None
    if not out_dir.is_dir():
        raise ValidationError(f"{out_dir} exists and is not a directory; choose another --data")
    if (out_dir / MANIFEST_NAME).is_file():
        try:
            return "study", read_manifest(out_dir)
        except InputDataError:
            return "study", None
    with os.scandir(out_dir) as entries:
        if next(entries, None) is None:
            return "empty", None
    return "foreign", None


def _refuse_foreign(out_dir: Path) -> ValidationError:
    return ValidationError(
        f"{out_dir} is not empty and holds no zfish study (no {MANIFEST_NAME}); zfish will not "
        "delete or mix into it. Choose another --data, or empty the folder yourself"
    )


@contextlib.contextmanager
def _temp_dir(out_dir: Path) -> Iterator[Path]:
    """A new sibling directory that is removed unless it was renamed away."""
    tmp = _temp_sibling(out_dir, "tmp")
    os.mkdir(tmp)  # honours the umask, unlike mkdtemp's 0700
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    """Rename the finished study to ``out_dir``, replacing an old zfish study or an empty folder."""
    state, _ = _state(out_dir)
    if state == "foreign":  # someone wrote there while we were generating
        raise _refuse_foreign(out_dir)
    if state == "missing":
        os.rename(tmp, out_dir)
        return
    if state == "empty":
        os.rmdir(out_dir)
        os.rename(tmp, out_dir)
        return
    # An old study: step it aside, put the new one in, then delete the old one.
    old = _temp_sibling(out_dir, "old")
    os.rename(out_dir, old)
    try:
        os.rename(tmp, out_dir)
    except BaseException:
        os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def generate(
    spec: StudySpec,
    out_dir: Path,
    *,
    workers: int | None = None,
    force: bool = False,
    show_progress: bool = True,
) -> GenerateReport:
    """Generate the study ``spec`` describes into ``out_dir`` and return what was done.

    The study is written into a temporary sibling folder and renamed into place
    at the end, so ``out_dir`` never holds half a study. If ``out_dir`` already
    holds the study of this spec, nothing is written (``up_to_date``) unless
    ``force``; a study of another spec is replaced only with ``force``; a
    non-empty folder that is not a zfish study is never touched. ``workers``
    defaults to a count chosen by measuring, up to every core (one process for small studies).
    """
    started = time.perf_counter()
    spec.validate()
    out_dir = Path(out_dir)
    if out_dir.is_symlink():
        out_dir = out_dir.resolve()  # replace the folder it points to, keep the link
    out_dir = out_dir.absolute()
    n_workers = resolve_workers(spec, workers)
    state, manifest = _state(out_dir)
    if state == "foreign":
        raise _refuse_foreign(out_dir)
    if state == "study" and not force:
        if manifest is not None and manifest.format == FORMAT_VERSION and manifest.spec == spec:
            c = manifest.counts
            return GenerateReport(
                out_dir,
                spec,
                fish=c.get("fish", spec.n_fish),
                observations=c.get("observations", 0),
                images=c.get("images", 0),
                outcomes=c.get("outcomes", 0),
                outcome_files=c.get("outcome_files", 0),
                bytes=c.get("bytes", 0),
                seconds=time.perf_counter() - started,
                workers=0,
                up_to_date=True,
            )
        raise ValidationError(_difference(out_dir, spec, manifest))

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_dirs(out_dir)
    with _temp_dir(out_dir) as tmp:
        stats, choice = write_study(
            spec, tmp, workers=n_workers, adaptive=workers is None, show_progress=show_progress
        )
        if spec.scenarios:
            stats = _with_scenarios(spec, tmp, stats, show_progress)
        (tmp / MANIFEST_NAME).write_bytes(_manifest_bytes(spec, stats))
        _move_into_place(tmp, out_dir)
    return GenerateReport(
        out_dir,
        spec,
        fish=spec.n_fish,
        observations=sum(s.observations for s in stats),
        images=sum(s.images for s in stats),
        outcomes=sum(s.outcomes for s in stats),
        outcome_files=sum(s.outcome_files for s in stats),
        bytes=sum(s.bytes for s in stats),
        seconds=time.perf_counter() - started,
        workers=choice.workers,
        worker_choice=choice.describe(),
    )


def _with_scenarios(
    spec: StudySpec, root: Path, stats: list[DayStats], show_progress: bool
) -> list[DayStats]:
    """Inject the spec's faults into the written study; the stats recounted from the files."""
    from zfish.generator import scenarios

    with console.progress("scenarios", len(spec.scenarios), enabled=show_progress) as advance:
        scenarios.apply_all(spec, root, lambda _name: advance(1))
    # Counts of what is on disk now (the manifest's counts describe the files).
    counted: list[DayStats] = []
    for day_stats in stats:
        part = f"day={spec.day(day_stats.day).isoformat()}"
        obs = _files(root / "observations" / part, ".json")
        imgs = _files(root / "images" / part, ".png")
        out_file = root / "outcomes" / part / "outcomes.json"
        outcomes = len(json.loads(out_file.read_bytes())) if out_file.is_file() else 0
        size = sum(
            p.stat().st_size
            for kind in KIND_DIRS
            if (root / kind / part).is_dir()
            for p in (root / kind / part).iterdir()
        )
        counted.append(
            DayStats(day_stats.day, len(obs), len(imgs), outcomes, int(out_file.is_file()), size)
        )
    return counted


def _files(folder: Path, suffix: str) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(suffix)] if folder.is_dir() else []


def _difference(out_dir: Path, spec: StudySpec, manifest: Manifest | None) -> str:
    """The error for a study made with other options: what differs, and the fix."""
    fix = "pass --force to replace it (or choose another --data)"
    if manifest is None:
        return f"{out_dir} holds a zfish study with an unreadable {MANIFEST_NAME}; {fix}"
    if manifest.format != FORMAT_VERSION:
        return (
            f"{out_dir} holds a study made by generator format {manifest.format} "
            f"(this zfish {__version__} writes format {FORMAT_VERSION}); {fix}"
        )
    old, new = manifest.spec.to_dict(), spec.to_dict()
    # A clean spec has no "scenarios" key (see StudySpec.to_dict): absent is the empty list.
    keys = [*new, *(k for k in old if k not in new)]
    changed = ", ".join(
        f"{k} {old.get(k, [])!r} -> {new.get(k, [])!r}" for k in keys if old.get(k) != new.get(k)
    )
    return f"{out_dir} holds a different study ({changed}); {fix}"
