"""``zfish simulate``: one simulated evening of the study, or a range of them, in one process.

An evening is what the seed does by hand: generate the study (once), upload
every partition before DAY, run the crawlers, run the Glue job with end date
DAY 18:00. A range reuses one SparkSession. The simulated clock only moves
forward: the lake cannot un-upload a day, so an evening earlier than what
the lake already holds is refused rather than silently mixing two clocks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from zfish import console
from zfish.catalog import crawler
from zfish.catalog.counts import Counter
from zfish.exceptions import ValidationError
from zfish.lake import partitions
from zfish.lake.upload import UploadReport, upload
from zfish.pipeline import job, season, window
from zfish.settings import DATABASE, KINDS, TABLE_NAME, LakeLayout

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

EVENING_HOUR = 18
JOINED = f"{DATABASE}.{TABLE_NAME}"


@dataclass
class EveningReport:
    day: date
    generated: bool = False
    upload: UploadReport | None = None
    crawl: crawler.CrawlReport | None = None
    etl: job.EtlReport | None = None
    catalog_counts: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def rows(self, *, verbose: bool = False) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = [("evening", f"{self.day} {EVENING_HOUR}:00")]
        if self.generated:
            rows.append(("study", "generated (default seed)"))
        if self.upload is not None:
            new = {k: len(s.partitions_new) for k, s in self.upload.kinds.items()}
            rows.append(
                (
                    "uploaded",
                    f"{self.upload.files_copied} files; new partitions: "
                    + ", ".join(f"{k} {n}" for k, n in new.items()),
                )
            )
        if self.crawl is not None:
            added = {n: len(t.partitions_added) for n, t in self.crawl.tables.items()}
            rows.append(("crawled", ", ".join(f"{n} +{a}" for n, a in added.items()) or "nothing"))
            for name, change in self.crawl.tables.items():
                rows += [(f"  {name} schema", note) for note in change.schema_changes]
            if self.crawl.problems:
                rows.append(("crawl problems", f"{len(self.crawl.problems)}, see `zfish crawl`"))
        for name, count in self.catalog_counts.items():
            rows.append((f"{name}", f"{count} rows"))
        if self.etl is not None:
            etl = self.etl
            if etl.commit is not None:
                unchanged = etl.labelled_rows - etl.rows_changed
                rows.append(
                    (
                        "upserted",
                        f"{etl.labelled_rows} rows ({etl.commit.num_inserts} inserted, "
                        f"{etl.commit.num_updates} updated"
                        + (f", {unchanged} unchanged" if unchanged > 0 else "")
                        + f") in commit {etl.commit.instant}",
                    )
                )
            rows.append(("window", etl.read_window.note))
            if etl.evenings_in_pass > 1:
                rows.append(("etl", f"in one Spark pass with {etl.evenings_in_pass} evenings"))
            rows += job.unknown_field_rows(etl.unknown_fields)
            if etl.quarantined_total:
                rows.append(("quarantined", f"{etl.quarantined_total} -> {etl.quarantine_path}"))
        rows.append(("seconds", ", ".join(f"{k} {v:.1f}" for k, v in self.stage_seconds.items())))
        if verbose and self.etl is not None:
            where = (
                f", file groups written in the {self.etl.written_in}" if self.etl.written_in else ""
            )
            rows.append(("spark jobs", f"{self.etl.spark_jobs} in the etl{where}"))
        return rows


def lake_last_day(layout: LakeLayout) -> date | None:
    """The latest day partition already uploaded, over all kinds."""
    days = [p.day for kind in KINDS for p in partitions.scan(layout.kind_dir(kind))[0]]
    return max(days) if days else None


def ensure_study(data_dir: Path) -> bool:
    """Generate the default study when ``data_dir`` holds none; True when it did."""
    from zfish.generator import StudySpec, generate, load_spec

    if load_spec(data_dir) is not None:
        return False
    if all((data_dir / kind).is_dir() for kind in ("observations", "outcomes")):
        return False  # a study made by someone else (e.g. the seed's own script): use it
    generate(StudySpec(), data_dir)
    return True


def first_delivery(data_dir: Path) -> date | None:
    """The study's first day with observation files (None: no study there yet).

    The generator makes a folder for every day from the first hatch on, the
    hatch day's empty: fish are first observed a day later.
    """
    days = [
        p.day for p in partitions.scan(data_dir / "observations")[0] if any(p.path.glob("*.json"))
    ]
    return min(days) if days else None


def check_study_reaches(data_dir: Path, layout: LakeLayout, day: date) -> None:
    """Refuse an evening before the study's first observations (nothing to crawl or join)."""
    if partitions.scan(layout.observations)[0]:
        return
    first = first_delivery(data_dir)
    if first is None or first < day:
        return  # no study yet (simulate generates it) or something to upload
    raise ValidationError(
        f"the study in {data_dir} has no observations before {day}: its first are of "
        f"{first}, so the evening of {day} has nothing to upload; simulate the evening "
        f"of {first + timedelta(days=1)} or later"
    )


