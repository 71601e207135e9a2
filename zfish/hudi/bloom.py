"""Hudi's record-key bloom filter, bit for bit: what a JVM BLOOM index reads from parquet footers.

Hudi stores a bloom filter of every record key in each base file's footer
(``org.apache.hudi.bloomfilter``, base64). A later JVM upsert with the BLOOM
index deserializes it and calls ``mightContain`` without a null check, so files
without a valid filter break Glue jobs that use that index.

The algorithm is Hadoop's ``org.apache.hadoop.util.bloom`` as copied into Hudi:

* key bytes are UTF-8; ``nbHash`` positions come from chaining Hadoop's
  MurmurHash (MurmurHash2, 32 bit, signed tail bytes) with ``initval`` as seed,
  position = ``abs(initval % vectorSize)`` with Java ``%``;
* bits are stored least-significant first in each byte;
* serialization (Java ``DataOutput``, big-endian) is ``int -1, int nbHash,
  byte hashType(1 = murmur), int vectorSize, bit bytes`` for SIMPLE; DYNAMIC_V0
  writes that header, then ``int nr, int currentNbRecord, int rows`` and each
  row as a full SIMPLE block.

Hashing is vectorized with numpy over all keys of a file at once (30 chained
hashes per key by default), so a file of 100k keys hashes in well under a second.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from zfish.hudi.options import BloomFilterType

MURMUR_HASH_TYPE = 1  # org.apache.hudi.common.util.hash.Hash.MURMUR_HASH
_VERSION = -1  # InternalFilter.VERSION
_M = np.uint32(0x5BD1E995)

IntArray = npt.NDArray[np.int64]


def bit_size(num_entries: int, fpp: float) -> int:
    """``BloomFilterUtils.getBitSize``: bits for ``num_entries`` keys at false-positive rate ``fpp``."""
    return math.ceil(num_entries * (-math.log(fpp) / (math.log(2) * math.log(2))))


def num_hashes(bits: int, num_entries: int) -> int:
    """``BloomFilterUtils.getNumHashes`` (evaluated left to right, as Java does)."""
    return math.ceil(math.log(2) * bits / num_entries)


def _as_binary_array(keys: Sequence[str] | pa.Array | pa.ChunkedArray) -> pa.BinaryArray:
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    if not isinstance(keys, pa.Array):
        keys = pa.array(list(keys), type=pa.string())
    if keys.null_count:
        raise ValueError("bloom filter keys must not be null")
    if pa.types.is_large_string(keys.type) or pa.types.is_large_binary(keys.type):
        keys = pc.cast(keys, pa.binary())
    elif pa.types.is_string(keys.type):
        keys = keys.view(pa.binary())
    return keys


def murmur_chain(
    keys: Sequence[str] | pa.Array | pa.ChunkedArray, nb_hash: int
) -> npt.NDArray[np.int32]:
    """The ``nb_hash`` chained Hadoop MurmurHash values of every key, shape ``(n, nb_hash)``.

    Round ``i`` hashes the key with the previous round's value as seed (0 first),
    exactly like ``HashFunction.hash``.
    """
    arr = _as_binary_array(keys)
    n = len(arr)
    out = np.empty((n, nb_hash), dtype=np.int32)
    if n == 0:
        return out
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    offsets = offsets.astype(np.int64)
    lengths = np.diff(offsets)
    if (lengths == 0).any():
        raise ValueError("bloom filter keys must not be empty")
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    # Pad every key into one row of a 2-D array (row width a multiple of 4, plus slack).
    width = int(((lengths.max() + 3) // 4 + 1) * 4)
    flat = np.zeros(n * width, dtype=np.uint8)
    starts = offsets[:-1] - offsets[0]
    dest = np.repeat(np.arange(n, dtype=np.int64) * width - starts, lengths)
    dest += np.arange(len(data), dtype=np.int64)
    flat[dest] = data
    grid = flat.reshape(n, width)
    words = flat.view("<u4").reshape(n, width // 4)

    len4 = lengths >> 2
    left = lengths & 3
    rows = np.arange(n)
    # Tail bytes are Java (signed) bytes, sign-extended before the shift.
    tail3 = grid[rows, np.maximum(lengths - 3, 0)].view(np.int8).astype(np.int32) << 16
    tail2 = grid[rows, np.maximum(lengths - 2, 0)].view(np.int8).astype(np.int32) << 8
    tail1 = grid[rows, np.maximum(lengths - 1, 0)].view(np.int8).astype(np.int32)
    tail = np.zeros(n, dtype=np.int32)
    tail = np.where(left >= 3, tail ^ tail3, tail)
    tail = np.where(left >= 2, tail ^ tail2, tail)
    tail = np.where(left >= 1, tail ^ tail1, tail)
    tail_u = tail.view(np.uint32)
    has_tail = left != 0
    max_blocks = int(len4.max())
    # Pre-mix every block once: k does not depend on the seed.
    mixed = words[:, :max_blocks] * _M
    mixed ^= mixed >> np.uint32(24)
    mixed *= _M
    active = [len4 > b for b in range(max_blocks)]
    uniform = bool((len4 == max_blocks).all())
    len_u = lengths.astype(np.uint32)

    seed = np.zeros(n, dtype=np.uint32)
    for i in range(nb_hash):
        h = seed ^ len_u
        for b in range(max_blocks):
            hn = (h * _M) ^ mixed[:, b]
            h = hn if uniform else np.where(active[b], hn, h)
        h = np.where(has_tail, (h ^ tail_u) * _M, h)
        h ^= h >> np.uint32(13)
        h *= _M
        h ^= h >> np.uint32(15)
        out[:, i] = h.view(np.int32)
        seed = h
    return out


def hash_positions(
    keys: Sequence[str] | pa.Array | pa.ChunkedArray, nb_hash: int, vector_size: int
) -> IntArray:
    """Bit positions of every key, shape ``(n, nb_hash)``: ``abs(h % vectorSize)`` in Java terms."""
    hashes = murmur_chain(keys, nb_hash).astype(np.int64)
    # Java's % truncates toward zero, so abs(h % v) == abs(h) % v.
    return np.abs(hashes) % vector_size


class _Row:
    """One Hadoop ``BloomFilter``: a bit vector and its hash parameters."""

    def __init__(self, vector_size: int, nb_hash: int, bits: npt.NDArray[np.bool_] | None = None):
        self.vector_size = vector_size
        self.nb_hash = nb_hash
        self.bits = bits if bits is not None else np.zeros(vector_size, dtype=np.bool_)

    def add_positions(self, positions: IntArray) -> None:
        self.bits[positions.ravel()] = True

    def test_positions(self, positions: IntArray) -> npt.NDArray[np.bool_]:
        return np.asarray(self.bits[positions].all(axis=1), dtype=np.bool_)

    def header(self) -> bytes:
        return struct.pack(">iibi", _VERSION, self.nb_hash, MURMUR_HASH_TYPE, self.vector_size)

    def to_bytes(self) -> bytes:
        return self.header() + np.packbits(self.bits, bitorder="little").tobytes()

    @classmethod
    def read(cls, buf: memoryview, pos: int) -> tuple[_Row, int]:
        version, nb_hash, hash_type, vector_size = struct.unpack_from(">iibi", buf, pos)
        if version != _VERSION:
            raise ValueError(f"unsupported bloom filter version {version}")
        if hash_type != MURMUR_HASH_TYPE:
            raise ValueError(f"unsupported bloom filter hash type {hash_type} (only murmur)")
        pos += 13
        nbytes = (vector_size + 7) // 8
        raw = np.frombuffer(buf[pos : pos + nbytes], dtype=np.uint8)
        bits = np.unpackbits(raw, bitorder="little")[:vector_size].astype(np.bool_)
        return cls(vector_size, nb_hash, bits), pos + nbytes


class BloomFilter:
    """A Hudi bloom filter of type SIMPLE or DYNAMIC_V0 (HoodieDynamicBoundedBloomFilter)."""

    def __init__(
        self,
        num_entries: int,
        fpp: float,
        type_code: BloomFilterType = BloomFilterType.DYNAMIC_V0,
        max_entries: int = 100_000,
    ):
        self.type_code = BloomFilterType(type_code)
        self.vector_size = bit_size(num_entries, fpp)
        self.nb_hash = num_hashes(self.vector_size, num_entries)
        # Dynamic state, as in InternalDynamicBloomFilter.
        self.nr = num_entries
        self.max_nr = max_entries
        self.current_nb_record = 0
        self.reached_max = False
        self.cur_matrix_index = 0
        self.rows = [_Row(self.vector_size, self.nb_hash)]

    def _row_assignment(self, count: int) -> npt.NDArray[np.int64]:
        """Which row each of the next ``count`` keys goes to (InternalDynamicBloomFilter.add)."""
        target = np.empty(count, dtype=np.int64)
        if self.type_code is BloomFilterType.SIMPLE:
            target[:] = 0
            return target
        i = 0
        while i < count:
            if self.reached_max:
                # Round robin over all rows from here on.
                idx = self.cur_matrix_index + np.arange(count - i, dtype=np.int64)
                target[i:] = idx % len(self.rows)
                self.cur_matrix_index += count - i
                self.current_nb_record += count - i
                break
            if self.current_nb_record >= self.nr:
                if len(self.rows) * self.nr < self.max_nr:
                    self.rows.append(_Row(self.vector_size, self.nb_hash))
                    self.current_nb_record = 0
                else:
                    self.reached_max = True
                    target[i] = 0
                    self.current_nb_record += 1
                    i += 1
                    continue
            take = min(self.nr - self.current_nb_record, count - i)
            target[i : i + take] = len(self.rows) - 1
            self.current_nb_record += take
            i += take
        return target

    def add_all(self, keys: Sequence[str] | pa.Array | pa.ChunkedArray) -> None:
        """Add keys in order (the order matters only once a dynamic filter grows rows)."""
        positions = hash_positions(keys, self.nb_hash, self.vector_size)
        if self.type_code is BloomFilterType.SIMPLE:
            self.rows[0].add_positions(positions)
            self.current_nb_record += len(positions)
            return
        target = self._row_assignment(len(positions))
        for r, row in enumerate(self.rows):
            row.add_positions(positions[target == r])

    def add(self, key: str) -> None:
        self.add_all([key])

    def might_contain_all(
        self, keys: Sequence[str] | pa.Array | pa.ChunkedArray
    ) -> npt.NDArray[np.bool_]:
        """Membership test of every key (any row matching means maybe present)."""
        positions = hash_positions(keys, self.nb_hash, self.vector_size)
        result = np.zeros(len(positions), dtype=np.bool_)
        for row in self.rows:
            result = np.logical_or(result, row.test_positions(positions))
        return result

    def might_contain(self, key: str) -> bool:
        return bool(self.might_contain_all([key])[0])

    def to_bytes(self) -> bytes:
        """The Java ``DataOutput`` serialization (before base64)."""
        if self.type_code is BloomFilterType.SIMPLE:
            return self.rows[0].to_bytes()
        head = self.rows[0].header()
        meta = struct.pack(">iii", self.nr, self.current_nb_record, len(self.rows))
        return head + meta + b"".join(row.to_bytes() for row in self.rows)

    def serialize(self) -> str:
        """Base64 text for the ``org.apache.hudi.bloomfilter`` footer key."""
        return base64.b64encode(self.to_bytes()).decode("ascii")

    @classmethod
    def deserialize(
        cls, text: str | bytes, type_code: str | None = BloomFilterType.DYNAMIC_V0.value
    ) -> BloomFilter:
        """Parse a footer value; ``type_code`` None means SIMPLE (files older than type codes)."""
        raw = memoryview(base64.b64decode(text))
        code = BloomFilterType((type_code or BloomFilterType.SIMPLE.value).upper())
        bf = cls.__new__(cls)
        bf.type_code = code
        bf.reached_max = False
        bf.cur_matrix_index = 0
        if code is BloomFilterType.SIMPLE:
            row, _ = _Row.read(raw, 0)
            bf.rows = [row]
            bf.nr = bf.max_nr = 0
            bf.current_nb_record = 0
        else:
            _version, _nb, _ht, _vs = struct.unpack_from(">iibi", raw, 0)
            bf.nr, bf.current_nb_record, count = struct.unpack_from(">iii", raw, 13)
            bf.max_nr = bf.nr
            pos = 25
            bf.rows = []
            for _ in range(count):
                row, pos = _Row.read(raw, pos)
                bf.rows.append(row)
        bf.vector_size = bf.rows[0].vector_size
        bf.nb_hash = bf.rows[0].nb_hash
        return bf


def build(
    keys: Iterable[str] | pa.Array | pa.ChunkedArray,
    num_entries: int,
    fpp: float,
    type_code: BloomFilterType = BloomFilterType.DYNAMIC_V0,
    max_entries: int = 100_000,
) -> BloomFilter:
    """A filter holding ``keys`` (in write order)."""
    bf = BloomFilter(num_entries, fpp, type_code, max_entries)
    if not isinstance(keys, pa.Array | pa.ChunkedArray):
        keys = list(keys)
    if len(keys):
        bf.add_all(keys)
    return bf
