"""``GlueContext``: the Spark session, and DynamicFrames read from and written to zfish's lake and catalog."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from awsglue import _lake
from awsglue._shim import Strict, lake_layout, unsupported
from awsglue.dynamicframe import DynamicFrame
from zfish.settings import LakeLayout
from zfish.spark import BASE_CONF

if TYPE_CHECKING:
    from pyspark import SparkContext
    from pyspark.sql import DataFrame, SparkSession

CONTEXT_CALLS = (
    "spark_session, create_dynamic_frame.from_catalog / .from_options, "
    "create_data_frame.from_catalog / .from_options, write_dynamic_frame.from_options, get_logger"
)
# The session settings of zfish's own Spark jobs that a running session still accepts: UTC,
# partition values kept as strings (as the catalog has them), small-file friendly scans.
RUNTIME_CONF = {
    key: value
    for key, value in BASE_CONF.items()
    if key.startswith("spark.sql.") and key != "spark.sql.warehouse.dir"
}
_CATALOG_OPTIONS = frozenset(
    {"redshift_tmp_dir", "transformation_ctx", "push_down_predicate", "additional_options"}
)


class GlueLogger:
    """``glue_context.get_logger()``: Glue's log4j logger's calls, as lines on stderr."""

    def _log(self, level: str, message: object) -> None:
        print(f"{level} awsglue: {message}", file=sys.stderr, flush=True)

    def info(self, message: object) -> None:
        self._log("INFO", message)

    def warn(self, message: object) -> None:
        self._log("WARN", message)

    def error(self, message: object) -> None:
        self._log("ERROR", message)


class DynamicFrameReader(Strict):
    """``glue_context.create_dynamic_frame``: ``from_catalog`` and ``from_options``."""

    _SUPPORTED = "create_dynamic_frame.from_catalog and .from_options (s3)"

    def __init__(self, glue_context: GlueContext) -> None:
        self._glue_context = glue_context

    def from_catalog(
        self, database: str | None = None, table_name: str | None = None, **kwargs: Any
    ) -> DynamicFrame:
        return self._glue_context.create_dynamic_frame_from_catalog(database, table_name, **kwargs)

    def from_options(
        self,
        connection_type: str,
        connection_options: Mapping[str, Any] | None = None,
        format: str | None = None,
        format_options: Mapping[str, Any] | None = None,
        transformation_ctx: str = "",
        **kwargs: Any,
    ) -> DynamicFrame:
        return self._glue_context.create_dynamic_frame_from_options(
            connection_type,
            connection_options,
            format,
            format_options,
            transformation_ctx,
            **kwargs,
        )


class DynamicFrameWriter(Strict):
    """``glue_context.write_dynamic_frame``: ``from_options`` (s3)."""

    _SUPPORTED = "write_dynamic_frame.from_options (s3)"

    def __init__(self, glue_context: GlueContext) -> None:
        self._glue_context = glue_context

    def from_options(
        self,
        frame: DynamicFrame,
        connection_type: str,
        connection_options: Mapping[str, Any] | None = None,
        format: str | None = None,
        format_options: Mapping[str, Any] | None = None,
        transformation_ctx: str = "",
        **kwargs: Any,
    ) -> DynamicFrame:
        return self._glue_context.write_dynamic_frame_from_options(
            frame,
            connection_type,
            connection_options,
            format,
            format_options,
            transformation_ctx,
            **kwargs,
        )


class _DataFrameReader(Strict):
    """``glue_context.create_data_frame``: the same reads, as Spark DataFrames."""

    _SUPPORTED = "create_data_frame.from_catalog and .from_options (s3)"

    def __init__(self, reader: DynamicFrameReader) -> None:
        self._reader = reader

    def from_catalog(
        self, database: str | None = None, table_name: str | None = None, **kwargs: Any
    ) -> DataFrame:
        return self._reader.from_catalog(database, table_name, **kwargs).toDF()

    def from_options(self, *args: Any, **kwargs: Any) -> DataFrame:
        return self._reader.from_options(*args, **kwargs).toDF()


class GlueContext(Strict):
    """Glue's context over the running SparkContext; the lake is ``$ZFISH_LAKE`` (``zfish job run`` sets it)."""

    _SUPPORTED = CONTEXT_CALLS

    def __init__(self, sparkContext: SparkContext | SparkSession, **options: Any) -> None:  # noqa: N803 - Glue's name
        from pyspark.sql import SparkSession

        if options:
            unsupported(f"GlueContext({', '.join(sorted(options))}=...)", "GlueContext(sc)")
        if isinstance(sparkContext, SparkSession):
            session = sparkContext
        else:
            # The session over the script's SparkContext (getOrCreate reuses the running one).
            session = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
        for key, value in RUNTIME_CONF.items():
            session.conf.set(key, value)
        self.spark_session: SparkSession = session
        self._sc = session.sparkContext
        self.layout: LakeLayout = lake_layout()
        self.create_dynamic_frame = DynamicFrameReader(self)
        self.create_data_frame = _DataFrameReader(self.create_dynamic_frame)
        self.write_dynamic_frame = DynamicFrameWriter(self)

    def get_logger(self) -> GlueLogger:
        return GlueLogger()

    def create_dynamic_frame_from_catalog(
        self,
        database: str | None = None,
        table_name: str | None = None,
        redshift_tmp_dir: str = "",
        transformation_ctx: str = "",
        push_down_predicate: str = "",
        additional_options: Mapping[str, Any] | None = None,
        catalog_id: str | None = None,
        **kwargs: Any,
    ) -> DynamicFrame:
        """A catalog table as Athena sees it: its registered partitions (``push_down_predicate`` prunes them)."""
        database = database or kwargs.pop("name_space", None)  # Glue's older keyword
        if kwargs:
            unsupported(
                f"from_catalog({', '.join(sorted(kwargs))}=...)",
                ", ".join(sorted(_CATALOG_OPTIONS)),
            )
        if not database or not table_name:
            raise ValueError("from_catalog needs database= and table_name=")
        options = dict(additional_options or {})
        # Glue's server-side partition filter: the same pruning here, before any file is read.
        predicate = push_down_predicate or options.pop("catalogPartitionPredicate", "")
        if options:
            unsupported(
                f"from_catalog additional_options {sorted(options)}",
                'additional_options "catalogPartitionPredicate"',
            )
        entry = _lake.catalog_entry(self.layout, database, table_name)
        df = _lake.read_catalog_table(self.spark_session, self.layout, entry, predicate or None)
        return DynamicFrame(df, self, transformation_ctx or table_name)

    def create_dynamic_frame_from_options(
        self,
        connection_type: str,
        connection_options: Mapping[str, Any] | None = None,
        format: str | None = None,
        format_options: Mapping[str, Any] | None = None,
        transformation_ctx: str = "",
        **kwargs: Any,
    ) -> DynamicFrame:
        """``s3://`` paths of the lake (``"paths"``), JSON or Parquet."""
        self._check_s3("create_dynamic_frame.from_options", connection_type, kwargs)
        df = _lake.read_s3(
            self.spark_session,
            self.layout,
            connection_options or {},
            format or "",
            format_options or {},
        )
        return DynamicFrame(df, self, transformation_ctx)

    def write_dynamic_frame_from_options(
        self,
        frame: DynamicFrame,
        connection_type: str,
        connection_options: Mapping[str, Any] | None = None,
        format: str | None = None,
        format_options: Mapping[str, Any] | None = None,
        transformation_ctx: str = "",
        **kwargs: Any,
    ) -> DynamicFrame:
        """``frame`` under the ``"path"`` (``s3://`` in the lake), JSON or Parquet, moved in when complete."""
        self._check_s3("write_dynamic_frame.from_options", connection_type, kwargs)
        _lake.write_s3(
            frame.toDF(), self.layout, connection_options or {}, format or "", format_options or {}
        )
        return frame

    @staticmethod
    def _check_s3(call: str, connection_type: str, extra: Mapping[str, Any]) -> None:
        if connection_type != "s3":
            unsupported(f"{call}(connection_type={connection_type!r})", 'connection_type="s3"')
        if extra:
            unsupported(
                f"{call}({', '.join(sorted(extra))}=...)",
                "connection_options, format, format_options",
            )
