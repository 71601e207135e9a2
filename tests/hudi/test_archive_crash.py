"""Crash safety of archival: SIGKILL between the archive write and the instant deletions.

A 30-commit table gets its 31st commit in a child process that kills itself
(``ZFISH_HUDI_FAULT``) at a point of the archival that follows the commit.
Right after the crash every reader must see the committed table and an
active timeline without holes; the next writer completes the archival, so
each commit ends up in exactly one of the active and archived timelines.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from archive_testlib import CHILD, OPTIONS, active_commits, build, commit_n, expected_after
from hudi_testlib import assert_clean_state, completed_commits, id_values, snapshot

from zfish.hudi import HudiTable
from zfish.hudi import archive as arch
from zfish.hudi.storage import Storage

# 11 commits go: 22 requested/inflight files are deleted first, then 11 completed ones.
SCENARIOS = (
    "after_clean",  # archival not started
    "after_archive_write",  # archive file written, nothing deleted
    "mid_archive_delete:1",  # one requested file deleted
    "mid_archive_delete:22",  # every pending file deleted, no completed one
    "mid_archive_delete:27",  # five completed files deleted
)


@pytest.fixture(scope="module")
def crashed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, int, str, list]]:
    root = tmp_path_factory.mktemp("archive-crash")
    template = root / "template"
    _table, _oracle, instants = build(template, 30)
    here = str(Path(__file__).resolve().parent)
    procs = {}
    for fault in SCENARIOS:
        base = root / fault.replace(":", "_")
        shutil.copytree(template, base)
        env = {**os.environ, "ZFISH_HUDI_FAULT": fault}
        procs[fault] = (
            base,
            subprocess.Popen(
                [sys.executable, "-c", CHILD, str(base), here],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
    out = {}
    for fault, (base, proc) in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        out[fault] = (base, proc.returncode, stdout + stderr, instants)
    return out


@pytest.mark.parametrize("fault", SCENARIOS)
def test_killed_archival_reads_right_and_the_next_writer_completes_it(
    crashed: dict[str, tuple[Path, int, str, list]], fault: str
) -> None:
    base, returncode, output, template_instants = crashed[fault]
    assert returncode == -signal.SIGKILL, output
    table = HudiTable.open(str(base))
    storage = Storage(str(base))
    every = [*template_instants, active_commits(base)[-1]]
    assert len(every) == 31

    # Right after the crash: the 31st commit stands, the timeline is a suffix (no hole),
    # and no commit is lost between the two timelines.
    assert id_values(snapshot(base)) == expected_after(31)
    active = active_commits(base)
    assert active == every[len(every) - len(active) :]
    assert completed_commits(base) == active  # hudi-rs sees the same active timeline
    archived = {r.timestamp for r in arch.archived_writes(storage, table.properties)}
    assert set(every) == set(active) | archived
    if fault == "after_clean":
        assert archived == set()
    else:
        assert archived == set(every[:11])
    if fault == "mid_archive_delete:27":
        assert len(active) == 26

    # The next writer completes the archival (and archives more only past keep.max).
    oracle = expected_after(31)
    every.append(commit_n(table, oracle, 31, OPTIONS))
    active = active_commits(base)
    archived_list = [r.timestamp for r in arch.archived_writes(storage, table.properties)]
    assert sorted(archived_list + active) == every  # each commit in exactly one place
    assert active == every[len(every) - len(active) :]
    assert 20 <= len(active) <= 30
    assert id_values(snapshot(base)) == oracle
    assert_clean_state(base)
