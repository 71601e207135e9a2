"""zfish.hudi.bloom: Hudi's bloom filter, checked against a literal Java port and Spark's files."""

from __future__ import annotations

import base64
import struct
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hudi_testlib import V6_COW, parquet_files
from hypothesis import given, settings
from hypothesis import strategies as st

from zfish.hudi.bloom import BloomFilter, bit_size, build, murmur_chain, num_hashes
from zfish.hudi.options import (
    FOOTER_BLOOM_FILTER,
    FOOTER_BLOOM_TYPE_CODE,
    FOOTER_MAX_RECORD_KEY,
    FOOTER_MIN_RECORD_KEY,
    BloomFilterType,
)


def _i32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


def java_murmur(data: bytes, seed: int) -> int:
    """Line-by-line port of org.apache.hudi.common.util.hash.MurmurHash (Java int semantics)."""
    signed = [b - 256 if b > 127 else b for b in data]
    m = 0x5BD1E995
    length = len(signed)
    h = _i32(seed ^ length)
    len4 = length >> 2
    for i in range(len4):
        i4 = i << 2
        k = signed[i4 + 3]
        k = _i32(k << 8)
        k = _i32(k | (signed[i4 + 2] & 0xFF))
        k = _i32(k << 8)
        k = _i32(k | (signed[i4 + 1] & 0xFF))
        k = _i32(k << 8)
        k = _i32(k | (signed[i4] & 0xFF))
        k = _i32(k * m)
        k = _i32(k ^ ((k & 0xFFFFFFFF) >> 24))
        k = _i32(k * m)
        h = _i32(h * m)
        h = _i32(h ^ k)
    left = length - (len4 << 2)
    if left != 0:
        if left >= 3:
            h = _i32(h ^ (signed[length - 3] << 16))
        if left >= 2:
            h = _i32(h ^ (signed[length - 2] << 8))
        if left >= 1:
            h = _i32(h ^ signed[length - 1])
        h = _i32(h * m)
    h = _i32(h ^ ((h & 0xFFFFFFFF) >> 13))
    h = _i32(h * m)
    h = _i32(h ^ ((h & 0xFFFFFFFF) >> 15))
    return h


def java_positions(key: str, nb_hash: int, vector_size: int) -> list[int]:
    """HashFunction.hash: chained seeds, abs(initval % maxValue) with Java's truncating %."""
    out = []
    initval = 0
    for _ in range(nb_hash):
        initval = java_murmur(key.encode("utf-8"), initval)
        rem = abs(initval) % vector_size
        out.append(rem)
    return out


def test_default_sizes_match_hudi() -> None:
    # SimpleBloomFilter(60000, 1e-9): the numbers every Hudi 0.x footer carries.
    assert bit_size(60_000, 1e-9) == 2_587_966
    assert num_hashes(2_587_966, 60_000) == 30


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=20))
def test_vectorized_murmur_equals_java_port(keys: list[str]) -> None:
    hashes = murmur_chain(keys, 5)
    for row, key in zip(hashes, keys, strict=True):
        seed = 0
        expected = []
        for _ in range(5):
            seed = java_murmur(key.encode("utf-8"), seed)
            expected.append(seed)
        assert [int(v) for v in row] == expected, key


def test_signed_tail_bytes_and_all_tail_lengths() -> None:
    # Bytes >= 0x80 in the 1-3 byte tail are sign-extended in Java; cover every tail length.
    keys = ["é", "éé", "ééé", "a€", "€", "日本語キー", "x" * 7, "ÿÿÿÿÿ"]
    bf = build(keys, 100, 0.01)
    for key in keys:
        positions = java_positions(key, bf.nb_hash, bf.vector_size)
        assert all(bf.rows[0].bits[p] for p in positions)


def _fixture_files(sample) -> list[Path]:
    files = []
    for name in V6_COW:
        root = sample.root(name)
        files.extend(parquet_files(root))
    return files


