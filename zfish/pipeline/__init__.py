"""The daily ETL: lake JSON -> join, flatten, label filter -> upsert into the Hudi table.

``transforms`` and ``quality`` hold pure ``DataFrame -> DataFrame`` steps;
``sources`` and ``sinks`` are the I/O edges; ``window`` decides what to read;
``job`` wires them into one run.
"""
