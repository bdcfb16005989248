"""Full integrity check of a store. Read-only: it reports, it never repairs.

Problems make ``omnidiff validate`` exit 1; notes are things a reader should know that are not
defects (the empty reference sentences that an imported benchmark keeps as published, leftovers of
an interrupted append that the next append removes, pairs waiting for a human caption).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pyarrow.parquet as pq

from annotations.benchmark_names import is_benchmark_key
from annotations.schema import (
    COLUMNS,
    DOMAINS,
    IMAGE_COLUMNS,
    KNOWN_SCHEMA_VERSIONS,
    SPLITS,
)
from annotations.store import ANNOTATION_LOG, DATA_DIR, MANIFEST, count_rows, leftover_files
from annotations.taxonomy import TAXONOMY

BATCH_ROWS = 32


@dataclass
class ValidationReport:
    pairs: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _image_size(data: bytes | None) -> tuple[tuple[int, int] | None, str | None]:
    """(size, None) for an image that fully decodes, else (None, reason)."""
    from PIL import Image

    if not data:
        return None, "empty image bytes"
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return img.size, None
    except Exception as exc:  # PIL raises many types for corrupt data
        return None, f"{type(exc).__name__}: {exc}".strip()


def _is_imported(prov: dict[str, Any], benchmark: str) -> bool:
    """Imported benchmark pairs keep their source's references exactly as published."""
    return "importer" in prov or benchmark != "omnidiff"


