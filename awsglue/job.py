"""``Job``: a Glue job's ``init`` and ``commit``; bookmarks are not kept (every run reads everything)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from awsglue._shim import Strict

if TYPE_CHECKING:
    from awsglue.context import GlueContext


class Job(Strict):
    """``Job(glue_context)``, then ``init(name, args)`` ... ``commit()``."""

    _SUPPORTED = "Job.init, Job.commit, Job.isInitialized"

    def __init__(self, glue_context: GlueContext) -> None:
        self._glue_context = glue_context
        self.name: str | None = None
        self.args: dict[str, Any] = {}
        self.committed = False

    def init(self, job_name: str, args: Mapping[str, Any] | None = None) -> None:
        self.name = job_name
        self.args = dict(args or {})
        if self.args.get("job_bookmark_option") in ("job-bookmark-enable", "job-bookmark-pause"):
            # Not an error: the script's result is still right, it only re-reads what a
            # bookmark would have skipped.
            print(
                f"WARN awsglue: job {job_name}: job bookmarks are not emulated by zfish; "
                "this run reads all its input",
                file=sys.stderr,
                flush=True,
            )

    def isInitialized(self) -> bool:  # noqa: N802 - Glue's name
        return self.name is not None

    def commit(self) -> None:
        # Glue stores the bookmark state here; without bookmarks there is nothing to store.
        if self.name is None:
            raise RuntimeError("Job.commit() before Job.init(job_name, args)")
        self.committed = True
