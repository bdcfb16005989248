"""Benchmark loaders and their scoring protocols, one module each."""
