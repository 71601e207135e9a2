"""Named fault points: let crash tests SIGKILL the writer at exact moments of a commit.

Set ``ZFISH_HUDI_FAULT=<point>`` (or ``<point>:<n>`` to fire on the n-th time
the point is reached) and the process kills itself with SIGKILL there: no
``finally`` blocks, no atexit, just like a machine losing power or a Spark
executor being killed. Without the variable a fault point costs one dict lookup.

Points, in commit order: ``after_lock``, ``after_requested``, ``after_inflight``,
``after_marker`` (a marker exists, its data file not yet), ``mid_data_file``
(half of a data file written), ``after_data_file`` (one more data file
complete), ``after_data_files`` (all data files of the write call written),
``before_commit_file``, ``after_commit`` (commit point passed, markers and
cleaning not done), ``after_clean_requested``, ``mid_clean`` (after the first
file deletion of a clean), ``after_clean``, ``after_archive_write`` (the archive
file is written, no archived instant file deleted yet), ``mid_archive_delete``
(after a deletion of an archived instant file: ``:n`` picks the n-th).
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "ZFISH_HUDI_FAULT"

POINTS = (
    "after_lock",
    "after_requested",
    "after_inflight",
    "after_marker",
    "mid_data_file",
    "after_data_file",
    "after_data_files",
    "before_commit_file",
    "after_commit",
    "after_clean_requested",
    "mid_clean",
    "after_clean",
    "after_archive_write",
    "mid_archive_delete",
)

_hits: dict[str, int] = {}


def armed(point: str) -> bool:
    """True when the configured fault fires at this hit of ``point`` (counts the hit)."""
    spec = os.environ.get(ENV_VAR)
    if not spec:
        return False
    name, _, nth = spec.partition(":")
    if name != point:
        return False
    _hits[point] = _hits.get(point, 0) + 1
    return _hits[point] == (int(nth) if nth else 1)


def fault_point(point: str) -> None:
    """SIGKILL this process if the configured fault is ``point`` (and its hit count is reached)."""
    if armed(point):
        os.kill(os.getpid(), signal.SIGKILL)
