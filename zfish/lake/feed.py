"""``zfish feed``: a scheduled delivery of the study, one simulated evening per tick, with a diff strategy.

At every tick the simulated clock advances one evening D and that evening's set
is delivered: every ``day=`` partition strictly before D, JSON compacted as
``jq -c .`` does (what ``zfish upload --until D`` writes). Which of its objects
go out is the diff strategy's choice:

* ``rotating`` (default): those whose content differs from the manifest of the
  last delivery (new ones, and changed ones again); the manifest is replaced;
* ``none``: the whole set, every tick;
* ``append``: only keys never delivered before; every tick's manifest is kept.

The destination is the lake (files through temp + rename) or an S3 endpoint
(``put_object`` through boto3, as any client would). The feed's state and
manifests live with the data, under ``<prefix>/_zfish/feed/``, so a restart
resumes at the next evening. An evening counts as delivered only once its
objects, then its manifest, then the state are written: after a SIGKILL mid-delivery, the next start delivers
that evening again, whole (a rewritten object has the same bytes; no object
is lost or half-written). SIGTERM or Ctrl-C stops between deliveries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from zfish.exceptions import DeliveryError, ValidationError
from zfish.fsutil import atomic_write_bytes, remove_stale_temp_files
from zfish.lake import partitions
from zfish.lake.upload import stage_partition
from zfish.problems import Problem, render
from zfish.settings import KINDS, LakeLayout

DIFF_ROTATING = "rotating"
DIFF_NONE = "none"
DIFF_APPEND = "append"
DIFFS = (DIFF_ROTATING, DIFF_NONE, DIFF_APPEND)
THEN_STEPS = ("crawl", "etl")
STATE_KEY = "_zfish/feed/state.json"
MANIFEST_KEY = "_zfish/feed/manifests/{evening}.json"  # append and none: one per evening
ROTATING_MANIFEST_KEY = "_zfish/feed/manifest.json"  # rotating: the last delivery's, replaced


class Destination(Protocol):
    """Where objects go: keys are relative to the dataset prefix (``observations/day=.../x.json``)."""

    description: str

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes | None: ...


@dataclass
class LakeDestination:
    layout: LakeLayout
    description: str = ""
    _swept: set[Path] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.description = self.layout.s3_uri + " (the lake)"

    def put(self, key: str, data: bytes) -> None:
        path = self.layout.dataset / key
        if path.parent not in self._swept:
            # A feed killed mid-write left its temp file here: gone before this one writes.
            remove_stale_temp_files(path.parent)
            self._swept.add(path.parent)
        atomic_write_bytes(path, data)

    def get(self, key: str) -> bytes | None:
        try:
            return (self.layout.dataset / key).read_bytes()
        except FileNotFoundError:
            return None


@dataclass
class EndpointDestination:
    """An S3 endpoint (``zfish serve``, or any S3) reached as a client, with boto3."""

    url: str
    bucket: str
    prefix: str
    description: str = ""
    client: Any = None

    def __post_init__(self) -> None:
        import boto3

        self.description = f"s3://{self.bucket}/{self.prefix.strip('/')} at {self.url}"
        self.client = boto3.client("s3", endpoint_url=self.url)

    def _key(self, key: str) -> str:
        return f"{self.prefix.strip('/')}/{key}"

    def put(self, key: str, data: bytes) -> None:
        with self._failures(key):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def get(self, key: str) -> bytes | None:
        with self._failures(key):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            except self.client.exceptions.NoSuchKey:
                return None
            body: bytes = response["Body"].read()
            return body

    @contextlib.contextmanager
    def _failures(self, key: str) -> Iterator[None]:
        """botocore's errors as one line that names the object and the fix."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        where = f"s3://{self.bucket}/{self._key(key)} at {self.url}"
        try:
            yield
        except NoCredentialsError:
            raise DeliveryError(
                f"no AWS credentials for {self.url}: export the AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY that `zfish serve` prints (any values for zfish serve)"
            ) from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            fix = (
                f"create the bucket first (aws s3 mb s3://{self.bucket}) or pass --bucket"
                if code == "NoSuchBucket"
                else "check the endpoint's credentials and the bucket"
            )
            raise DeliveryError(f"{where}: {code or exc}; {fix}") from None
        except BotoCoreError as exc:
            raise DeliveryError(f"{where}: {exc}; is the endpoint running?") from None


