"""The ``zfish`` command line: thin subcommands over the package API.

Every subcommand shares ``--data`` (the generated study), ``--lake`` (the lake
root standing in for S3), ``--bucket`` and ``--prefix``, accepted before or
after the subcommand's name (:func:`shared_options`; the subcommand's value
wins). Errors map to exit codes in one place, :func:`handle_errors`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from rich.markup import escape

from zfish import __version__, console
from zfish.console import err
from zfish.exceptions import EXIT_ERROR, ValidationError, ZfishError
from zfish.settings import (
    DEFAULT_BUCKET,
    DEFAULT_PREFIX,
    ENV_DATA,
    ENV_LAKE,
    LakeLayout,
    default_data_dir,
    default_lake_dir,
)

F = TypeVar("F", bound=Callable[..., Any])
# Who answers SQL: zfish query --engine and zfish serve --athena-engine.
ENGINES = ("duckdb", "trino")


@dataclass(frozen=True)
class Settings:
    data: Path
    layout: LakeLayout


@dataclass(frozen=True)
class SharedValues:
    """The shared options as given on the command line (None: not given there)."""

    data: Path | None = None
    lake: Path | None = None
    bucket: str | None = None
    prefix: str | None = None

    def over(self, base: SharedValues) -> SharedValues:
        """These values where given, ``base``'s elsewhere."""
        return SharedValues(
            data=self.data or base.data,
            lake=self.lake or base.lake,
            bucket=self.bucket or base.bucket,
            prefix=self.prefix or base.prefix,
        )

    def settings(self) -> Settings:
        """Options first, then $ZFISH_DATA / $ZFISH_LAKE, then the defaults."""
        layout = LakeLayout(
            root=self.lake or default_lake_dir(),
            bucket=self.bucket or DEFAULT_BUCKET,
            prefix=self.prefix or DEFAULT_PREFIX,
        )
        return Settings(data=self.data or default_data_dir(), layout=layout)


_SHARED_NAMES = ("data", "lake", "bucket", "prefix")


def _shared_option_decorators() -> list[Callable[[Any], Any]]:
    # No click envvar=: a subcommand's env default would beat the group's explicit option.
    return [
        click.option(
            "--data",
            type=click.Path(path_type=Path, file_okay=False),
            default=None,
            help=f"Generated study directory [env {ENV_DATA}; default ./data/synthetic_data].",
        ),
        click.option(
            "--lake",
            type=click.Path(path_type=Path, file_okay=False),
            default=None,
            help=f"Lake root standing in for S3 [env {ENV_LAKE}; default ./lake].",
        ),
        click.option(
            "--bucket", default=None, help=f"S3 bucket inside the lake [default: {DEFAULT_BUCKET}]."
        ),
        click.option(
            "--prefix",
            default=None,
            help=f"Dataset prefix in the bucket [default: {DEFAULT_PREFIX}].",
        ),
    ]


def _add_options(func: F, decorators: list[Callable[[Any], Any]]) -> F:
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


# Which Hudi writer the ETL uses: zfish etl, zfish simulate and zfish feed --then etl.
_WRITER_OPTIONS = [
    click.option(
        "--writer",
        type=click.Choice(["native", "spark-hudi"]),
        default="native",
        show_default=True,
        help="native: zfish's Hudi writer; spark-hudi: the JVM Hudi datasource (needs its bundle jar).",
    ),
    click.option(
        "--hudi-bundle",
        envvar="ZFISH_HUDI_BUNDLE",
        default=None,
        help="The Hudi bundle jar for --writer spark-hudi [env ZFISH_HUDI_BUNDLE; default: "
        "resolved once into zfish's cache, see `zfish bundle`].",
    ),
]


def writer_options(func: F) -> F:
    """``--writer`` and ``--hudi-bundle``."""
    return _add_options(func, _WRITER_OPTIONS)


