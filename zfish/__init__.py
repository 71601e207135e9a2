"""zfish: a local lakehouse emulator for ML data pipelines.

Generate the synthetic zebra fish study, upload it day by day into a local
directory acting as S3, crawl it into a Glue-style catalog, run the Spark ETL
that upserts into a real Apache Hudi Copy-on-Write table, and query it the way
Athena would; all on one machine.
"""

__version__ = "0.1.0"
