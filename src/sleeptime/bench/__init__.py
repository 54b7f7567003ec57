"""``sleeptime bench``: reproduce the paper's experiments.

``sleeptime.bench.datasets`` loads the benchmarks as ``Example`` records (no
model calls); ``sleeptime.bench.grading`` grades answers against gold.
"""