class _Validator:
    def __init__(self, root: Path, check_images: bool, progress: Callable[[int, int], None] | None = None) -> None:
        self.root = root
        self.check_images = check_images
        self.progress = progress
        self.total = 0
        self.report = ValidationReport()
        self.seen: dict[str, str] = {}
        self.annotated: set[str] = set()

    def problem(self, where: str, msg: str) -> None:
        self.report.problems.append(f"{where}: {msg}")

    def note(self, where: str, msg: str) -> None:
        self.report.notes.append(f"{where}: {msg}")

    def run(self) -> ValidationReport:
        if not self.root.is_dir():
            self.problem(str(self.root), "no such store folder")
            return self.report
        manifest = self._manifest()
        listed = self._listed_shards(manifest)
        self._leftovers(listed)
        if (self.root / ANNOTATION_LOG).is_file():
            from annotations.annotation_log import AnnotationLog

            self.annotated = set(AnnotationLog(self.root).latest())
        counted: list[pa.Table] = []
        self.total = sum(rows or 0 for _, _, rows in listed)
        for rel, split, rows in listed:
            table = self._shard(rel, split, rows)
            if table is not None:
                counted.append(table)
        if manifest is not None and counted and len(counted) == len(listed):
            actual = count_rows(pa.concat_tables(counted))
            if actual != manifest.get("counts"):
                self.problem(MANIFEST, f"stale manifest: counts {json.dumps(manifest.get('counts'), sort_keys=True)} "
                                       f"but the shards hold {json.dumps(actual, sort_keys=True)}")
        return self.report

    def _manifest(self) -> dict[str, Any] | None:
        path = self.root / MANIFEST
        if not path.is_file():
            self.problem(MANIFEST, "manifest is missing")
            return None
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            self.problem(MANIFEST, f"manifest is not valid JSON ({exc})")
            return None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("shards"), list):
            self.problem(MANIFEST, "manifest has no shard list")
            return None
        version = manifest.get("schema_version")
        if version not in KNOWN_SCHEMA_VERSIONS:
            self.problem(MANIFEST, f"schema version {version!r} is not one this toolkit knows {list(KNOWN_SCHEMA_VERSIONS)}")
        return manifest

    def _listed_shards(self, manifest: dict[str, Any] | None) -> list[tuple[str, str | None, int | None]]:
        if manifest is None:  # still check what is on disk
            data = self.root / DATA_DIR
            return [(f"{DATA_DIR}/{p.name}", None, None) for p in sorted(data.glob("*.parquet"))] if data.is_dir() else []
        out = []
        for entry in manifest["shards"]:
            try:
                out.append((str(entry["file"]), str(entry["split"]), int(entry["rows"])))
            except (KeyError, TypeError, ValueError):
                self.problem(MANIFEST, f"malformed shard entry {entry!r}")
        return out

    def _leftovers(self, listed: list[tuple[str, str | None, int | None]]) -> None:
        for path in leftover_files(self.root, {rel for rel, _, _ in listed}):
            rel = f"{DATA_DIR}/{path.name}"
            if path.name.endswith(".tmp"):
                self.note(rel, "temporary file of an interrupted append (removed by the next append)")
            else:
                self.note(rel, "shard not in the manifest, left by an interrupted append (ignored; removed by the next append)")

    def _shard(self, rel: str, split: str | None, rows: int | None) -> pa.Table | None:
        path = self.root / rel
        if not path.is_file():
            self.problem(rel, "shard listed in the manifest is missing")
            return None
        try:
            pf = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            self.problem(rel, f"truncated or corrupt shard ({exc})")
            return None
        missing = [c for c in COLUMNS if c not in pf.schema_arrow.names]
        if missing:
            self.problem(rel, f"shard lacks columns {missing}")
            return None
        meta = pf.schema_arrow.metadata or {}
        try:
            version = json.loads(meta.get(b"omnidiff", b"{}")).get("schema_version")
        except json.JSONDecodeError:
            version = None
        if version not in KNOWN_SCHEMA_VERSIONS:
            self.problem(rel, f"shard schema version {version!r} is not one this toolkit knows {list(KNOWN_SCHEMA_VERSIONS)}")
        if rows is not None and pf.metadata.num_rows != rows:
            self.problem(rel, f"manifest says {rows} rows, shard holds {pf.metadata.num_rows}")
        columns = list(COLUMNS) if self.check_images else [c for c in COLUMNS if c not in IMAGE_COLUMNS]
        kept: list[pa.Table] = []
        try:
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=columns):
                for row in batch.to_pylist():
                    self._row(rel, split, row)
                if self.progress is not None:
                    self.progress(self.report.pairs, max(self.total, self.report.pairs))
                kept.append(pa.Table.from_batches([batch]).select(["split", "domain", "change_types"]))
        except (OSError, pa.ArrowException) as exc:
            self.problem(rel, f"truncated or corrupt shard ({exc})")
            return None
        return pa.concat_tables(kept) if kept else pf.schema_arrow.empty_table().select(["split", "domain", "change_types"])

    def _row(self, rel: str, split: str | None, row: dict[str, Any]) -> None:
        self.report.pairs += 1
        pid = row.get("pair_id")
        where = f"{rel}: pair {pid}"
        if not pid:
            self.problem(rel, "a pair has no pair_id")
            return
        if pid in self.seen:
            self.problem(where, f"duplicate pair id (also in {self.seen[pid]})")
        else:
            self.seen[pid] = rel
        if row.get("split") not in SPLITS:
            self.problem(where, f"unknown split {row.get('split')!r}")
        elif split is not None and row["split"] != split:
            self.problem(where, f"split {row['split']!r} in a {split!r} shard")
        if not is_benchmark_key(row.get("benchmark")):
            self.problem(where, f"benchmark {row.get('benchmark')!r} is not a benchmark key (e.g. clevr_change)")
        if row.get("domain") not in DOMAINS:
            self.problem(where, f"unknown domain {row.get('domain')!r}")
        for ct in row.get("change_types") or []:
            if ct not in TAXONOMY:
                self.problem(where, f"unknown change type {ct!r}")
        try:
            prov = json.loads(row.get("provenance") or "{}")
        except json.JSONDecodeError:
            self.problem(where, "provenance is not valid JSON")
            prov = {}
        if row.get("scene_diff") is not None:
            try:
                json.loads(row["scene_diff"])
            except json.JSONDecodeError:
                self.problem(where, "scene_diff is not valid JSON")
        self._captions(where, pid, row, prov)
        if self.check_images:
            self._images(where, row)

    def _captions(self, where: str, pid: str, row: dict[str, Any], prov: dict[str, Any]) -> None:
        captions = row.get("captions") or []
        if not captions:
            if pid in self.annotated:
                return
            if prov.get("awaiting_annotation"):
                self.note(where, "awaiting a human caption")
            else:
                self.problem(where, "empty caption list")
            return
        empty = sum(1 for c in captions if not (c or "").strip())
        if empty:
            if _is_imported(prov, row.get("benchmark", "")):
                self.note(where, f"{empty} empty reference sentence(s) kept as in the source benchmark")
            else:
                self.problem(where, f"{empty} empty caption(s)")

    def _images(self, where: str, row: dict[str, Any]) -> None:
        sizes: dict[str, tuple[int, int]] = {}
        for col in IMAGE_COLUMNS:
            cell = row.get(col)
            data = cell.get("bytes") if cell else None
            if data is None:
                if col in ("image_before", "image_after"):
                    self.problem(where, f"{col} is missing")
                continue
            size, err = _image_size(data)
            if err:
                self.problem(where, f"{col} does not decode ({err})")
            else:
                sizes[col] = size
        before, after = sizes.get("image_before"), sizes.get("image_after")
        if before and after and before != after:
            msg = f"before and after differ in size ({before[0]}x{before[1]} vs {after[0]}x{after[1]})"
            if row.get("domain") == "real":  # photographs (IEdit, scraped pairs) legitimately do; renders never
                self.note(where, msg)
            else:
                self.problem(where, msg)
        for mask, image in (("mask_before", before), ("mask_after", after)):
            msize = sizes.get(mask)
            if msize and image and msize != image:
                self.problem(where, f"{mask} is {msize[0]}x{msize[1]} but the image is {image[0]}x{image[1]}")


def validate_store(root: str | Path, check_images: bool = True,
                   progress: Callable[[int, int], None] | None = None) -> ValidationReport:
    """``progress(done, total)`` is called after each batch of rows (for a progress bar)."""
    return _Validator(Path(root), check_images, progress).run()
