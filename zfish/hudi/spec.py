"""What a table is (``TableSpec``) and what a write does (``WriteOperation``).

The spec holds exactly the settings Hudi stores in ``hoodie.properties`` and a
later Spark writer compares with its own ("Config conflict"): table and
database name, record key fields, partition fields, precombine field, key
generator and hive-style partitioning. Nothing here knows about any dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa

from zfish.exceptions import SchemaError, ValidationError
from zfish.hudi import keygen as kg
from zfish.hudi import options as o
from zfish.hudi.properties import valid_name


class WriteOperation(StrEnum):
    """Hudi ``WriteOperationType`` names, as written to ``operationType``."""

    UPSERT = "UPSERT"
    INSERT = "INSERT"
    BULK_INSERT = "BULK_INSERT"
    DELETE = "DELETE"


@dataclass(frozen=True)
class TableSpec:
    """Identity and key layout of a table.

    ``key_generator`` defaults to what Hudi picks: Simple for one key and one
    partition field, Complex for several, Nonpartitioned without partition
    fields. Hive-style partitioning (``field=value`` directories) is off by default.
    """

    name: str
    record_key_fields: tuple[str, ...]
    partition_fields: tuple[str, ...] = ()
    precombine_field: str | None = None
    database: str = o.DEFAULT_DATABASE
    hive_style_partitioning: bool = False
    key_generator: str | None = None

    def __post_init__(self) -> None:
        # Accept lists from callers while keeping the dataclass hashable.
        object.__setattr__(self, "record_key_fields", tuple(self.record_key_fields))
        object.__setattr__(self, "partition_fields", tuple(self.partition_fields))
        for label, value in (("table name", self.name), ("database name", self.database)):
            if not valid_name(value):
                raise ValidationError(
                    f"{label} {value!r} is not an identifier ([A-Za-z_][A-Za-z0-9_]*), which "
                    "Hudi needs for its Avro record names. Fix: rename it."
                )
        if not self.record_key_fields:
            raise ValidationError(f"table '{self.name}': at least one record key field is needed")
        fields = [*self.record_key_fields, *self.partition_fields]
        if self.precombine_field:
            fields.append(self.precombine_field)
        for f in fields:
            if not valid_name(f):
                raise ValidationError(f"table '{self.name}': field name {f!r} is not valid")
        if len(set(self.record_key_fields)) != len(self.record_key_fields):
            raise ValidationError(f"table '{self.name}': record key fields repeat")
        if len(set(self.partition_fields)) != len(self.partition_fields):
            raise ValidationError(f"table '{self.name}': partition fields repeat")
        if self.key_generator is not None:
            if self.key_generator not in o.SUPPORTED_KEYGENS:
                raise ValidationError(
                    f"table '{self.name}': key generator {self.key_generator} is not supported; "
                    f"use one of {', '.join(o.SUPPORTED_KEYGENS)}"
                )
            if self.key_generator == o.SIMPLE_KEYGEN and (
                len(self.record_key_fields) != 1 or len(self.partition_fields) != 1
            ):
                raise ValidationError(
                    f"table '{self.name}': SimpleKeyGenerator needs exactly one record key and "
                    "one partition field; use ComplexKeyGenerator"
                )
            if self.key_generator == o.NONPARTITIONED_KEYGEN and self.partition_fields:
                raise ValidationError(
                    f"table '{self.name}': NonpartitionedKeyGenerator takes no partition fields"
                )
            if self.key_generator != o.NONPARTITIONED_KEYGEN and not self.partition_fields:
                raise ValidationError(
                    f"table '{self.name}': a table without partition fields uses "
                    "NonpartitionedKeyGenerator"
                )

    @property
    def keygen_class(self) -> str:
        return self.key_generator or kg.default_keygen(
            self.record_key_fields, self.partition_fields
        )

    @property
    def partition_depth(self) -> int:
        return len(self.partition_fields)

    def properties(self) -> dict[str, str]:
        """The spec's keys of ``hoodie.properties``."""
        props = {
            o.TABLE_NAME: self.name,
            o.DATABASE_NAME: self.database,
            o.RECORDKEY_FIELDS: ",".join(self.record_key_fields),
            o.KEYGENERATOR_CLASS: self.keygen_class,
            o.HIVE_STYLE_PARTITIONING: str(self.hive_style_partitioning).lower(),
        }
        if self.partition_fields:
            props[o.PARTITION_FIELDS] = ",".join(self.partition_fields)
        if self.precombine_field:
            props[o.PRECOMBINE_FIELD] = self.precombine_field
        return props

    @classmethod
    def from_properties(cls, props: Mapping[str, str]) -> TableSpec:
        partition_fields = tuple(
            f for f in props.get(o.PARTITION_FIELDS, "").split(",") if f.strip()
        )
        return cls(
            name=props[o.TABLE_NAME],
            database=props.get(o.DATABASE_NAME) or o.DEFAULT_DATABASE,
            record_key_fields=tuple(
                f.strip() for f in props[o.RECORDKEY_FIELDS].split(",") if f.strip()
            ),
            partition_fields=tuple(f.strip() for f in partition_fields),
            precombine_field=props.get(o.PRECOMBINE_FIELD) or None,
            hive_style_partitioning=props.get(o.HIVE_STYLE_PARTITIONING, "false").lower() == "true",
            key_generator=props.get(o.KEYGENERATOR_CLASS) or None,
        )

    def conflicts(self, existing: TableSpec) -> list[str]:
        """Spark-style ``Config conflict`` lines: ``key: ours, existing``.

        Like ``HoodieWriterUtils.validateTableConfig``: table name, database and
        hive-style partitioning are compared case-insensitively (Spark's resolver),
        record key, partition and precombine fields and the key generator exactly.
        """
        folded = {o.TABLE_NAME, o.DATABASE_NAME, o.HIVE_STYLE_PARTITIONING}
        pairs = [
            (o.TABLE_NAME, self.name, existing.name),
            (o.DATABASE_NAME, self.database, existing.database),
            (
                o.RECORDKEY_FIELDS,
                ",".join(self.record_key_fields),
                ",".join(existing.record_key_fields),
            ),
            (
                o.PARTITION_FIELDS,
                ",".join(self.partition_fields),
                ",".join(existing.partition_fields),
            ),
            (o.PRECOMBINE_FIELD, self.precombine_field or "", existing.precombine_field or ""),
            (o.KEYGENERATOR_CLASS, self.keygen_class, existing.keygen_class),
            (
                o.HIVE_STYLE_PARTITIONING,
                str(self.hive_style_partitioning).lower(),
                str(existing.hive_style_partitioning).lower(),
            ),
        ]
        return [
            f"{key}:\t{ours}\t{theirs}"
            for key, ours, theirs in pairs
            if (ours.lower() != theirs.lower() if key in folded else ours != theirs)
        ]

    def check_schema(self, schema: pa.Schema, keys_only: bool = False) -> None:
        """The key, partition and (unless ``keys_only``) precombine fields exist, usable types."""
        for role, names in (
            ("record key", self.record_key_fields),
            ("partition", self.partition_fields),
        ):
            for name in names:
                idx = schema.get_field_index(name)
                if idx < 0:
                    raise SchemaError(
                        f"table '{self.name}': {role} field '{name}' is not a column of the "
                        f"data (columns: {', '.join(schema.names)}). Fix: add it to the input."
                    )
                kg.check_key_type(name, schema.field(idx).type, role)
        if self.precombine_field and not keys_only:
            idx = schema.get_field_index(self.precombine_field)
            if idx < 0:
                raise SchemaError(
                    f"table '{self.name}': precombine field '{self.precombine_field}' is not a "
                    "column of the data. Fix: add it to the input."
                )
            dtype = schema.field(idx).type
            if pa.types.is_nested(dtype) or pa.types.is_binary(dtype):
                raise SchemaError(
                    f"table '{self.name}': precombine field '{self.precombine_field}' has type "
                    f"{dtype}, which cannot be ordered. Fix: use a number, string, date or "
                    "timestamp column."
                )
