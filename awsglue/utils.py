"""``getResolvedOptions``: a Glue job's ``--NAME value`` arguments as a dict, with Glue's rules.

As in AWS Glue: every name asked for is required (``--NAME value`` or
``--NAME=value``; a later one wins; an unambiguous prefix of a name is
accepted, argparse's rule, which Glue's parser follows); arguments nobody
asked for are ignored, so the ones Glue passes to every run (``--JOB_ID``,
``--JOB_RUN_ID``, ``--job-bookmark-option``, ``--TempDir``...) never fail a
script; asking for a reserved name is a ``RuntimeError``. The result holds
the names asked for, Glue's reserved arguments (``None`` when absent) and
``job_bookmark_option`` (``job-bookmark-disable`` unless given).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, NoReturn

# Glue passes these to every run; a script may read them but never ask for them.
RESERVED_IDS = ("JOB_ID", "JOB_RUN_ID", "SECURITY_CONFIGURATION")
BOOKMARK = "job-bookmark-option"
BOOKMARK_CHOICES = ("job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable")
BOOKMARK_DEFAULT = "job-bookmark-disable"
CONTINUATION = "continuation-option"  # the older spelling of the bookmark option
CONTINUATION_CHOICES = ("continuation-enabled", "continuation-readonly", "continuation-ignore")
BOOKMARK_RANGE = ("job-bookmark-from", "job-bookmark-to")
ENCRYPTION = "encryption-type"
TEMP_DIRS = ("TempDir", "RedshiftTempDir")  # optional even when asked for, as in Glue
RESERVED = (*RESERVED_IDS, BOOKMARK, CONTINUATION, *BOOKMARK_RANGE, ENCRYPTION)


class GlueArgumentError(Exception):
    """A job argument is missing or malformed (Glue's own exception name)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would print usage and exit 2; a job wants an exception naming the argument.
        raise GlueArgumentError(
            f"{message}; pass job arguments as --NAME value (zfish job run SCRIPT --NAME value, "
            "or the Arguments / DefaultArguments of the Glue job)"
        )


def getResolvedOptions(args: Sequence[str], options: Sequence[str]) -> dict[str, Any]:  # noqa: N802 - Glue's name
    """The job arguments named in ``options`` from ``args`` (``sys.argv``: the script's path first)."""
    for name in options:
        if name in RESERVED:
            raise RuntimeError(f"Using reserved arguments {name}: Glue sets it for every run")
    parser = _Parser(prog="glue job", add_help=False)
    parser.add_argument(f"--{BOOKMARK}", choices=BOOKMARK_CHOICES)
    parser.add_argument(f"--{CONTINUATION}", choices=CONTINUATION_CHOICES)
    for name in (*BOOKMARK_RANGE, *RESERVED_IDS, *TEMP_DIRS):
        parser.add_argument(f"--{name}")
    parser.add_argument(f"--{ENCRYPTION}", choices=("sse-s3",))
    for name in dict.fromkeys(options):  # asked twice is asked once
        if name not in TEMP_DIRS:
            parser.add_argument(f"--{name}", required=True)
    parsed, _ignored = parser.parse_known_args(list(args[1:]))
    resolved: dict[str, Any] = vars(parsed)

    # Either temp-dir name fills the other, as Glue's own Redshift connector expects.
    if resolved["TempDir"] is None:
        resolved["TempDir"] = resolved["RedshiftTempDir"]
    elif resolved["RedshiftTempDir"] is None:
        resolved["RedshiftTempDir"] = resolved["TempDir"]

    # --job-bookmark-option wins; the old --continuation-option maps onto it by position.
    continuation = resolved.pop(CONTINUATION.replace("-", "_"))
    if resolved["job_bookmark_option"] is None:
        resolved["job_bookmark_option"] = (
            BOOKMARK_CHOICES[CONTINUATION_CHOICES.index(continuation)]
            if continuation is not None
            else BOOKMARK_DEFAULT
        )
    missing = [f"--{n}" for n in BOOKMARK_RANGE if resolved[n.replace("-", "_")] is None]
    if resolved["job_bookmark_option"] == "job-bookmark-pause":
        if len(missing) == 1:
            raise RuntimeError(f"Missing option or value for {missing[0]} (job-bookmark-pause)")
    elif not missing:
        raise RuntimeError(
            "Invalid option(s) --job-bookmark-from --job-bookmark-to: "
            "they go with --job-bookmark-option job-bookmark-pause only"
        )
    return resolved
