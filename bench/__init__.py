"""Benchmark: the Convene engine against a bare Temporal workflow doing the same work (``python -m bench.run``)."""
