"""The file-group work of a write: runs where the data is (a Spark task, or in-process).

``write_partitions`` takes the rows of one or more Hudi partitions (all rows of
a partition arrive in one call) and, per partition:

1. deduplicates the batch by record key, the largest precombine value winning
   (ties: the later row), like ``HoodieWriteHelper.deduplicateRecords``;
2. looks the keys up in the latest committed base file of every file group of
   the partition (Hudi's SIMPLE index: a join on ``_hoodie_record_key``);
3. assigns inserts to small file groups (latest base file below
   ``small_file_limit``) up to ``max_file_size`` at the estimated record size,
   and the rest to new file groups of at most ``max_file_size / record size``
   records (``UpsertPartitioner``);
4. rewrites each touched file group as a new base file with the same fileId and
   the new instant (``HoodieMergeHandle``): rows keep the old file's order,
   updated rows get the new commit time and sequence number, copied rows keep
   theirs (only ``_hoodie_file_name`` changes), deleted rows are dropped, new
   rows are appended; new file groups are written like ``HoodieCreateHandle``.
   With ``WriteOptions.skip_unchanged`` an update whose data columns equal the
   stored row's counts as a copy, and a file group left with no update, insert
   or delete is not rewritten at all.

Every data file is announced by a marker first, and its partition gets
``.hoodie_partition_metadata`` before its first data file. The function touches
nothing else on the timeline and returns one ``WriteStat`` per file written.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from zfish.exceptions import CommitError, InputDataError, SchemaError
from zfish.hudi import avro as av
from zfish.hudi import keygen as kg
from zfish.hudi import markers
from zfish.hudi import options as o
from zfish.hudi.bloom import build as build_bloom
from zfish.hudi.faults import armed, fault_point
from zfish.hudi.fsview import BaseFile, FileSystemView, base_file_name, write_token
from zfish.hudi.options import ComplexKeyEncoding, MergeMode, WriteOptions
from zfish.hudi.spec import TableSpec, WriteOperation
from zfish.hudi.stats import NULL_COMMIT, WriteStat
from zfish.hudi.storage import Storage
from zfish.hudi.timeline import COMMIT, State, instant_path

Indices = npt.NDArray[np.int64]


@dataclass(frozen=True)
class WriteContext:
    """Everything a task needs to write its file groups: small, picklable, no data, no handles.

    Created by ``HudiTable.begin``; ``completed_instants`` freezes the
    committed timeline the task merges against (the writer lock keeps it from
    changing until the commit).
    """

    storage: Storage
    spec: TableSpec
    instant: str
    operation: WriteOperation
    schema: pa.Schema
    avro_schema: str
    completed_instants: tuple[str, ...]
    replaced_file_groups: tuple[tuple[str, str], ...]
    avg_record_size: int
    options: WriteOptions
    # Single-field ComplexKeyGenerator keys: as the table's existing keys are (see keygen).
    complex_key_encoding: ComplexKeyEncoding = ComplexKeyEncoding.FIELD_PREFIXED

    @property
    def base_path(self) -> str:
        return self.storage.base_uri

    def file_schema(self) -> pa.Schema:
        """Meta columns first, then the data columns (HoodieAvroUtils.addMetadataFields)."""
        meta = [pa.field(name, pa.string()) for name in o.META_COLUMNS]
        return pa.schema(meta + list(self.schema))

    def avro_schema_with_meta(self) -> str:
        return av.dumps(av.with_meta_fields(json.loads(self.avro_schema)))


def write_partitions(
    ctx: WriteContext,
    batches: Iterable[pa.RecordBatch] | pa.Table | pa.RecordBatch,
    *,
    partition_id: int = 0,
    stage_id: int = 0,
    attempt_id: int = 0,
) -> list[WriteStat]:
    """Write the rows of whole Hudi partitions; returns the statistics of every file written.

    ``partition_id``/``stage_id``/``attempt_id`` are the Spark task's partition
    id, stage id and attempt number; they make the write token of the file
    names and the sequence numbers unique per task attempt.
    """
    table = _collect(ctx, batches)
    if table is None or table.num_rows == 0:
        return []
    _check_pending(ctx)
    keys = kg.record_keys(
        table,
        ctx.spec.record_key_fields,
        ctx.spec.keygen_class,
        encoding=ctx.complex_key_encoding,
    )
    parts = kg.partition_paths(table, ctx.spec.partition_fields, ctx.spec.hive_style_partitioning)
    if ctx.spec.precombine_field and ctx.operation is not WriteOperation.DELETE:
        nulls = table.column(ctx.spec.precombine_field).null_count
        if nulls:
            raise InputDataError(
                f"input: precombine field '{ctx.spec.precombine_field}' is null in {nulls} "
                "row(s); Hudi cannot order such records. Fix: fill it before writing."
            )
    writer = _TaskWriter(ctx, partition_id, write_token(partition_id, stage_id, attempt_id))
    stats: list[WriteStat] = []
    for partition, idx in _group_rows(parts):
        rows = table.take(pa.array(idx))
        stats.extend(writer.write_partition(partition, rows, keys.take(pa.array(idx))))
    fault_point("after_data_files")
    return stats


def _check_pending(ctx: WriteContext) -> None:
    """Refuse to write for an instant that was committed, aborted or rolled back.

    Guards against zombie task attempts (speculation, a task outliving a failed
    job): their files would be orphans, or a second base file of a committed
    (fileId, instant), which readers reject.
    """
    storage = ctx.storage
    if not storage.exists(instant_path(ctx.instant, COMMIT, State.INFLIGHT)) or storage.exists(
        instant_path(ctx.instant, COMMIT, State.COMPLETED)
    ):
        raise CommitError(
            f"instant {ctx.instant} of {ctx.base_path} is no longer pending (committed, aborted "
            "or rolled back); refusing to write files nobody would commit"
        )


# --- input ----------------------------------------------------------------------------------


def _collect(
    ctx: WriteContext, batches: Iterable[pa.RecordBatch] | pa.Table | pa.RecordBatch
) -> pa.Table | None:
    if isinstance(batches, pa.RecordBatch):
        batches = [batches]
    if isinstance(batches, pa.Table):
        return conform(ctx, batches).combine_chunks()
    tables = [conform(ctx, pa.Table.from_batches([b])) for b in batches if b.num_rows]
    if not tables:
        return None
    return pa.concat_tables(tables).combine_chunks()


def conform(ctx: WriteContext, table: pa.Table) -> pa.Table:
    """Select and cast the input columns to the write schema; ``SchemaError`` names misfits."""
    if ctx.operation is WriteOperation.DELETE:
        needed = [*ctx.spec.record_key_fields, *ctx.spec.partition_fields]
        fields = [ctx.schema.field(n) for n in dict.fromkeys(needed)]
        target = pa.schema(fields)
    else:
        target = ctx.schema
        incoming = av.normalize_schema(table.schema)
        for f in incoming:
            if target.get_field_index(f.name) < 0:
                raise SchemaError(
                    f"table '{ctx.spec.name}': input column '{f.name}' is not in the schema this "
                    "write was begun with. Fix: pass a schema including it to begin()."
                )
    columns = []
    for f in target:
        if f.name not in table.column_names:
            raise SchemaError(
                f"table '{ctx.spec.name}': input has no column '{f.name}' ({f.type}); every "
                "table column is needed (dropping columns is not supported). Fix: add it, "
                "null where unknown."
            )
        got = av.normalize_type(table.schema.field(f.name).type, f.name)
        if not got.equals(f.type):
            raise SchemaError(
                f"table '{ctx.spec.name}': column '{f.name}' is {got} in the input but {f.type} "
                f"in the table. Fix: cast the input column to {f.type}."
            )
        column = av.cast_column(table.column(f.name), f.type)
        av.check_no_null_list_elements(column, f.name, ctx.spec.name)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=target)


def _group_rows(parts: pa.ChunkedArray | pa.Array) -> list[tuple[str, Indices]]:
    """Row indices per partition path, partitions sorted, input order kept within each."""
    encoded = pc.dictionary_encode(_plain(parts))
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    names = encoded.dictionary.to_pylist()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    groups = [(names[int(codes[chunk[0]])], chunk) for chunk in np.split(order, bounds)]
    return sorted(groups, key=lambda g: g[0])


def dedup_indices(keys: pa.Array | pa.ChunkedArray, ordering: pa.Array | None) -> Indices:
    """Indices (ascending) of the row kept per key: largest ``ordering``, ties to the later row."""
    n = len(keys)
    if pc.count_distinct(keys).as_py() == n:
        return np.arange(n, dtype=np.int64)
    cols = {"k": keys, "i": pa.array(np.arange(n, dtype=np.int64))}
    sort_keys = [("k", "ascending")]
    if ordering is not None:
        cols["p"] = ordering
        sort_keys.append(("p", "ascending"))
    sort_keys.append(("i", "ascending"))
    order = pc.sort_indices(pa.table(cols), sort_keys=sort_keys)
    sorted_keys = pc.take(keys, order)
    if isinstance(sorted_keys, pa.ChunkedArray):
        sorted_keys = sorted_keys.combine_chunks()
    last = np.ones(n, dtype=np.bool_)
    if n > 1:
        differs = pc.not_equal(sorted_keys[:-1], sorted_keys[1:])
        last[:-1] = differs.to_numpy(zero_copy_only=False)
    winners: Indices = np.sort(order.to_numpy()[last])
    return winners


# --- per task ---------------------------------------------------------------------------------


class _TaskWriter:
    """Writes the file groups of one task attempt (one write token)."""

    def __init__(self, ctx: WriteContext, partition_id: int, token: str):
        self.ctx = ctx
        self.opts = ctx.options
        self.storage = ctx.storage
        self.partition_id = partition_id
        self.token = token
        self.view = FileSystemView(ctx.storage, ctx.completed_instants, ctx.replaced_file_groups)
        self.partition_metafiles_done: set[str] = set()
        self.footer_schema = ctx.avro_schema_with_meta()
        self._open: dict[str, pq.ParquetFile] = {}

    # --- planning ---

    def write_partition(self, partition: str, rows: pa.Table, keys: pa.Array) -> list[WriteStat]:
        try:
            return self._write_partition(partition, rows, keys)
        finally:
            for handle in self._open.values():
                handle.close()
            self._open.clear()

    def _parquet(self, base: BaseFile) -> pq.ParquetFile:
        """An open base file, kept for the partition so the index lookup and merge share it."""
        if base.path not in self._open:
            self._open[base.path] = pq.ParquetFile(self.storage.open_input_file(base.path))
        return self._open[base.path]

    def _write_partition(self, partition: str, rows: pa.Table, keys: pa.Array) -> list[WriteStat]:
        op = self.ctx.operation
        latest = self.view.latest_base_files(partition)
        if op is WriteOperation.DELETE:
            keys = pc.unique(keys)
            location = self._locate(latest, keys)
            stats = []
            for fi, base in enumerate(latest):
                hit = np.flatnonzero(location == fi)
                if len(hit):
                    deletes = keys.take(pa.array(hit))
                    stat = self._merge(partition, base, None, None, deletes)
                    if stat is not None:
                        stats.append(stat)
            return stats

        combine = (op is WriteOperation.UPSERT and self.opts.combine_before_upsert) or (
            op is not WriteOperation.UPSERT and self.opts.combine_before_insert
        )
        if combine:
            pre = self.ctx.spec.precombine_field
            ordering = rows.column(pre).combine_chunks() if pre else None
            keep = dedup_indices(keys, ordering)
            if len(keep) != len(keys):
                rows = rows.take(pa.array(keep))
                keys = keys.take(pa.array(keep))

        if op is WriteOperation.UPSERT:
            location = self._locate(latest, keys)
        else:
            location = np.full(len(keys), -1, dtype=np.int64)
        inserts = np.flatnonzero(location < 0)
        per_group: dict[int, list[Indices]] = {}
        for fi in range(len(latest)):
            hit = np.flatnonzero(location == fi)
            if len(hit):
                per_group[fi] = [hit]

        new_buckets: list[Indices] = []
        if op is WriteOperation.BULK_INSERT:
            new_buckets = self._split_new(inserts)
        else:
            remaining = inserts
            for fi, size in self._small_files(latest):
                if not len(remaining):
                    break
                room = (self.opts.max_file_size - size) // self.ctx.avg_record_size
                take = int(min(room, len(remaining)))
                if take > 0:
                    per_group.setdefault(fi, []).append(remaining[:take])
                    remaining = remaining[take:]
            new_buckets = self._split_new(remaining)

        stats = []
        for fi in sorted(per_group):
            idx = np.sort(np.concatenate(per_group[fi]))
            sel = pa.array(idx)
            stat = self._merge(partition, latest[fi], rows.take(sel), keys.take(sel), None)
            if stat is not None:
                stats.append(stat)
        for bucket in new_buckets:
            sel = pa.array(bucket)
            stats.append(self._create(partition, rows.take(sel), keys.take(sel)))
        return stats

    def _small_files(self, latest: list[BaseFile]) -> list[tuple[int, int]]:
        if self.opts.small_file_limit <= 0:
            return []
        small = [(fi, b.size) for fi, b in enumerate(latest) if b.size < self.opts.small_file_limit]
        return sorted(small, key=lambda s: (s[1], latest[s[0]].file_id))

    def _split_new(self, rows: Indices) -> list[Indices]:
        if not len(rows):
            return []
        if self.opts.auto_split_inserts:
            per_bucket = self.opts.max_file_size // self.ctx.avg_record_size
        else:
            per_bucket = self.opts.insert_split_size
        per_bucket = max(int(per_bucket), 1)
        buckets = -(-len(rows) // per_bucket)
        return [b for b in np.array_split(rows, buckets) if len(b)]

    def _locate(self, latest: list[BaseFile], keys: pa.Array) -> Indices:
        """Index into ``latest`` of the file group holding each key, -1 when none does."""
        location = np.full(len(keys), -1, dtype=np.int64)
        if not latest or not len(keys):
            return location
        stored_keys = []
        owners = []
        for fi, base in enumerate(latest):
            col = self._parquet(base).read(columns=[o.RECORD_KEY_FIELD]).column(0)
            stored_keys.append(col)
            owners.append(np.full(len(col), fi, dtype=np.int64))
        all_keys = pa.chunked_array([c for k in stored_keys for c in k.chunks], pa.string())
        owner = np.concatenate(owners)
        pos = pc.index_in(keys, value_set=all_keys.combine_chunks())
        found = pos.is_valid().to_numpy(zero_copy_only=False)
        if found.any():
            idx = pos.filter(pos.is_valid()).to_numpy().astype(np.int64)
            location[found] = owner[idx]
        return location

    # --- handles ---

    def _read_base(self, base: BaseFile) -> tuple[dict[str, pa.ChunkedArray], pa.Table]:
        """Meta columns and the data columns (conformed to the write schema) of a base file."""
        old = self._parquet(base).read()
        meta = {
            name: av.cast_column(old.column(name), pa.string())
            if name in old.column_names
            else pa.chunked_array([pa.nulls(old.num_rows, pa.string())])
            for name in o.META_COLUMNS
        }
        columns = []
        for f in self.ctx.schema:
            if f.name in old.column_names:
                columns.append(av.cast_column(old.column(f.name), f.type))
            else:
                # A column added after this file was written: old rows read it as null.
                columns.append(pa.chunked_array([pa.nulls(old.num_rows, f.type)]))
        return meta, pa.Table.from_arrays(columns, schema=self.ctx.schema)

    def _merge(
        self,
        partition: str,
        base: BaseFile,
        rows: pa.Table | None,
        keys: pa.Array | None,
        delete_keys: pa.Array | None,
    ) -> WriteStat | None:
        """Rewrite one file group: update/delete matching rows, append the rest as inserts.

        None when ``skip_unchanged`` finds nothing to change (the file group stays as it is).
        """
        started = time.monotonic()
        meta, old = self._read_base(base)
        old_keys = meta[o.RECORD_KEY_FIELD].combine_chunks()
        n_old = old.num_rows
        keep = np.ones(n_old, dtype=np.bool_)
        deleted = 0
        if delete_keys is not None:
            gone = pc.is_in(old_keys, value_set=_plain(delete_keys)).to_numpy(zero_copy_only=False)
            deleted = int(gone.sum())
            keep &= ~gone
        source = np.arange(n_old, dtype=np.int64)
        replaced = np.zeros(n_old, dtype=np.bool_)
        insert_rows = np.arange(0, dtype=np.int64)
        n_new = 0
        if rows is not None and keys is not None and len(keys):
            n_new = len(keys)
            pos_arr = pc.index_in(old_keys, value_set=_plain(keys))
            matched = pos_arr.is_valid().to_numpy(zero_copy_only=False)
            pos = np.full(n_old, -1, dtype=np.int64)
            if matched.any():
                pos[matched] = pos_arr.filter(pos_arr.is_valid()).to_numpy().astype(np.int64)
            replaced = matched.copy()
            pre = self.ctx.spec.precombine_field
            if self.opts.merge_mode is MergeMode.EVENT_TIME and pre and matched.any():
                # DefaultHoodieRecordPayload: keep the stored row when its ordering value is larger.
                where = np.flatnonzero(matched)
                stored = old.column(pre).take(pa.array(where))
                incoming = rows.column(pre).take(pa.array(pos[where]))
                stored_wins = pc.fill_null(pc.greater(stored, incoming), False)
                replaced[where[stored_wins.to_numpy(zero_copy_only=False)]] = False
            if self.opts.skip_unchanged and replaced.any():
                where = np.flatnonzero(replaced)
                same = same_rows(old.take(pa.array(where)), rows.take(pa.array(pos[where])))
                replaced[where[same]] = False
            used = np.zeros(n_new, dtype=np.bool_)
            used[pos[matched]] = True
            insert_rows = np.flatnonzero(~used)
            source = np.where(replaced, n_old + pos, source)
        updates = int((replaced & keep).sum())
        if self.opts.skip_unchanged and not (updates or deleted or len(insert_rows)):
            return None
        final_source = np.concatenate([source[keep], n_old + insert_rows])
        is_new = np.concatenate([replaced[keep], np.ones(len(insert_rows), dtype=np.bool_)])

        data = old if rows is None else pa.concat_tables([old, rows])
        all_keys = old_keys if keys is None else pa.concat_arrays([old_keys, _plain(keys)])
        old_time = meta[o.COMMIT_TIME_FIELD].combine_chunks()
        old_seq = meta[o.COMMIT_SEQNO_FIELD].combine_chunks()
        if n_new:
            old_time = pa.concat_arrays([old_time, pa.nulls(n_new, pa.string())])
            old_seq = pa.concat_arrays([old_seq, pa.nulls(n_new, pa.string())])
        take = pa.array(final_source)
        return self._write(
            partition=partition,
            file_id=base.file_id,
            io_type=markers.MERGE,
            data=data.take(take),
            keys=all_keys.take(take),
            old_commit_time=old_time.take(take),
            old_seqno=old_seq.take(take),
            is_new=is_new,
            prev_commit=base.instant,
            counts=(len(insert_rows), updates, deleted),
            runtime_key="totalUpsertTime",
            started=started,
        )

    def _create(self, partition: str, rows: pa.Table, keys: pa.Array) -> WriteStat:
        """A new file group (``HoodieCreateHandle``)."""
        started = time.monotonic()
        n = rows.num_rows
        return self._write(
            partition=partition,
            file_id=f"{uuid.uuid4()}-0",
            io_type=markers.CREATE,
            data=rows,
            keys=_plain(keys),
            old_commit_time=pa.nulls(n, pa.string()),
            old_seqno=pa.nulls(n, pa.string()),
            is_new=np.ones(n, dtype=np.bool_),
            prev_commit=NULL_COMMIT,
            counts=(n, 0, 0),
            runtime_key="totalCreateTime",
            started=started,
        )

    # --- files ---

    def _write(
        self,
        *,
        partition: str,
        file_id: str,
        io_type: str,
        data: pa.Table,
        keys: pa.Array,
        old_commit_time: pa.Array,
        old_seqno: pa.Array,
        is_new: npt.NDArray[np.bool_],
        prev_commit: str,
        counts: tuple[int, int, int],
        runtime_key: str,
        started: float,
    ) -> WriteStat:
        ctx = self.ctx
        name = base_file_name(file_id, self.token, ctx.instant)
        path = self.storage.join(partition, name)
        n = data.num_rows
        new_mask = pa.array(is_new, pa.bool_())
        # _hoodie_commit_seqno = {instant}_{taskPartitionId}_{position in this file}.
        positions = pc.cast(pa.array(np.arange(n, dtype=np.int64)), pa.string())
        fresh_seq = pc.binary_join_element_wise(
            f"{ctx.instant}_{self.partition_id}_", positions, ""
        )
        commit_time = pc.if_else(new_mask, ctx.instant, old_commit_time)
        seqno = pc.if_else(new_mask, fresh_seq, old_seqno)
        meta = [
            commit_time,
            seqno,
            keys,
            pa.repeat(pa.scalar(partition, pa.string()), n),
            pa.repeat(pa.scalar(name, pa.string()), n),
        ]
        columns = meta + [data.column(i).combine_chunks() for i in range(data.num_columns)]
        table = pa.Table.from_arrays(columns, schema=ctx.file_schema())

        _check_pending(ctx)
        markers.create_marker(self.storage, ctx.instant, partition, name, io_type)
        fault_point("after_marker")
        self._ensure_partition_metafile(partition)
        payload = self._parquet_bytes(table, keys)
        if armed("mid_data_file"):
            self.storage.write_bytes(path, payload[: len(payload) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        self.storage.write_bytes(path, payload)
        fault_point("after_data_file")
        inserts, updates, deletes = counts
        return WriteStat(
            file_id=file_id,
            path=path,
            partition_path=partition,
            prev_commit=prev_commit,
            num_writes=n,
            num_inserts=inserts,
            num_update_writes=updates,
            num_deletes=deletes,
            total_write_bytes=len(payload),
            file_size_in_bytes=len(payload),
            runtime_stats={runtime_key: int((time.monotonic() - started) * 1000)},
        )

    def _parquet_bytes(self, table: pa.Table, keys: pa.Array) -> bytes:
        opts = self.opts
        bloom = build_bloom(
            keys,
            opts.bloom_num_entries,
            opts.bloom_fpp,
            opts.bloom_filter_type,
            opts.bloom_dynamic_max_entries,
        )
        footer = {
            o.FOOTER_AVRO_SCHEMA: self.footer_schema,
            o.FOOTER_WRITER_MODEL: o.FOOTER_WRITER_MODEL_AVRO,
            o.FOOTER_BLOOM_FILTER: bloom.serialize(),
            o.FOOTER_BLOOM_TYPE_CODE: opts.bloom_filter_type.value,
        }
        if len(keys):
            bounds = pc.min_max(keys)
            footer[o.FOOTER_MIN_RECORD_KEY] = bounds["min"].as_py()
            footer[o.FOOTER_MAX_RECORD_KEY] = bounds["max"].as_py()
        sink = pa.BufferOutputStream()
        with pq.ParquetWriter(
            sink,
            table.schema,
            compression=opts.compression,
            version="2.6",
            store_schema=False,
            coerce_timestamps="us",
            use_compliant_nested_type=True,
        ) as writer:
            writer.write_table(table)
            writer.add_key_value_metadata(footer)
        data: bytes = sink.getvalue().to_pybytes()
        return data

    def _ensure_partition_metafile(self, partition: str) -> None:
        """``.hoodie_partition_metadata`` (HoodiePartitionMetadata.trySave): temp file, rename."""
        if partition in self.partition_metafiles_done:
            return
        target = self.storage.join(partition, o.PARTITION_METAFILE)
        if not self.storage.exists(target):
            now = datetime.now(UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
            text = (
                f"#partition metadata\n#{now}\n"
                f"{o.PARTITION_METAFILE_COMMIT_TIME}={self.ctx.instant}\n"
                f"{o.PARTITION_METAFILE_DEPTH}={self.ctx.spec.partition_depth}\n"
            )
            if self.storage.local:
                tmp = self.storage.join(partition, f"{o.PARTITION_METAFILE}_{self.partition_id}")
                self.storage.write_bytes(tmp, text.encode())
                self.storage.rename(tmp, target)
            else:
                self.storage.write_bytes(target, text.encode())
        self.partition_metafiles_done.add(partition)


def same_rows(a: pa.Table, b: pa.Table) -> npt.NDArray[np.bool_]:
    """Row by row: are all columns of ``a`` and ``b`` (same schema) equal? Null equals null.

    NaN never equals itself (an unchanged NaN counts as a change: a rewrite too
    many, never one too few).
    """
    same = np.ones(a.num_rows, dtype=np.bool_)
    for x, y in zip(a.columns, b.columns, strict=True):
        x, y = _plain(x), _plain(y)
        both_null = pc.and_(pc.is_null(x), pc.is_null(y))
        try:
            equal = pc.equal(x, y)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # nested types: compare values
            equal = pa.array([p == q for p, q in zip(x.to_pylist(), y.to_pylist(), strict=True)])
        column_same = pc.or_(pc.fill_null(equal, False), both_null)
        same &= column_same.to_numpy(zero_copy_only=False)
    return same


def _plain(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        return arr.combine_chunks()
    return arr