def evenings_with_data(
    data_dir: Path, layout: LakeLayout, days: list[date]
) -> tuple[list[date], list[date]]:
    """(evenings of a range before anything was delivered, the evenings to simulate).

    A range may start before the study's first delivery (the season from
    2025-04-02: only the hatch day's empty folder is before it); those
    evenings have nothing to upload, crawl or join, so they are skipped, not
    an error. ``ensure_study`` must have run.
    """
    if partitions.scan(layout.observations)[0]:
        return [], days
    first = first_delivery(data_dir)
    if first is None:
        return [], days
    return [d for d in days if d <= first], [d for d in days if d > first]


def catalog_counts(layout: LakeLayout, counter: Counter | None = None) -> dict[str, int]:
    """Row counts the seed's Athena queries return right now.

    Pass the same ``counter`` for every evening of a range: it asks only about
    partitions (and Hudi snapshots) that changed since the last evening.
    """
    return (counter or Counter(layout)).counts()


def start_session(writer: str, hudi_bundle: str | None) -> Future[SparkSession]:
    """The Spark session, started in a thread while the first evening uploads and crawls.

    A cold JVM takes over a second to start; upload and crawl need none of it,
    and the machine has a second core. Java is checked here, before anything
    is uploaded. The JVM writer's session is made at once: getting its bundle
    may download, and must fail (exit 5) before the lake changes.
    """
    from zfish.spark import check_java

    check_java()
    if writer == job.WRITER_SPARK_HUDI:
        done: Future[SparkSession] = Future()
        done.set_result(job.session_for(writer, hudi_bundle))
        return done
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zfish-spark-start")
    try:
        return pool.submit(job.session_for, writer, hudi_bundle)
    finally:
        pool.shutdown(wait=False)  # the thread ends with the start; nothing else is queued


def evening_end(day: date) -> datetime:
    """The ETL's end date for the evening of ``day``: 18:00 (EVENING_HOUR)."""
    return datetime.combine(day, datetime.min.time()).replace(hour=EVENING_HOUR)


def started_session(spark: SparkSession | Future[SparkSession]) -> SparkSession:
    """The session, waited for if :func:`start_session` is still starting it."""
    if isinstance(spark, Future):
        spark = spark.result()
        # Made in another thread: the JVM's active session is per thread.
        spark._jvm.SparkSession.setActiveSession(spark._jsparkSession)  # type: ignore[union-attr]
    return spark


