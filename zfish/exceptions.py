"""Every error zfish raises on purpose, in one shallow hierarchy.

Each class carries the process exit code the CLI maps it to (see
``zfish.cli.handle_errors``), so scripts can tell a usage mistake from bad
input data or a busy table without parsing messages. Messages name the
file, the field and the fix wherever there is one.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_LOCKED = 4
EXIT_PREREQUISITE = 5


class ZfishError(Exception):
    """Base class: an operation failed and said why."""

    exit_code = EXIT_ERROR


class ValidationError(ZfishError):
    """An option or parameter is invalid (e.g. end date before start date)."""

    exit_code = EXIT_USAGE


class LakePathError(ValidationError):
    """A path or ``s3://`` URI would leave the lake root, or is malformed."""


class InputDataError(ZfishError):
    """Source data is malformed; the message names the file, the field and the fix."""

    exit_code = EXIT_BAD_INPUT


class RejectedInputError(ZfishError):
    """The command finished what it could but rejected or quarantined some input."""

    exit_code = EXIT_BAD_INPUT


class PrerequisiteError(ZfishError):
    """Something outside pip is missing (Java 17, a Hudi bundle jar, ...)."""

    exit_code = EXIT_PREREQUISITE


class CatalogError(ZfishError):
    """The embedded Glue-style catalog is missing, corrupt or cannot be updated."""


class DeliveryError(ZfishError):
    """``zfish feed`` could not deliver: its S3 endpoint refused or could not be reached."""


class QueryError(ZfishError):
    """An Athena-style query was refused or failed."""


class HudiError(ZfishError):
    """Base class for errors of the native Hudi writer."""


class UnsupportedTableError(HudiError):
    """The table is something zfish does not write (version, MOR, metadata table...)."""


class TableLockedError(HudiError):
    """Another writer holds the table lock."""

    exit_code = EXIT_LOCKED


class CommitError(HudiError):
    """A commit could not be completed; the attempt was rolled back."""


class SchemaError(HudiError):
    """Incoming data does not fit the table schema or its key fields."""


class AthenaQueryError(QueryError):
    """A query Athena would reject, reported as Athena does: ``CODE: line L:C: message``."""

    def __init__(self, code: str, line: int | None, col: int | None, message: str) -> None:
        self.code = code
        self.line = line
        self.col = col
        self.detail = message
        where = f"line {line}:{col}: " if line is not None and col is not None else ""
        super().__init__(f"{code}: {where}{message}")


class AwsApiError(ZfishError):
    """An error an AWS API returns to its client: the service's error code, message and HTTP status.

    Extra error-shape fields (S3's ``Key``, ``BucketName``...) are given as
    ``fields`` and read by the serializer as attributes.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})

    def __getattr__(self, name: str) -> str:
        # Only reached for attributes not set above: the error shape's own members.
        fields = self.__dict__.get("fields", {})
        if name in fields:
            return str(fields[name])
        raise AttributeError(name)
