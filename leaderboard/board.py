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
SOURCE_KINDS = ("primary", "secondary")


def _benchmark(key: str):
    """The registered benchmark of a view key's first part, or None (results of an unregistered benchmark)."""
    from omnidiff.benchmarks import BenchmarkError, get_benchmark

    try:
        return get_benchmark(key.partition("/")[0])
    except BenchmarkError:
        return None


def view_subsets(benchmark: str) -> dict[str, str]:
    """Protocol subset -> view key, for the subsets a benchmark shows as tables of their own."""
    bench = _benchmark(benchmark)
    views = bench.table_views if bench is not None else {}
    return {subset: f"{benchmark}/{subset.rsplit('/', 1)[-1]}" for subset in views}


@dataclass(frozen=True)
class Row:
    """One line of a table; metric values on the papers' x100 scale, None where not available."""

    model: str
    kind: str  # "reproduced" or "reported"
    values: dict[str, float | None]
    n: int | None = None
    citation: str | None = None  # footnote key of a reported row: (source, kind, subset) as text
    notes: tuple[str, ...] = ()


@dataclass
class View:
    key: str  # "omnidiff/real", "clevr_change", ...
    split: str
    rows: list[Row] = field(default_factory=list)
    change_types: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)  # model -> type -> metrics x100

    @property
    def title(self) -> str:
        bench = _benchmark(self.key)
        name, _, short = self.key.partition("/")
        if bench is None:
            return f"{self.key} ({self.split})"
        if not short:
            return f"{bench.short_title} ({self.split})"
        view = next((title for subset, title in bench.table_views.items() if subset.rsplit("/", 1)[-1] == short), short)
        if view.startswith(bench.short_title):
            return f"{view} ({self.split})"
        return f"{bench.short_title}, {view} ({self.split})"

    @property
    def headline(self) -> str:
        """Which protocol subset the table's main number is, as the benchmark declares it."""
        bench = _benchmark(self.key)
        if bench is None or "/" in self.key:
            return ""
        return f"headline subset: {bench.headline} ({bench.headline_note})"

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
    citations: dict[str, str]  # footnote key -> footnote text of the reported rows
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
    """The published rows, each checked to name its source, whether that is primary, and its protocol subset."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise OmniDiffError(f"{path}: unreadable reported numbers ({exc})") from None
    citations = dict(data.get("citations", {}))
    rows = list(data.get("rows", []))
    for i, row in enumerate(rows):
        what = f"{path}: row {i} ({row.get('model')}/{row.get('view')})" if isinstance(row, dict) else f"{path}: row {i}"
        if not isinstance(row, dict):
            raise OmniDiffError(f"{what}: not an object")
        if not row.get("source"):
            raise OmniDiffError(f"{what}: has no source (the citation key of the paper the numbers come from)")
        for key in ("source", "model_citation"):
            if key in row and row[key] not in citations:
                raise OmniDiffError(f"{what}: {key} {row[key]!r} is not in citations")
        if row.get("source_kind") not in SOURCE_KINDS:
            raise OmniDiffError(f"{what}: source_kind must be primary or secondary, not {row.get('source_kind')!r}")
        if not isinstance(row.get("subset"), str) or not row["subset"]:
            raise OmniDiffError(f"{what}: names no protocol subset (e.g. total)")
        if not isinstance(row.get("metrics"), dict) or not row["metrics"]:
            raise OmniDiffError(f"{what}: has no metrics")
    return rows, citations


def footnote(row: dict[str, Any], citations: dict[str, str]) -> str:
    """One footnote line of a reported row: its source, primary or secondary, and the protocol subset."""
    text = f"{citations[row['source']]} ({row['source_kind']} source; protocol subset: {row['subset']})"
    if row.get("model_citation") and row["model_citation"] != row["source"]:
        text += f"; {row['model']}: {citations[row['model_citation']]}"
    if row.get("note"):
        text += f"; {row['note']}"
    return text


def _sort_key(row: Row) -> tuple:
    cider = row.values.get("CIDEr")
    return (-(cider if cider is not None else -1.0), row.model)


def build_board(results: Path, include_reported: bool = True, benchmarks: set[str] | None = None) -> Board:
    """Collect every result under ``results`` (and the reported rows) into views; ``benchmarks`` narrows them."""
    from omnidiff.harness.results import read_results

    found = read_results(results)
    entries = found.entries
    if benchmarks is not None:
        entries = [e for e in entries if e.benchmark in benchmarks]
    views: dict[tuple[str, str], View] = {}

    def view(key: str, split: str) -> View:
        return views.setdefault((key, split), View(key, split))

    for entry in entries:
        scores = entry.scores
        notes = tuple(f"{k}: {v}" for k, v in sorted((scores.get("notes") or {}).items()))
        total = view(entry.benchmark, entry.split)
        total.rows.append(Row(entry.model, "reproduced", scaled(scores["metrics"]), scores.get("n"), notes=notes))
        per_type = {}
        own_tables = view_subsets(entry.benchmark)
        for name, sub in sorted((scores.get("subsets") or {}).items()):
            if not isinstance(sub, dict):
                continue
            if name in own_tables and sub.get("n"):
                dom = view(own_tables[name], entry.split)
                dom.rows.append(Row(entry.model, "reproduced", scaled(sub.get("metrics") or {}), sub.get("n"), notes=notes))
            if name.startswith("change_type/") and sub.get("n"):
                per_type[name.split("/", 1)[1]] = scaled(sub.get("metrics") or {})
        if per_type:
            total.change_types[entry.model] = per_type

    notes_of: dict[str, str] = {}  # footnote text -> itself, in first-use order
    if include_reported:
        reported, citations = load_reported()
        for item in reported:
            if benchmarks is not None and item["view"].partition("/")[0] not in benchmarks:
                continue
            values = {col: item["metrics"].get(col) for col in COLUMNS}
            note = footnote(item, citations)
            notes_of.setdefault(note, note)
            view(item["view"], item.get("split", "test")).rows.append(Row(item["model"], "reported", values, citation=note))
    ordered = sorted(views.values(), key=lambda v: (v.key, v.split))
    for v in ordered:
        v.rows = sorted(v.reproduced, key=_sort_key) + sorted(v.reported, key=_sort_key)
    return Board(ordered, notes_of, entries, list(found.skipped))
