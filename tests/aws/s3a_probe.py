"""Spark with default s3a settings against a zfish endpoint, in its own JVM (run by test_s3a.py).

    python -m tests.aws.s3a_probe ENDPOINT_URL ROWS.parquet OUT.json

Reads the observations as JSON through s3a, writes partitioned Parquet
through the default committer, and has the JVM Hudi datasource upsert the
given joined rows (the ETL's output) into ``joined_fish_data`` through s3a,
with the ETL's own write options. Only connection settings are given
(endpoint, keys, path-style for an IP endpoint): no change-detection or
marker workarounds.
"""

from __future__ import annotations

import json
import sys


def main(url: str, rows_path: str, out: str) -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from zfish import jars
    from zfish.fishtable import TABLE_SPEC
    from zfish.pipeline.sinks import spark_hudi_options
    from zfish.spark import HUDI_SPARK_CONF

    classpath = [str(jars.hudi_bundle()), *(str(p) for p in jars.s3a_jars())]
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("zfish-s3a-probe")
        .config("spark.jars", ",".join(classpath))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.hadoop.fs.s3a.endpoint", url)
        .config("spark.hadoop.fs.s3a.access.key", "test")
        .config("spark.hadoop.fs.s3a.secret.key", "test")
        .config("spark.hadoop.fs.s3a.path.style.access", "true")
        .config("spark.hadoop.fs.s3a.connection.ssl.enabled", "false")
    )
    for key, value in HUDI_SPARK_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    results: dict[str, object] = {}
    base = "s3a://my-data-bucket/use-cases/fish-demo"
    observations = spark.read.json(f"{base}/observations/")
    results["observations"] = observations.count()
    results["image_ids"] = sorted(r.image_id for r in observations.select("image_id").collect())

    exported = "s3a://my-data-bucket/exports/observations_parquet/"
    # Three day partitions: the committer's work (a copy and a delete per file, in S3) is what
    # is proven, and each of the study's forty partitions cost the same again.
    observations.where("day <= '2025-04-04'").select("image_id", "fish_id", "day").write.mode(
        "overwrite"
    ).partitionBy("day").parquet(exported)
    results["parquet_image_ids"] = sorted(
        r.image_id for r in spark.read.parquet(exported).select("image_id").collect()
    )

    table = f"{base}/processed/s3a_joined_fish_data"
    rows = spark.read.parquet(rows_path)
    options = spark_hudi_options(TABLE_SPEC, {})
    rows.write.format("hudi").options(**options).mode("append").save(table)
    # A second commit through s3a: an upsert of changed rows.
    changed = (
        rows.orderBy("image_id").limit(5).withColumn("length_mm", F.col("length_mm") + F.lit(100.0))
    )
    changed.write.format("hudi").options(**options).mode("append").save(table)
    snapshot = spark.read.format("hudi").load(table)
    results["hudi_rows"] = snapshot.count()
    results["hudi_commits"] = snapshot.select("_hoodie_commit_time").distinct().count()
    spark.stop()
    with open(out, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
