"""Crash safety: the writer is SIGKILLed at named points of a commit, then another upsert runs.

Each scenario copies a 3-commit table, runs an upsert in a child process with
``ZFISH_HUDI_FAULT`` set (the child kills itself with SIGKILL: no cleanup code
runs), checks what a reader sees right after the crash, then upserts again in
this process and checks the table reads as if the killed attempt never happened
(or, past the commit point, as if it fully happened) with no orphan file left.
All children run in parallel to keep the suite fast.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hudi_testlib import (
    assert_clean_state,
    completed_commits,
    fish_spec,
    id_values,
    parquet_files,
    rows,
    snapshot,
)

from zfish.hudi import HudiTable, WriteOptions
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import CLEAN, COMMIT, Timeline

OPTIONS = WriteOptions(bloom_num_entries=200, cleaner_commits_retained=2)

CHILD = """
import sys
import pyarrow as pa
from zfish.hudi import HudiTable, WriteOptions

def ts(n):
    return pa.array([n * 1_000_000] * 3, pa.timestamp("us", tz="UTC"))

batch = pa.table({"id": ["a", "c", "n"], "day": ["d1", "d2", "dnew"], "ts": ts(4),
                  "v": pa.array([4, 4, 4], pa.int64())})
table = HudiTable.open(sys.argv[1])
table.upsert(batch, options=WriteOptions(bloom_num_entries=200, cleaner_commits_retained=2))
print("survived")
"""

# (fault, commit point passed?)
SCENARIOS = [
    ("after_lock", False),
    ("after_requested", False),
    ("after_inflight", False),
    ("after_marker", False),
    ("mid_data_file", False),
    ("after_data_file:2", False),
    ("after_data_files", False),
    ("before_commit_file", False),
    ("after_commit", True),
    ("after_clean_requested", True),
    ("mid_clean", True),
    ("after_clean", True),
]
BEFORE = {"a": 3, "b": 3, "c": 1}
KILLED = {"a": 4, "c": 4, "n": 4}


@pytest.fixture(scope="module")
def crashed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, int, str]]:
    """Run every scenario's child in parallel on its own copy of one template table."""
    root = tmp_path_factory.mktemp("crash")
    template = root / "template"
    table = HudiTable.create(str(template), fish_spec())
    table.upsert(rows(["a", "b", "c"], ["d1", "d1", "d2"], 1, 1), options=OPTIONS)
    table.upsert(rows(["a"], "d1", 2, 2), options=OPTIONS)
    table.upsert(rows(["a", "b"], "d1", 3, 3), options=OPTIONS)
    procs = {}
    for fault, _ in SCENARIOS:
        base = root / fault.replace(":", "_")
        shutil.copytree(template, base)
        env = {**os.environ, "ZFISH_HUDI_FAULT": fault}
        procs[fault] = (
            base,
            subprocess.Popen(
                [sys.executable, "-c", CHILD, str(base)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
    out = {}
    for fault, (base, proc) in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        out[fault] = (base, proc.returncode, stdout + stderr)
    return out


@pytest.mark.parametrize(("fault", "committed"), SCENARIOS)
def test_killed_writer_then_next_upsert(
    crashed: dict[str, tuple[Path, int, str]], fault: str, committed: bool
) -> None:
    base, returncode, output = crashed[fault]
    assert returncode == -signal.SIGKILL, output
    template_commits = completed_commits(base)[:3]

    # Right after the crash a reader sees the last complete state, never a partial commit.
    assert id_values(snapshot(base)) == ({**BEFORE, **KILLED} if committed else BEFORE)
    pending = Timeline.load(Storage(str(base))).pending()
    if committed:
        assert all(p.action == CLEAN for p in pending)
    elif fault != "after_lock":
        assert [p.action for p in pending] == [COMMIT]
    assert (base / ".hoodie" / "zfish.writer.lock").exists()  # a stale lock of a dead process

    table = HudiTable.open(str(base))
    result = table.upsert(rows(["b", "m"], ["d1", "d3"], 5, 5), options=OPTIONS)
    expected = {**BEFORE, **(KILLED if committed else {}), "b": 5, "m": 5}
    assert id_values(snapshot(base)) == expected
    commits = completed_commits(base)
    assert commits[:3] == template_commits
    assert commits[-1] == result.instant
    assert len(commits) == (5 if committed else 4)
    if not committed:
        assert not (base / "dnew").exists()  # the new partition the attempt started is gone
        if fault not in ("after_lock", "after_requested", "after_inflight"):
            assert result.rolled_back
    # Time travel to the commit before the crash still works.
    assert id_values(snapshot(base, template_commits[-1])) == BEFORE
    assert_clean_state(base)
    # Cleaning caught up: with 2 commits retained the d1 file group keeps at most 3 slices.
    d1 = [p for p in parquet_files(base) if p.parent.name == "d1"]
    assert len(d1) <= 3
