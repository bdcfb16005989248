"""Full integrity check of a store. Read-only: it reports, it never repairs.

It reads the stored bytes (``annotated=False``): each shard's SHA-256 against the manifest, every
Parquet page against its CRC, the schema's column names, types and feature metadata, each row's
fields, each image's SHA-256, PNG chunk CRCs and a full decode, boxes against the image size, and the
annotation log's entries. Problems make ``omnidiff validate`` exit 1; notes are things a reader should
know that are not defects (the empty reference sentences that an imported benchmark keeps as published,
leftovers of an interrupted writer that the next writer removes, pairs waiting for a human caption).
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pyarrow.parquet as pq

from annotations.benchmark_names import is_benchmark_key
from annotations.layout import (
    ANNOTATION_LOG,
    DATA_DIR,
    MANIFEST,
    SCHEMA_VERSION_KEY,
    SHARDS_KEY,
    ShardInfo,
    add_counts,
    count_rows,
    empty_counts,
    leftover_files,
    parse_shard_entry,
)
from annotations.schema import (
    DOMAINS,
    IMAGE_COLUMNS,
    IMAGE_HASH_COLUMN,
    KNOWN_SCHEMA_VERSIONS,
    SPLITS,
    arrow_schema,
    columns_for,
    hf_features_dict,
    image_format,
    pair_id_problem,
    sha256_hex,
)
from annotations.shards import one_line, schema_problems
from annotations.taxonomy import TAXONOMY

BATCH_ROWS = 32
_HASH_BLOCK = 8 << 20
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class ValidationReport:
    pairs: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _png_structure_problem(data: bytes) -> str | None:
    """Every chunk's CRC, IHDR first, IEND last and nothing after it (PIL checks none of this on load)."""
    pos, first = len(_PNG_SIGNATURE), True
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            return f"PNG chunk {kind!r} runs past the end of the data (truncated)"
        if zlib.crc32(data[pos + 4:pos + 8 + length]) != struct.unpack(">I", data[end - 4:end])[0]:
            return f"PNG chunk {kind!r} at byte {pos} fails its CRC"
        if first and kind != b"IHDR":
            return "PNG does not start with an IHDR chunk"
        first = False
        if kind == b"IEND":
            return None if end == len(data) else f"{len(data) - end} bytes after the PNG's IEND chunk"
        pos = end
    return "PNG has no IEND chunk (truncated)"


def image_check(data: bytes | None) -> tuple[tuple[int, int] | None, str | None]:
    """(size, None) for a PNG or JPEG that is whole and fully decodes, else (None, what is wrong)."""
    from PIL import Image

    if not data:
        return None, "does not decode (empty image bytes)"
    fmt = image_format(data)
    if fmt is None:
        return None, f"is not PNG or JPEG (it starts with {bytes(data[:8])!r})"
    if fmt == "PNG":
        problem = _png_structure_problem(data)
        if problem:
            return None, f"does not decode ({problem})"
    elif not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return None, "does not decode (JPEG has no end-of-image marker: truncated)"
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != fmt:
                return None, f"does not decode as {fmt} (PIL reads {img.format})"
            img.load()
            return img.size, None
    except Exception as exc:  # PIL raises many types for corrupt data
        return None, f"does not decode ({type(exc).__name__}: {exc})"


def _is_imported(prov: dict[str, Any], benchmark: str) -> bool:
    """Imported benchmark pairs keep their source's references exactly as published."""
    return "importer" in prov or benchmark != "omnidiff"


def _file_sha256(path: Path) -> tuple[int, str]:
    sha, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            sha.update(block)
            size += len(block)
    return size, sha.hexdigest()


