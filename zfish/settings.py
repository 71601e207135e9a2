"""Where things live: the generated study, the lake root and the S3-style layout inside it.

The lake is a local directory standing in for S3: ``s3://bucket/prefix`` maps
to ``<lake root>/bucket/prefix``. Everything under the seed's dataset prefix
(``my-data-bucket/use-cases/fish-demo``) follows the seed documents:
``observations/``, ``images/``, ``outcomes/`` as uploaded, the Hudi table
under ``processed/``, and zfish's own catalog and quarantine beside them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from zfish.exceptions import LakePathError

ENV_DATA = "ZFISH_DATA"
ENV_LAKE = "ZFISH_LAKE"
# Set for a Glue job run (zfish.jobrun) beside ZFISH_LAKE; the awsglue shim reads all three.
ENV_BUCKET = "ZFISH_BUCKET"
ENV_PREFIX = "ZFISH_PREFIX"
DEFAULT_DATA_DIR = "./data/synthetic_data"
DEFAULT_LAKE_DIR = "./lake"
DEFAULT_BUCKET = "my-data-bucket"
DEFAULT_PREFIX = "use-cases/fish-demo"

DATABASE = "zebra_fish_demo"
TABLE_NAME = "joined_fish_data"
KINDS = ("observations", "images", "outcomes")

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


def default_data_dir() -> Path:
    return Path(os.environ.get(ENV_DATA) or DEFAULT_DATA_DIR)


def default_lake_dir() -> Path:
    return Path(os.environ.get(ENV_LAKE) or DEFAULT_LAKE_DIR)


def _safe_relative(rel: str, what: str) -> PurePosixPath:
    """A relative key that cannot climb out of the directory it is joined to."""
    path = PurePosixPath(rel.strip("/"))
    if any(part in ("..", ".") for part in path.parts) or "\\" in rel or "\x00" in rel:
        raise LakePathError(
            f"{what} {rel!r} contains '..', '.' or a backslash and would escape the lake root; "
            "use a plain key such as 'use-cases/fish-demo'"
        )
    return path


def check_bucket(bucket: str) -> str:
    if not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise LakePathError(
            f"bucket name {bucket!r} is not a valid S3 bucket name; "
            "use 3-63 lower-case letters, digits, '.' or '-', e.g. 'my-data-bucket'"
        )
    return bucket


def resolve_location(location: str | os.PathLike[str], lake_root: Path) -> Path:
    """Map ``s3://bucket/key`` (or ``s3a://``) into the lake; return local paths unchanged."""
    text = os.fspath(location)
    for scheme in ("s3://", "s3a://", "s3n://"):
        if text.startswith(scheme):
            rest = text[len(scheme) :]
            bucket, _, key = rest.partition("/")
            check_bucket(bucket)
            target = lake_root / bucket / _safe_relative(key, "S3 key")
            return ensure_inside(target, lake_root)
    if "://" in text:
        raise LakePathError(
            f"unsupported location {text!r}: use a local path or an s3://bucket/prefix URI "
            "(mapped into the lake root)"
        )
    return Path(text)


def ensure_inside(path: Path, root: Path) -> Path:
    """Refuse a path that resolves (through symlinks too) outside ``root``."""
    real_root = root.resolve()
    real = path.resolve()
    if real != real_root and real_root not in real.parents:
        raise LakePathError(
            f"{path} resolves to {real}, outside the lake root {real_root}; "
            "keep every lake location under --lake"
        )
    return path


@dataclass(frozen=True)
class LakeLayout:
    """The S3-style layout of one dataset inside the lake root."""

    root: Path
    bucket: str = DEFAULT_BUCKET
    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        check_bucket(self.bucket)
        _safe_relative(self.prefix, "prefix")

    @property
    def dataset(self) -> Path:
        """``s3://bucket/prefix`` as a local directory."""
        return ensure_inside(
            self.root / self.bucket / _safe_relative(self.prefix, "prefix"), self.root
        )

    @property
    def s3_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix.strip('/')}"

    def uri_of(self, path: Path) -> str:
        """The ``s3://bucket/key`` of a path inside the lake (the inverse of resolve_location)."""
        return f"s3://{path.resolve().relative_to(self.root.resolve()).as_posix()}"

    def kind_dir(self, kind: str) -> Path:
        return self.dataset / kind

    @property
    def observations(self) -> Path:
        return self.kind_dir("observations")

    @property
    def images(self) -> Path:
        return self.kind_dir("images")

    @property
    def outcomes(self) -> Path:
        return self.kind_dir("outcomes")

    @property
    def table(self) -> Path:
        """The Hudi table ``joined_fish_data`` (``processed/`` as in the seed's IAM policy)."""
        return self.dataset / "processed" / TABLE_NAME

    @property
    def catalog_dir(self) -> Path:
        return self.dataset / "_catalog"

    @property
    def catalog_db(self) -> Path:
        return self.catalog_dir / "catalog.duckdb"

    @property
    def quarantine(self) -> Path:
        return self.dataset / "_quarantine"

    @property
    def state_dir(self) -> Path:
        """zfish's own bookkeeping (upload manifest, image feature cache)."""
        return self.dataset / "_zfish"
