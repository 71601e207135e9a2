"""Terminal output shared by every command: progress bars and end-of-run summaries.

Progress goes to stderr so that ``zfish query --format csv`` and friends keep a
clean stdout; summaries go to stdout. Both degrade to plain lines when the
output is not a terminal (CI logs, pipes).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Advance(Protocol):
    def __call__(self, n: int = 1, /) -> None: ...


def note(message: str) -> None:
    """A progress line on stderr."""
    err.print(message, markup=False)


@contextmanager
def progress(description: str, total: int | None, *, enabled: bool = True) -> Iterator[Advance]:
    """A progress bar with counts; yields ``advance(n)``.

    On a terminal it animates; elsewhere it prints a line at start and at the
    end so logs still show what took the time.
    """
    if not enabled or total == 0:
        yield lambda n=1: None
        return
    if not err.is_terminal:
        started = time.perf_counter()
        done = 0

        def advance_plain(n: int = 1) -> None:
            nonlocal done
            done += n

        note(f"{description}: {total if total is not None else '?'} to do")
        yield advance_plain
        note(f"{description}: {done} done in {time.perf_counter() - started:.1f}s")
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


def summary(title: str, rows: Mapping[str, Any] | list[tuple[str, Any]]) -> None:
    """Print a two-column summary table on stdout."""
    table = Table(title=title, show_header=False, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    items = rows.items() if isinstance(rows, Mapping) else rows
    for key, value in items:
        table.add_row(str(key), _fmt(value))
    print_table(table)


def print_table(table: Table) -> None:
    """Print a table on stdout; in a pipe or a log, rows stay whole instead of wrapping at 80."""
    target = out if out.is_terminal else Console(width=100_000, highlight=False)
    target.print(table)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def is_interactive() -> bool:
    return sys.stderr.isatty()
