"""An lmms-eval task folder from a store: ``omnidiff export STORE --format lmms-eval --out DIR``."""

from omnidiff.benchmarks.lmms_eval.export import FORMAT, export_task_folder

__all__ = ["FORMAT", "export_task_folder"]