def handle_errors(func: F) -> F:
    """Turn zfish errors into a one-line message and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZfishError as exc:
            # escape: JVM messages carry [brackets] that rich would take for markup
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err.print("interrupted; nothing half-written was left behind")
            sys.exit(130)
        except OSError as exc:
            where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
            err.print(f"[bold red]error:[/] {exc.strerror or exc}{where}", highlight=False)
            sys.exit(EXIT_ERROR)

    return cast(F, wrapper)


def shared_options(func: F) -> F:
    """``--data --lake --bucket --prefix`` on a subcommand; it receives the resolved Settings.

    The values given after the subcommand win over those given before it
    (on ``zfish`` itself), which win over the environment and the defaults.
    """

    @handle_errors
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        mine = SharedValues(**{name: kwargs.pop(name) for name in _SHARED_NAMES})
        ctx = click.get_current_context()
        group = ctx.find_object(SharedValues) or SharedValues()
        return func(mine.over(group).settings(), *args, **kwargs)

    return _add_options(cast(F, wrapper), _shared_option_decorators())


def parse_day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """Click callback: a YYYY-MM-DD option value as a date."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a day; use YYYY-MM-DD, e.g. 2025-05-11"
        ) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="zfish")
@lambda func: _add_options(func, _shared_option_decorators())
@click.pass_context
@handle_errors
def cli(ctx: click.Context, /, **shared: Any) -> None:
    """zfish: a local lakehouse emulator for ML data pipelines.

    The main job is `zfish simulate --day YYYY-MM-DD`: one simulated evening of
    the zebra fish study (generate, upload, crawl, ETL into Apache Hudi).

    --data, --lake, --bucket and --prefix work here or after any subcommand.
    """
    values = SharedValues(**shared)
    values.settings()  # a bad --bucket or --prefix fails here, whatever the subcommand
    ctx.obj = values


