"""Result files of DESIGN.md: ``<results>/<model>/<benchmark>/<split>/{predictions.jsonl,scores.json}``.

``run.json`` beside them records how the run was made (store, options, limit, prompt) so that the
leaderboard can show example pairs; it never holds a secret (API keys live only in the environment).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotations import jsonl
from annotations.errors import OmniDiffError

PREDICTIONS = "predictions.jsonl"
SCORES = "scores.json"
RUN = "run.json"


def predictions_text(pair_ids: list[str], captions: dict[str, str]) -> str:
    return "".join(jsonl.dumps_line({"pair_id": pid, "caption": captions[pid]}) for pid in pair_ids)


def result_dir(results: Path, model: str, benchmark: str, split: str) -> Path:
    return Path(results) / model / benchmark / split


@dataclass(frozen=True)
class ResultEntry:
    """One scored run as the leaderboard reads it."""

    folder: Path
    scores: dict[str, Any]
    run: dict[str, Any]

    @property
    def model(self) -> str:
        return self.folder.parent.parent.name

    @property
    def benchmark(self) -> str:
        return str(self.scores.get("benchmark", self.folder.parent.name))

    @property
    def split(self) -> str:
        return str(self.scores.get("split", self.folder.name))

    def predictions(self) -> dict[str, str]:
        """Pair id -> caption from ``predictions.jsonl`` (empty when absent); malformed rows raise."""
        path = self.folder / PREDICTIONS
        if not path.is_file():
            return {}
        preds = {}
        for lineno, row in jsonl.read_lines(path):
            if not isinstance(row, dict) or not isinstance(row.get("pair_id"), str) or not isinstance(row.get("caption"), str):
                raise jsonl.JsonLinesError(f"{path}:{lineno}: expected {{\"pair_id\": str, \"caption\": str}}")
            preds[row["pair_id"]] = row["caption"]
        return preds


@dataclass
class ResultSet:
    """The readable results of a folder, and one line for each results folder that was skipped."""

    entries: list[ResultEntry]
    skipped: list[str]


def _is_metrics(value: Any) -> bool:
    return isinstance(value, dict) and all(
        v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in value.values())


def scores_problem(scores: Any) -> str | None:
    """Why a parsed ``scores.json`` cannot be shown, or None."""
    if not isinstance(scores, dict) or not isinstance(scores.get("metrics"), dict):
        return "not a scores file (no 'metrics' object)"
    if not _is_metrics(scores["metrics"]):
        return "a metric value is not a number"
    subsets = scores.get("subsets", {})
    if not isinstance(subsets, dict) or not all(
            isinstance(sub, dict) and _is_metrics(sub.get("metrics", {})) for sub in subsets.values()):
        return "'subsets' is not an object of {n, metrics} objects"
    if not isinstance(scores.get("notes", {}), dict):
        return "'notes' is not an object"
    if scores.get("n") is not None and (isinstance(scores["n"], bool) or not isinstance(scores["n"], int)):
        return "'n' is not a count"
    return None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: bad JSON or bad UTF-8
        raise OmniDiffError(f"{path}: unreadable ({exc})") from None


def read_results(results: Path) -> ResultSet:
    """Every ``scores.json`` three levels below ``results``, sorted by model, benchmark, split; a
    results folder whose files cannot be read is skipped (and said), so one broken run cannot hide the others."""
    root = Path(results)
    if not root.is_dir():
        raise OmniDiffError(f"{root}: no results folder (run `omnidiff eval` first)")
    entries, skipped = [], []
    for path in sorted(root.glob(f"*/*/*/{SCORES}")):
        try:
            scores = _read_json(path)
            problem = scores_problem(scores)
            if problem is not None:
                raise OmniDiffError(f"{path}: {problem}")
            run_path = path.parent / RUN
            run = _read_json(run_path) if run_path.is_file() else {}
            if not isinstance(run, dict):
                raise OmniDiffError(f"{run_path}: not a JSON object")
        except OmniDiffError as exc:
            skipped.append(f"{exc}; skipped {path.parent.relative_to(root).as_posix()}")
            continue
        entries.append(ResultEntry(path.parent, scores, run))
    return ResultSet(entries, skipped)
