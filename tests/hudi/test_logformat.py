"""HoodieLogFormat framing: byte layout of a block, round trips, torn blocks skipped."""

from __future__ import annotations

import io
import json
import struct

import fastavro

from zfish.hudi.logformat import (
    AVRO_DATA_BLOCK,
    CORRUPT_BLOCK,
    MAGIC,
    SCHEMA,
    decode_avro_block,
    encode_avro_block,
    encode_block,
    read_blocks,
)

SCHEMA_DICT = {
    "type": "record",
    "name": "R",
    "namespace": "t",
    "fields": [{"name": "a", "type": ["null", "string"], "default": None}],
}


def test_block_layout_matches_hoodie_log_format_writer() -> None:
    content = b"xyz"
    block = encode_block(AVRO_DATA_BLOCK, {SCHEMA: "s"}, content)
    header = struct.pack(">iii", 1, SCHEMA, 1) + b"s"
    footer = struct.pack(">i", 0)
    # size excludes the magic and itself, includes the trailing reverse pointer
    size = 4 + 4 + len(header) + 8 + len(content) + len(footer) + 8
    expected = (
        MAGIC
        + struct.pack(">q", size)
        + struct.pack(">ii", 1, AVRO_DATA_BLOCK)
        + header
        + struct.pack(">q", len(content))
        + content
        + footer
    )
    expected += struct.pack(">q", len(expected))
    assert block == expected
    # the reader's isBlockCorrupted check: trailing long minus the magic equals the size
    assert struct.unpack(">q", block[-8:])[0] - len(MAGIC) == size


def test_avro_block_content_is_version_count_and_sized_records() -> None:
    block = next(read_blocks(encode_avro_block([{"a": "x"}, {"a": None}], SCHEMA_DICT)))
    assert block.block_type == AVRO_DATA_BLOCK
    assert json.loads(block.header[SCHEMA]) == SCHEMA_DICT
    version, count = struct.unpack(">ii", block.content[:8])
    assert (version, count) == (3, 2)
    (first_len,) = struct.unpack(">i", block.content[8:12])
    datum = fastavro.schemaless_reader(
        io.BytesIO(block.content[12 : 12 + first_len]), fastavro.parse_schema(SCHEMA_DICT)
    )
    assert datum == {"a": "x"}
    assert decode_avro_block(block) == [{"a": "x"}, {"a": None}]


def test_torn_last_block_is_skipped_and_earlier_blocks_survive() -> None:
    good = encode_avro_block([{"a": "1"}], SCHEMA_DICT)
    second = encode_avro_block([{"a": "2"}], SCHEMA_DICT)
    for cut in (3, len(MAGIC) + 5, len(second) // 2, len(second) - 1):
        blocks = list(read_blocks(good + second[:cut]))
        assert [b.block_type for b in blocks] == [AVRO_DATA_BLOCK, CORRUPT_BLOCK], cut
        assert decode_avro_block(blocks[0]) == [{"a": "1"}]


def test_garbage_after_a_block_makes_it_corrupt_as_in_the_jvm() -> None:
    # HoodieLogFileReader.isBlockCorrupted wants a magic (or EOF) right after a block.
    a = encode_avro_block([{"a": "1"}], SCHEMA_DICT)
    b = encode_avro_block([{"a": "2"}], SCHEMA_DICT)
    blocks = list(read_blocks(a + b"\x00garbage" + b))
    assert [x.block_type for x in blocks] == [CORRUPT_BLOCK, AVRO_DATA_BLOCK]
    assert decode_avro_block(blocks[1]) == [{"a": "2"}]


def test_a_wrong_reverse_pointer_marks_the_block_corrupt() -> None:
    block = bytearray(encode_avro_block([{"a": "1"}], SCHEMA_DICT))
    block[-1] ^= 0x01
    assert [b.block_type for b in read_blocks(bytes(block))] == [CORRUPT_BLOCK]
