"""One run of the ETL job ``joined_fish_data``: read the window, check, join, upsert, sync the catalog.

The same code runs as ``zfish etl``, inside ``zfish simulate`` and as the
spark-submit script ``etl/joined_fish_data.py``.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from zfish import console, fishtable, jars
from zfish.catalog import crawler
from zfish.exceptions import RejectedInputError, ValidationError, ZfishError
from zfish.hudi import CommitResult, HudiTable, WriteOptions
from zfish.lake.partitions import Partition
from zfish.pipeline import quality, schemas, sinks, sources, window
from zfish.pipeline.sqltext import ident
from zfish.pipeline.transforms import Transform, to_table_rows
from zfish.problems import Problem, render
from zfish.settings import LakeLayout, default_lake_dir, resolve_location
from zfish.spark import IN_AUTO, IN_CHOICES, in_driver, require_hudi

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

WRITER_NATIVE = "native"
WRITER_SPARK_HUDI = "spark-hudi"
WRITERS = (WRITER_NATIVE, WRITER_SPARK_HUDI)


@dataclass(frozen=True)
class EtlOptions:
    end_date: datetime
    window_days: int = window.DEFAULT_WINDOW_DAYS
    writer: str = WRITER_NATIVE
    table_path: Path | None = None  # default: the layout's processed/joined_fish_data
    # The seed's behaviour: every row of the window is upserted again (new commit
    # time for all). By default only rows that changed are written; the data of
    # the snapshot is the same either way. The JVM writer always reprocesses.
    reprocess_window: bool = False
    # Native writer: file groups written in the driver or in Spark tasks (auto:
    # driver for a local master, tasks on a cluster); see sinks.writes_in_driver.
    write_in: str = sinks.WRITE_IN_AUTO
    # The lake's files read by the driver's Python or by Spark's tasks (auto: the
    # driver for a local master); see sources.read_json.
    read_in: str = IN_AUTO

    def __post_init__(self) -> None:
        if self.writer not in WRITERS:
            raise ValidationError(
                f"--writer must be one of {', '.join(WRITERS)}, not {self.writer!r}"
            )
        if self.write_in not in sinks.WRITE_IN_CHOICES:
            raise ValidationError(
                f"--write-in must be one of {', '.join(sinks.WRITE_IN_CHOICES)}, "
                f"not {self.write_in!r}"
            )
        if self.read_in not in IN_CHOICES:
            raise ValidationError(
                f"--read-in must be one of {', '.join(IN_CHOICES)}, not {self.read_in!r}"
            )
        if self.window_days < 1:
            raise ValidationError(f"--window-days must be at least 1, not {self.window_days}")


@dataclass
class EtlReport:
    end_date: datetime
    read_window: window.ReadWindow
    table_path: Path
    observation_partitions: int = 0
    observations_read: int = 0
    outcomes_known: int = 0
    labelled_rows: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    # input kind -> (records carrying a field the ETL schema does not know, those fields)
    unknown_fields: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    quarantine_path: Path | None = None
    commit: CommitResult | None = None
    table_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    spark_jobs: int = 0
    written_in: str = ""  # native writer: "driver" or "tasks"
    # Evenings of a range computed in the same Spark pass (zfish.pipeline.season); 1: a run.
    evenings_in_pass: int = 1

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    @property
    def rows_changed(self) -> int:
        """Rows the commit inserted or updated (the labelled rows that were new or changed)."""
        c = self.commit
        return self.labelled_rows if c is None else c.num_inserts + c.num_updates

    def rows(self, *, verbose: bool = False) -> list[tuple[str, str]]:
        win = self.read_window
        span = "all partitions" if win.start_day is None else f"{win.start_day} .. {win.end.date()}"
        rows = [
            ("end date", self.end_date.isoformat(sep=" ")),
            ("window", f"{span} ({win.note})"),
            (
                "observations read",
                f"{self.observations_read} from {self.observation_partitions} partitions",
            ),
            ("outcomes known", str(self.outcomes_known)),
            ("labelled rows upserted", str(self.labelled_rows)),
        ]
        if self.commit is not None and self.rows_changed != self.labelled_rows:
            rows.append(("rows changed", f"{self.rows_changed} (unchanged rows are not rewritten)"))
        if self.commit is not None:
            c = self.commit
            rows += [
                (
                    "commit",
                    f"{c.instant} ({c.num_inserts} inserted, {c.num_updates} updated, "
                    f"{len(c.partitions_written)} partitions, {c.files_written} files, "
                    f"{c.files_cleaned} old files cleaned)",
                ),
            ]
        rows.append(("table rows", str(self.table_rows)))
        rows += unknown_field_rows(self.unknown_fields)
        if self.quarantined_total:
            detail = ", ".join(f"{n} {k}" for k, n in self.quarantined.items() if n)
            rows.append(("quarantined", f"{detail} -> {self.quarantine_path}"))
        else:
            rows.append(("quarantined", "0"))
        if self.problems:
            rows.append(("skipped folders", str(len(self.problems))))
        if self.evenings_in_pass > 1:
            rows.append(("read", f"in one Spark pass with {self.evenings_in_pass} evenings"))
        rows.append(("seconds", ", ".join(f"{k} {v:.1f}" for k, v in self.stage_seconds.items())))
        if verbose:
            where = f", file groups written in the {self.written_in}" if self.written_in else ""
            rows.append(("spark jobs", f"{self.spark_jobs}{where}"))
        return rows


def unknown_field_rows(unknown: dict[str, tuple[int, list[str]]]) -> list[tuple[str, str]]:
    """``2 unknown fields in 40 records: tank_id, weight_mg`` per input that had any."""
    rows = []
    for kind, (records, names) in unknown.items():
        if names:
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            rows.append(
                (
                    f"unknown fields ({kind})",
                    f"{len(names)} unknown field{'s' if len(names) != 1 else ''} in {records} "
                    f"record{'s' if records != 1 else ''}: {shown} (not in the ETL schema; "
                    "the rows landed without them)",
                )
            )
    return rows


@contextmanager
def job_group(spark: SparkSession, description: str) -> Iterator[str]:
    """Tag the Spark jobs of one run, so they can be counted (``--verbose``)."""
    sc = spark.sparkContext
    keys = ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel")
    previous = {key: sc.getLocalProperty(key) for key in keys}
    group = f"zfish-etl-{uuid.uuid4().hex}"
    sc.setJobGroup(group, description)
    try:
        yield group
    finally:
        for key, value in previous.items():
            sc.setLocalProperty(key, value)  # type: ignore[arg-type]


def count_jobs(spark: SparkSession, group: str) -> int:
    return len(spark.sparkContext.statusTracker().getJobIdsForGroup(group))


@contextmanager
def timed_stage(report: EtlReport, name: str, show: bool) -> Iterator[None]:
    started = time.perf_counter()
    if show:
        console.note(f"etl: {name} ...")
    yield
    report.stage_seconds[name] = time.perf_counter() - started


def last_end_date(table_path: Path) -> datetime | None:
    """The end date of the latest commit that recorded one (the last successful run)."""
    if not HudiTable.exists(str(table_path)):
        return None
    table = HudiTable.open(str(table_path))
    for instant, _action in reversed(table.completed_instants()):
        extra = table.commit_metadata(instant).get("extraMetadata") or {}
        if fishtable.END_DATE_KEY in extra:
            return datetime.fromisoformat(extra[fishtable.END_DATE_KEY])
    return None


@dataclass(frozen=True)
class Inputs:
    """The partitions one run reads (its window, widened where new outcomes need it)."""

    read_window: window.ReadWindow
    observations: list[Partition]
    outcomes: list[Partition]
    problems: list[Problem]
    # Re-sent observation files -> the day they were first delivered (sources.first_partitions_of_resent).
    first_day: dict[str, str]


def _delivered(day: date) -> bool:
    return True


def plan_inputs(
    layout: LakeLayout,
    end: datetime,
    window_days: int,
    last_end: datetime | None,
    delivered: Callable[[date], bool] = _delivered,
) -> Inputs:
    """What a run ending at ``end`` reads, of the partitions ``delivered`` accepts.

    The lake's folders are listed, no file opened. ``delivered`` lets a range
    computed in one pass (:mod:`zfish.pipeline.season`) ask what an evening
    saw: the partitions uploaded before it.
    """
    read_window = window.plan(end, window_days, last_end)
    out_parts, out_problems = sources.select_partitions(
        layout.outcomes, lambda d: delivered(d) and d <= end.date()
    )
    since = read_window.check_unknown_fish_since
    if read_window.start_day is not None and since is not None:
        new_fish = sources.fish_with_outcomes([p for p in out_parts if p.day >= since])
        seen = read_window
        all_obs, _ = sources.select_partitions(
            layout.observations, lambda d: delivered(d) and seen.includes_up_to_end(d)
        )
        read_window = window.reach_new_outcomes(
            read_window, new_fish, sources.first_observation_days(all_obs)
        )
    final = read_window
    obs_parts, obs_problems = sources.select_partitions(
        layout.observations, lambda d: delivered(d) and final.includes(d)
    )
    # Re-sent files keep their first partition, also when the window no longer holds it.
    first_day = sources.first_partitions_of_resent(
        sources.select_partitions(
            layout.observations, lambda d: delivered(d) and final.includes_up_to_end(d)
        )[0]
    )
    return Inputs(read_window, obs_parts, out_parts, obs_problems + out_problems, first_day)


def _identity(df: DataFrame) -> DataFrame:
    return df


def checked_observations(
    spark: SparkSession,
    layout: LakeLayout,
    parts: list[Partition],
    here: bool,
    first_day: dict[str, str],
    fan_out: Transform = _identity,
) -> DataFrame:
    """The observations with their problems; ``fan_out`` runs after the checks of one record.

    ``first_day``: see :class:`Inputs`; applied after ``fan_out``, which copies a
    record by the folder it was read from.
    """
    raw = sources.read_json(
        spark, layout.observations, parts, schemas.OBSERVATION_FIELDS, in_driver=here
    )
    return (
        raw.transform(
            quality.with_typed_fields(
                schemas.OBSERVATION_FIELDS, schemas.REQUIRED_OBSERVATION_FIELDS
            )
        )
        .transform(quality.with_timestamp_problems)
        .transform(fan_out)
        .transform(quality.with_first_partition(first_day))
        .transform(quality.with_conflicting_duplicates("image_id", newest="timestamp"))
    )


def checked_outcomes(
    spark: SparkSession,
    layout: LakeLayout,
    parts: list[Partition],
    observations: DataFrame,
    since: date | None,
    here: bool,
    fan_out: Transform = _identity,
) -> DataFrame:
    """The outcomes with their problems; ``fan_out`` runs after the checks of one record."""
    raw = sources.read_json(spark, layout.outcomes, parts, schemas.OUTCOME_FIELDS, in_driver=here)
    return (
        raw.transform(
            quality.with_typed_fields(schemas.OUTCOME_FIELDS, schemas.REQUIRED_OUTCOME_FIELDS)
        )
        .transform(fan_out)
        .transform(quality.with_conflicting_duplicates("fish_id"))
        .transform(quality.with_unknown_fish(observations, since.isoformat() if since else None))
    )


def check_inputs(layout: LakeLayout, options: EtlOptions) -> None:
    """Fail before Spark starts when the lake holds no observations to read up to the end date.

    An empty or mistyped lake would otherwise cost a Spark start and leave an
    empty Hudi table with a 0-row commit behind. A directory listing, no file opened.
    """
    end = options.end_date.date()
    folder = layout.observations
    found, problems = sources.select_partitions(folder, lambda day: day <= end)
    if found:
        return
    later, _ = sources.select_partitions(folder, lambda day: True)
    if later:
        raise ValidationError(
            f"no observations on or before {end} in {folder}: its first partition is "
            f"day={later[0].day}; give a later --end-date. Nothing was written."
        )
    text = (
        f"no observations in {folder}: no day=YYYY-MM-DD folder there holds JSON files. "
        f"Check --lake (the lake root, now {layout.root.resolve()}), --bucket and --prefix, "
        "or upload the study first (zfish upload --until YYYY-MM-DD). Nothing was written."
    )
    if problems:
        text += "\nfound instead:\n" + render(problems[:5])
    raise ValidationError(text)


def run(
    spark: SparkSession, layout: LakeLayout, options: EtlOptions, *, show_progress: bool = True
) -> EtlReport:
    """Run the job once; the report says what was read, written and quarantined."""
    if options.writer == WRITER_SPARK_HUDI:
        # Before reading anything: a session without the bundle cannot get it any more.
        require_hudi(spark)
    check_inputs(layout, options)  # the entry points check before starting Spark, too
    table_path = options.table_path or layout.table
    last_end = last_end_date(table_path)
    report = EtlReport(
        end_date=options.end_date,
        read_window=window.plan(options.end_date, options.window_days, last_end),
        table_path=table_path,
    )
    with job_group(spark, f"zfish etl joined_fish_data {options.end_date.isoformat()}") as group:
        try:
            _run(spark, layout, options, report, last_end, show_progress)
        finally:
            report.spark_jobs = count_jobs(spark, group)
    return report


Counts = dict[int | None, dict[str, tuple[int, int, int, int, list[str]]]]


def input_counts(observations: DataFrame, outcomes: DataFrame) -> Counts:
    """evening (None for one run) -> kind -> (records, rejected, distinct good fish,
    records with unknown fields, their names).

    Both inputs in one Spark job (a union of two aggregations).
    """
    from pyspark.sql import functions as F

    problem, unknown = ident(schemas.PROBLEM), ident(schemas.UNKNOWN)
    has_unknown = f"size({unknown}) > 0"
    keys = schemas.per_evening(observations.columns)

    def counts(df: DataFrame, kind: str, fish: bool) -> DataFrame:
        known = f"count(DISTINCT CASE WHEN {problem} IS NULL THEN fish_id END)" if fish else "0"
        names = f"flatten(collect_set(CASE WHEN {has_unknown} THEN {unknown} END))"
        return df.groupBy(*keys).agg(
            F.expr("count(1)").alias("records"),
            F.expr(f"count(CASE WHEN {problem} IS NOT NULL THEN 1 END)").alias("rejected"),
            F.expr(f"CAST({known} AS bigint)").alias("fish"),
            F.expr(f"count(CASE WHEN {has_unknown} THEN 1 END)").alias("unknown"),
            F.expr(f"array_sort(array_distinct({names}))").alias("names"),
            F.lit(kind).alias("kind"),
        )

    both = counts(observations, "observations", False).unionByName(
        counts(outcomes, "outcomes", True)
    )
    out: Counts = {}
    for r in both.collect():
        evening = r[schemas.EVENING] if keys else None
        out.setdefault(evening, {})[r.kind] = (
            int(r.records),
            int(r.rejected),
            int(r.fish),
            int(r.unknown),
            list(r.names),
        )
    return out


def separated(
    observations: DataFrame, outcomes: DataFrame
) -> tuple[DataFrame, DataFrame, DataFrame, DataFrame]:
    """(good observations, rejected ones, good outcomes, rejected ones) of checked inputs.

    Of a record's versions only the newest counts (Hudi's precombine); byte-identical
    re-deliveries count once.
    """
    good_obs, bad_obs = quality.split(observations)
    good_out, bad_out = quality.split(outcomes)
    good_obs = good_obs.transform(quality.drop_superseded("timestamp")).transform(
        quality.drop_identical_duplicates("image_id")
    )
    good_out = good_out.transform(quality.drop_identical_duplicates("fish_id"))
    return good_obs, bad_obs, good_out, bad_out


def record_counts(
    report: EtlReport, counts: dict[str, tuple[int, int, int, int, list[str]]]
) -> None:
    """The input figures of one evening's report (a kind without records: zeros)."""
    empty: tuple[int, int, int, int, list[str]] = (0, 0, 0, 0, [])
    obs_total, obs_bad, _, obs_unknown, obs_names = counts.get("observations", empty)
    _, out_bad, out_known, out_unknown, out_names = counts.get("outcomes", empty)
    report.observations_read = obs_total
    report.outcomes_known = out_known
    report.quarantined = {"observations": obs_bad, "outcomes": out_bad}
    report.unknown_fields = {
        "observations": (obs_unknown, obs_names),
        "outcomes": (out_unknown, out_names),
    }