@cli.command("generate")
@click.option("--seed", type=int, default=None, help="Random seed [default: 42].")
@click.option(
    "--start",
    callback=parse_day,
    metavar="YYYY-MM-DD",
    help="First hatch day [default: 2025-04-01].",
)
@click.option(
    "--end",
    callback=parse_day,
    metavar="YYYY-MM-DD",
    help="Last day, included [default: 2025-06-01].",
)
@click.option("--hatch-rate", type=int, default=None, help="Fish hatched per day [default: 5].")
@click.option(
    "--observation-ages",
    default=None,
    metavar="A,B,...",
    help="Ages (days) observed and imaged [default: 1,3,5].",
)
@click.option(
    "--label-age", type=int, default=None, help="Age (days) the outcome is recorded [default: 35]."
)
@click.option(
    "--sex-age", type=int, default=None, help="Age from which sex is recorded [default: 5]."
)
@click.option(
    "--image-size",
    default=None,
    metavar="WxH",
    help="Image width x height in pixels [default: 8x8].",
)
@click.option(
    "--prevalence", type=float, default=None, help="Baseline P(condition) [default: 0.5]."
)
@click.option(
    "--treatment-risk",
    multiple=True,
    metavar="TREATMENT=DELTA",
    help="Add DELTA to P(condition) for one treatment (repeatable).",
)
@click.option(
    "--marker-risk",
    multiple=True,
    metavar="GENE=DELTA",
    help="Add DELTA to P(condition) when a marker is true (repeatable).",
)
@click.option(
    "--image-noise",
    type=float,
    default=None,
    metavar="SIGMA",
    help="Gaussian per-pixel colour noise [default: 0, solid colours].",
)
@click.option(
    "--image-signal",
    type=float,
    default=None,
    metavar="P",
    help="P(a sick fish's images show the red signal) [default: 1].",
)
@click.option(
    "--scenario",
    "scenario",
    default=None,
    metavar="NAME[,NAME...]",
    help="Faults to inject (late-labels, redelivery, out-of-order, schema-drift, corrupt, "
    "duplicates, orphans, or all) [default: none].",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker processes [default: chosen by measuring files/s, up to every core].",
)
@click.option(
    "--force", is_flag=True, help="Regenerate even if up to date; replace a study of other options."
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@shared_options
@handle_errors
def generate_cmd(
    settings: Settings,
    seed: int | None,
    start: date | None,
    end: date | None,
    hatch_rate: int | None,
    observation_ages: str | None,
    label_age: int | None,
    sex_age: int | None,
    image_size: str | None,
    prevalence: float | None,
    treatment_risk: tuple[str, ...],
    marker_risk: tuple[str, ...],
    image_noise: float | None,
    image_signal: float | None,
    scenario: str | None,
    workers: int | None,
    force: bool,
    quiet: bool,
) -> None:
    """Generate the synthetic zebra fish study into --data (the seed's generator script).

    Same seed and options give byte-identical files whatever --workers. Reruns
    with the same options do nothing; other options need --force.
    """
    from zfish.console import summary
    from zfish.generator import StudySpec, generate, scenarios
    from zfish.generator.spec import parse_ages, parse_image_size, parse_risks

    given: dict[str, Any] = {
        "seed": seed,
        "start": start,
        "end": end,
        "hatch_rate": hatch_rate,
        "observation_ages": parse_ages(observation_ages) if observation_ages else None,
        "label_age": label_age,
        "sex_age": sex_age,
        "image_size": parse_image_size(image_size) if image_size else None,
        "prevalence": prevalence,
        "treatment_risk": parse_risks(treatment_risk, "treatment"),
        "marker_risk": parse_risks(marker_risk, "marker"),
        "image_noise": image_noise,
        "image_signal": image_signal,
        "scenarios": scenarios.parse(scenario) if scenario else None,
    }
    spec = StudySpec(**{k: v for k, v in given.items() if v is not None}).validate()
    report = generate(spec, settings.data, workers=workers, force=force, show_progress=not quiet)
    title = "generated study"
    if report.up_to_date:
        title = "study is up to date; nothing to do (--force regenerates)"
    summary(title, report.rows())


@cli.command("expect")
@click.option(
    "--day",
    callback=parse_day,
    required=True,
    metavar="YYYY-MM-DD",
    help="The evening: partitions strictly before this day are delivered, the ETL ends at 18:00.",
)
@click.option(
    "--scenario",
    "scenario",
    default=None,
    metavar="NAME[,NAME...]",
    help="The scenario mix the study in --data must have been generated with (checked).",
)
@click.option(
    "--semantics",
    type=click.Choice(["zfish", "seed"]),
    default="zfish",
    show_default=True,
    help="zfish: no label lost, bad records rejected; seed: the seed's Glue job, every evening.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json to use as the oracle of your own pipeline's tests.",
)
@shared_options
@handle_errors
def expect_cmd(
    settings: Settings, day: date, scenario: str | None, semantics: str, fmt: str
) -> None:
    """What a correct pipeline must produce on the evening of --day (from the study's files).

    Computed from the generated study and its manifest, not by running zfish's
    pipeline: catalog counts, the joined table's rows and checksum, the records
    to reject with their reasons, and the crawler's schema versions.
    """
    import json

    from zfish.console import summary
    from zfish.exceptions import ValidationError
    from zfish.generator import scenarios
    from zfish.generator.engine import read_manifest
    from zfish.generator.expect import expect

    manifest = read_manifest(settings.data)
    if scenario is not None and manifest is not None:
        asked = scenarios.parse(scenario)
        if asked != manifest.spec.scenarios:
            have = ", ".join(manifest.spec.scenarios) or "none"
            raise ValidationError(
                f"the study in {settings.data} was generated with scenarios {have}, not "
                f"{', '.join(asked)}; run `zfish generate --scenario {scenario} --force` first"
            )
    result = expect(settings.data, day, semantics)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    summary(f"expected on the evening of {day}", result.text_rows())


@cli.command("upload")
@click.option(
    "--until",
    callback=parse_day,
    required=True,
    metavar="YYYY-MM-DD",
    help="Copy every day= partition strictly before this day (the seed's END_DATE).",
)
@click.option(
    "--source",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Study folder to copy from [default: --data].",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@shared_options
@handle_errors
def upload_cmd(settings: Settings, until: date, source: Path | None, quiet: bool) -> None:
    """Upload the study into the lake up to a day (the seed's upload_to_s3.sh).

    JSON is compacted exactly as `jq -c .` does; PNGs are copied byte for byte.
    Reruns copy only what is new or changed.
    """
    from zfish.console import summary
    from zfish.exceptions import RejectedInputError
    from zfish.lake.upload import upload
    from zfish.problems import render

    report = upload(source or settings.data, settings.layout, until, show_progress=not quiet)
    summary(f"upload until {until.isoformat()}", report.rows())
    if report.problems:
        raise RejectedInputError(
            f"{len(report.problems)} problem(s); the valid partitions were uploaded:\n"
            + render(report.problems)
        )


@cli.command("feed")
@click.option(
    "--every",
    default="30s",
    show_default=True,
    metavar="30s|2m|1h",
    help="Time between ticks; each tick is one simulated evening.",
)
@click.option(
    "--from", "first", callback=parse_day, metavar="YYYY-MM-DD", help="First evening to deliver."
)
@click.option(
    "--to", "last", callback=parse_day, metavar="YYYY-MM-DD", help="Last evening to deliver."
)
@click.option(
    "--diff",
    type=click.Choice(["rotating", "none", "append"]),
    default="rotating",
    show_default=True,
    help="rotating: what changed since the last delivery; none: everything; append: new keys only.",
)
@click.option(
    "--then",
    "then",
    default="",
    metavar="crawl,etl",
    help="After each delivery into the lake: crawl, and the ETL of that evening.",
)
@click.option(
    "--no-catch-up", is_flag=True, help="On a restart, skip the ticks missed while stopped."
)
@click.option(
    "--endpoint", metavar="URL", help="Deliver through this S3 endpoint (e.g. zfish serve)."
)
@click.option("--ticks", type=int, default=None, help="Stop after this many deliveries.")
@writer_options
@shared_options
@handle_errors
def feed_cmd(
    settings: Settings,
    every: str,
    first: date | None,
    last: date | None,
    diff: str,
    then: str,
    no_catch_up: bool,
    endpoint: str | None,
    ticks: int | None,
    writer: str,
    hudi_bundle: str | None,
) -> None:
    """Deliver the study on a schedule, one evening per tick, with a diff strategy.

    State lives with the data, so a restart resumes; SIGTERM or Ctrl-C stops
    between deliveries. Example: zfish feed --every 30s --then crawl,etl
    """
    from zfish.lake import feed

    steps = tuple(s.strip() for s in then.split(",") if s.strip())
    options = feed.FeedOptions(
        every=feed.parse_every(every),
        first=first,
        last=last,
        diff=diff,
        then=steps,
        catch_up=not no_catch_up,
        max_ticks=ticks,
    )
    destination: feed.Destination
    if endpoint:
        if steps:
            raise click.UsageError(
                "--then runs zfish's crawl and ETL on the lake; with --endpoint start the "
                "endpoint's Glue crawlers and jobs instead (aws glue start-crawler ...)"
            )
        layout = settings.layout
        destination = feed.EndpointDestination(endpoint, layout.bucket, layout.prefix)
    else:
        destination = feed.LakeDestination(settings.layout)
    then_step = None
    if steps:
        from zfish.simulate import FeedSteps

        then_step = FeedSteps(settings.layout, writer, hudi_bundle)
    console.note(
        f"feeding {settings.data} into {destination.description} every {options.every:g}s "
        f"(--diff {diff}); SIGTERM or Ctrl-C stops between deliveries"
    )
    done = feed.run(
        settings.data,
        destination,
        options,
        say=lambda line: print(line, flush=True),  # one line a tick, in logs as it happens
        then_step=then_step,
    )
    console.note(f"{len(done)} evening(s) delivered")


@cli.command("crawl")
@click.option(
    "--history",
    "history_of",
    metavar="TABLE",
    default=None,
    help="Print the versions of TABLE (like Glue's GetTableVersions) instead of crawling.",
)
@shared_options
@handle_errors
def crawl_cmd(settings: Settings, history_of: str | None) -> None:
    """Run the crawlers: register tables and exactly the partitions in the lake now.

    Like the seed's Glue crawlers on observations/ and outcomes/ (and Hudi's
    catalog sync for joined_fish_data), with Glue's UPDATE_IN_DATABASE,
    DELETE_FROM_DATABASE and CRAWL_EVERYTHING policies: new fields add
    columns, types widen (int -> bigint -> double -> string), deleted
    partitions are dropped, and each change keeps the previous table version.
    Partitions uploaded later stay invisible to queries until the next crawl.
    Exits 2 when the lake holds nothing to crawl, 3 when some input was left out.
    """
    from zfish.catalog.crawler import crawl
    from zfish.console import summary
    from zfish.exceptions import RejectedInputError
    from zfish.problems import render

    if history_of is not None:
        _print_history(settings, history_of)
        return
    report = crawl(settings.layout)
    summary(f"crawl {settings.layout.catalog_db}", report.rows())
    if report.problems:
        raise RejectedInputError(
            f"{len(report.problems)} problem(s); the rest was catalogued:\n"
            + render(report.problems)
        )


def _print_history(settings: Settings, name: str) -> None:
    """``zfish crawl --history TABLE``: newest version first, as GetTableVersions lists them."""
    from rich.table import Table

    from zfish.catalog import glue
    from zfish.console import print_table
    from zfish.settings import DATABASE

    table_name = name.replace('"', "").removeprefix(f"{DATABASE}.")
    versions = glue.load_versions(settings.layout, table_name)
    table = Table(
        title=f"{DATABASE}.{table_name}: {len(versions)} version(s), newest first",
        title_justify="left",
    )
    for column in ("version", "created (UTC)", "changes", "columns"):
        table.add_column(column, no_wrap=column != "changes")
    for i, version in enumerate(reversed(versions)):
        table.add_row(
            f"{version.version_id}{' (current)' if i == 0 else ''}",
            version.created_at.isoformat(sep=" ", timespec="seconds"),
            "\n".join(version.changes),
            "\n".join(f"{c.name} {c.glue_type}" for c in version.columns),
        )
    print_table(table)


@cli.command("query")
@click.argument("sql")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table for people; csv or json (one object per line) for scripts.",
)
@click.option(
    "--as-of",
    default=None,
    metavar="INSTANT|DAY",
    help="Read joined_fish_data as of a Hudi instant or a simulated evening (YYYY-MM-DD).",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="duckdb",
    show_default=True,
    help="duckdb: zfish's translation to DuckDB (0.1 s); trino: a real Trino 476, Athena's "
    "engine, started for the statement (about 30 s; Java 24+, downloaded once).",
)
@shared_options
@handle_errors
def query_cmd(settings: Settings, sql: str, fmt: str, as_of: str | None, engine: str) -> None:
    """Run one read-only Athena-style SQL statement against the catalog.

    Example: zfish query 'SELECT * FROM "zebra_fish_demo"."outcomes";'
    """
    from zfish.catalog.render import print_result

    if engine == "trino":
        from zfish.trino import query as trino_query

        if as_of is not None:
            raise ValidationError(
                "--as-of is zfish's time travel on DuckDB; Athena (Trino) has none for Hudi "
                "tables: drop --as-of or use --engine duckdb"
            )
        result = trino_query.run_query(settings.layout, sql)
    else:
        from zfish.catalog.query import run_query

        result = run_query(settings.layout, sql, as_of=as_of)
    print_result(result, fmt)


def etl_options(func: F) -> F:
    """The options of the ETL job, shared by ``zfish etl`` and ``zfish simulate``."""
    decorators = [
        click.option(
            "--window-days",
            type=click.IntRange(min=1),
            default=36,
            show_default=True,
            help="Days of observations re-read each run (widened automatically after missed runs).",
        ),
        *_WRITER_OPTIONS,
        click.option(
            "--reprocess-window",
            is_flag=True,
            help="Upsert every row of the window again, as the seed's job does (new commit time "
            "for all). Default: only new or changed rows are written; the table's data is the "
            "same. The spark-hudi writer always reprocesses.",
        ),
        click.option("--quiet", is_flag=True, help="No progress lines."),
        click.option("--verbose", is_flag=True, help="Also report the Spark jobs each ETL ran."),
    ]
    return _add_options(func, decorators)


@cli.command("etl")
@click.option(
    "--end-date",
    default=None,
    metavar="ISO-TIME|DAY",
    help="Simulated 'now' (default: now, UTC); a bare day means its evening, 18:00.",
)
@click.option(
    "--table",
    "table_location",
    default=None,
    help="Table location: a path or s3://bucket/key in the lake [default: <prefix>/processed/joined_fish_data].",
)
@etl_options
@shared_options
@handle_errors
def etl_cmd(
    settings: Settings,
    end_date: str | None,
    window_days: int,
    table_location: str | None,
    writer: str,
    hudi_bundle: str | None,
    reprocess_window: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Run the Spark ETL job joined_fish_data once (join, flatten, label filter, Hudi upsert).

    Exits 3 when records were quarantined (the summary says where).
    """
    from zfish.exceptions import RejectedInputError
    from zfish.pipeline import job
    from zfish.settings import resolve_location

    options = job.EtlOptions(
        end_date=job.parse_end_date(end_date),
        window_days=window_days,
        writer=writer,
        table_path=resolve_location(table_location, settings.layout.root)
        if table_location
        else None,
        reprocess_window=reprocess_window,
    )
    job.check_inputs(settings.layout, options)  # before Spark starts: a typo costs no 13 s
    spark = job.session_for(writer, hudi_bundle)
    report = job.run(spark, settings.layout, options, show_progress=not quiet)
    job.print_report(report, verbose=verbose)
    if report.quarantined_total:
        raise RejectedInputError(
            f"{report.quarantined_total} record(s) quarantined in {report.quarantine_path}"
        )


@cli.command("simulate")
@click.option("--day", callback=parse_day, metavar="YYYY-MM-DD", help="The evening to simulate.")
@click.option(
    "--from", "first", callback=parse_day, metavar="YYYY-MM-DD", help="First evening of a range."
)
@click.option(
    "--to", "last", callback=parse_day, metavar="YYYY-MM-DD", help="Last evening of a range."
)
@etl_options
@shared_options
@handle_errors
def simulate_cmd(
    settings: Settings,
    day: date | None,
    first: date | None,
    last: date | None,
    window_days: int,
    writer: str,
    hudi_bundle: str | None,
    reprocess_window: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Simulate evenings of the study: generate if missing, upload, crawl, ETL, summary.

    One evening: --day 2025-05-11. A range in one process: --from 2025-05-10 --to 2025-05-20.
    """
    from zfish.catalog.counts import Counter
    from zfish.exceptions import RejectedInputError
    from zfish.simulate import (
        check_study_reaches,
        days_between,
        ensure_study,
        evenings,
        evenings_with_data,
        print_evening,
        start_session,
    )

    if day is not None and (first or last):
        raise click.UsageError("use either --day or --from/--to, not both")
    if day is None and not (first and last):
        raise click.UsageError("give --day YYYY-MM-DD, or --from and --to for a range")
    days = [day] if day is not None else days_between(first, last)  # type: ignore[arg-type]
    if day is None:
        if ensure_study(settings.data):
            console.note(f"study generated (default seed) in {settings.data}")
        skipped, days = evenings_with_data(settings.data, settings.layout, days)
        if skipped and days:
            span = f"{skipped[0]}" + (f" .. {skipped[-1]}" if len(skipped) > 1 else "")
            console.note(
                f"evening {span} skipped: nothing was delivered before it "
                f"(the study's first observations are of {skipped[-1]}); starting at {days[0]}"
            )
        days = days or skipped[-1:]  # all before the first delivery: the check below says so
    check_study_reaches(settings.data, settings.layout, days[0])  # before Spark starts
    spark = start_session(writer, hudi_bundle)
    counter = Counter(settings.layout)  # shared by the evenings: it re-asks only what changed
    rejected = 0
    for report in evenings(
        spark,
        settings.data,
        settings.layout,
        days,
        window_days=window_days,
        writer=writer,
        reprocess_window=reprocess_window,
        show_progress=not quiet,
        counter=counter,
    ):
        print_evening(report, verbose=verbose)
        rejected += len(report.upload.problems) if report.upload else 0
        rejected += len(report.crawl.problems) if report.crawl else 0
        rejected += report.etl.quarantined_total if report.etl else 0
    if rejected:
        raise RejectedInputError(
            f"{rejected} input problem(s) over {len(days)} evening(s); see the summaries above"
        )


@cli.command("bundle")
@click.option(
    "--offline", is_flag=True, help="Only look in the caches; never download (exit 5 if missing)."
)
@click.option(
    "--ivy-settings",
    "ivy_settings",
    is_flag=True,
    help="Only print the path of zfish's Ivy settings, for spark-submit "
    "--conf spark.jars.ivySettings=...; resolves nothing.",
)
@handle_errors
def bundle_cmd(offline: bool, ivy_settings: bool) -> None:
    """Get the JVM Hudi bundle for --writer spark-hudi and print its path.

    Resolves org.apache.hudi:hudi-spark3.5-bundle_2.12:0.15.0 once, with Spark's
    own --packages resolver (Ivy, with zfish's Ivy settings: Maven Central
    before ~/.m2), or Maven when only Maven reaches the registry, into zfish's
    cache (~/.cache/zfish/jars, or $ZFISH_CACHE). Later runs find it there and
    download nothing.
    """
    from zfish import jars
    from zfish.console import note

    if ivy_settings:
        click.echo(str(jars.ivy_settings()))
        return
    path = jars.hudi_bundle(download=not offline)
    if path != jars.cached_path(jars.HUDI_BUNDLE):
        note(f"using the copy in {path.parent}")
    click.echo(str(path))


@cli.command("timeline")
@click.option(
    "--table",
    "table_location",
    default=None,
    help="Table location: a path or s3://bucket/key [default: <prefix>/processed/joined_fish_data].",
)
@shared_options
@handle_errors
def timeline_cmd(settings: Settings, table_location: str | None) -> None:
    """List the Hudi table's commits: instant, simulated evening, rows written.

    Any instant or evening listed here works with `zfish query --as-of`, except
    archived commits (marked so), whose files the cleaner has removed.
    """
    from rich.table import Table

    from zfish import fishtable
    from zfish.console import print_table
    from zfish.exceptions import ValidationError
    from zfish.settings import resolve_location

    path = (
        resolve_location(table_location, settings.layout.root)
        if table_location
        else settings.layout.table
    )
    if not fishtable.exists(path):
        raise ValidationError(f"no Hudi table at {path}: run `zfish simulate` or `zfish etl` first")
    table = Table(title=f"{path}", title_justify="left")
    for name in ("instant", "evening", "operation", "inserted", "updated", "deleted", "partitions"):
        numeric = name not in ("instant", "evening", "operation")
        table.add_column(name, justify="right" if numeric else "left", no_wrap=True)
    for commit in fishtable.commits(path, include_archived=True):
        table.add_row(
            commit.instant + (" (archived)" if commit.archived else ""),
            str(commit.simulated_day or "-"),
            commit.operation,
            str(commit.num_inserts),
            str(commit.num_updates),
            str(commit.num_deletes),
            str(commit.partitions),
        )
    print_table(table)


@cli.group("job")
def job_group() -> None:
    """Glue jobs: run a Glue (PySpark) job script locally, as the endpoint's StartJobRun does."""


@job_group.command(
    "run",
    # Everything after SCRIPT is the job's own arguments, even names zfish also knows.
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("script")
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
@shared_options
@handle_errors
def job_run_cmd(settings: Settings, script: str, arguments: tuple[str, ...]) -> None:
    """Run the Glue script SCRIPT (a path, or s3://... in the lake) with spark-submit.

    The arguments after SCRIPT reach the script as Glue passes a run's
    arguments (--KEY value or --KEY=value; read them with
    awsglue.utils.getResolvedOptions), after --JOB_NAME (default: the script's
    name without .py) and --JOB_RUN_ID. The script's awsglue (zfish's shim)
    reads and writes the lake given to zfish (--lake before SCRIPT, or
    $ZFISH_LAKE). Exits with the script's exit code.
    """
    import os
    import signal
    import time

    from zfish import jobrun
    from zfish.console import note, out
    from zfish.exceptions import ValidationError
    from zfish.settings import resolve_location

    path = resolve_location(script, settings.layout.root).resolve()
    if not path.is_file():
        raise ValidationError(f"no job script at {path} (from {script!r})")
    options = jobrun.parse_arguments(arguments)
    job_name = options.pop("--JOB_NAME", path.stem)
    run_id = options.pop("--JOB_RUN_ID", jobrun.new_run_id())
    note(
        f"job run {run_id}: {path.name} as job {job_name} with spark-submit over the lake "
        f"{settings.layout.root}"
        + (f", arguments {' '.join(f'{k} {v}' for k, v in options.items())}" if options else "")
    )
    started = time.perf_counter()
    process = jobrun.start(
        path, options, settings.layout, job_name=job_name, run_id=run_id, capture=False
    )
    try:
        code = process.wait()
    except KeyboardInterrupt:
        # The run has its own process group (as on the endpoint): end Spark's JVM with it.
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
        raise
    seconds = time.perf_counter() - started
    state = "SUCCEEDED" if code == 0 else f"FAILED (exit code {code})"
    out.print(f"job run {run_id} ({job_name}): {state} in {seconds:.1f}s", markup=False)
    if code:
        sys.exit(code)


@cli.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback unless given).",
)
@click.option(
    "--port",
    type=int,
    default=4566,
    show_default=True,
    help="Port (LocalStack's 4566; 0 picks a free one).",
)
@click.option(
    "--access-key",
    default=None,
    help="Access key id to accept [default: $ZFISH_AWS_ACCESS_KEY_ID or test].",
)
@click.option(
    "--secret-key",
    default=None,
    help="Secret key to accept [default: $ZFISH_AWS_SECRET_ACCESS_KEY or test].",
)
@click.option(
    "--region", default="us-east-1", show_default=True, help="The region the endpoint reports."
)
@click.option(
    "--max-body-mb",
    type=int,
    default=5 * 1024,
    show_default=True,
    help="Largest request body accepted (MiB).",
)
@click.option("--log-requests", is_flag=True, help="Log every request to stderr.")
@click.option(
    "--warm-jobs/--no-warm-jobs",
    default=True,
    show_default=True,
    help="Run Glue job runs in one Spark driver kept warm (started at the first CreateJob); "
    "--no-warm-jobs: a new spark-submit per run.",
)
@click.option(
    "--athena-engine",
    type=click.Choice(ENGINES),
    default="duckdb",
    show_default=True,
    help="Who answers Athena's queries: zfish's DuckDB translation, or a real Trino 476 "
    "started with the server and kept warm (Java 24+, downloaded once).",
)
@shared_options
@handle_errors
def serve_cmd(
    settings: Settings,
    host: str,
    port: int,
    access_key: str | None,
    secret_key: str | None,
    region: str,
    max_body_mb: int,
    log_requests: bool,
    warm_jobs: bool,
    athena_engine: str,
) -> None:
    """Serve the lake as an AWS endpoint (S3, STS, Glue, Athena) until Ctrl-C or SIGTERM.

    A bucket is a top-level folder of --lake and an object a file, so what the
    aws CLI, boto3, awswrangler or Spark's s3a write there is what `zfish crawl`
    and `zfish etl` read. Prints the URL and the environment to export.
    """
    from zfish.aws.auth import CredentialStore
    from zfish.aws.context import EndpointContext
    from zfish.aws.server import run
    from zfish.console import note

    context = EndpointContext(
        settings.layout,
        credentials=CredentialStore.single(access_key, secret_key),
        region=region,
        max_body_bytes=max_body_mb * 1024 * 1024,
        warm_jobs=warm_jobs,
    )
    if athena_engine == "trino":
        from zfish.trino import query as trino_query
        from zfish.trino.server import TrinoServer

        note("starting Trino 476 for Athena's queries (about 30 s) ...")
        context.trino = TrinoServer(trino_query.work_dir(settings.layout)).start()
        context.on_close.append(context.trino.stop)
        note(f"Trino 476 ready in {context.trino.started_seconds or 0:.0f}s at {context.trino.url}")
    try:
        run(context, host, port, log_requests=log_requests, warn=lambda m: note(f"warning: {m}"))
    finally:
        if context.trino is not None:
            context.trino.stop()


def main() -> None:
    cli(prog_name="zfish")
