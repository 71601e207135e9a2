"""Spark's s3a (hadoop-aws 3.3.4, the Hadoop of pyspark 3.5) through the endpoint, default settings."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.aws.conftest import ServeProcess
from tests.support import unavailable
from zfish import fishtable
from zfish.pipeline import schemas

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def s3a_classpath() -> list[Path]:
    from zfish import jars
    from zfish.exceptions import PrerequisiteError

    try:
        return [jars.hudi_bundle(), *jars.s3a_jars()]
    except PrerequisiteError as exc:
        unavailable(
            f"the s3a tests must run here (CI): {exc}",
            f"no hadoop-aws / Hudi bundle (Maven Central unreachable?): {exc}",
        )


def test_spark_s3a_reads_json_writes_parquet_and_hudi_writes_the_table(
    serve_process: ServeProcess,
    default_study: Path,
    spark: object,
    s3a_classpath: list[Path],
    tmp_path: Path,
) -> None:
    from zfish.simulate import evening

    # The evening run on the lake that the endpoint serves (local writes are S3 objects).
    layout = serve_process.live.layout
    report = evening(spark, default_study, layout, date(2025, 5, 10), show_progress=False)  # type: ignore[arg-type]
    assert report.etl is not None
    local = fishtable.read(layout.table).select(schemas.TABLE.fieldNames())
    rows_file = tmp_path / "rows.parquet"
    pq.write_table(local, rows_file)
    out = tmp_path / "out.json"
    probe = subprocess.run(
        [sys.executable, "-m", "tests.aws.s3a_probe", serve_process.url, str(rows_file), str(out)],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert probe.returncode == 0, probe.stderr[-5000:]
    results = json.loads(out.read_text())
    on_disk = sorted(
        (json.loads(line)["image_id"], path.parent.name)
        for path in (layout.dataset / "observations").rglob("*.json")
        for line in path.read_text().splitlines()
        if line.strip()
    )
    assert results["observations"] == 540
    assert results["image_ids"] == [key for key, _ in on_disk]
    early = sorted(key for key, day in on_disk if day <= "day=2025-04-04")
    assert early
    assert results["parquet_image_ids"] == early
    # The table written through s3a is a real Hudi table on disk: read it back without Spark.
    s3a_table = layout.dataset / "processed" / "s3a_joined_fish_data"
    assert results["hudi_rows"] == local.num_rows == 60
    assert results["hudi_commits"] == 2
    written = fishtable.read(s3a_table).select(schemas.TABLE.fieldNames()).to_pylist()
    by_key = {row["image_id"]: row for row in written}
    expected = {row["image_id"]: row for row in local.to_pylist()}
    changed = sorted(expected)[:5]
    for key in changed:
        expected[key]["length_mm"] += 100.0
    assert by_key == expected
    # No temporary or multipart leftovers became objects.
    assert not list(layout.dataset.rglob("_temporary"))
    assert list((serve_process.lake / ".zfish-s3" / "uploads").iterdir()) == []
