"""The one place that builds a SparkSession (ETL job, tests and notebooks all call it).

Tuned for small data on a laptop: ``local[2]``, two shuffle partitions, no UI,
UTC everywhere, Python workers that are this interpreter, and small-file
friendly scan settings, because the lake is thousands of tiny JSON files.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from zfish import jars, jvm
from zfish.exceptions import PrerequisiteError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

APP_NAME = "zfish"

# What a session needs for the JVM Hudi datasource (--writer spark-hudi), as Glue sets it.
HUDI_SPARK_CONF = {
    "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    "spark.sql.extensions": "org.apache.spark.sql.hudi.HoodieSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.hudi.catalog.HoodieCatalog",
    "spark.kryo.registrator": "org.apache.spark.HoodieSparkKryoRegistrar",
}
# A class of the bundle, to ask a running JVM whether Hudi is on its classpath.
_HUDI_PROBE_CLASS = "org.apache.hudi.DataSourceReadOptions"

_LOG4J = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log4j2.properties")
_JVM_OPTIONS = f"-Duser.timezone=UTC -Dlog4j.configurationFile=file:{_LOG4J}"

BASE_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.extraJavaOptions": f"{_JVM_OPTIONS} -XX:+UseParallelGC",
    "spark.executor.extraJavaOptions": _JVM_OPTIONS,
    # Thousands of paths would otherwise be listed by a Spark job of their own.
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    # Two shuffle partitions leave adaptive execution nothing to tune; it would only add
    # a Spark job per shuffle (measured: 17 jobs per ETL run with it, 7 without).
    "spark.sql.adaptive.enabled": "false",
    # Thousands of one-line JSON files: pack many into one task instead of one task per file.
    "spark.sql.files.openCostInBytes": "8192",
    "spark.sql.files.maxPartitionBytes": "64m",
    # Partition values like 2025-05-10 stay strings, as the Glue crawler catalogues them.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.python.worker.reuse": "true",
    "spark.sql.warehouse.dir": os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "zfish-spark-warehouse"
    ),
    "spark.driver.memory": "2g",
}


def check_java() -> tuple[str, str]:
    """Fail early, with the fix, when no Java 17 runtime is on PATH or JAVA_HOME.

    Returns the ``java`` Spark will run and its version banner (asked once per
    process and runtime: ``java -version`` is a JVM start of its own).
    """
    java_home = os.environ.get("JAVA_HOME")
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    return _checked_java(java)


@functools.cache
def _checked_java(java: str | None) -> tuple[str, str]:
    if not java or not os.path.exists(java):
        raise PrerequisiteError(
            "Spark needs a Java 17 runtime and none was found (JAVA_HOME unset, no 'java' on PATH); "
            "install one, e.g. 'apt-get install openjdk-17-jre-headless', or set JAVA_HOME"
        )
    try:
        banner = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        ).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PrerequisiteError(f"could not run {java} -version: {exc}") from exc
    if '"17' not in banner and " 17" not in banner:
        raise PrerequisiteError(
            f"Spark 3.5 is run here on Java 17 but {java} reports: {banner.strip().splitlines()[0]}; "
            "install a Java 17 runtime and put it first on PATH or set JAVA_HOME"
        )
    return java, banner


def get_spark(
    app_name: str = APP_NAME,
    *,
    hudi: bool = False,
    hudi_bundle: str | None = None,
    extra_conf: dict[str, str] | None = None,
) -> SparkSession:
    """Return the process-wide SparkSession, creating it on first use.

    ``hudi=True`` puts the JVM Hudi bundle on the classpath (``hudi_bundle``,
    else ``$ZFISH_HUDI_BUNDLE``, else the cached jar, resolved once with
    Spark's ``--packages`` resolver, see :mod:`zfish.jars`) with the session
    settings Hudi needs. Under ``spark-submit --packages ...`` the JVM already
    has it and nothing is resolved. ``PrerequisiteError`` (exit 5) when the
    bundle cannot be had, or when a session without it is already running.
    """
    # Python workers must be this interpreter (the venv), not whatever python3 is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("TZ", "UTC")
    # A laptop's hostname often resolves to loopback; say so up front instead of warning.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        if hudi:
            require_hudi(active)
        return active
    conf = dict(BASE_CONF)
    launched = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit / pyspark started the JVM
    if hudi:
        conf.update(HUDI_SPARK_CONF)
        if not launched:
            conf["spark.jars"] = str(jars.hudi_bundle(hudi_bundle))
    conf.update(extra_conf or {})
    if "spark.jars.packages" in conf:
        # Spark's default Ivy chain fails on a ~/.m2 folder that holds a pom but no jar.
        conf.setdefault("spark.jars.ivySettings", str(jars.ivy_settings()))
    archive: jvm.ArchivePlan | None = None
    if not launched:
        java, banner = check_java()
        from pyspark import SparkContext

        if SparkContext._gateway is None:  # this call launches the driver JVM
            archive = _driver_start_up(conf, java, banner)
    builder = SparkSession.builder.appName(app_name)
    # Under spark-submit the JVM already has its --master (e.g. spark://host:7077); keep it.
    master = os.environ.get("ZFISH_SPARK_MASTER") or (None if launched else "local[2]")
    if master:
        builder = builder.master(master)
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if archive is not None:
        jvm.register_finish(archive, java, spark)
    spark.sparkContext.setLogLevel("ERROR")
    if hudi:
        require_hudi(spark)
        _start_jol_quietly(spark)
    return spark


def _driver_start_up(conf: dict[str, str], java: str, banner: str) -> jvm.ArchivePlan:
    """Add the start-up flags (C1, class-data archive) to the driver JVM's options."""
    from pyspark.find_spark_home import _find_spark_home

    spark_home = Path(_find_spark_home())  # type: ignore[no-untyped-call]
    # spark-submit would otherwise start a Python interpreter just to find it.
    os.environ.setdefault("SPARK_HOME", str(spark_home))
    key = "spark.driver.extraJavaOptions"
    options = " ".join(filter(None, [conf.get(key, ""), jvm.jit_options()]))
    class_path = conf.get("spark.driver.extraClassPath", "")
    plan = jvm.plan_archive(java, banner, spark_home, f"{options} cp={class_path}")
    conf[key] = " ".join(filter(None, [options, plan.options]))
    return plan


def _start_jol_quietly(spark: SparkSession) -> None:
    """Initialise the bundle's JOL (it sizes records for Hudi's spillable maps) with stdout muted.

    JOL prints three "# WARNING: Unable to attach ..." lines to the JVM's
    stdout the first time it runs, in the middle of the first upsert, whatever
    its -Djol.* flags say; they are harmless (it falls back to field-offset
    estimates). Starting it here, once per JVM, keeps them out of zfish's output.
    """
    try:
        java_vm = spark.sparkContext._jvm
        assert java_vm is not None
        stdout = java_vm.System.out
        java_vm.System.setOut(
            java_vm.java.io.PrintStream(java_vm.java.io.OutputStream.nullOutputStream())
        )
        try:
            java_vm.org.apache.hudi.org.openjdk.jol.vm.VM.current()
        finally:
            java_vm.System.setOut(stdout)
    except Exception:  # a bundle without shaded JOL, or another layout: nothing to mute
        return


# Where the ETL reads its files and writes its file groups (--read-in, --write-in).
IN_AUTO = "auto"  # the driver for a local master, tasks on a cluster
IN_DRIVER = "driver"
IN_TASKS = "tasks"
IN_CHOICES = (IN_AUTO, IN_DRIVER, IN_TASKS)


def in_driver(spark: SparkSession, choice: str) -> bool:
    """Whether work that Spark's tasks could do runs in the driver: ``auto`` means a local master.

    In local mode the tasks would run on this machine's cores anyway, so doing
    the work in the driver spares Spark's per-file and per-task costs and the
    Python workers; on a cluster the executors do it.
    """
    if choice not in IN_CHOICES:
        raise ValueError(f"must be one of {IN_CHOICES}, not {choice!r}")
    if choice == IN_AUTO:
        return (spark.sparkContext.master or "").startswith("local")
    return choice == IN_DRIVER


def has_hudi(spark: SparkSession) -> bool:
    """True when the session's JVM can load the Hudi Spark datasource."""
    try:
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        jvm.java.lang.Class.forName(
            _HUDI_PROBE_CLASS, False, jvm.Thread.currentThread().getContextClassLoader()
        )
    except Exception:
        return False
    return True


def require_hudi(spark: SparkSession) -> None:
    """``PrerequisiteError`` unless the running session has the Hudi datasource."""
    if not has_hudi(spark):
        raise PrerequisiteError(
            f"this Spark session has no JVM Hudi ({jars.HUDI_BUNDLE.coordinate} is not on its "
            "classpath), and jars cannot be added to a running JVM. Fix: start it with the "
            f"bundle: spark-submit --packages {jars.HUDI_BUNDLE.coordinate} ..., or let zfish "
            "start the session (zfish etl --writer spark-hudi)"
        )
