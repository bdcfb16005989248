"""The benchmark: benchmark loaders and protocols, metrics, models, and the evaluation harness."""

__version__ = "0.1.0"
