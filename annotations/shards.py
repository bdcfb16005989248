"""Parquet shards: how the store writes them and reads them back.

Written with a CRC-32 in every page header (Parquet page checksums) and read with the checksums
verified, so a flipped bit in a page fails the read instead of changing a caption. Row groups hold at
most ``ROW_GROUP_ROWS`` pairs or ``ROW_GROUP_IMAGE_BYTES`` of images, so one pair is read without the
rest of its shard. PNG/JPEG bytes are stored uncompressed (they are compressed already; zstd on them
costs 4x in write and read time for nothing) and without min/max statistics (useless, and 3/4 of the
write time); metadata columns use zstd.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from annotations.durable import write_atomic
from annotations.errors import StoreError
from annotations.schema import IMAGE_COLUMNS, IMAGE_HASH_COLUMN, arrow_schema

ROW_GROUP_ROWS = 64
ROW_GROUP_IMAGE_BYTES = 8 << 20
SHARD_IMAGE_BYTES = 1 << 30  # Arrow binary offsets are int32; also a good file size for the hub
SHARD_ROWS = 16384  # keeps a shard's footer (one entry per row group) small when rows carry no images
DICTIONARY_COLUMNS = ("scene_id", "benchmark", "split", "domain", "setting", "native_change_type", "license", "source")
_LIST_COLUMNS = ("change_types", "captions")
_BOX_FIELDS = ("image", "label", "x0", "y0", "x1", "y1")


@dataclass(frozen=True)
class WrittenFile:
    bytes: int
    sha256: str


class _HashingSink:
    """A write-only file that hashes what passes through it (the shard's SHA-256 costs no second read)."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._sha = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data) -> int:
        view = memoryview(data)
        self._sha.update(view)
        self.size += view.nbytes
        return self._fh.write(view)

    def flush(self) -> None:
        self._fh.flush()

    def tell(self) -> int:
        return self.size

    def writable(self) -> bool:
        return True

    def close(self) -> None:  # the caller owns the file
        self.closed = True

    @property
    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def image_bytes_per_row(table: pa.Table) -> np.ndarray:
    sizes = np.zeros(table.num_rows, dtype=np.int64)
    for name in IMAGE_COLUMNS:
        if name in table.column_names:
            lengths = pc.binary_length(pc.struct_field(table.column(name), "bytes"))
            sizes += lengths.fill_null(0).to_numpy(zero_copy_only=False)
    return sizes


def cut_points(sizes: np.ndarray, max_bytes: int, max_rows: int) -> list[tuple[int, int]]:
    """Consecutive (start, stop) runs of rows, each within both limits (a single larger row stands alone)."""
    runs: list[tuple[int, int]] = []
    start, total = 0, 0
    for i, size in enumerate(sizes.tolist()):
        if i > start and (total + size > max_bytes or i - start >= max_rows):
            runs.append((start, i))
            start, total = i, 0
        total += size
    if start < len(sizes):
        runs.append((start, len(sizes)))
    return runs


def _writer_options(schema: pa.Schema, checksums: bool) -> dict[str, Any]:
    compression: dict[str, str] = {}
    for name in schema.names:
        if name in IMAGE_COLUMNS:
            compression[f"{name}.bytes"] = "none"
            compression[f"{name}.path"] = "zstd"
        elif name == IMAGE_HASH_COLUMN:
            for leaf in IMAGE_COLUMNS:
                compression[f"{name}.{leaf}"] = "zstd"
        elif name == "boxes":
            for leaf in _BOX_FIELDS:
                compression[f"boxes.list.element.{leaf}"] = "zstd"
        elif name in _LIST_COLUMNS:
            compression[f"{name}.list.element"] = "zstd"
        else:
            compression[name] = "zstd"
    return {
        "compression": compression,
        "use_dictionary": [c for c in DICTIONARY_COLUMNS if c in schema.names],
        "write_statistics": [c for c in schema.names if c not in IMAGE_COLUMNS and c != IMAGE_HASH_COLUMN],
        "write_page_checksum": checksums,
    }


class ShardWriter:
    """One Parquet file written from tables as they come; rows are regrouped into row groups within the
    limits above whatever the incoming tables' sizes (compaction feeds it many small pieces)."""

    def __init__(self, sink, schema: pa.Schema, checksums: bool = True) -> None:
        self.schema = schema
        self._writer = pq.ParquetWriter(sink, schema, **_writer_options(schema, checksums))
        self._pending: pa.Table | None = None
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        table = pa.Table.from_arrays(table.columns, schema=self.schema)
        self.rows += table.num_rows
        pending = table if self._pending is None else pa.concat_tables([self._pending, table])
        runs = cut_points(image_bytes_per_row(pending), ROW_GROUP_IMAGE_BYTES, ROW_GROUP_ROWS)
        for start, stop in runs[:-1]:
            self._writer.write_table(pending.slice(start, stop - start), row_group_size=stop - start)
        last = runs[-1][0] if runs else pending.num_rows
        self._pending = pending.slice(last) if last < pending.num_rows else None

    def close(self) -> None:
        if self._pending is not None and self._pending.num_rows:
            self._writer.write_table(self._pending, row_group_size=self._pending.num_rows)
        self._pending = None
        self._writer.close()


def write_shard(table: pa.Table, sink, checksums: bool = True) -> None:
    """Write ``table`` as one Parquet file into ``sink`` (a path or a binary file), row group by row group."""
    writer = ShardWriter(sink, table.schema, checksums)
    try:
        writer.write(table)
    finally:
        writer.close()


def write_shard_file(path: Path, fill: Callable[[ShardWriter], None], schema: pa.Schema,
                     checksums: bool = True) -> WrittenFile:
    """Commit one shard (``durable.write_atomic``) that ``fill`` writes into; returns its size and SHA-256
    (hashed as it is written) for the manifest."""

    def write(fh: BinaryIO) -> WrittenFile:
        sink = _HashingSink(fh)
        writer = ShardWriter(sink, schema, checksums)
        try:
            fill(writer)
        finally:
            writer.close()
        return WrittenFile(sink.size, sink.hexdigest)

    return write_atomic(path, write)


def type_text(dtype: pa.DataType) -> str:
    """A type with every nested field name (Arrow's equality ignores them); list items may be called
    ``item`` or ``element`` depending on the writer."""
    return str(dtype).replace("list<item: ", "list<element: ")


def schema_problems(actual: pa.Schema, version: int, columns: list[str] | None = None) -> list[str]:
    """How a shard's schema differs from the store schema of ``version`` (for ``columns``, else all)."""
    expected = arrow_schema(version)
    wanted = columns if columns is not None else expected.names
    problems = [f"lacks column {c!r}" for c in wanted if c in expected.names and c not in actual.names]
    problems += [f"{c} is {actual.field(c).type}, expected {expected.field(c).type}" for c in wanted
                 if c in expected.names and c in actual.names
                 and type_text(actual.field(c).type) != type_text(expected.field(c).type)]
    return problems


def _checked(rel: str, schema: pa.Schema, version: int | None, columns: list[str] | None) -> None:
    if version is None:
        return
    problems = schema_problems(schema, version, columns)
    if problems:
        raise StoreError(f"{rel}: the shard's schema differs from the store's ({problems[0]}); run omnidiff validate")


def check_shard_path(root: Path, rel: str) -> Path:
    """The shard file of a manifest entry; a symlink (which could lead anywhere) is refused."""
    path = root / rel
    if path.is_symlink():
        raise StoreError(f"{rel}: the shard is a symbolic link; a store holds its shards itself")
    return path


@contextmanager
def _reading(rel: str) -> Iterator[None]:
    """Read errors of a shard as one-line StoreErrors."""
    try:
        yield
    except FileNotFoundError:
        raise StoreError(f"{rel}: shard listed in the manifest is missing") from None
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"{rel}: cannot read shard ({one_line(exc)})") from None


def open_shard(root: Path, rel: str, version: int | None = None) -> pq.ParquetFile:
    """A shard opened for reading with page checksums verified; with ``version``, its schema checked too
    (a reader never hands out values of another type than the schema's)."""
    path = check_shard_path(root, rel)
    with _reading(rel):
        pf = pq.ParquetFile(path, page_checksum_verification=True)
    _checked(rel, pf.schema_arrow, version, None)
    return pf


def read_shard(root: Path, rel: str, columns: list[str] | None, version: int | None = None) -> pa.Table:
    path = check_shard_path(root, rel)
    with _reading(rel):
        table = pq.read_table(path, columns=columns, page_checksum_verification=True)
    _checked(rel, table.schema, version, columns)
    return table


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An Arrow error on one line: its first line (Arrow appends whole schema dumps after it), shortened."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
