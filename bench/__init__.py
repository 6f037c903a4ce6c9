"""Benchmarks: one module per area, run as `python -m bench.<name> [--quick]`."""