@dataclass(frozen=True)
class FeedOptions:
    every: float  # seconds between ticks
    first: date | None = None  # the first evening [default: the state's next, else the study's]
    last: date | None = None  # the last evening [default: the day after the study's last]
    diff: str = DIFF_ROTATING
    then: tuple[str, ...] = ()
    catch_up: bool = True
    max_ticks: int | None = None  # stop after this many deliveries (tests, demos)

    def __post_init__(self) -> None:
        if self.every <= 0:
            raise ValidationError(f"--every must be positive, not {self.every}")
        if self.diff not in DIFFS:
            raise ValidationError(f"--diff must be one of {', '.join(DIFFS)}, not {self.diff!r}")
        unknown = [s for s in self.then if s not in THEN_STEPS]
        if unknown:
            raise ValidationError(
                f"--then takes {', '.join(THEN_STEPS)} (comma-separated), not {', '.join(unknown)}"
            )


@dataclass
class Tick:
    """One delivery: the evening, what went out, how long it took."""

    evening: date
    delivered: int
    unchanged: int
    seconds: float
    problems: list[Problem] = field(default_factory=list)
    then: dict[str, str] = field(default_factory=dict)


def parse_every(text: str) -> float:
    """``30s``, ``2m``, ``1h`` or plain seconds."""
    value = text.strip().lower()
    scale = {"s": 1.0, "m": 60.0, "h": 3600.0}.get(value[-1:])
    number = value[:-1] if scale is not None else value
    try:
        seconds = float(number) * (scale or 1.0)
    except ValueError:
        raise ValidationError(f"--every takes 30s, 2m, 1h or seconds, not {text!r}") from None
    if seconds <= 0:
        raise ValidationError(f"--every must be positive, not {text!r}")
    return seconds


