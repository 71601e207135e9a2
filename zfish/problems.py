"""A rejected input: which file, what is wrong with it, and how to fix it.

Upload, crawl and ETL all collect these instead of stopping at the first bad
file, then report them together and exit non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def render(problems: list[Problem], limit: int = 20) -> str:
    """The first ``limit`` problems, one per line, and how many more there are."""
    lines = [f"  - {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    return "\n".join(lines)
