"""Athena's catalog statements: SHOW DATABASES/TABLES/PARTITIONS/COLUMNS/CREATE TABLE/TBLPROPERTIES, DESCRIBE.

Athena answers these from the Glue catalog with its Hive DDL engine, so the
results have Hive's shape and Glue's type names (``string``, ``bigint``,
``struct<gene_a:boolean,...>``): DESCRIBE lists ``col_name, data_type,
comment`` (partition columns too) and then the ``# Partition Information``
block. SHOW CREATE TABLE prints what the Glue crawler registers for the JSON
tables (the OpenX JSON SerDe, text input format) and what Hudi's Glue sync
(``AWSGlueCatalogSyncClient``, Hudi 0.15, ``sync_as_datasource`` and
``support_timestamp`` on, as on Spark entry points) registers for the Hudi table.
The statistics a crawler records (``objectCount``, ``recordCount``,
``sizeKey``, ``averageRecordSize``) are computed from the registered
partitions' objects; ``UPDATED_BY_CRAWLER`` names zfish's crawler.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from sqlglot.dialects.trino import Trino
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

from zfish.catalog import dialect, glue, jsontypes
from zfish.catalog.dialect import CATALOG, fail
from zfish.exceptions import QueryError
from zfish.settings import DATABASE, LakeLayout

JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
HUDI_INPUT = "org.apache.hudi.hadoop.HoodieParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
CRAWLER_NAME = "zfish-crawler-{table}"

_KEYWORDS = ("SHOW", "DESCRIBE", "DESC")


@dataclass(frozen=True)
class _Name:
    table: str
    database: str
    token: Token


def is_catalog_statement(sql: str) -> bool:
    """Whether the statement is one of the catalog statements this module answers."""
    stripped = re.sub(r"^(\s|--[^\n]*\n|/\*.*?\*/)*", "", sql, flags=re.DOTALL)
    word = stripped.split(None, 1)[0].upper() if stripped.split() else ""
    return word in _KEYWORDS


class _DdlTokenizer(Trino.Tokenizer):
    """Trino's tokens, Hive's backquoted names too, and SHOW as a keyword, not a raw command."""

    IDENTIFIERS = ['"', "`"]  # noqa: RUF012 (sqlglot's own attributes)
    COMMANDS = {TokenType.COMMAND, TokenType.EXECUTE, TokenType.FETCH, TokenType.RENAME}  # noqa: RUF012


def _tokens(sql: str) -> list[Token]:
    try:
        tokens = _DdlTokenizer().tokenize(sql)
    except TokenError as exc:
        raise fail("SYNTAX_ERROR", None, str(exc)) from None
    return [t for t in tokens if t.token_type != TokenType.SEMICOLON]


class _Reader:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.tokens = _tokens(sql)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def word(self) -> str:
        token = self.peek()
        return (
            token.text.upper() if token is not None and token.token_type != TokenType.STRING else ""
        )

    def take(self, *words: str) -> str | None:
        if self.word() in words:
            self.i += 1
            return self.tokens[self.i - 1].text.upper()
        return None

    def where(self, token: Token | None = None) -> dialect.Position:
        token = token or self.peek()
        if token is None:
            return dialect.position_of(self.sql, len(self.sql.rstrip()))
        return dialect.position_of(self.sql, token.start)

    def expect(self, *words: str) -> str:
        got = self.take(*words)
        if got is None:
            found = self.peek()
            raise fail(
                "SYNTAX_ERROR",
                self.where(),
                f"mismatched input '{found.text if found else '<EOF>'}'. "
                f"Expecting: {', '.join(repr(w) for w in words)}",
            )
        return got

    def string(self) -> str | None:
        token = self.peek()
        if token is not None and token.token_type == TokenType.STRING:
            self.i += 1
            return token.text
        return None

    def identifier(self) -> Token:
        token = self.peek()
        if token is None or token.token_type in (TokenType.STRING, TokenType.L_PAREN):
            raise fail("SYNTAX_ERROR", self.where(), "a table name is missing")
        self.i += 1
        return token

    def name(self) -> _Name:
        first = self.identifier()
        parts = [first.text]
        while self.peek() is not None and self.peek().token_type == TokenType.DOT:  # type: ignore[union-attr]
            self.i += 1
            parts.append(self.identifier().text)
        if len(parts) > 3:
            raise fail("SYNTAX_ERROR", self.where(first), f"too many dots in {'.'.join(parts)}")
        parts = [p.lower() for p in parts]
        if len(parts) == 3 and parts[0] != CATALOG:
            raise fail(
                "CATALOG_NOT_FOUND", self.where(first), f"Catalog '{parts[0]}' does not exist"
            )
        database = parts[-2] if len(parts) >= 2 else DATABASE
        return _Name(table=parts[-1], database=database, token=first)

    def end(self) -> None:
        token = self.peek()
        if token is not None:
            raise fail(
                "SYNTAX_ERROR", self.where(), f"mismatched input '{token.text}'. Expecting: <EOF>"
            )


def _pattern(reader: _Reader) -> re.Pattern[str] | None:
    """``LIKE 'sql%pattern'`` (Trino) or a bare ``'glob*|other'`` (Athena's Hive DDL)."""
    if reader.take("LIKE"):
        text = reader.string()
        if text is None:
            raise fail("SYNTAX_ERROR", reader.where(), "LIKE needs a quoted pattern")
        regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in text)
        return re.compile(f"^{regex}$", re.IGNORECASE)
    text = reader.string()
    if text is None:
        return None
    alternatives = [fnmatch.translate(part.strip()) for part in text.split("|")]
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


