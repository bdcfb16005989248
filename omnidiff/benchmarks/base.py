"""What every benchmark loader shares: the interface, safe file names, and atomic preparation.

A loader turns its native layout into a list of :class:`PlannedPair` (annotations checked, image
files located, nothing written yet); :meth:`Benchmark.prepare` then writes them into a store
built in a hidden sibling folder that is renamed to ``out`` only when complete, so a failure
leaves no half-made store behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Sequence

from annotations import SPLITS, PairRecord, Store
from annotations.benchmark_names import benchmark_label
from annotations.data_root import benchmark_store, is_store
from annotations.schema import as_stored_format
from annotations.errors import OmniDiffError
from annotations.safe_paths import escape_reason, relative_parts
from omnidiff.benchmarks.staging import check_new_folder, staged_folder

BATCH_PAIRS = 500
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
ProgressFn = Callable[[int, int], None]


class BenchmarkError(OmniDiffError):
    """A native benchmark download that cannot be read as expected."""


@dataclass
class PlannedPair:
    """One pair of a native download, before its images are read."""

    pair_id: str
    scene_id: str
    split: str
    before: Path
    after: Path
    captions: list[str]
    domain: str = "real"
    setting: str | None = None
    change_types: list[str] = field(default_factory=list)
    native_change_type: str | None = None
    distractor: bool = False
    provenance: dict[str, Any] = field(default_factory=dict)
    license: str | None = None
    source: str | None = None

    def to_record(self, benchmark: str) -> PairRecord:
        return PairRecord(
            pair_id=self.pair_id, scene_id=self.scene_id, benchmark=benchmark, split=self.split,
            domain=self.domain, setting=self.setting, image_before=_read_image(self.before),
            image_after=_read_image(self.after), captions=list(self.captions),
            change_types=list(self.change_types), native_change_type=self.native_change_type,
            distractor=self.distractor, provenance=self.provenance, license=self.license, source=self.source,
        )


def _read_image(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BenchmarkError(f"{path}: cannot read image ({exc.strerror or exc})") from None
    if not data:
        raise BenchmarkError(f"{path}: image file is empty")
    try:
        return as_stored_format(data)  # a GIF or WEBP becomes PNG: the store holds PNG and JPEG only
    except Exception as exc:  # PIL raises several types for bytes that are no image
        raise BenchmarkError(f"{path}: not an image PIL can read ({type(exc).__name__})") from None


def safe_path(root: Path, name: Any, what: str) -> Path:
    """``root / name`` for a relative file name from an annotation file; refuses escapes, by name
    (absolute, ``..``) or through a symlink (one leading outside ``root``, or a loop)."""
    path = root.joinpath(*relative_parts(name, what, BenchmarkError))
    reason = escape_reason(root, path)
    if reason is not None:
        raise BenchmarkError(f"{what}: {path} is {reason}; refused (files must stay inside the source)")
    return path


def read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise BenchmarkError(f"{path}: {what} not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BenchmarkError(f"{path}: {what} is not valid JSON ({exc})") from None


def check_splits(splits: Sequence[str] | None) -> list[str]:
    chosen = list(SPLITS) if not splits else list(dict.fromkeys(splits))
    bad = [s for s in chosen if s not in SPLITS]
    if bad:
        raise BenchmarkError(f"unknown split {bad[0]!r}: expected {', '.join(SPLITS)}")
    return chosen


class Benchmark:
    """A benchmark, declared whole in its own module: where it comes from, how it is read and written in its
    native layout, how its references and protocol subsets are formed, which subset papers publish, and
    the prompt its pairs are captioned with. Registered with one line in :mod:`omnidiff.benchmarks.registry`.
    """

    name: ClassVar[str]  # the key: store rows, results folders, the registry
    title: ClassVar[str]
    short_title: ClassVar[str]  # the leaderboard's table name
    citation: ClassVar[str]
    url: ClassVar[str]
    split_sizes: ClassVar[dict[str, int]]
    protocol: ClassVar[str]
    prompt: ClassVar[str]  # what a model is asked for each pair (the one prompt registry)
    sizes_note: ClassVar[str] = ""
    headline: ClassVar[str] = "total"  # the protocol subset that papers publish as the benchmark's number
    headline_note: ClassVar[str] = "all pairs of the split"
    # protocol subsets that the leaderboard shows as tables of their own: subset -> table title
    table_views: ClassVar[dict[str, str]] = {}
    source_hint: ClassVar[str] = "the native download"  # what ``prepare --source`` expects
    export_format: ClassVar[str | None] = None  # the ``omnidiff export --format`` name of the native layout

    @property
    def label(self) -> str:
        return benchmark_label(self.name)
    training_only: ClassVar[bool] = False  # a training source (M3Diff's mixture) with no evaluation protocol here

    # -- reading the native layout ----------------------------------------------------------
    def plan(self, source: Path, splits: list[str]) -> list[PlannedPair]:
        raise NotImplementedError

    def prepare(
        self, source: Path, out: Path, *, splits: Sequence[str] | None = None, progress: ProgressFn | None = None
    ) -> Store:
        """Convert a native download at ``source`` into a new store at ``out``."""
        source, out = Path(source), Path(out)
        if not source.exists():
            raise BenchmarkError(f"{source}: no such folder")
        check_new_folder(out)
        chosen = check_splits(splits)
        planned = self.plan(source, chosen)
        if not planned:
            raise BenchmarkError(f"{source}: no pairs found for split(s) {', '.join(chosen)}")
        missing = [p for pair in planned for p in (pair.before, pair.after) if not p.is_file()]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise BenchmarkError(f"image file not found: {missing[0]}{more}")
        batches = (
            [pair.to_record(self.name) for pair in planned[start:start + BATCH_PAIRS]]
            for start in range(0, len(planned), BATCH_PAIRS)
        )
        return self._write_store(out, source, chosen, batches, len(planned), progress)

    def _write_store(self, out: Path, source: Path, splits: list[str], batches: Iterable[list[PairRecord]],
                     total: int, progress: ProgressFn | None) -> Store:
        """Write record batches into a hidden staging store, renamed to ``out`` when complete."""
        with staged_folder(out, "preparing") as staging:
            store = Store.create(staging, name=self.name, info={
                "benchmark": self.name, "source": str(source.resolve()), "splits": splits,
                "citation": self.citation, "url": self.url,
            })
            done = 0
            for batch in batches:
                store.append(batch)
                done += len(batch)
                if progress:
                    progress(done, total)
            store.close()  # its index file is complete before the folder is committed
        return Store.open(out)

    # -- writing the native layout ------------------------------------------------------------
    def export(self, store: Store, out: Path) -> "ExportSummary":
        """Write ``store``'s pairs of this benchmark in the native layout (benchmarks with ``export_format``)."""
        raise BenchmarkError(f"{self.label} has no native export")

    # -- where its stores are found under a data root ------------------------------------------
    def stores_under(self, data_root: Path) -> list[Path]:
        """The stores of this benchmark under ``data_root`` (``benchmarks prepare`` writes them there)."""
        folder = benchmark_store(data_root, self.name)
        return [folder] if is_store(folder) else []

    def prepare_hint(self, root_option: str = "") -> str:
        """The command that puts this benchmark's store under the data root (``root_option``: `` --data-root X``)."""
        return f"omnidiff benchmarks prepare {self.label} --source PATH{root_option} (PATH: {self.source_hint}; {self.url})"

    # -- other groups' prediction files -------------------------------------------------------
    def id_candidates(self, foreign_id: str) -> list[str]:
        """Pair ids that a prediction file's id may stand for (the published code's id styles), best first."""
        return [foreign_id[: -len(suffix)] for suffix in IMAGE_SUFFIXES if foreign_id.endswith(suffix)]

    # -- the scoring protocol ---------------------------------------------------------------
    def references(self, record: PairRecord) -> list[str]:
        """Every caption of the pair is a reference (empty sentences kept, as published)."""
        return list(record.captions)

    def subsets(self, records: list[PairRecord]) -> dict[str, list[str]]:
        return {"total": [r.pair_id for r in records]}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name, "label": self.label, "title": self.title, "citation": self.citation,
            "url": self.url, "split_sizes": dict(self.split_sizes), "sizes_note": self.sizes_note,
            "protocol": self.protocol, "headline": self.headline, "headline_note": self.headline_note,
            "export_format": self.export_format, "prompt": self.prompt,
            "training_only": self.training_only,
        }


@dataclass
class ExportSummary:
    """What a native export wrote, and what it left out and why (reason -> count)."""

    out: Path
    items: int
    skipped: dict[str, int] = field(default_factory=dict)

    def skipped_text(self) -> str:
        return "; ".join(f"{n} {reason}" for reason, n in self.skipped.items()) or "nothing skipped"


def change_type_subsets(records: list[PairRecord], keys: Sequence[str] | None = None) -> dict[str, list[str]]:
    """``change_type/<key>`` -> pairs listing that key; ``keys`` fixes the order (and the empty ones)."""
    found = sorted({ct for r in records for ct in r.change_types}) if keys is None else list(keys)
    return {f"change_type/{k}": [r.pair_id for r in records if k in r.change_types] for k in found}


def semantic_distractor_subsets(records: list[PairRecord], semantic_keys: Sequence[str]) -> dict[str, list[str]]:
    """The CLEVR protocols: total, semantic, distractor, and per change type over the semantic pairs."""
    semantic = [r for r in records if not r.distractor]
    out = {
        "total": [r.pair_id for r in records],
        "semantic": [r.pair_id for r in semantic],
        "distractor": [r.pair_id for r in records if r.distractor],
    }
    out.update(change_type_subsets(semantic, semantic_keys))
    return out
