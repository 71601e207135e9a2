"""The ``zfish`` command line: thin subcommands over the package API.

Every subcommand shares ``--data`` (the generated study), ``--lake`` (the lake
root standing in for S3), ``--bucket`` and ``--prefix``. Errors map to exit
codes in one place, :func:`handle_errors`.
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

from zfish import __version__
from zfish.console import err
from zfish.exceptions import EXIT_ERROR, ZfishError
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


@dataclass(frozen=True)
class Settings:
    data: Path
    layout: LakeLayout


def handle_errors(func: F) -> F:
    """Turn zfish errors into a one-line message and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZfishError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err.print("interrupted; nothing half-written was left behind")
            sys.exit(130)
        except OSError as exc:
            where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
            err.print(f"[bold red]error:[/] {exc.strerror or exc}{where}", highlight=False)
            sys.exit(EXIT_ERROR)

    return cast(F, wrapper)


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
@click.option(
    "--data",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help=f"Generated study directory [env {ENV_DATA}; default ./data/synthetic_data].",
)
@click.option(
    "--lake",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help=f"Lake root standing in for S3 [env {ENV_LAKE}; default ./lake].",
)
@click.option(
    "--bucket", default=DEFAULT_BUCKET, show_default=True, help="S3 bucket inside the lake."
)
@click.option(
    "--prefix", default=DEFAULT_PREFIX, show_default=True, help="Dataset prefix in the bucket."
)
@click.pass_context
@handle_errors
def cli(ctx: click.Context, data: Path | None, lake: Path | None, bucket: str, prefix: str) -> None:
    """zfish: a local lakehouse emulator for ML data pipelines.

    The main job is `zfish simulate --day YYYY-MM-DD`: one simulated evening of
    the zebra fish study (generate, upload, crawl, ETL into Apache Hudi).
    """
    layout = LakeLayout(root=lake or default_lake_dir(), bucket=bucket, prefix=prefix)
    ctx.obj = Settings(data=data or default_data_dir(), layout=layout)


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
@click.pass_obj
@handle_errors
def upload_cmd(settings: Settings, until: date, source: Path | None, quiet: bool) -> None:
    """Upload the study into the lake up to a day (the seed's upload_to_s3.sh).

    JSON is compacted exactly as `jq -c .` does; PNGs are copied byte for byte.
    Reruns copy only what is new or changed.
    """
    from zfish.console import summary
    from zfish.exceptions import RejectedInputError
    from zfish.problems import render
    from zfish.upload import upload

    report = upload(source or settings.data, settings.layout, until, show_progress=not quiet)
    summary(f"upload until {until.isoformat()}", report.rows())
    if report.problems:
        raise RejectedInputError(
            f"{len(report.problems)} problem(s); the valid partitions were uploaded:\n"
            + render(report.problems)
        )


def main() -> None:
    cli(prog_name="zfish")
