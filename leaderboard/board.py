"""The leaderboard's data: one table ("view") per benchmark and split, rows of reproduced and reported results.

A view is a benchmark's total, or one of its domain subsets (OmniDiff-Real and OmniDiff-Render are
reported separately). Reproduced rows come from harness result files; reported rows come from
``reported.json`` and stay separate, marked with their citation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotations.errors import OmniDiffError

COLUMNS = ("Bleu_4", "METEOR", "ROUGE_L", "CIDEr", "SPICE")
COLUMN_TITLES = {"Bleu_4": "BLEU-4", "METEOR": "METEOR", "ROUGE_L": "ROUGE-L", "CIDEr": "CIDEr", "SPICE": "SPICE"}
REPORTED_FILE = Path(__file__).with_name("reported.json")
TITLES = {
    "omnidiff": "OmniDiff", "omnidiff/real": "OmniDiff-Real", "omnidiff/render": "OmniDiff-Render",
    "clevr_change": "CLEVR-Change", "clevr_dc": "CLEVR-DC", "spot_the_diff": "Spot-the-Diff", "iedit": "IEdit",
}
# protocol subsets shown as tables of their own: OmniDiff's domains, CLEVR's semantic / distractor pairs
VIEW_SUBSET = re.compile(r"^(?:domain[/:])?(real|render|semantic|distractor)$")


@dataclass(frozen=True)
class Row:
    """One line of a table; metric values on the papers' x100 scale, None where not available."""

    model: str
    kind: str  # "reproduced" or "reported"
    values: dict[str, float | None]
    n: int | None = None
    citation: str | None = None  # citation key of a reported row
    notes: tuple[str, ...] = ()


@dataclass
class View:
    key: str  # "omnidiff/real", "clevr_change", ...
    split: str
    rows: list[Row] = field(default_factory=list)
    change_types: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)  # model -> type -> metrics x100

    @property
    def title(self) -> str:
        if self.key in TITLES:
            return f"{TITLES[self.key]} ({self.split})"
        bench, _, subset = self.key.partition("/")
        return f"{TITLES.get(bench, bench)}, {subset} pairs ({self.split})" if subset else f"{bench} ({self.split})"

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", f"{self.key}-{self.split}".lower()).strip("-")

    @property
    def reproduced(self) -> list[Row]:
        return [r for r in self.rows if r.kind == "reproduced"]

    @property
    def reported(self) -> list[Row]:
        return [r for r in self.rows if r.kind == "reported"]


@dataclass
class Board:
    views: list[View]
    citations: dict[str, str]
    entries: list[Any]  # harness ResultEntry objects, for the HTML examples
    warnings: list[str] = field(default_factory=list)  # results skipped or shown in part, one line each


def scaled(metrics: dict[str, Any]) -> dict[str, float | None]:
    """pycocoevalcap scale to the papers' x100 scale."""
    out: dict[str, float | None] = {}
    for col in COLUMNS:
        value = metrics.get(col)
        out[col] = None if value is None else round(float(value) * 100.0, 2)
    return out


def load_reported(path: Path = REPORTED_FILE) -> tuple[list[dict[str, Any]], dict[str, str]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise OmniDiffError(f"{path}: unreadable reported numbers ({exc})") from None
    citations = dict(data.get("citations", {}))
    rows = list(data.get("rows", []))
    for row in rows:
        if row.get("citation") not in citations:
            raise OmniDiffError(f"{path}: row {row.get('model')}/{row.get('view')} cites unknown {row.get('citation')!r}")
    return rows, citations


def _sort_key(row: Row) -> tuple:
    cider = row.values.get("CIDEr")
    return (-(cider if cider is not None else -1.0), row.model)


def build_board(results: Path, include_reported: bool = True) -> Board:
    """Collect every result under ``results`` (and the reported rows) into views."""
    from omnidiff.harness.results import read_results

    found = read_results(results)
    entries = found.entries
    views: dict[tuple[str, str], View] = {}

    def view(key: str, split: str) -> View:
        return views.setdefault((key, split), View(key, split))

    for entry in entries:
        scores = entry.scores
        notes = tuple(f"{k}: {v}" for k, v in sorted((scores.get("notes") or {}).items()))
        total = view(entry.benchmark, entry.split)
        total.rows.append(Row(entry.model, "reproduced", scaled(scores["metrics"]), scores.get("n"), notes=notes))
        per_type = {}
        for name, sub in sorted((scores.get("subsets") or {}).items()):
            if not isinstance(sub, dict):
                continue
            match = VIEW_SUBSET.match(name)
            if match and sub.get("n"):
                dom = view(f"{entry.benchmark}/{match.group(1)}", entry.split)
                dom.rows.append(Row(entry.model, "reproduced", scaled(sub.get("metrics") or {}), sub.get("n"), notes=notes))
            if name.startswith("change_type/") and sub.get("n"):
                per_type[name.split("/", 1)[1]] = scaled(sub.get("metrics") or {})
        if per_type:
            total.change_types[entry.model] = per_type

    citations: dict[str, str] = {}
    if include_reported:
        reported, citations = load_reported()
        for item in reported:
            values = {col: item["metrics"].get(col) for col in COLUMNS}
            view(item["view"], item.get("split", "test")).rows.append(
                Row(item["model"], "reported", values, citation=item["citation"])
            )
    ordered = sorted(views.values(), key=lambda v: (v.key, v.split))
    for v in ordered:
        v.rows = sorted(v.reproduced, key=_sort_key) + sorted(v.reported, key=_sort_key)
    return Board(ordered, citations, entries, list(found.skipped))
