"""zfish's local stand-in for AWS Glue's ``awsglue`` library: Glue job scripts of the common shape run unchanged.

``awsglue.utils.getResolvedOptions``, ``awsglue.context.GlueContext``,
``awsglue.dynamicframe.DynamicFrame`` and ``awsglue.job.Job`` read and write
zfish's lake and catalog (``$ZFISH_LAKE``, as ``zfish job run`` and the
endpoint's StartJobRun set it). A call the shim does not cover raises
:class:`awsglue._shim.UnsupportedError` (a ``NotImplementedError``) naming
the call and what is covered; the README lists both.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DynamicFrame"]


def __getattr__(name: str) -> Any:
    # ``from awsglue import DynamicFrame`` works as with Glue's library, without importing
    # pyspark for scripts that only want getResolvedOptions.
    if name == "DynamicFrame":
        from awsglue.dynamicframe import DynamicFrame

        return DynamicFrame
    raise AttributeError(f"module 'awsglue' has no attribute {name!r}")
