"""Benchmarks: run with `make bench` (python -m bench); they report numbers, they do not assert."""
