"""Benchmarks: every figure is a ratio measured in one run (these machines are noisy)."""
