"""A range of evenings in one Spark pass: every evening's upsert set computed at once, committed in order.

The job's outcome for an evening is a function of the files delivered before
it, its end date and the last commit's end date (the window). In a range
those are all known once the evenings' uploads are done, so the range does
not need one Spark run per evening (each costs Spark's fixed price of
analysis, planning and a handful of jobs, about 0.8 s here, 62 times in a
season):

* each record is read and type-checked once, then copied to every evening
  whose window holds its partition (a broadcast join with a small map that
  adds ``schemas.EVENING``);
* every later step is the daily job's own ``DataFrame -> DataFrame`` step:
  where ``EVENING`` is present each key includes it (``schemas.per_evening``),
  so duplicates, unknown fish and the outcome join are decided per evening
  exactly as a run of that evening decides them;
* the rows of all evenings are collected once and the native writer commits
  them evening by evening, in order, each commit with its own end date and
  window, its own quarantine folder and its own catalog sync.

It applies where the daily job would read and write in the driver (a local
master) with the native writer. The JVM writer upserts each commit in a Spark
write of its own anyway, ``--reprocess-window`` rewrites every row of each
window, and on a cluster the executors read and write: :func:`why_not`
names the reason and the range runs evening by evening.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from zfish import console, fishtable
from zfish.hudi import HudiTable, WriteOptions
from zfish.lake.partitions import Partition
from zfish.pipeline import job, schemas, sinks
from zfish.pipeline.transforms import Transform, to_table_rows
from zfish.settings import LakeLayout
from zfish.spark import in_driver

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Record copies one pass may hold (each evening's window, summed over the evenings),
# estimated from file counts: the seed's whole season at hatch rate 5 is about 40,000;
# at hatch rate 500 a pass takes a few evenings. Beyond it the range is cut into passes.
MAX_COPIES_PER_PASS = 250_000


@dataclass(frozen=True)
class Evening:
    """One evening of a range: its end date, and the first day not yet delivered at it."""

    end_date: datetime
    delivered_before: date

    def delivered(self, day: date) -> bool:
        return day < self.delivered_before


def why_not(spark: SparkSession, options: job.EtlOptions) -> str | None:
    """Why a range cannot be computed in one pass with these options (None: it can)."""
    if options.writer != job.WRITER_NATIVE:
        return "the JVM writer upserts each commit in a Spark write of its own"
    if options.reprocess_window:
        return "--reprocess-window rewrites every row of each evening's window"
    if not in_driver(spark, options.read_in) or not sinks.writes_in_driver(spark, options.write_in):
        return "on a cluster the executors read and write each evening"
    return None


def _files(part: Partition) -> int:
    try:
        return len(os.listdir(part.path))
    except OSError:
        return 0


def _day_value(part: Partition) -> str:
    """The partition's ``day`` as the readers land it: the text of its folder name."""
    return part.path.name.split("=", 1)[1]


def _fan_out(spark: SparkSession, copies: Sequence[tuple[str, int, str | None]]) -> Transform:
    """Each record once per evening that reads its partition (day, evening, unknown-fish day)."""
    from pyspark.sql import functions as F

    evening_map = spark.createDataFrame(
        copies,
        f"{schemas.DAY} string, {schemas.EVENING} int, {schemas.UNKNOWN_FISH_SINCE} string",
    )

    def fan_out(df: DataFrame) -> DataFrame:
        joined = df.join(F.broadcast(evening_map), on=schemas.DAY, how="inner")
        return joined.select(*df.columns, schemas.EVENING, schemas.UNKNOWN_FISH_SINCE)

    return fan_out


def _union(parts: list[list[Partition]]) -> list[Partition]:
    seen = {p.path: p for group in parts for p in group}
    return sorted(seen.values(), key=lambda p: p.day)


def run(
    spark: SparkSession,
    layout: LakeLayout,
    evenings: list[Evening],
    options: job.EtlOptions,
    *,
    show_progress: bool = True,
) -> Iterator[job.EtlReport]:
    """Each evening's report, yielded right after its commit and catalog sync.

    ``options`` holds what the evenings share (its end date is ignored). The
    evenings' files must be in the lake; each reads only what ``delivered``
    accepts. The caller checks :func:`why_not` first.
    """
    table_path = options.table_path or layout.table
    last_end = job.last_end_date(table_path)
    plans: list[job.Inputs] = []
    for evening in evenings:
        plans.append(
            job.plan_inputs(
                layout, evening.end_date, options.window_days, last_end, evening.delivered
            )
        )
        last_end = evening.end_date  # every commit records its end date
    sizes: dict[str, int] = {}
    start = 0
    while start < len(evenings):
        stop, copies = start, 0
        while stop < len(evenings):
            need = sum(
                sizes.setdefault(str(p.path), _files(p))
                for p in plans[stop].observations + plans[stop].outcomes
            )
            if stop > start and copies + need > MAX_COPIES_PER_PASS:
                break
            copies += need
            stop += 1
        yield from _pass(
            spark, layout, evenings[start:stop], plans[start:stop], options, show_progress
        )
        start = stop