def deliver(
    data_dir: Path,
    layout: LakeLayout,
    day: date,
    *,
    show_progress: bool = True,
    counter: Counter | None = None,
    before_writing: Callable[[partitions.Partition], None] | None = None,
) -> EveningReport:
    """An evening up to its ETL: generate (if needed), upload until ``day``, crawl, count."""
    last = lake_last_day(layout)
    if last is not None and last >= day:
        raise ValidationError(
            f"the lake already holds data of {last}, so the simulated clock is past the evening of "
            f"{day}; it cannot go back. Simulate a day after {last}, or start over with an empty "
            "lake (`make clean` or another --lake)"
        )
    report = EveningReport(day=day)
    started = time.perf_counter()
    report.generated = ensure_study(data_dir)
    report.stage_seconds["generate"] = time.perf_counter() - started

    t = time.perf_counter()
    report.upload = upload(
        data_dir, layout, day, show_progress=show_progress, before_writing=before_writing
    )
    report.stage_seconds["upload"] = time.perf_counter() - t

    check_study_reaches(data_dir, layout, day)

    t = time.perf_counter()
    report.crawl = crawler.crawl(layout)
    report.stage_seconds["crawl"] = time.perf_counter() - t
    return report


def _count(report: EveningReport, layout: LakeLayout, counter: Counter | None) -> None:
    t = time.perf_counter()
    report.catalog_counts = catalog_counts(layout, counter)
    report.stage_seconds["query"] = report.stage_seconds.get("query", 0.0) + (
        time.perf_counter() - t
    )


def evening(
    spark: SparkSession | Future[SparkSession],
    data_dir: Path,
    layout: LakeLayout,
    day: date,
    *,
    window_days: int = window.DEFAULT_WINDOW_DAYS,
    writer: str = job.WRITER_NATIVE,
    reprocess_window: bool = False,
    show_progress: bool = True,
    counter: Counter | None = None,
) -> EveningReport:
    """Generate (if needed), upload until ``day``, crawl, run the ETL for ``day`` 18:00.

    ``spark`` may still be starting (:func:`start_session`): it is waited for
    only when the ETL needs it.
    """
    report = deliver(data_dir, layout, day, show_progress=show_progress, counter=counter)
    _etl(spark, layout, report, _options(day, window_days, writer, reprocess_window), show_progress)
    _count(report, layout, counter)
    return report


def _options(day: date, window_days: int, writer: str, reprocess_window: bool) -> job.EtlOptions:
    return job.EtlOptions(
        end_date=evening_end(day),
        window_days=window_days,
        writer=writer,
        reprocess_window=reprocess_window,
    )


def _etl(
    spark: SparkSession | Future[SparkSession],
    layout: LakeLayout,
    report: EveningReport,
    options: job.EtlOptions,
    show_progress: bool,
) -> None:
    t = time.perf_counter()
    report.etl = job.run(started_session(spark), layout, options, show_progress=show_progress)
    report.stage_seconds["etl"] = time.perf_counter() - t


def evenings(
    spark: SparkSession | Future[SparkSession],
    data_dir: Path,
    layout: LakeLayout,
    days: list[date],
    *,
    window_days: int = window.DEFAULT_WINDOW_DAYS,
    writer: str = job.WRITER_NATIVE,
    reprocess_window: bool = False,
    show_progress: bool = True,
    counter: Counter | None = None,
    one_pass: bool = True,
) -> Iterator[EveningReport]:
    """The evenings of a range, each report yielded when its evening is done.

    Each evening gets its upload, crawl and commit, as :func:`evening` gives
    it. With ``one_pass``, where :func:`zfish.pipeline.season.why_not` allows,
    the evenings are delivered and crawled first and their ETL is computed in
    one Spark pass, then committed in order.
    """
    counter = counter or Counter(layout)
    options = _options(days[0], window_days, writer, reprocess_window)
    reason = "one evening" if len(days) < 2 else None if one_pass else "asked for"
    session: SparkSession | None = None
    if reason is None:
        session = started_session(spark)
        reason = season.why_not(session, options)
        if reason is not None and show_progress:
            console.note(f"etl: evening by evening, not in one pass: {reason}")
    if session is None or reason is not None:
        for day in days:
            yield evening(
                spark,
                data_dir,
                layout,
                day,
                window_days=window_days,
                writer=writer,
                reprocess_window=reprocess_window,
                show_progress=show_progress,
                counter=counter,
            )
        return
    yield from _in_one_pass(session, data_dir, layout, days, options, show_progress, counter)


