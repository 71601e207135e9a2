"""``from awsglue.transforms import *``: the transforms that map onto DynamicFrame calls, the rest named.

Glue's script template starts with that import, so every Glue transform
name is here; the ones without a DynamicFrame call in the shim raise
``UnsupportedError`` from ``apply``, naming themselves.
"""

from __future__ import annotations

from typing import Any

from awsglue._shim import unsupported
from awsglue.dynamicframe import DynamicFrame

COVERED = "ApplyMapping, SelectFields, DropFields, RenameField"


class GlueTransform:
    """Glue's transform classes: ``Transform.apply(frame=..., ...)``."""

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        unsupported(f"{cls.__name__}.apply", f"the transforms {COVERED}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return type(self).apply(*args, **kwargs)


class ApplyMapping(GlueTransform):
    @classmethod
    def apply(cls, frame: DynamicFrame, mappings: Any, **kwargs: Any) -> DynamicFrame:
        return frame.apply_mapping(mappings, **kwargs)


class SelectFields(GlueTransform):
    @classmethod
    def apply(cls, frame: DynamicFrame, paths: Any, **kwargs: Any) -> DynamicFrame:
        return frame.select_fields(paths, **kwargs)


class DropFields(GlueTransform):
    @classmethod
    def apply(cls, frame: DynamicFrame, paths: Any, **kwargs: Any) -> DynamicFrame:
        return frame.drop_fields(paths, **kwargs)


class RenameField(GlueTransform):
    @classmethod
    def apply(
        cls, frame: DynamicFrame, old_name: str, new_name: str, **kwargs: Any
    ) -> DynamicFrame:
        return frame.rename_field(old_name, new_name, **kwargs)


# Glue's other transforms: importable, so a script fails at the call that needs one, by name.
class Filter(GlueTransform): ...


class Map(GlueTransform): ...


class FlatMap(GlueTransform): ...


class Join(GlueTransform): ...


class Relationalize(GlueTransform): ...


class ResolveChoice(GlueTransform): ...


class DropNullFields(GlueTransform): ...


class Spigot(GlueTransform): ...


class SplitFields(GlueTransform): ...


class SplitRows(GlueTransform): ...


class Unbox(GlueTransform): ...


class UnnestFrame(GlueTransform): ...


class ErrorsAsDynamicFrame(GlueTransform): ...


class FillMissingValues(GlueTransform): ...


class FindMatches(GlueTransform): ...


class Union(GlueTransform): ...


__all__ = [
    "ApplyMapping",
    "DropFields",
    "DropNullFields",
    "ErrorsAsDynamicFrame",
    "FillMissingValues",
    "Filter",
    "FindMatches",
    "FlatMap",
    "GlueTransform",
    "Join",
    "Map",
    "Relationalize",
    "RenameField",
    "ResolveChoice",
    "SelectFields",
    "Spigot",
    "SplitFields",
    "SplitRows",
    "Unbox",
    "Union",
    "UnnestFrame",
]