def test_fixture_filters_hold_their_keys_and_ours_are_byte_identical(sample) -> None:
    checked = 0
    for path in _fixture_files(sample):
        footer = pq.ParquetFile(path).metadata.metadata
        keys = pq.read_table(path, columns=["_hoodie_record_key"]).column(0)
        serialized = footer[FOOTER_BLOOM_FILTER.encode()].decode()
        code = footer[FOOTER_BLOOM_TYPE_CODE.encode()].decode()
        theirs = BloomFilter.deserialize(serialized, code)
        # Their filter finds every key of their file with our hashing ...
        assert theirs.might_contain_all(keys).all(), path
        # ... and ours, built from the same keys in file order, is the same bytes.
        ours = build(keys, 60_000, 1e-9, BloomFilterType(code))
        assert ours.serialize() == serialized, path
        assert BloomFilter.deserialize(ours.serialize(), code).serialize() == serialized
        # Min/max record keys are the footer's.
        assert footer[FOOTER_MIN_RECORD_KEY.encode()].decode() == min(keys.to_pylist())
        assert footer[FOOTER_MAX_RECORD_KEY.encode()].decode() == max(keys.to_pylist())
        checked += 1
    assert checked >= 10


def test_dynamic_header_layout() -> None:
    bf = build(["a", "b", "c"], 60_000, 1e-9)
    raw = base64.b64decode(bf.serialize())
    version, nb_hash, hash_type, vector_size = struct.unpack_from(">iibi", raw, 0)
    nr, count, rows = struct.unpack_from(">iii", raw, 13)
    assert (version, nb_hash, hash_type, vector_size) == (-1, 30, 1, 2_587_966)
    assert (nr, count, rows) == (60_000, 3, 1)
    # The row is a full SIMPLE block: the same header again, then the bits.
    assert raw[25:38] == raw[0:13]
    assert len(raw) == 25 + 13 + (vector_size + 7) // 8


def test_simple_type_round_trip() -> None:
    keys = [str(uuid.uuid4()) for _ in range(500)]
    bf = build(keys, 1000, 1e-6, BloomFilterType.SIMPLE)
    raw = base64.b64decode(bf.serialize())
    assert len(raw) == 13 + (bf.vector_size + 7) // 8
    back = BloomFilter.deserialize(bf.serialize(), "SIMPLE")
    assert back.might_contain_all(keys).all()
    # Files without a type code are SIMPLE.
    assert BloomFilter.deserialize(bf.serialize(), None).might_contain_all(keys).all()


def java_dynamic_rows(n_keys: int, nr: int, max_nr: int) -> tuple[list[int], int]:
    """Row of each key and the final currentNbRecord (InternalDynamicBloomFilter.add)."""
    rows, current, reached, cur_index, out = 1, 0, False, 0, []
    for _ in range(n_keys):
        if reached:
            target = cur_index % rows
            cur_index += 1
        elif current >= nr and rows * nr < max_nr:
            rows += 1
            current = 0
            target = rows - 1
        elif current >= nr and rows * nr >= max_nr:
            reached = True
            target = 0
        else:
            target = rows - 1
        out.append(target)
        current += 1
    return out, current


@pytest.mark.parametrize(("n_keys", "nr", "max_nr"), [(5, 10, 25), (35, 10, 25), (90, 10, 25)])
def test_dynamic_filter_grows_rows_like_java(n_keys: int, nr: int, max_nr: int) -> None:
    keys = [f"key-{i}" for i in range(n_keys)]
    expected, current = java_dynamic_rows(n_keys, nr, max_nr)
    # Adding in two chunks must give the same assignment as one by one.
    bf = BloomFilter(nr, 0.001, BloomFilterType.DYNAMIC_V0, max_nr)
    bf.add_all(keys[: n_keys // 3])
    bf.add_all(keys[n_keys // 3 :])
    assert len(bf.rows) == max(expected) + 1
    for key, row in zip(keys, expected, strict=True):
        positions = java_positions(key, bf.nb_hash, bf.vector_size)
        assert all(bf.rows[row].bits[p] for p in positions), (key, row)
    back = BloomFilter.deserialize(bf.serialize(), "DYNAMIC_V0")
    assert back.might_contain_all(keys).all()
    assert back.current_nb_record == current


def test_false_positive_rate_is_low() -> None:
    keys = [str(uuid.uuid4()) for _ in range(2000)]
    bf = build(keys, 2000, 1e-4)
    probes = [str(uuid.uuid4()) for _ in range(5000)]
    assert bf.might_contain_all(probes).sum() <= 5
