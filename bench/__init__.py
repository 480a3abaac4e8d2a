"""Benchmarks behind `carekit bench <name> --json`. Each module exposes `run(params) -> dict`."""
