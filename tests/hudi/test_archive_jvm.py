"""Archival across writers: the JVM reads zfish's archive, zfish handles the JVM's archival.

JVM side through py4j from the test session: ``HoodieTableMetaClient``'s
archived timeline (what hudi-cli's ``commits showarchived`` reads),
``TimelineUtils.getCommitsTimelineAfter`` (archived + active, what Hive sync
and incremental pulls use) and ``TimelineUtils.getCommitMetadata`` on archived
instants, plus Spark datasource reads and upserts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from archive_testlib import CHILD, active_commits, build, commit_n, day_of, expected_after
from hudi_testlib import fish_spec, id_values, rows, snapshot

from zfish.hudi import HudiTable
from zfish.hudi import archive as arch
from zfish.hudi import options as o
from zfish.hudi.options import WriteOptions

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def meta_client(spark: Any, base: Path) -> Any:
    jvm = spark._jvm
    conf = jvm.org.apache.hudi.storage.hadoop.HadoopStorageConfiguration(
        spark._jsc.hadoopConfiguration()
    )
    builder = jvm.org.apache.hudi.common.table.HoodieTableMetaClient.builder()
    return builder.setConf(conf).setBasePath(str(base)).build()


def jvm_archived(spark: Any, base: Path) -> list[tuple[str, str, str]]:
    """(time, action, state) of every instant of the JVM's archived timeline."""
    timeline = meta_client(spark, base).getArchivedTimeline()
    return sorted(
        (str(i.getTimestamp()), str(i.getAction()), str(i.getState().name()))
        for i in timeline.getInstants()
    )


def jvm_archived_commit_metadata(spark: Any, base: Path) -> dict[str, Any]:
    """Archived completed commits -> their metadata as the JVM parses it (via JSON)."""
    jvm = spark._jvm
    timeline = meta_client(spark, base).getArchivedTimeline("0")
    done = timeline.getCommitsTimeline().filterCompletedInstants()
    utils = jvm.org.apache.hudi.common.table.timeline.TimelineUtils
    out = {}
    for instant in done.getInstants():
        meta = utils.getCommitMetadata(instant, done)
        out[str(instant.getTimestamp())] = json.loads(meta.toJsonString())
    return out


def jvm_all_commits(spark: Any, base: Path) -> list[str]:
    jvm = spark._jvm
    after = jvm.org.apache.hudi.common.table.timeline.TimelineUtils.getCommitsTimelineAfter(
        meta_client(spark, base), "0", jvm.org.apache.hudi.common.util.Option.empty()
    )
    return [str(i.getTimestamp()) for i in after.filterCompletedInstants().getInstants()]


def jvm_rows(spark: Any, base: Path) -> dict[str, int]:
    df = spark.read.format("hudi").load(str(base)).select("id", "v").collect()
    out = {r["id"]: int(r["v"]) for r in df}
    assert len(out) == len(df), "duplicate keys in the JVM read"
    return out


def jvm_upsert(spark: Any, base: Path, oracle: dict[str, int], n: int) -> None:
    """The same change as ``commit_n`` but through the Hudi Spark datasource (keep 20/30)."""
    spec = fish_spec()
    keys = [f"k{n % 9}", f"n{n}"]
    frame = spark.createDataFrame(rows(keys, [day_of(k) for k in keys], n, n).to_pandas())
    options = {
        **WriteOptions().hoodie_config(),  # keep.min/max 20/30, cleaner 10, stated explicitly
        o.DS_TABLE_NAME: spec.name,
        o.DS_DATABASE_NAME: spec.database,
        o.DS_TABLE_TYPE: o.TABLE_TYPE_COW,
        o.DS_OPERATION: o.DS_OPERATION_UPSERT,
        o.DS_RECORDKEY_FIELD: "id",
        o.DS_PARTITIONPATH_FIELD: "day",
        o.DS_PRECOMBINE_FIELD: "ts",
        o.DS_KEYGENERATOR_CLASS: o.SIMPLE_KEYGEN,
        o.HIVE_STYLE_PARTITIONING: "false",
        o.TIMELINE_TIMEZONE: o.TIMELINE_TIMEZONE_UTC,
        o.METADATA_ENABLE: "false",
    }
    frame.write.format("hudi").options(**options).mode("append").save(str(base))
    oracle.update(dict.fromkeys(keys, n))


