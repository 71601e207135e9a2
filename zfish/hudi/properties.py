"""``.hoodie/hoodie.properties``: Java properties text, the table checksum, and what we refuse.

The file is written the way ``java.util.Properties.store`` writes it (``:``,
``=``, ``\\`` and ``#``/``!`` escaped with a backslash, non-ASCII as ``\\uXXXX``)
so the JVM parses it, while staying readable for hudi-rs, which splits each line
at the first ``=`` and only strips ``\\:`` (from the schema). Names are
validated as identifiers, so the schema is the only value that needs escaping.

``hoodie.table.checksum`` is ``CRC32("<database>.<table>")`` as an unsigned
decimal (``HoodieTableConfig.generateChecksum``); Java re-reads the file and
then fails when it is wrong.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime

from zfish.exceptions import UnsupportedTableError
from zfish.hudi import options as o

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def table_checksum(database: str | None, table: str) -> int:
    """``HoodieTableConfig.generateChecksum``: CRC32 of ``"<db>.<table>"`` (db '' when unset)."""
    return zlib.crc32(f"{database or ''}.{table}".encode())


def valid_name(name: str) -> bool:
    return bool(_NAME_RE.match(name))


def _escape(text: str, is_key: bool) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch == " " and (i == 0 or is_key):
            out.append("\\ ")
        elif ch in "\\:=#!":
            out.append("\\" + ch)
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\f":
            out.append("\\f")
        elif ord(ch) < 0x20 or ord(ch) > 0x7E:
            # One \\uXXXX per UTF-16 code unit (a surrogate pair gives two).
            units = ch.encode("utf-16-be")
            for j in range(0, len(units), 2):
                out.append(f"\\u{int.from_bytes(units[j : j + 2], 'big'):04X}")
        else:
            out.append(ch)
    return "".join(out)


def dumps(props: Mapping[str, str], comment: str | None = None) -> str:
    """Properties text; ``hoodie.table.checksum`` goes last, as Hudi writes it."""
    now = datetime.now(UTC)
    lines = [
        f"#{comment or 'Written by zfish.hudi'}",
        f"#{now.strftime('%a %b %d %H:%M:%S UTC %Y')}",
    ]
    keys = [k for k in props if k != o.TABLE_CHECKSUM]
    if o.TABLE_CHECKSUM in props:
        keys.append(o.TABLE_CHECKSUM)
    for key in keys:
        lines.append(f"{_escape(key, True)}={_escape(str(props[key]), False)}")
    return "\n".join(lines) + "\n"


def loads(text: str) -> dict[str, str]:
    """Parse Java properties text (logical lines, ``=``/``:``/space separators, escapes)."""
    props: dict[str, str] = {}
    physical = text.splitlines()
    i = 0
    while i < len(physical):
        line = physical[i].lstrip(" \t\f")
        i += 1
        if not line or line[0] in "#!":
            continue
        # Join continuation lines (odd number of trailing backslashes).
        while _continues(line) and i < len(physical):
            line = line[:-1] + physical[i].lstrip(" \t\f")
            i += 1
        key, value = _split(line)
        props[_unescape(key)] = _unescape(value)
    return props


def _continues(line: str) -> bool:
    n = len(line) - len(line.rstrip("\\"))
    return n % 2 == 1


def _split(line: str) -> tuple[str, str]:
    """Key and value of a logical line: the key ends at the first unescaped '=', ':' or blank."""
    j = 0
    while j < len(line):
        ch = line[j]
        if ch == "\\":
            j += 2
            continue
        if ch in "=: \t\f":
            rest = line[j + 1 :]
            if ch in " \t\f":
                rest = rest.lstrip(" \t\f")
                if rest and rest[0] in "=:":
                    rest = rest[1:]
            return line[:j], rest.lstrip(" \t\f")
        j += 1
    return line, ""


def _unescape(text: str) -> str:
    out = []
    j = 0
    while j < len(text):
        ch = text[j]
        if ch != "\\" or j + 1 >= len(text):
            out.append(ch)
            j += 1
            continue
        nxt = text[j + 1]
        if nxt == "u" and j + 6 <= len(text):
            out.append(chr(int(text[j + 2 : j + 6], 16)))
            j += 6
            continue
        out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(nxt, nxt))
        j += 2
    # Re-pair surrogates produced by \\uD83D\\uDE00 style escapes.
    return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16")


def check_writable(props: Mapping[str, str], base_uri: str, has_metadata_dir: bool) -> None:
    """Raise ``UnsupportedTableError`` unless this is a v6 COW table zfish can write safely."""
    table = props.get(o.TABLE_NAME, "?")
    where = f"Hudi table '{table}' at {base_uri}"

    def refuse(problem: str, fix: str) -> None:
        raise UnsupportedTableError(f"{where}: {problem}. Fix: {fix}.")

    version = props.get(o.TABLE_VERSION)
    if version != o.TABLE_VERSION_VALUE:
        refuse(
            f"table version is {version or 'missing'}, zfish.hudi writes only version 6 "
            "(Hudi 0.14/0.15)",
            "write it with a Hudi release that matches its version, or rewrite the data into a "
            "new table",
        )
    layout = props.get(o.TIMELINE_LAYOUT_VERSION)
    if layout != o.TIMELINE_LAYOUT_VERSION_VALUE:
        refuse(
            f"timeline layout version is {layout or 'missing'}, expected 1 for table version 6",
            f"set {o.TIMELINE_LAYOUT_VERSION}=1 only if the table really was written by Hudi "
            "0.14/0.15",
        )
    table_type = props.get(o.TABLE_TYPE, o.TABLE_TYPE_COW)
    if table_type.upper() != o.TABLE_TYPE_COW:
        refuse(
            f"table type is {table_type}; zfish.hudi writes only COPY_ON_WRITE tables",
            "write Merge-on-Read tables with the JVM Hudi writer",
        )
    fmt = props.get(o.BASE_FILE_FORMAT, o.BASE_FILE_FORMAT_PARQUET)
    if fmt.upper() != o.BASE_FILE_FORMAT_PARQUET:
        refuse(f"base file format is {fmt}; zfish.hudi writes parquet", "use a PARQUET table")
    if props.get(o.METADATA_PARTITIONS, "").strip() or has_metadata_dir:
        refuse(
            f"the metadata table is enabled ({o.METADATA_PARTITIONS}="
            f"'{props.get(o.METADATA_PARTITIONS, '')}' or .hoodie/metadata exists); files "
            "zfish writes would be invisible to Spark readers that use it",
            f"run one JVM write with {o.METADATA_ENABLE}=false (Hudi then deletes the "
            "metadata table), and keep it disabled in every JVM writer",
        )
    if props.get(o.METADATA_PARTITIONS_INFLIGHT, "").strip():
        refuse(
            f"a metadata table partition is being built ({o.METADATA_PARTITIONS_INFLIGHT})",
            "let the JVM writer finish, then disable the metadata table",
        )
    if props.get(o.POPULATE_META_FIELDS, "true").lower() == "false":
        refuse(
            f"{o.POPULATE_META_FIELDS}=false (virtual keys); incremental queries need meta fields",
            "write this table with the JVM writer, or rewrite it into a table with meta fields",
        )
    if props.get(o.DROP_PARTITION_COLUMNS, "false").lower() == "true":
        refuse(
            "drop.partition.columns=true; hudi-rs cannot read such tables",
            "rewrite the table with drop.partition.columns=false",
        )
    if props.get(o.URL_ENCODE_PARTITIONING, "false").lower() == "true":
        refuse(
            "partition paths are URL-encoded; zfish.hudi writes plain partition values",
            "write this table with the JVM writer",
        )
    keygen = props.get(o.KEYGENERATOR_CLASS)
    if keygen is not None and keygen not in o.SUPPORTED_KEYGENS:
        refuse(
            f"key generator {keygen} is not supported (only Simple, Complex and Nonpartitioned)",
            "write this table with the JVM writer",
        )
    if not props.get(o.RECORDKEY_FIELDS):
        refuse("no record key fields are configured", f"set {o.RECORDKEY_FIELDS}")
    checksum = props.get(o.TABLE_CHECKSUM)
    expected = table_checksum(props.get(o.DATABASE_NAME), props.get(o.TABLE_NAME, ""))
    if checksum is not None and checksum.strip() != str(expected):
        refuse(
            f"{o.TABLE_CHECKSUM} is {checksum} but CRC32 of '<database>.<table>' is "
            f"{expected}; Hudi would reject this hoodie.properties as invalid",
            "restore hoodie.properties from hoodie.properties.backup or correct the checksum",
        )
