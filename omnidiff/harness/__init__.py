"""The evaluation harness: run a model over benchmarks, cache, score, write results."""