def _in_one_pass(
    spark: SparkSession,
    data_dir: Path,
    layout: LakeLayout,
    days: list[date],
    options: job.EtlOptions,
    show_progress: bool,
    counter: Counter,
) -> Iterator[EveningReport]:
    """Deliver and crawl each evening, then compute the ETL of all of them in one pass.

    A delivery that writes into a partition an undone evening read (a file of
    the study corrected meanwhile) first finishes the undone evenings, so each
    evening reads the lake as it was at that evening.
    """
    pending: list[EveningReport] = []
    ready: list[EveningReport] = []

    def finish_pending() -> None:
        done = list(pending)
        pending.clear()
        if not done:
            return
        runs = season.run(
            spark,
            layout,
            [season.Evening(evening_end(r.day), r.day) for r in done],
            options,
            show_progress=show_progress,
        )
        for report, etl in zip(done, runs, strict=False):
            report.etl = etl
            query = report.stage_seconds.pop("query", 0.0)  # keep the stages in their order
            report.stage_seconds["etl"] = sum(etl.stage_seconds.values())
            report.stage_seconds["query"] = query
            crawled = dict(report.catalog_counts)
            _count(report, layout, counter)
            # Only the Hudi table moved since this evening's crawl; the JSON tables keep the
            # counts of then (later evenings' crawls have registered more partitions since).
            now = report.catalog_counts
            report.catalog_counts = {
                name: now[name] if name == JOINED else crawled[name]
                for name in (*crawled, *([JOINED] if JOINED not in crawled else []))
                if name in now
            }
            ready.append(report)

    def before_writing(part: partitions.Partition) -> None:
        if pending and part.day < pending[-1].day:
            finish_pending()

    try:
        for day in days:
            report = deliver(
                data_dir,
                layout,
                day,
                show_progress=show_progress,
                counter=counter,
                before_writing=before_writing,
            )
            yield from _drain(ready)
            try:
                job.check_inputs(layout, replace(options, end_date=evening_end(day)))
            except ValidationError:
                finish_pending()  # the evenings before it are done, as evening by evening
                raise
            _count(report, layout, counter)
            pending.append(report)
        finish_pending()
        yield from _drain(ready)
    except Exception:
        yield from _drain(ready)  # what was done before a failure is shown, then the failure
        raise


def _drain(ready: list[EveningReport]) -> Iterator[EveningReport]:
    while ready:
        yield ready.pop(0)


def days_between(first: date, last: date) -> list[date]:
    if last < first:
        raise ValidationError(f"--to {last} is before --from {first}")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def print_evening(report: EveningReport, *, verbose: bool = False) -> None:
    console.summary(f"simulated evening {report.day}", report.rows(verbose=verbose))
    if report.upload and report.upload.problems:
        console.note(f"upload: {len(report.upload.problems)} problem(s), see `zfish upload`")


@dataclass
class FeedSteps:
    """``zfish feed --then crawl,etl``: the crawl and the ETL of each delivered evening.

    One Spark session for the whole feed, started at the first ETL.
    """

    layout: LakeLayout
    writer: str
    hudi_bundle: str | None
    _spark: Future[SparkSession] | None = None

    def __call__(self, step: str, day: date) -> str:
        if step == "crawl":
            report = crawler.crawl(self.layout)
            return f"{len(report.problems)} problem(s)" if report.problems else "catalogued"
        if self._spark is None:
            self._spark = start_session(self.writer, self.hudi_bundle)
        etl = job.run(
            started_session(self._spark),
            self.layout,
            job.EtlOptions(end_date=evening_end(day), writer=self.writer),
            show_progress=False,
        )
        return f"{etl.labelled_rows} labelled rows, {etl.quarantined_total} quarantined"
