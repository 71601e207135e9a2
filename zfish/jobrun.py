"""How a Glue job script is run: ``spark-submit`` with the Hudi bundle and Glue's ``--KEY value`` arguments.

One implementation for both ways in: the endpoint's StartJobRun
(:mod:`zfish.aws.glue`) and ``zfish job run SCRIPT``. The script sees what a
Glue 5.0 job sees: ``--JOB_NAME`` and ``--JOB_RUN_ID`` first, then the run's
arguments; the lake reaches it as ``$ZFISH_LAKE`` (with ``$ZFISH_BUCKET`` and
``$ZFISH_PREFIX``), which the shipped ``awsglue`` shim reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

from zfish.exceptions import ValidationError
from zfish.settings import ENV_BUCKET, ENV_LAKE, ENV_PREFIX, LakeLayout


def new_run_id() -> str:
    """A run id shaped like Glue's (``jr_`` and hex)."""
    return f"jr_{uuid.uuid4().hex}"


def option(key: str) -> str:
    """A Glue argument name as it is passed: ``END_DATE`` and ``--END_DATE`` both mean ``--END_DATE``."""
    return key if key.startswith("--") else f"--{key}"


def parse_arguments(tokens: Iterable[str]) -> dict[str, str]:
    """``--KEY value`` / ``--KEY=value`` tokens as Glue's Arguments map (a later key wins).

    Glue's arguments are name-value pairs, so a bare word or a key without a
    value is a usage error here, not something to guess about.
    """
    arguments: dict[str, str] = {}
    items = list(tokens)
    i = 0
    while i < len(items):
        token = items[i]
        if not token.startswith("--") or token == "--":
            raise ValidationError(
                f"job argument {token!r} is not --KEY value; give each argument as "
                "--KEY value or --KEY=value (e.g. --END_DATE 2025-05-11T18:00:00)"
            )
        key, eq, value = token.partition("=")
        if not eq:
            if i + 1 >= len(items):
                raise ValidationError(
                    f"job argument {token} has no value; Glue arguments are --KEY value pairs"
                )
            value = items[i + 1]
            i += 1
        arguments[key] = value
        i += 1
    return arguments


def submit_argv(
    script: Path,
    arguments: Mapping[str, str],
    *,
    job_name: str,
    run_id: str,
    bundle: Path,
) -> list[str]:
    """The ``spark-submit`` command line of one run, Glue's reserved arguments first."""
    from zfish import jvm
    from zfish.spark import BASE_CONF

    # The driver JVM of zfish's own sessions: UTC, zfish's quiet log4j settings (a run's
    # log is its script's output, not Spark's INFO lines), the C1 compiler (measured: a
    # small Glue script's run took 65 s with the JVM's default JIT and 38 s with C1).
    java_options = " ".join(
        filter(None, [BASE_CONF["spark.driver.extraJavaOptions"], jvm.jit_options()])
    )
    argv = [
        str(Path(sys.executable).parent / "spark-submit"),
        "--master",
        "local[2]",
        "--jars",
        str(bundle),
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        f"spark.driver.extraJavaOptions={java_options}",
        str(script),
        "--JOB_NAME",
        job_name,
        "--JOB_RUN_ID",
        run_id,
    ]
    for key, value in arguments.items():
        if option(key) in ("--JOB_NAME", "--JOB_RUN_ID"):
            continue  # given above, once: Glue does not let a run override them either
        argv += [option(key), str(value)]
    return argv


def environment(layout: LakeLayout, bundle: Path) -> dict[str, str]:
    """The run's environment: this venv's Python for driver and workers, the lake, the bundle."""
    return {
        **os.environ,
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        ENV_LAKE: str(layout.root.resolve()),
        ENV_BUCKET: layout.bucket,
        ENV_PREFIX: layout.prefix,
        "ZFISH_HUDI_BUNDLE": str(bundle),
    }


def start(
    script: Path,
    arguments: Mapping[str, str],
    layout: LakeLayout,
    *,
    job_name: str,
    run_id: str,
    capture: bool,
) -> subprocess.Popen[str]:
    """Start the run in its own process group (so a stop ends Spark's JVM and workers too).

    ``capture`` collects stdout and stderr together (the endpoint keeps them as
    the run's log); otherwise they go to this process's own streams.
    """
    from zfish import jars

    bundle = jars.hudi_bundle()
    pipe = subprocess.PIPE if capture else None
    return subprocess.Popen(
        submit_argv(script, arguments, job_name=job_name, run_id=run_id, bundle=bundle),
        env=environment(layout, bundle),
        stdout=pipe,
        stderr=subprocess.STDOUT if capture else None,
        text=True,
        start_new_session=True,
    )