def quarantine(
    layout: LakeLayout, end_date: datetime, bad_obs: DataFrame, bad_out: DataFrame
) -> Path:
    """Write the rejected records of a run ending at ``end_date``; the folder they went to."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = layout.quarantine / f"run={stamp}_end={end_date.date()}"
    records = quality.quarantine_records(bad_obs, "observations").unionByName(
        quality.quarantine_records(bad_out, "outcomes")
    )
    sinks.write_quarantine(records, target)
    return target


def commit_extra(end_date: datetime, read_window: window.ReadWindow) -> dict[str, str]:
    """The commit metadata a run records: its end date, and its window's first day."""
    extra = {fishtable.END_DATE_KEY: end_date.isoformat()}
    if read_window.start_day is not None:
        extra[fishtable.WINDOW_START_KEY] = read_window.start_day.isoformat()
    return extra


def sync_catalog(layout: LakeLayout, table_path: Path, report: EtlReport) -> None:
    """Hudi's catalog sync after a commit, and the table's rows for the report."""
    unchanged = report.commit is not None and not (
        report.commit.files_written or report.commit.num_deletes
    )
    # A commit that wrote no file leaves the snapshot as it was.
    if not (unchanged and crawler.hudi_table_registered(layout, table_path)):
        crawler.register_hudi_table(layout, table_path)
    report.table_rows = fishtable.count_rows(table_path)