class _Validator:
    def __init__(self, root: Path, check_images: bool, progress: Callable[[int, int], None] | None = None,
                 check_file_hashes: bool = True) -> None:
        self.root = root
        self.check_images = check_images
        self.check_file_hashes = check_file_hashes
        self.progress = progress
        self.total = 0
        self.report = ValidationReport()
        self.seen: dict[str, str] = {}
        self.annotated: set[str] = set()
        self.counts = empty_counts()

    def problem(self, where: str, msg: str) -> None:
        self.report.problems.append(f"{where}: {msg}")

    def note(self, where: str, msg: str) -> None:
        self.report.notes.append(f"{where}: {msg}")

    def run(self) -> ValidationReport:
        if not self.root.is_dir():
            self.problem(str(self.root), "no such store folder")
            return self.report
        manifest = self._manifest()
        version = manifest.get(SCHEMA_VERSION_KEY) if manifest else None
        listed = self._listed_shards(manifest)
        self._data_folder({s.file for s in listed})
        self._annotation_log()
        self.total = sum(s.rows for s in listed)
        complete = True
        for shard in listed:
            complete &= self._shard(shard, version if version in KNOWN_SCHEMA_VERSIONS else None)
        if manifest is not None and complete and manifest.get("counts") != self.counts:
            self.problem(MANIFEST, f"stale manifest: counts {json.dumps(manifest.get('counts'), sort_keys=True)} "
                                   f"but the shards hold {json.dumps(self.counts, sort_keys=True)}")
        unknown = sorted(self.annotated - set(self.seen)) if complete else []
        if unknown:
            self.note(ANNOTATION_LOG, f"{len(unknown)} annotated pair(s) not in the store, e.g. {unknown[0]!r}")
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
        if not isinstance(manifest, dict) or not isinstance(manifest.get(SHARDS_KEY), list):
            self.problem(MANIFEST, "manifest has no shard list")
            return None
        version = manifest.get(SCHEMA_VERSION_KEY)
        if version not in KNOWN_SCHEMA_VERSIONS:
            self.problem(MANIFEST, f"schema version {version!r} is not one this toolkit knows {list(KNOWN_SCHEMA_VERSIONS)}")
        return manifest

    def _listed_shards(self, manifest: dict[str, Any] | None) -> list[ShardInfo]:
        if manifest is None:  # still check what is on disk
            data = self.root / DATA_DIR
            files = sorted(data.glob("*.parquet")) if data.is_dir() else []
            return [ShardInfo(f"{DATA_DIR}/{p.name}", p.name.split("-")[0], 0) for p in files]
        version = manifest.get(SCHEMA_VERSION_KEY)
        out: list[ShardInfo] = []
        for entry in manifest[SHARDS_KEY]:
            try:
                shard = parse_shard_entry(entry, version if version in KNOWN_SCHEMA_VERSIONS else 1)
            except ValueError as exc:
                self.problem(MANIFEST, f"malformed shard entry {json.dumps(entry)[:200]} ({exc})")
                continue
            if any(s.file == shard.file for s in out):
                self.problem(MANIFEST, f"shard {shard.file} is listed twice")
                continue
            out.append(shard)
        return out

    def _data_folder(self, listed: set[str]) -> None:
        leftovers = leftover_files(self.root, listed)
        for path in leftovers:
            rel = f"{DATA_DIR}/{path.name}"
            if path.name.endswith(".tmp"):
                self.note(rel, "temporary file of an interrupted append or compaction (removed by the next writer)")
            else:
                self.note(rel, "shard not in the manifest, left by an interrupted append or compaction (ignored; removed by the next writer)")
        data = self.root / DATA_DIR
        if data.is_dir():
            for path in sorted(set(data.iterdir()) - set(leftovers)):
                if f"{DATA_DIR}/{path.name}" not in listed:
                    self.note(f"{DATA_DIR}/{path.name}", "not a file of the store (ignored)")

    def _annotation_log(self) -> None:
        if not (self.root / ANNOTATION_LOG).is_file():
            return
        from annotations.annotation_log import AnnotationLog

        scan = AnnotationLog(self.root).scan()
        for line, reason in scan.malformed:
            self.problem(f"{ANNOTATION_LOG}: line {line}", f"malformed entry, never applied ({reason})")
        if scan.torn_lines:
            self.note(ANNOTATION_LOG, f"{scan.torn_lines} unreadable line(s) (a save interrupted mid-line; skipped)")
        self.annotated = {e["pair_id"] for e in scan.entries}

    # -- one shard ---------------------------------------------------------------------------------
    def _shard(self, shard: ShardInfo, version: int | None) -> bool:
        """Check one shard; True when its rows could all be read (so the counts can be compared)."""
        rel, path = shard.file, self.root / shard.file
        if path.is_symlink():
            self.problem(rel, "the shard is a symbolic link; a store holds its shards itself")
            return False
        if not path.is_file():
            self.problem(rel, "shard listed in the manifest is missing")
            return False
        if shard.sha256 is not None and self.check_file_hashes:
            size, digest = _file_sha256(path)
            if (size, digest) != (shard.bytes, shard.sha256):
                self.problem(rel, f"the shard's bytes differ from those written ({size} bytes, SHA-256 {digest[:12]}... "
                                  f"where the manifest records {shard.bytes} bytes, {shard.sha256[:12]}...)")
        try:
            pf = pq.ParquetFile(path, page_checksum_verification=True)
        except (OSError, pa.ArrowException) as exc:
            self.problem(rel, f"truncated or corrupt shard ({one_line(exc)})")
            return False
        shard_version = self._schema(rel, pf, version)
        if shard_version is None:
            return False
        if pf.metadata.num_rows != shard.rows and version is not None:
            self.problem(rel, f"manifest says {shard.rows} rows, shard holds {pf.metadata.num_rows}")
        columns = [c for c in columns_for(shard_version) if self.check_images or c not in IMAGE_COLUMNS]
        try:
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=columns):
                for row in batch.to_pylist():
                    self._row(rel, shard.split if version is not None else None, row)
                self.counts = add_counts(self.counts, count_rows(pa.Table.from_batches([batch])))
                if self.progress is not None:
                    self.progress(self.report.pairs, max(self.total, self.report.pairs))
        except (OSError, pa.ArrowException) as exc:
            self.problem(rel, f"truncated or corrupt shard ({one_line(exc)})")
            return False
        return True

    def _schema(self, rel: str, pf: pq.ParquetFile, manifest_version: int | None) -> int | None:
        """The shard's schema version when its columns, types and metadata are those of that version."""
        meta = pf.schema_arrow.metadata or {}
        try:
            version = json.loads(meta.get(b"omnidiff", b"{}")).get("schema_version")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            version = None
        if version not in KNOWN_SCHEMA_VERSIONS:
            self.problem(rel, f"shard schema version {version!r} is not one this toolkit knows {list(KNOWN_SCHEMA_VERSIONS)}")
            return None
        if manifest_version is not None and version != manifest_version:
            self.problem(rel, f"shard schema version {version} in a version {manifest_version} store")
        expected, actual = arrow_schema(version), pf.schema_arrow
        missing = [c for c in expected.names if c not in actual.names]
        if missing:
            self.problem(rel, f"shard lacks columns {missing}")
            return None
        extra = [c for c in actual.names if c not in expected.names]
        if extra:
            self.problem(rel, f"shard has columns the schema does not know {extra}")
        wrong = schema_problems(actual, version)
        if wrong:
            self.problem(rel, "column types differ from the schema: " + "; ".join(wrong))
            return None
        try:
            features = json.loads(meta.get(b"huggingface", b"{}")).get("info", {}).get("features")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            features = None
        if features != hf_features_dict(version):
            self.problem(rel, "the Hugging Face feature metadata differs from the schema (datasets would decode the columns wrongly)")
        return version

    # -- one row -----------------------------------------------------------------------------------
    def _row(self, rel: str, split: str | None, row: dict[str, Any]) -> None:
        self.report.pairs += 1
        pid = row.get("pair_id")
        if not pid:
            self.problem(rel, "a pair has no pair_id")
            return
        problem = pair_id_problem(pid)
        where = f"{rel}: pair {pid!r}" if problem else f"{rel}: pair {pid}"
        if problem:
            self.problem(where, problem)
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
        if not isinstance(prov, dict):
            self.problem(where, "provenance is not a JSON object")
            prov = {}
        if row.get("scene_diff") is not None:
            try:
                json.loads(row["scene_diff"])
            except json.JSONDecodeError:
                self.problem(where, "scene_diff is not valid JSON")
        self._captions(where, pid, row, prov)
        sizes = self._images(where, row) if self.check_images else {}
        self._boxes(where, row.get("boxes"), sizes)

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

    def _images(self, where: str, row: dict[str, Any]) -> dict[str, tuple[int, int]]:
        sizes: dict[str, tuple[int, int]] = {}
        hashes = row.get(IMAGE_HASH_COLUMN) if IMAGE_HASH_COLUMN in row else None
        if IMAGE_HASH_COLUMN in row and hashes is None:
            self.problem(where, f"{IMAGE_HASH_COLUMN} is missing")
        for col in IMAGE_COLUMNS:
            cell = row.get(col)
            data = cell.get("bytes") if cell else None
            if hashes is not None and sha256_hex(data) != hashes.get(col):
                self.problem(where, f"{col} bytes do not match their SHA-256 in {IMAGE_HASH_COLUMN}")
            if data is None:
                if col in ("image_before", "image_after"):
                    self.problem(where, f"{col} is missing")
                continue
            size, err = image_check(data)
            if err:
                self.problem(where, f"{col} {err}")
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
        return sizes

    def _boxes(self, where: str, boxes: list[dict[str, Any]] | None, sizes: dict[str, tuple[int, int]]) -> None:
        """A box is (x0, y0, x1, y1) with x1, y1 exclusive, inside the image it is drawn on."""
        for i, box in enumerate(boxes or []):
            image = box.get("image")
            coords = [box.get(k) for k in ("x0", "y0", "x1", "y1")]
            if image not in ("before", "after"):
                self.problem(where, f"box {i}: image {image!r} is neither 'before' nor 'after'")
                continue
            if any(v is None for v in coords):
                self.problem(where, f"box {i}: missing coordinates {coords}")
                continue
            x0, y0, x1, y1 = coords
            size = sizes.get(f"image_{image}")
            bad = not (0 <= x0 < x1 and 0 <= y0 < y1)
            if size is not None:
                bad = bad or x1 > size[0] or y1 > size[1]
            if bad:
                inside = f" inside the {size[0]}x{size[1]} {image} image" if size else ""
                self.problem(where, f"box {i} ({x0}, {y0}, {x1}, {y1}) is not a box{inside}")


def validate_store(root: str | Path, check_images: bool = True,
                   progress: Callable[[int, int], None] | None = None, *, check_file_hashes: bool = True) -> ValidationReport:
    """``progress(done, total)`` is called after each batch of rows (for a progress bar).

    ``check_file_hashes=False`` leaves out the comparison of each shard's SHA-256 with the manifest, to
    see what the finer checks (page CRCs, image hashes, schema, rows) find on their own.
    """
    return _Validator(Path(root), check_images, progress, check_file_hashes).run()

