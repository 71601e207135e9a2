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
``clean``, ``table`` (commit protocol), ``faults`` (crash-test hooks).

Not supported on purpose: Merge-on-Read, the metadata table, table versions
other than 6, timeline archival (instant files accumulate in ``.hoodie``),
savepoints, and concurrent writers (one writer at a time, enforced by a lock).
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
