"""What every benchmark loader shares: the interface, safe file names, and atomic preparation.

A loader turns its native layout into a list of :class:`PlannedPair` (annotations checked, image
files located, nothing written yet); :meth:`Benchmark.prepare` then writes them into a store
built in a hidden sibling folder that is renamed to ``out`` only when complete, so a failure
leaves no half-made store behind.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Sequence

from annotations import SPLITS, PairRecord, Store
from annotations.durable import replace_folder
from annotations.schema import as_stored_format
from annotations.errors import OmniDiffError
from annotations.safe_paths import escape_reason, relative_parts

BATCH_PAIRS = 500
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
    """A benchmark: where it comes from, how it is read, how its references and subsets are formed."""

    name: ClassVar[str]
    title: ClassVar[str]
    citation: ClassVar[str]
    url: ClassVar[str]
    split_sizes: ClassVar[dict[str, int]]
    protocol: ClassVar[str]
    sizes_note: ClassVar[str] = ""
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
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise BenchmarkError(f"{out}: already exists and is not an empty folder; choose a new --out")
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
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = out.parent / f".{out.name}.preparing-{uuid.uuid4().hex[:8]}"
        try:
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
            store.close()
            replace_folder(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return Store.open(out)

    # -- the scoring protocol ---------------------------------------------------------------
    def references(self, record: PairRecord) -> list[str]:
        """Every caption of the pair is a reference (empty sentences kept, as published)."""
        return list(record.captions)

    def subsets(self, records: list[PairRecord]) -> dict[str, list[str]]:
        return {"total": [r.pair_id for r in records]}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "citation": self.citation, "url": self.url,
            "split_sizes": dict(self.split_sizes), "sizes_note": self.sizes_note, "protocol": self.protocol,
            "training_only": self.training_only,
        }


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