def test_the_jvm_reads_the_archive_zfish_writes(spark_hudi: Any, tmp_path: Path) -> None:
    base = tmp_path / "t"
    table = HudiTable.create(str(base), fish_spec())
    oracle: dict[str, int] = {}
    instants, metadata = [], {}
    for n in range(45):
        instants.append(commit_n(table, oracle, n))
        metadata[instants[-1]] = json.loads(
            (base / ".hoodie" / f"{instants[-1]}.commit").read_text()
        )
    active = active_commits(base)
    archived = [i for i in instants if i not in active]
    assert len(archived) == 22  # archived at commits 31 and 42

    # The JVM lists exactly what zfish archived, state by state.
    ours = sorted((r.timestamp, r.action, r.state) for r in table.archived_instants())
    assert jvm_archived(spark_hudi, base) == ours
    assert {(ts, "commit", "COMPLETED") for ts in archived} <= set(ours)
    # ...with each archived commit's metadata as it was on the active timeline.
    jvm_meta = jvm_archived_commit_metadata(spark_hudi, base)
    assert sorted(jvm_meta) == archived
    for ts in archived:
        got, want = jvm_meta[ts], metadata[ts]
        assert got["operationType"] == want["operationType"]
        assert got["extraMetadata"]["schema"] == want["extraMetadata"]["schema"]
        assert {
            p: sorted((s["fileId"], s["path"], s["numWrites"], s["prevCommit"]) for s in v)
            for p, v in got["partitionToWriteStats"].items()
        } == {
            p: sorted((s["fileId"], s["path"], s["numWrites"], s["prevCommit"]) for s in v)
            for p, v in want["partitionToWriteStats"].items()
        }
    # Archived + active: every commit once, in order.
    assert jvm_all_commits(spark_hudi, base) == instants

    # JVM snapshot reads and writes still work; zfish and hudi-rs read the JVM's commit.
    assert jvm_rows(spark_hudi, base) == oracle
    jvm_upsert(spark_hudi, base, oracle, 45)
    assert jvm_rows(spark_hudi, base) == oracle
    assert id_values(snapshot(base)) == oracle
    # hudi-rs time travel within the active timeline (a commit the cleaner still retains)
    assert id_values(snapshot(base, instants[40])) == expected_after(41)
    commit_n(table, oracle, 46)
    assert id_values(snapshot(base)) == oracle


def test_zfish_carries_on_after_the_jvm_archives(spark_hudi: Any, tmp_path: Path) -> None:
    base = tmp_path / "t"
    no_archive = WriteOptions(bloom_num_entries=200, auto_archive=False)
    table, oracle, instants = build(base, 35, no_archive)
    assert active_commits(base) == instants

    jvm_upsert(spark_hudi, base, oracle, 35)  # the JVM's postCommit cleans and archives
    active = active_commits(base)
    instants.append(active[-1])
    assert len(active) == 20  # 36 > keep.max 30: down to keep.min 20
    assert active == instants[16:]
    files = [f.name for f in arch.archive_files(table.storage, ".hoodie/archived")]
    assert files == [".commits_.archive.1_1-0-1"]
    # zfish reads the JVM's archive records (written with the JVM's full schema).
    jvm_written = [r.timestamp for r in arch.archived_writes(table.storage, table.properties)]
    assert jvm_written == instants[:16]
    assert all(r.commit_metadata() for r in arch.archived_writes(table.storage, table.properties))

    # zfish reads (hudi-rs), time-travels within the active timeline, and writes.
    assert id_values(snapshot(base)) == oracle
    assert id_values(snapshot(base, instants[33])) == expected_after(34)
    for n in range(36, 41):
        instants.append(commit_n(table, oracle, n))
        assert id_values(snapshot(base)) == oracle
    # the native cleaner went on from the JVM's last clean (old slices keep going)
    cleans = table.timeline().completed_cleans()
    assert cleans[-1].timestamp > instants[35]

    # Native archival on top of the JVM's archive file: the next version, next to it.
    for n in range(41, 47):  # 25 active: the 31st commit archives down to 20
        instants.append(commit_n(table, oracle, n))
    files = [f.name for f in arch.archive_files(table.storage, ".hoodie/archived")]
    # cleans piled up while archival was off pass keep.max first: their own archive file
    assert files == [f".commits_.archive.{v}_1-0-1" for v in range(1, len(files) + 1)]
    assert len(files) >= 2
    assert len(active_commits(base)) == 20
    assert jvm_all_commits(spark_hudi, base) == instants
    archived_by_jvm_view = sorted(jvm_archived_commit_metadata(spark_hudi, base))
    assert archived_by_jvm_view == [i for i in instants if i not in active_commits(base)]
    assert jvm_rows(spark_hudi, base) == oracle
    assert id_values(snapshot(base)) == oracle


def test_the_jvm_reads_a_table_whose_archival_was_killed(spark_hudi: Any, tmp_path: Path) -> None:
    """SIGKILL amid the deletions: the JVM reads and writes it; zfish's next archival repairs."""
    import os
    import signal
    import subprocess
    import sys

    base = tmp_path / "t"
    build(base, 30)
    here = str(Path(__file__).resolve().parent)
    env = {**os.environ, "ZFISH_HUDI_FAULT": "mid_archive_delete:27"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(base), here], env=env, capture_output=True, text=True
    )
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    oracle = expected_after(31)
    assert len(active_commits(base)) == 26  # 5 of 11 archived commits deleted so far
    assert jvm_rows(spark_hudi, base) == oracle
    assert len(jvm_archived_commit_metadata(spark_hudi, base)) == 11

    jvm_upsert(spark_hudi, base, oracle, 31)
    assert jvm_rows(spark_hudi, base) == oracle
    table = HudiTable.open(str(base))
    commit_n(table, oracle, 32)  # its archival deletes what the archive holds
    active = active_commits(base)
    archived = [r.timestamp for r in arch.archived_writes(table.storage, table.properties)]
    assert set(active).isdisjoint(archived)
    assert len(active) == 22
    assert jvm_all_commits(spark_hudi, base) == sorted(archived + active)
    assert id_values(snapshot(base)) == oracle
