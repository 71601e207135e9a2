"""zfish.spark: a session that asks Spark for packages resolves them with zfish's Ivy settings."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support import SLF4J_API, pom_only_entry
from zfish import jars

pytestmark = pytest.mark.spark

_SESSION = """
import sys
from zfish.spark import get_spark
spark = get_spark("zfish-test", extra_conf={"spark.jars.packages": sys.argv[1],
                                            "spark.jars.ivy": sys.argv[2]})
conf = spark.sparkContext.getConf()
print("zfish-settings", conf.get("spark.jars.ivySettings"))
print("zfish-jars", conf.get("spark.jars"))
spark.stop()
"""


def test_a_session_with_spark_jars_packages_resolves_past_a_pom_only_entry_in_m2(
    tmp_path: Path,
) -> None:
    """get_spark(extra_conf={"spark.jars.packages": ...}) on a machine whose ~/.m2 has a pom only.

    Spark's default chain would take slf4j-api from that folder and fail on the missing jar.
    """
    home = tmp_path / "home"
    pom_only_entry(home, SLF4J_API)
    ivy = tmp_path / "ivy"
    env = {
        **os.environ,
        "HOME": str(home),
        # Java's user.home does not follow $HOME: without this, Ivy finds the real ~/.m2.
        "JAVA_TOOL_OPTIONS": f"-Duser.home={home}",
        "ZFISH_CACHE": str(tmp_path / "cache"),
        "ZFISH_SPARK_CDS": "0",  # no class archive dumped into the test's folder
    }
    proc = subprocess.run(
        [sys.executable, "-c", _SESSION, "org.slf4j:slf4j-simple:1.7.36", str(ivy)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = dict(
        line.split(" ", 1) for line in proc.stdout.splitlines() if line.startswith("zfish-")
    )
    assert lines["zfish-settings"] == str(jars.ivy_settings())
    resolved = {
        Path(j.removeprefix("file:").removeprefix("//")) for j in lines["zfish-jars"].split(",")
    }
    api = ivy / "jars" / SLF4J_API.ivy_jar_name
    assert api in resolved
    with zipfile.ZipFile(api) as zf:
        zf.getinfo("org/slf4j/Logger.class")
