"""HoodieLogFormat framing of Avro data blocks: the container of Hudi's archive files.

Hand-written because no maintained Python library writes (or reads) Hudi log
blocks: fastavro encodes the records, but the framing around them is Hudi's
own (``HoodieLogFormatWriter.appendBlocks``, ``HoodieLogFileReader.readBlock``,
``HoodieAvroDataBlock.serializeRecords``), and hudi-rs, the only other
non-JVM implementation, reads log files but exposes no writer. What is
implemented, all integers big-endian (``java.io.DataOutputStream``):

* a block: ``#HUDI#`` magic, ``long`` block size (everything after this
  field), ``int`` log format version (1), ``int`` block type ordinal
  (``AVRO_DATA_BLOCK`` = 3), the header, ``long`` content length, the
  content, the footer, and a trailing ``long`` of all bytes written for the
  block before it (the reverse pointer readers use to detect torn blocks);
* header and footer: ``int`` count, then per entry ``int`` ordinal of
  ``HeaderMetadataType`` (``SCHEMA`` = 2) and ``int`` length + UTF-8 value;
* Avro data block content (block version 3): ``int`` version, ``int`` record
  count, then per record ``int`` length + Avro binary datum of the writer
  schema given in the ``SCHEMA`` header.

Only what archive files use is supported: Avro data blocks (other block
types are skipped by the reader, like ``HoodieArchivedTimeline`` does), no
log format version 0, no compression. A torn or corrupt block (a crash in
the middle of an append) is skipped up to the next magic, as
``HoodieLogFileReader`` turns it into a ``HoodieCorruptBlock``.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fastavro

MAGIC = b"#HUDI#"
LOG_FORMAT_VERSION = 1
AVRO_BLOCK_VERSION = 3
AVRO_DATA_BLOCK = 3  # HoodieLogBlockType.AVRO_DATA_BLOCK.ordinal()
CORRUPT_BLOCK = 2  # HoodieLogBlockType.CORRUPT_BLOCK.ordinal()
# HoodieLogBlock.HeaderMetadataType ordinals.
INSTANT_TIME = 0
TARGET_INSTANT_TIME = 1
SCHEMA = 2

_INT = struct.Struct(">i")
_SCHEMAS: dict[str, Any] = {}  # schema JSON -> parsed (parsing costs more than a block)
_LONG = struct.Struct(">q")


@dataclass(frozen=True)
class LogBlock:
    """One block as read from a log file (``CORRUPT_BLOCK`` for torn bytes)."""

    block_type: int
    header: dict[int, str]
    content: bytes
    footer: dict[int, str]


def _metadata_bytes(metadata: dict[int, str]) -> bytes:
    out = [_INT.pack(len(metadata))]
    for key, value in metadata.items():
        raw = value.encode("utf-8")
        out += [_INT.pack(key), _INT.pack(len(raw)), raw]
    return b"".join(out)


def encode_block(
    block_type: int, header: dict[int, str], content: bytes, footer: dict[int, str] | None = None
) -> bytes:
    """One framed block, byte for byte what ``HoodieLogFormatWriter.appendBlocks`` writes."""
    header_bytes = _metadata_bytes(header)
    footer_bytes = _metadata_bytes(footer or {})
    block_length = 4 + 4 + len(header_bytes) + 8 + len(content) + len(footer_bytes) + 8
    body = b"".join(
        [
            MAGIC,
            _LONG.pack(block_length),
            _INT.pack(LOG_FORMAT_VERSION),
            _INT.pack(block_type),
            header_bytes,
            _LONG.pack(len(content)),
            content,
            footer_bytes,
        ]
    )
    return body + _LONG.pack(len(body))


def encode_avro_block(records: list[dict[str, Any]], schema: dict[str, Any]) -> bytes:
    """An ``AVRO_DATA_BLOCK`` holding ``records`` in ``schema`` (which goes into the header)."""
    schema_text = json.dumps(schema, separators=(",", ":"))
    parsed = _parsed(schema_text)
    out = [_INT.pack(AVRO_BLOCK_VERSION), _INT.pack(len(records))]
    for record in records:
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, record)
        datum = buf.getvalue()
        out += [_INT.pack(len(datum)), datum]
    return encode_block(AVRO_DATA_BLOCK, {SCHEMA: schema_text}, b"".join(out))


def _parsed(schema_text: str) -> Any:
    if schema_text not in _SCHEMAS:
        _SCHEMAS[schema_text] = fastavro.parse_schema(json.loads(schema_text))
    return _SCHEMAS[schema_text]


def read_blocks(data: bytes) -> Iterator[LogBlock]:
    """The blocks of a log file; torn or corrupt stretches come out as ``CORRUPT_BLOCK``."""
    pos = 0
    end = len(data)
    while pos < end:
        if data[pos : pos + len(MAGIC)] != MAGIC:
            # Not at a block start (HoodieLogFileReader fails here; we resync instead).
            nxt = data.find(MAGIC, pos + 1)
            stop = end if nxt < 0 else nxt
            yield LogBlock(CORRUPT_BLOCK, {}, data[pos:stop], {})
            pos = stop
            continue
        start = pos + len(MAGIC)
        block = _parse_block(data, start)
        if block is None:
            nxt = data.find(MAGIC, start)
            stop = end if nxt < 0 else nxt
            yield LogBlock(CORRUPT_BLOCK, {}, data[start:stop], {})
            pos = stop
            continue
        parsed, pos = block
        yield parsed


def _parse_block(data: bytes, start: int) -> tuple[LogBlock, int] | None:
    """The block whose size field is at ``start``, and the offset after it; None if torn."""
    if start + 8 > len(data):
        return None
    (size,) = _LONG.unpack_from(data, start)
    body = start + 8
    stop = body + size
    # isBlockCorrupted: the trailing long must agree and a magic (or EOF) must follow.
    if size < 24 or stop > len(data):
        return None
    (total,) = _LONG.unpack_from(data, stop - 8)
    # Fewer than six bytes left reads as EOF (readMagic), anything else must be a magic.
    followed = len(data) - stop < len(MAGIC) or data.startswith(MAGIC, stop)
    if total - len(MAGIC) != size or not followed:
        return None
    try:
        (version,) = _INT.unpack_from(data, body)
        (block_type,) = _INT.unpack_from(data, body + 4)
        header, p = _read_metadata(data, body + 8)
        (content_length,) = _LONG.unpack_from(data, p)
        p += 8
        content = data[p : p + content_length]
        p += content_length
        footer, p = _read_metadata(data, p)
    except (struct.error, UnicodeDecodeError):
        return None
    if version < 1 or p + 8 != stop or len(content) != content_length:
        return None
    return LogBlock(block_type, header, content, footer), stop


def _read_metadata(data: bytes, pos: int) -> tuple[dict[int, str], int]:
    (count,) = _INT.unpack_from(data, pos)
    pos += 4
    out: dict[int, str] = {}
    for _ in range(count):
        (key,) = _INT.unpack_from(data, pos)
        (length,) = _INT.unpack_from(data, pos + 4)
        pos += 8
        if length < 0 or pos + length > len(data):
            raise struct.error("metadata entry runs past the block")
        out[key] = data[pos : pos + length].decode("utf-8")
        pos += length
    return out, pos


def decode_avro_block(block: LogBlock) -> list[dict[str, Any]]:
    """The records of an ``AVRO_DATA_BLOCK``, read with the writer schema of its header."""
    if block.block_type != AVRO_DATA_BLOCK:
        raise ValueError(f"not an Avro data block (type {block.block_type})")
    schema = _parsed(block.header[SCHEMA])
    content = block.content
    # Every Avro block version carries the record count (HoodieAvroDataBlockVersion).
    _version, count = _INT.unpack_from(content, 0)[0], _INT.unpack_from(content, 4)[0]
    pos = 8
    records: list[dict[str, Any]] = []
    for _ in range(count):
        (length,) = _INT.unpack_from(content, pos)
        pos += 4
        datum = fastavro.schemaless_reader(io.BytesIO(content[pos : pos + length]), schema)
        pos += length
        if not isinstance(datum, dict):
            raise ValueError("an archive record is not an Avro record")
        records.append(datum)
    return records