def _pass(
    spark: SparkSession,
    layout: LakeLayout,
    evenings: list[Evening],
    plans: list[job.Inputs],
    options: job.EtlOptions,
    show_progress: bool,
) -> Iterator[job.EtlReport]:
    from pyspark import StorageLevel

    table_path = options.table_path or layout.table
    n = len(evenings)
    span = f"{evenings[0].end_date.date()} .. {evenings[-1].end_date.date()}"
    if show_progress:
        console.note(f"etl: {n} evening(s) {span} in one Spark pass ...")
    started = time.perf_counter()
    with job.job_group(spark, f"zfish etl joined_fish_data {span} in one pass") as group:
        obs_copies = [
            (_day_value(p), i, None) for i, pl in enumerate(plans) for p in pl.observations
        ]
        out_copies = [
            (_day_value(p), i, since.isoformat() if since else None)
            for i, pl in enumerate(plans)
            for p in pl.outcomes
            for since in [pl.read_window.check_unknown_fish_since]
        ]
        here = True  # why_not() held: a local master reads in the driver
        observations = job.checked_observations(
            spark,
            layout,
            _union([pl.observations for pl in plans]),
            here,
            # The last evening's listing holds every earlier one's: a file is re-sent
            # into a later folder, never into an earlier one.
            plans[-1].first_day,
            _fan_out(spark, obs_copies),
        ).persist(StorageLevel.MEMORY_ONLY)
        outcomes = job.checked_outcomes(
            spark,
            layout,
            _union([pl.outcomes for pl in plans]),
            observations,
            None,  # per evening: UNKNOWN_FISH_SINCE
            here,
            _fan_out(spark, out_copies),
        ).persist(StorageLevel.MEMORY_ONLY)
        try:
            good_obs, bad_obs, good_out, bad_out = job.separated(observations, outcomes)
            counts = job.input_counts(observations, outcomes)
            rows = good_obs.drop(schemas.SOURCE_FILE).transform(
                to_table_rows(good_out.drop(schemas.SOURCE_FILE))
            )
            data = sinks.collect_arrow(rows)
            read_seconds = time.perf_counter() - started
            pass_jobs = job.count_jobs(spark, group)
            table = HudiTable.open_or_create(str(table_path), fishtable.TABLE_SPEC)
            evening_of = data.column(schemas.EVENING)
            for i, (evening, inputs) in enumerate(zip(evenings, plans, strict=True)):
                report = job.EtlReport(
                    end_date=evening.end_date,
                    read_window=inputs.read_window,
                    table_path=table_path,
                    problems=inputs.problems,
                    observation_partitions=len(inputs.observations),
                    evenings_in_pass=n,
                )
                report.stage_seconds["read"] = read_seconds / n  # its share of the pass
                job.record_counts(report, counts.get(i, {}))
                before = job.count_jobs(spark, group)
                if report.quarantined_total:
                    with job.timed_stage(report, "quarantine", False):
                        mine = f"{schemas.EVENING} = {i}"
                        report.quarantine_path = job.quarantine(
                            layout, evening.end_date, bad_obs.where(mine), bad_out.where(mine)
                        )
                with job.timed_stage(report, "write", False):
                    own = data.filter(pc.equal(evening_of, pa.scalar(i, pa.int32())))
                    written = sinks.write_native_arrow(
                        own.drop_columns([schemas.EVENING]),
                        table,
                        job.commit_extra(evening.end_date, inputs.read_window),
                        options=WriteOptions(skip_unchanged=True),
                    )
                report.commit = written.commit
                report.labelled_rows = written.rows_in
                report.written_in = written.where
                with job.timed_stage(report, "catalog", False):
                    job.sync_catalog(layout, table_path, report)
                after = job.count_jobs(spark, group)
                report.spark_jobs = (pass_jobs if i == 0 else 0) + after - before
                yield report
        finally:
            observations.unpersist()
            outcomes.unpersist()
