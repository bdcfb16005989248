"""Result files of DESIGN.md: ``<results>/<model>/<benchmark>/<split>/{predictions.jsonl,scores.json}``.

``run.json`` beside them records how the run was made (store, options, limit, prompt) so that the
leaderboard can show example pairs; it never holds a secret (API keys live only in the environment).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotations import jsonl
from annotations.errors import OmniDiffError

PREDICTIONS = "predictions.jsonl"
SCORES = "scores.json"
RUN = "run.json"


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary name in the same folder, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


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
        path = self.folder / PREDICTIONS
        if not path.is_file():
            return {}
        rows = (row for _, row in jsonl.read_lines(path))
        return {row["pair_id"]: row["caption"] for row in rows}


def read_results(results: Path) -> list[ResultEntry]:
    """Every ``scores.json`` three levels below ``results``, sorted by model, benchmark, split."""
    root = Path(results)
    if not root.is_dir():
        raise OmniDiffError(f"{root}: no results folder (run `omnidiff eval` first)")
    entries = []
    for path in sorted(root.glob(f"*/*/*/{SCORES}")):
        try:
            scores = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise OmniDiffError(f"{path}: unreadable scores file ({exc})") from None
        if not isinstance(scores, dict) or not isinstance(scores.get("metrics"), dict):
            raise OmniDiffError(f"{path}: not a scores file (no 'metrics' object)")
        run_path = path.parent / RUN
        run = json.loads(run_path.read_text(encoding="utf-8")) if run_path.is_file() else {}
        entries.append(ResultEntry(path.parent, scores, run))
    return entries