def evening_set(source: Path, evening: date) -> tuple[dict[str, bytes], list[Problem]]:
    """key -> the bytes the lake holds for it, for every partition strictly before ``evening``.

    A partition with a file that is not valid JSON (or unreadable) is left out
    whole, as ``zfish upload`` leaves it (:func:`~zfish.lake.upload.stage_partition`),
    and reported.
    """
    objects: dict[str, bytes] = {}
    problems: list[Problem] = []
    for kind in KINDS:
        found, scan_problems = partitions.scan(source / kind)
        problems.extend(scan_problems)
        for part in found:
            if part.day >= evening:
                continue
            staged, bad = stage_partition(part, partitions.files_in(part.path))
            if bad:
                problems.extend(bad)
                problems.append(
                    Problem(
                        part.path,
                        f"partition not delivered: {len(bad)} bad file(s); fix them and the "
                        "next tick delivers it",
                    )
                )
                continue
            objects.update((f"{kind}/{part.name}/{rel.as_posix()}", data) for rel, data in staged)
    return objects, problems


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Feed:
    """The running feed: state read from and written to its destination."""

    def __init__(
        self,
        source: Path,
        destination: Destination,
        options: FeedOptions,
        *,
        say: Callable[[str], None] = print,
        then_step: Callable[[str, date], str] | None = None,
    ) -> None:
        self.source = source
        self.destination = destination
        self.options = options
        self.say = say
        self.then_step = then_step
        self.stop_reason: str | None = None
        self._wake = threading.Event()

    # ---------------------------------------------------------------- state
    def _state(self) -> dict[str, Any]:
        raw = self.destination.get(STATE_KEY)
        if raw is None:
            return {}
        try:
            state: dict[str, Any] = json.loads(raw)
            return state
        except ValueError as exc:
            raise ValidationError(
                f"the feed's state {STATE_KEY} in {self.destination.description} is not JSON "
                f"({exc}); delete it to start the feed over"
            ) from exc

    def _manifest_key(self, evening: date) -> str:
        if self.options.diff == DIFF_ROTATING:
            return ROTATING_MANIFEST_KEY
        return MANIFEST_KEY.format(evening=evening.isoformat())

    def _first_evening(self, state: dict[str, Any]) -> date:
        if self.options.first is not None:
            return self.options.first
        if "next" in state:
            return date.fromisoformat(state["next"])
        days = self._study_days()
        return days[0] + timedelta(days=1)

    def _study_days(self) -> list[date]:
        days = sorted({p.day for kind in KINDS for p in partitions.scan(self.source / kind)[0]})
        if not days:
            raise ValidationError(
                f"no day= partitions in {self.source}: run `zfish generate` or point --data at "
                "a study"
            )
        return days

    # ---------------------------------------------------------------- one tick
    def deliver(self, evening: date, state: dict[str, Any]) -> Tick:
        started = time.perf_counter()
        objects, problems = evening_set(self.source, evening)
        digests = {key: _digest(data) for key, data in objects.items()}
        if self.options.diff == DIFF_NONE:
            due = sorted(objects)
        elif self.options.diff == DIFF_ROTATING:
            raw = self.destination.get(ROTATING_MANIFEST_KEY)
            before: dict[str, str] = json.loads(raw) if raw is not None else {}
            due = sorted(k for k, d in digests.items() if before.get(k) != d)
        else:  # append: keys no earlier delivery carried
            ever = set(state.get("delivered_keys", []))
            due = sorted(k for k in objects if k not in ever)
        for key in due:
            self.destination.put(key, objects[key])
        # The objects, the manifest, then the state: the evening counts as delivered only
        # after all three (a manifest never lists an object that was not put).
        manifest = digests if self.options.diff != DIFF_APPEND else {k: digests[k] for k in due}
        self.destination.put(
            self._manifest_key(evening), json.dumps(manifest, sort_keys=True).encode()
        )
        new_state = {
            **state,
            "diff": self.options.diff,
            "last": evening.isoformat(),
            "next": (evening + timedelta(days=1)).isoformat(),
            "last_tick_at": time.time(),
            "every": self.options.every,
        }
        if self.options.diff == DIFF_APPEND:
            new_state["delivered_keys"] = sorted(set(state.get("delivered_keys", [])) | set(due))
        self.destination.put(STATE_KEY, json.dumps(new_state, sort_keys=True).encode())
        state.clear()
        state.update(new_state)
        tick = Tick(
            evening, len(due), len(objects) - len(due), time.perf_counter() - started, problems
        )
        for step in self.options.then:
            if self.then_step is not None:
                tick.then[step] = self.then_step(step, evening)
        return tick

    # ---------------------------------------------------------------- the loop
    def stop(self, reason: str) -> None:
        self.stop_reason = reason
        self._wake.set()

    def ticks(self) -> Iterator[Tick]:
        """Deliver evening after evening on the schedule until --to, max_ticks or stop()."""
        state = self._state()
        if state.get("diff") and state["diff"] != self.options.diff:
            raise ValidationError(
                f"this feed delivers with --diff {state['diff']}, not {self.options.diff}: "
                f"keep it, or delete {STATE_KEY} in {self.destination.description} to start over"
            )
        evening = self._first_evening(state)
        last = self.options.last or self._study_days()[-1] + timedelta(days=1)
        now = time.time()
        due_at = now
        if "last_tick_at" in state and self.options.first is None:
            # Resuming: the ticks whose time passed while stopped go out one after another
            # (each next one is due `every` after the last), or all but the latest are skipped.
            due_at = float(state["last_tick_at"]) + self.options.every
            missed = int((now - float(state["last_tick_at"])) // self.options.every)
            if missed > 1 and not self.options.catch_up:
                skipped = min(missed - 1, max(0, (last - evening).days))
                if skipped:
                    self.say(f"skipping {skipped} missed evening(s) (--no-catch-up)")
                evening += timedelta(days=skipped)
                due_at = now
        delivered = 0
        while evening <= last and self.stop_reason is None:
            wait = due_at - time.time()
            if wait > 0 and self._wake.wait(wait):
                break
            yield self.deliver(evening, state)
            delivered += 1
            if self.options.max_ticks is not None and delivered >= self.options.max_ticks:
                break
            evening += timedelta(days=1)
            due_at += self.options.every


def run(
    source: Path,
    destination: Destination,
    options: FeedOptions,
    *,
    say: Callable[[str], None] = print,
    then_step: Callable[[str, date], str] | None = None,
) -> list[Tick]:
    """Run the feed in this process; SIGTERM and SIGINT stop it between deliveries."""
    feed = Feed(source, destination, options, say=say, then_step=then_step)
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C")):
            previous[sig] = signal.signal(sig, lambda *_, n=name: feed.stop(n))
    ticks: list[Tick] = []
    try:
        for tick in feed.ticks():
            ticks.append(tick)
            nxt = datetime.now() + timedelta(seconds=options.every)
            then = "".join(f"; {step}: {what}" for step, what in tick.then.items())
            problems = f"; {len(tick.problems)} problem(s)" if tick.problems else ""
            say(
                f"evening {tick.evening.isoformat()}: {tick.delivered} object(s) delivered "
                f"({options.diff}; {tick.unchanged} already there) in {tick.seconds:.2f}s"
                f"{problems}{then}; next tick {nxt:%H:%M:%S}"
            )
            if tick.problems:
                say(render(tick.problems))
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if feed.stop_reason:
        say(f"stopped by {feed.stop_reason} between deliveries")
    return ticks
