"""zfish benchmarks, run by ``make bench`` (``python -m benchmarks``).

Every benchmark measures its baseline in the same run and prints ratios, so
results are comparable across machines; none of them is a timed test.
Each ``bench_*.py`` module exposes ``main(quick: bool) -> None``.
"""
