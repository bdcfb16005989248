"""Caption metrics as pycocoevalcap 1.2 computes them, with fast exact subsets."""

from omnidiff.metrics.hygiene import ScoringInputError
from omnidiff.metrics.java import JavaError
from omnidiff.metrics.scorer import METRIC_NAMES, ScoreResult, score_captions

__all__ = ["METRIC_NAMES", "JavaError", "ScoreResult", "ScoringInputError", "score_captions"]
