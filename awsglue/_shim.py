"""What every module of the shim shares: the unsupported-call error and the lake a job run reads."""

from __future__ import annotations

import os
from typing import Any, NoReturn

from zfish.settings import (
    DEFAULT_BUCKET,
    DEFAULT_PREFIX,
    ENV_BUCKET,
    ENV_PREFIX,
    LakeLayout,
    default_lake_dir,
)

README_SECTION = "README: 'Glue scripts locally (the awsglue shim)'"


class UnsupportedError(NotImplementedError, AttributeError):
    """A Glue call zfish does not emulate.

    Also an ``AttributeError`` for unknown attributes, so ``hasattr`` and
    ``getattr(obj, name, default)`` keep working on the shim's objects.
    """


def unsupported(call: str, supported: str) -> NoReturn:
    raise UnsupportedError(
        f"{call} is not supported by zfish's awsglue shim; it supports {supported} "
        f"({README_SECTION}). For anything else convert with .toDF() and use Spark, "
        "then DynamicFrame.fromDF(df, glue_context, name)"
    )


class Strict:
    """Unknown public attributes are unsupported Glue calls, said so by name."""

    _SUPPORTED = ""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # Python's own protocols (copy, pickle, IPython) probe these
            raise AttributeError(name)
        unsupported(f"{type(self).__name__}.{name}", self._SUPPORTED)


def lake_layout() -> LakeLayout:
    """The dataset a job run works on: ``$ZFISH_LAKE`` (default ./lake), ``$ZFISH_BUCKET``, ``$ZFISH_PREFIX``."""
    return LakeLayout(
        root=default_lake_dir(),
        bucket=os.environ.get(ENV_BUCKET) or DEFAULT_BUCKET,
        prefix=os.environ.get(ENV_PREFIX) or DEFAULT_PREFIX,
    )
