"""Glue-style ETL job ``joined_fish_data``, runnable with spark-submit or plain Python.

    spark-submit etl/joined_fish_data.py --end-date 2025-05-11T18:00:00
    python etl/joined_fish_data.py --lake ./lake --end-date 2025-05-11T18:00:00

Observations left join outcomes on ``fish_id``, ``genetic_markers`` flattened,
labelled rows upserted into the Apache Hudi Copy-on-Write table (record key
``image_id``, partition ``day``, precombine ``timestamp``). The logic lives in
``zfish.pipeline``; this file is the job's entry point, as a Glue script is.
"""

from __future__ import annotations

import sys

from zfish.pipeline.job import EtlOptions, EtlReport, main, run

__all__ = ["EtlOptions", "EtlReport", "main", "run"]

if __name__ == "__main__":
    sys.exit(main())