def _strings(names: list[str], rows: list[list[str]]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table(
        {n: pa.array(list(c), pa.string()) for n, c in zip(names, columns, strict=True)}
    )


def run(layout: LakeLayout, sql: str) -> pa.Table:
    """The answer to one SHOW or DESCRIBE statement, as a table of strings."""
    reader = _Reader(sql)
    tables = glue.load_tables(layout)
    if not tables:
        raise QueryError(
            f"the catalog at {layout.catalog_db} is empty or missing: run `zfish crawl` first"
        )
    verb = reader.expect(*_KEYWORDS)
    if verb in ("DESCRIBE", "DESC"):
        if reader.word() in ("FORMATTED", "EXTENDED"):
            raise fail("NOT_SUPPORTED", reader.where(), f"DESCRIBE {reader.word()} is not emulated")
        entry = _entry(reader, tables, reader.name())
        reader.end()
        return describe(entry)
    what = reader.expect(
        "DATABASES", "SCHEMAS", "TABLES", "PARTITIONS", "COLUMNS", "CREATE", "TBLPROPERTIES"
    )
    if what in ("DATABASES", "SCHEMAS"):
        if reader.take("FROM", "IN"):
            catalog = reader.identifier()
            if catalog.text.lower() != CATALOG:
                raise fail(
                    "CATALOG_NOT_FOUND",
                    reader.where(catalog),
                    f"Catalog '{catalog.text}' does not exist",
                )
        pattern = _pattern(reader)
        reader.end()
        rows = [[DATABASE]] if pattern is None or pattern.match(DATABASE) else []
        return _strings(["database_name"], rows)
    if what == "TABLES":
        if reader.take("IN", "FROM"):
            token = reader.identifier()
            if token.text.lower() != DATABASE:
                raise fail(
                    "SCHEMA_NOT_FOUND",
                    reader.where(token),
                    f"Schema '{token.text.lower()}' does not exist",
                )
        pattern = _pattern(reader)
        reader.end()
        names = [n for n in sorted(tables) if pattern is None or pattern.match(n)]
        return _strings(["tab_name"], [[n] for n in names])
    if what == "PARTITIONS":
        entry = _entry(reader, tables, reader.name())
        reader.end()
        key = entry.partition_keys[0]
        return _strings(["partition"], [[f"{key}={v}"] for v in entry.partitions])
    if what == "COLUMNS":
        reader.expect("IN", "FROM")
        name = reader.name()
        if reader.take("IN", "FROM"):
            token = reader.identifier()
            name = _Name(table=name.table, database=token.text.lower(), token=name.token)
        entry = _entry(reader, tables, name)
        reader.end()
        return _strings(["field"], [[c] for c, _ in _columns(entry)])
    if what == "CREATE":
        reader.expect("TABLE")
        entry = _entry(reader, tables, reader.name())
        reader.end()
        return _strings(["createtab_stmt"], [[line] for line in show_create_table(layout, entry)])
    entry = _entry(reader, tables, reader.name())
    wanted: str | None = None
    if reader.take("("):
        wanted = reader.string()
        reader.expect(")")
    reader.end()
    props = table_properties(layout, entry)
    if wanted is not None:
        props = {k: v for k, v in props.items() if k == wanted}
    return _strings(["prpt_name", "prpt_value"], [[k, v] for k, v in props.items()])


def _entry(reader: _Reader, tables: dict[str, glue.TableEntry], name: _Name) -> glue.TableEntry:
    where = reader.where(name.token)
    if name.database != DATABASE:
        raise fail("SCHEMA_NOT_FOUND", where, f"Schema '{name.database}' does not exist")
    entry = tables.get(name.table)
    if entry is None:
        raise fail(
            "TABLE_NOT_FOUND", where, f"Table '{CATALOG}.{DATABASE}.{name.table}' does not exist"
        )
    return entry


def _columns(entry: glue.TableEntry) -> list[tuple[str, str]]:
    """Data columns then partition columns, with Glue types (Glue keeps them apart)."""
    keys = set(entry.partition_keys)
    data = [(c.name, c.glue_type) for c in entry.columns if c.name not in keys]
    types = {c.name: c.glue_type for c in entry.columns}
    return data + [(k, types.get(k, "string")) for k in entry.partition_keys]


def describe(entry: glue.TableEntry) -> pa.Table:
    """Hive's DESCRIBE: every column, then the partition columns again under a header."""
    columns = _columns(entry)
    rows = [[name, kind, ""] for name, kind in columns]
    keys = columns[len(columns) - len(entry.partition_keys) :]
    if keys:
        rows += [["", "", ""], ["# Partition Information", "", ""]]
        rows += [["# col_name", "data_type", "comment"], ["", "", ""]]
        rows += [[name, kind, ""] for name, kind in keys]
    return _strings(["col_name", "data_type", "comment"], rows)


def location(layout: LakeLayout, entry: glue.TableEntry) -> str:
    """The table's S3 location (crawlers keep the trailing slash of the include path)."""
    path = entry.path(layout).resolve()
    try:
        rel = path.relative_to(layout.dataset.resolve()).as_posix()
    except ValueError:
        return str(path)
    uri = f"{layout.s3_uri}/{rel}"
    return uri + "/" if entry.kind == glue.KIND_JSON else uri


def _json_statistics(layout: LakeLayout, entry: glue.TableEntry) -> dict[str, str]:
    files = glue.json_files(layout, entry)
    size = sum(Path(f).stat().st_size for f in files)
    records = sum(1 for f in files for _ in jsontypes.records_in(Path(f)))
    return {
        "averageRecordSize": str(size // records if records else 0),
        "objectCount": str(len(files)),
        "recordCount": str(records),
        "sizeKey": str(size),
    }


_SPARK_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "long",
    "INTEGER": "integer",
    "DOUBLE": "double",
    "FLOAT": "float",
    "BOOLEAN": "boolean",
    "DATE": "date",
}


def _spark_schema(entry: glue.TableEntry) -> str:
    """``spark.sql.sources.schema.part.0``: the Spark schema, partition columns last."""
    keys = set(entry.partition_keys)
    ordered = [c for c in entry.columns if c.name not in keys] + [
        c for c in entry.columns if c.name in keys
    ]
    fields = [
        {
            "name": c.name,
            "type": "timestamp"
            if c.type.startswith("TIMESTAMP")
            else _SPARK_TYPES.get(c.type, c.glue_type),
            "nullable": True,
            "metadata": {},
        }
        for c in ordered
    ]
    return json.dumps({"type": "struct", "fields": fields}, separators=(",", ":"))


def table_properties(layout: LakeLayout, entry: glue.TableEntry) -> dict[str, str]:
    """What SHOW TBLPROPERTIES lists: the crawler's or Hudi's Glue sync's table parameters."""
    if entry.kind == glue.KIND_JSON:
        props = {
            "CrawlerSchemaDeserializerVersion": "1.0",
            "CrawlerSchemaSerializerVersion": "1.0",
            "UPDATED_BY_CRAWLER": CRAWLER_NAME.format(table=entry.name),
            "classification": "json",
            "compressionType": "none",
            "typeOfData": "file",
            **_json_statistics(layout, entry),
        }
        return dict(sorted(props.items()))
    from zfish import fishtable

    history = fishtable.commits(entry.path(layout))
    props = {
        "EXTERNAL": "TRUE",
        "hudi.metadata-listing-enabled": "FALSE",
        "last_commit_time_sync": history[-1].instant if history else "",
        "spark.sql.sources.provider": "hudi",
        "spark.sql.sources.schema.numPartCols": str(len(entry.partition_keys)),
        "spark.sql.sources.schema.numParts": "1",
        "spark.sql.sources.schema.part.0": _spark_schema(entry),
    }
    for i, key in enumerate(entry.partition_keys):
        props[f"spark.sql.sources.schema.partCol.{i}"] = key
    return dict(sorted(props.items()))


def _hudi_input_format(layout: LakeLayout, entry: glue.TableEntry) -> str:
    """Copy-on-Write tables (the only kind zfish writes) register Hudi's parquet input format."""
    from zfish.hudi import options as o
    from zfish.hudi import properties

    props_file = entry.path(layout) / ".hoodie" / "hoodie.properties"
    props = properties.loads(props_file.read_text()) if props_file.exists() else {}
    table_type = props.get(o.TABLE_TYPE, o.TABLE_TYPE_COW)
    if table_type != o.TABLE_TYPE_COW:
        raise QueryError(f"{props_file}: {table_type} tables are not supported by zfish")
    return HUDI_INPUT


def show_create_table(layout: LakeLayout, entry: glue.TableEntry) -> list[str]:
    """The DDL Athena shows for the table, one line per row as Athena returns it."""
    keys = set(entry.partition_keys)
    types = {c.name: c.glue_type for c in entry.columns}
    comment = "from deserializer" if entry.kind == glue.KIND_JSON else ""
    data = [(c.name, c.glue_type) for c in entry.columns if c.name not in keys]
    lines = [f"CREATE EXTERNAL TABLE `{entry.name}`("]
    for i, (name, kind) in enumerate(data):
        end = ", " if i < len(data) - 1 else ")"
        lines.append(f"  `{name}` {kind} COMMENT '{comment}'{end}")
    if entry.partition_keys:
        lines.append("PARTITIONED BY ( ")
        parts = [f"`{k}` {types.get(k, 'string')}" for k in entry.partition_keys]
        if entry.kind == glue.KIND_HUDI:
            parts = [f"{p} COMMENT ''" for p in parts]
        lines += [f"  {p}{', ' if i < len(parts) - 1 else ')'}" for i, p in enumerate(parts)]
    if entry.kind == glue.KIND_JSON:
        serde, inputs, outputs = JSON_SERDE, TEXT_INPUT, TEXT_OUTPUT
        serde_props = {"paths": ",".join(sorted(name for name, _ in data))}
    else:
        serde, inputs, outputs = PARQUET_SERDE, _hudi_input_format(layout, entry), PARQUET_OUTPUT
        serde_props = {
            "hoodie.query.as.ro.table": "false",
            "path": location(layout, entry),
            "serialization.format": "1",
        }
    lines += ["ROW FORMAT SERDE ", f"  '{serde}' ", "WITH SERDEPROPERTIES ( "]
    items = list(serde_props.items())
    lines += [
        f"  '{k}'='{v}'{', ' if i < len(items) - 1 else ') '}" for i, (k, v) in enumerate(items)
    ]
    lines += ["STORED AS INPUTFORMAT ", f"  '{inputs}' ", "OUTPUTFORMAT ", f"  '{outputs}'"]
    lines += ["LOCATION", f"  '{location(layout, entry)}'", "TBLPROPERTIES ("]
    # CREATE EXTERNAL TABLE says EXTERNAL; the DDL does not repeat it as a property.
    props = [(k, v) for k, v in table_properties(layout, entry).items() if k != "EXTERNAL"]
    lines += [
        f"  '{k}'='{v}'{', ' if i < len(props) - 1 else ')'}" for i, (k, v) in enumerate(props)
    ]
    return lines