def _run(
    spark: SparkSession,
    layout: LakeLayout,
    options: EtlOptions,
    report: EtlReport,
    last_end: datetime | None,
    show_progress: bool,
) -> None:
    from pyspark import StorageLevel

    table_path = report.table_path
    with timed_stage(report, "read", show_progress):
        inputs = plan_inputs(layout, options.end_date, options.window_days, last_end)
        read_window = report.read_window = inputs.read_window
        report.problems = inputs.problems
        report.observation_partitions = len(inputs.observations)
        here = in_driver(spark, options.read_in)
        observations = checked_observations(
            spark, layout, inputs.observations, here, inputs.first_day
        ).persist(StorageLevel.MEMORY_ONLY)
        outcomes = checked_outcomes(
            spark,
            layout,
            inputs.outcomes,
            observations,
            read_window.check_unknown_fish_since,
            here,
        ).persist(StorageLevel.MEMORY_ONLY)
        good_obs, bad_obs, good_out, bad_out = separated(observations, outcomes)
        record_counts(report, input_counts(observations, outcomes).get(None, {}))

    try:
        if report.quarantined_total:
            with timed_stage(report, "quarantine", show_progress):
                report.quarantine_path = quarantine(layout, options.end_date, bad_obs, bad_out)

        rows = good_obs.drop(schemas.SOURCE_FILE).transform(
            to_table_rows(good_out.drop(schemas.SOURCE_FILE))
        )
        extra = commit_extra(options.end_date, read_window)
        with timed_stage(report, "write", show_progress):
            if options.writer == WRITER_NATIVE:
                table = HudiTable.open_or_create(str(table_path), fishtable.TABLE_SPEC)
                written = sinks.write_native(
                    rows,
                    table,
                    extra,
                    options=WriteOptions(skip_unchanged=not options.reprocess_window),
                    write_in=options.write_in,
                )
                report.commit = written.commit
                report.labelled_rows = written.rows_in
                report.written_in = written.where
            else:
                # The JVM writer upserts every row of the window (the seed's behaviour).
                report.commit = sinks.write_spark_hudi(
                    rows, table_path, fishtable.TABLE_SPEC, extra
                )
                report.labelled_rows = report.commit.num_inserts + report.commit.num_updates
        with timed_stage(report, "catalog", show_progress):
            sync_catalog(layout, table_path, report)
    finally:
        observations.unpersist()
        outcomes.unpersist()


