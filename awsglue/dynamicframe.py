"""``DynamicFrame``: Glue's frame, here a thin wrapper of a Spark DataFrame.

Field paths are Glue's: ``a.b`` names field ``b`` inside struct ``a``;
backticks quote a name that holds a dot (```a.b`.c``). Selecting, dropping
and renaming a nested field keeps the structs around it, as Glue does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from awsglue._shim import Strict, unsupported

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import StructType

FRAME_CALLS = (
    "toDF, fromDF, count, select_fields, drop_fields, rename_field, apply_mapping, "
    "printSchema, show, repartition, coalesce"
)


def split_path(path: str) -> list[str]:
    """A Glue field path as its names: ``a.b`` -> [a, b]; ```x.y`.z`` -> [x.y, z]."""
    names: list[str] = []
    current: list[str] = []
    quoted = False
    i = 0
    while i < len(path):
        ch = path[i]
        if ch == "`":
            if quoted and path[i + 1 : i + 2] == "`":  # a doubled backtick is one backtick
                current.append("`")
                i += 2
                continue
            quoted = not quoted
        elif ch == "." and not quoted:
            names.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    names.append("".join(current))
    if quoted or any(not n for n in names):
        raise ValueError(f"{path!r} is not a field path (e.g. 'a', 'a.b' or '`a.b`.c')")
    return names


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _rebuild(
    schema: StructType,
    parent: Column | None,
    edit: Callable[[str, Column, Any, list[str]], list[Column]],
) -> list[Column]:
    """Columns for each field of ``schema`` (under ``parent``), as ``edit`` decides per field."""
    from pyspark.sql import functions as F

    out: list[Column] = []
    for field in schema.fields:
        column = F.col(_q(field.name)) if parent is None else parent.getField(field.name)
        out += edit(field.name, column, field.dataType, [field.name])
    return out


def _struct_like(original: Column, fields: list[Column]) -> Column:
    """A struct of ``fields`` that is null where ``original`` is (F.struct alone never is)."""
    from pyspark.sql import functions as F

    return F.when(original.isNull(), F.lit(None)).otherwise(F.struct(*fields))


class DynamicFrame(Strict):
    """A Glue DynamicFrame over a Spark DataFrame (records with a fixed schema; no choice types)."""

    _SUPPORTED = FRAME_CALLS

    def __init__(self, df: DataFrame, glue_ctx: Any, name: str = "") -> None:
        self._df = df
        self.glue_ctx = (
            glue_ctx  # the GlueContext (untyped here: awsglue.context imports this module)
        )
        self.name = name

    @staticmethod
    def fromDF(dataframe: DataFrame, glue_ctx: Any, name: str) -> DynamicFrame:  # noqa: N802 - Glue's name
        return DynamicFrame(dataframe, glue_ctx, name)

    def toDF(self, options: Sequence[Any] | None = None) -> DataFrame:  # noqa: N802 - Glue's name
        if options:
            unsupported("DynamicFrame.toDF(options)", "toDF() without options")
        return self._df

    def _with(self, df: DataFrame) -> DynamicFrame:
        return DynamicFrame(df, self.glue_ctx, self.name)

    def count(self) -> int:
        return int(self._df.count())

    def printSchema(self) -> None:  # noqa: N802 - Glue's name
        self._df.printSchema()

    def show(self, num_rows: int = 20) -> None:
        """The first records as JSON lines, as Glue's ``show`` prints them."""
        for line in self._df.limit(num_rows).toJSON().collect():
            print(json.dumps(json.loads(line)))

    def repartition(
        self, num_partitions: int, transformation_ctx: str = "", **_: Any
    ) -> DynamicFrame:
        return self._with(self._df.repartition(num_partitions))

    def coalesce(self, num_partitions: int, shuffle: bool = False, **_: Any) -> DynamicFrame:
        df = self._df.repartition(num_partitions) if shuffle else self._df.coalesce(num_partitions)
        return self._with(df)

    def select_fields(
        self, paths: Sequence[str], transformation_ctx: str = "", **_: Any
    ) -> DynamicFrame:
        """Only the fields named (a nested one inside its structs); unknown paths are skipped, as in Glue."""
        from pyspark.sql.types import StructType

        wanted: dict[str, Any] = {}  # a tree of names; None marks a whole field
        for path in paths:
            node = wanted
            names = split_path(path)
            for name in names[:-1]:
                child = node.setdefault(name, {})
                if child is None:
                    break  # the whole struct is already selected
                node = child
            else:
                node[names[-1]] = None

        def pick(tree: dict[str, Any]) -> Callable[[str, Column, Any, list[str]], list[Column]]:
            def edit(name: str, column: Column, kind: Any, _path: list[str]) -> list[Column]:
                if name not in tree:
                    return []
                if tree[name] is None:
                    return [column.alias(name)]
                if not isinstance(kind, StructType):
                    return []
                inner = _rebuild(kind, column, pick(tree[name]))
                return [_struct_like(column, inner).alias(name)] if inner else []

            return edit

        return self._with(self._df.select(*_rebuild(self._df.schema, None, pick(wanted))))

    def drop_fields(
        self, paths: Sequence[str], transformation_ctx: str = "", **_: Any
    ) -> DynamicFrame:
        df = self._df
        for path in paths:
            names = split_path(path)
            if names[0] not in df.columns:
                continue  # Glue drops what is there and ignores the rest
            if len(names) == 1:
                df = df.drop(names[0])
            else:
                nested = ".".join(_q(n) for n in names[1:])
                df = df.withColumn(names[0], df[_q(names[0])].dropFields(nested))
        return self._with(df)

    def rename_field(
        self,
        oldName: str,  # noqa: N803 - Glue's keyword
        newName: str,  # noqa: N803 - Glue's keyword
        transformation_ctx: str = "",
        **_: Any,
    ) -> DynamicFrame:
        """Rename a field in place (``a.b`` -> ``a.c``: same struct, same position)."""
        from pyspark.sql.types import StructType

        old, new = split_path(oldName), split_path(newName)
        if len(old) != len(new) or old[:-1] != new[:-1]:
            unsupported(
                f"rename_field({oldName!r}, {newName!r}) across structs",
                "renames within one struct (a.b -> a.c)",
            )

        def rename(depth: int) -> Callable[[str, Column, Any, list[str]], list[Column]]:
            def edit(name: str, column: Column, kind: Any, _path: list[str]) -> list[Column]:
                if name != old[depth]:
                    return [column.alias(name)]
                if depth == len(old) - 1:
                    return [column.alias(new[-1])]
                if not isinstance(kind, StructType):
                    return [column.alias(name)]
                return [_struct_like(column, _rebuild(kind, column, rename(depth + 1))).alias(name)]

            return edit

        return self._with(self._df.select(*_rebuild(self._df.schema, None, rename(0))))

    def apply_mapping(
        self, mappings: Sequence[Sequence[str]], case_sensitive: bool = False, **_: Any
    ) -> DynamicFrame:
        """``(source path, source type, target name, target type)`` each; unmapped fields go, as in Glue."""
        from pyspark.sql import functions as F

        columns = []
        for mapping in mappings:
            if len(mapping) != 4:
                raise ValueError(
                    f"mapping {mapping!r} is not (source, source_type, target, target_type)"
                )
            source, _source_type, target, target_type = mapping
            if len(split_path(target)) != 1:
                unsupported(f"apply_mapping to the nested target {target!r}", "top-level targets")
            path = ".".join(_q(n) for n in split_path(source))
            columns.append(F.col(path).cast(target_type).alias(split_path(target)[0]))
        return self._with(self._df.select(*columns))
