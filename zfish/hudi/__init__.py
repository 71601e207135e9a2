"""``zfish.hudi``: a native Apache Hudi Copy-on-Write writer (table version 6, Hudi 0.14/0.15).

Pure Python + pyarrow. Tables it writes are read by Spark/Hudi 0.15 (AWS Glue 5.0)
and by hudi-rs (the ``hudi`` package), which is also how zfish reads them back.

One-process use::

    spec = TableSpec(name="t", record_key_fields=("id",), partition_fields=("day",),
                     precombine_field="ts")
    table = HudiTable.open_or_create("/lake/t", spec)
    result = table.upsert(arrow_table)

Distributed use (Spark): the driver begins a transaction, tasks write file
groups where the data is and return statistics, the driver commits::

    with table.begin(WriteOperation.UPSERT, schema=arrow_schema) as txn:
        ctx = txn.context                     # picklable, ship it to the tasks
        # in each task: [s.to_json() for s in write_partitions(ctx, batches, partition_id=...)]
        result = txn.commit([WriteStat.from_json(j) for j in stats_json])

Modules: ``options`` (every hoodie.* key), ``spec``, ``properties``, ``timeline``,
``fsview``, ``keygen``, ``avro`` (schemas), ``avro_metadata`` (clean instants),
``bloom``, ``storage``, ``lock``, ``markers``, ``write`` (file groups), ``stats``,
``clean``, ``archive`` (timeline archival), ``archive_entry`` (archived records),
``logformat`` (HoodieLogFormat blocks), ``liveness`` (is another writer's pending
instant live?), ``table`` (commit protocol), ``faults`` (crash-test hooks).

Design in one paragraph each:

* Commit protocol (``table``): lock, recover (finish pending cleans, roll back
  pending commits, zfish's own at once, another writer's only once ``liveness``
  finds it dead; refuse other pending actions), ``<t>.commit.requested`` ->
  ``<t>.inflight`` -> markers + data files -> ``<t>.commit`` written atomically
  (the commit point) -> markers removed -> clean -> unlock. Failure before the
  commit point deletes everything the attempt wrote.
* File-system view (``fsview``): directory listings filtered by the completed
  instants frozen in the ``WriteContext``; replaced file groups are hidden.
* Merging (``write``): Hudi's SIMPLE index (join on ``_hoodie_record_key``),
  ``HoodieMergeHandle`` semantics, small-file packing as ``UpsertPartitioner``.
* Cleaning (``clean``): KEEP_LATEST_COMMITS (10 by default) recorded as Avro
  clean instants.
* Archival (``archive``): as Hudi 0.15 after each commit, more than 30 completed
  commits (or cleans) on the active timeline move the oldest into
  ``.hoodie/archived`` down to 20, in the JVM's archive file format.
* Lock (``lock``): ``.hoodie/zfish.writer.lock``, O_EXCL, stale when its process
  is gone (same host) or expired (other host).
* Crash tests (``faults``): ``ZFISH_HUDI_FAULT=<point>[:n]`` SIGKILLs the writer.

Input: Arrow data columns only (``_hoodie_*`` columns are refused). Types are
normalized to what the Avro schema says (timestamps to microseconds UTC,
large strings to strings, small ints to int32); columns may be added, never
dropped or retyped.

Not supported on purpose: Merge-on-Read, the metadata table, table versions
other than 6, key generators other than Simple/Complex/Nonpartitioned,
URL-encoded partitions, savepoints, merging small archive files, and concurrent
writers (one writer at a time, enforced by the lock; a JVM writer that zfish does
not run does not see it).
"""

from zfish.hudi.options import BloomFilterType, MergeMode, WriteOptions
from zfish.hudi.spec import TableSpec, WriteOperation
from zfish.hudi.stats import WriteStat
from zfish.hudi.table import CommitResult, HudiTable, Transaction
from zfish.hudi.write import WriteContext, write_partitions

__all__ = [
    "BloomFilterType",
    "CommitResult",
    "HudiTable",
    "MergeMode",
    "TableSpec",
    "Transaction",
    "WriteContext",
    "WriteOperation",
    "WriteOptions",
    "WriteStat",
    "write_partitions",
]