def parse_end_date(text: str | None) -> datetime:
    """``--end-date``: an ISO time (naive means UTC), a day (its 18:00, the seed's evening) or now."""
    if not text:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time()).replace(hour=18)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"--end-date {text!r} is not an ISO 8601 time; e.g. 2025-05-11T18:00:00"
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


# What Glue adds to every job run's arguments; accepted and not used here.
GLUE_RESERVED_ARGUMENTS = (
    "--JOB_NAME",
    "--JOB_RUN_ID",
    "--JOB_ID",
    "--TempDir",
    "--job-bookmark-option",
    "--job-language",
    "--enable-glue-datacatalog",
    "--enable-metrics",
    "--datalake-formats",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="joined_fish_data",
        description="Glue-style ETL: observations left join outcomes, flatten, keep labelled, "
        "upsert into the Hudi table joined_fish_data.",
    )
    # Glue passes job arguments as --KEY value: --END_DATE, --WRITER, ... are the same options.
    parser.add_argument(
        "--end-date",
        "--END_DATE",
        help="simulated 'now' (default: now, UTC); e.g. 2025-05-11T18:00:00",
    )
    parser.add_argument(
        "--window-days", "--WINDOW_DAYS", type=int, default=window.DEFAULT_WINDOW_DAYS
    )
    for glue_argument in GLUE_RESERVED_ARGUMENTS:
        parser.add_argument(glue_argument, help=argparse.SUPPRESS)
    parser.add_argument("--lake", default=None, help="lake root (default $ZFISH_LAKE or ./lake)")
    parser.add_argument("--bucket", default=None)
    parser.add_argument("--prefix", default=None)
    parser.add_argument("--table", default=None, help="table location: path or s3://bucket/key")
    parser.add_argument("--writer", "--WRITER", choices=WRITERS, default=WRITER_NATIVE)
    parser.add_argument("--hudi-bundle", default=os.environ.get(jars.ENV_HUDI_BUNDLE))
    parser.add_argument(
        "--reprocess-window",
        action="store_true",
        help="upsert every row of the window again, as the seed does (default: only changes)",
    )
    parser.add_argument(
        "--write-in",
        choices=sinks.WRITE_IN_CHOICES,
        default=sinks.WRITE_IN_AUTO,
        help="native writer: write file groups in the driver or in Spark tasks "
        "(auto: driver for a local master, tasks on a cluster)",
    )
    parser.add_argument(
        "--read-in",
        choices=IN_CHOICES,
        default=IN_AUTO,
        help="read the lake's files in the driver or in Spark tasks "
        "(auto: driver for a local master, tasks on a cluster)",
    )
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="also print the Spark job count")
    return parser


