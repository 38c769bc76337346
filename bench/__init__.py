"""Benchmarks: run, never asserted (see bench/README.md)."""
