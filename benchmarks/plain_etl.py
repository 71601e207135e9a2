"""The seed's Glue job written plainly in PySpark: the baseline ``bench_etl`` measures zfish against.

What a first PySpark version of the seed's job looks like: default session
settings on ``local[2]``, ``spark.read.json`` with schema inference over
``observations/`` and ``outcomes/`` (partition discovery finds ``day``), the
seed's 50-day window as a filter, a left join on ``fish_id``,
``genetic_markers`` flattened, unlabelled rows dropped, a Parquet write
partitioned by ``day``. No quality checks, no Hudi: only the work every
version of the job has to do.

    python benchmarks/plain_etl.py --lake LAKE --end-date 2025-05-10T18:00:00 --out DIR
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta

from pyspark.sql import SparkSession
from pyspark.sql.functions import col

WINDOW_DAYS = 50  # the seed's first-run window


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lake", required=True)
    parser.add_argument("--end-date", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    base = os.path.join(os.path.abspath(args.lake), "my-data-bucket", "use-cases", "fish-demo")
    end_date = datetime.fromisoformat(args.end_date)
    start_date = end_date - timedelta(days=WINDOW_DAYS)

    spark = SparkSession.builder.master("local[2]").appName("plain_joined_fish_data").getOrCreate()
    observations = spark.read.json(os.path.join(base, "observations"))
    outcomes = spark.read.json(os.path.join(base, "outcomes"))
    observations = observations.filter(
        (col("day") >= start_date.date()) & (col("day") <= end_date.date())
    )
    joined = observations.join(
        outcomes.select("fish_id", "condition_developed"), on="fish_id", how="left"
    )
    flattened = (
        joined.withColumn("gene_a", col("genetic_markers.gene_a"))
        .withColumn("gene_b", col("genetic_markers.gene_b"))
        .withColumn("gene_c", col("genetic_markers.gene_c"))
        .drop("genetic_markers")
    )
    matched = flattened.filter("condition_developed IS NOT NULL")
    matched.write.mode("overwrite").partitionBy("day").parquet(args.out)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