def session_for(writer: str, hudi_bundle: str | None) -> SparkSession:
    """The shared session; the JVM writer also needs Hudi's bundle and session extensions."""
    from zfish.spark import get_spark

    return get_spark(hudi=writer == WRITER_SPARK_HUDI, hudi_bundle=hudi_bundle)


def print_report(report: EtlReport, *, verbose: bool = False) -> None:
    console.summary("etl joined_fish_data", report.rows(verbose=verbose))
    if report.problems:
        console.note("folders skipped (not day=YYYY-MM-DD partitions):\n" + render(report.problems))


def main(argv: Sequence[str] | None = None) -> int:
    """spark-submit entry point; returns the process exit code."""
    from zfish.settings import DEFAULT_BUCKET, DEFAULT_PREFIX

    args = build_parser().parse_args(argv)
    try:
        layout = LakeLayout(
            root=Path(args.lake) if args.lake else default_lake_dir(),
            bucket=args.bucket or DEFAULT_BUCKET,
            prefix=args.prefix or DEFAULT_PREFIX,
        )
        table_path = resolve_location(args.table, layout.root) if args.table else None
        options = EtlOptions(
            end_date=parse_end_date(args.end_date),
            window_days=args.window_days,
            writer=args.writer,
            table_path=table_path,
            reprocess_window=args.reprocess_window,
            write_in=args.write_in,
            read_in=args.read_in,
        )
        check_inputs(layout, options)  # before Spark starts
        spark = session_for(args.writer, args.hudi_bundle)
        report = run(spark, layout, options, show_progress=not args.quiet)
        print_report(report, verbose=args.verbose)
        if report.quarantined_total:
            raise RejectedInputError(
                f"{report.quarantined_total} record(s) quarantined in {report.quarantine_path}"
            )
    except ZfishError as exc:
        console.err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        return exc.exit_code
    return 0


__all__ = ["EtlOptions", "EtlReport", "check_inputs", "main", "run"]
