"""``omnidiff merge STORE... --out STORE``: join stores of one schema version into a new store, atomically.

The use: ``omnidiff render --shard I/N`` on N machines (no Ray), then one merge; the result holds the
rows one unsharded run would hold (same pair ids, bytes and captions). Shard files are copied byte for
byte (each checked against the SHA-256 its manifest records) under new names, in input order, and the
pair-id index is built as they land. The new store is built in a hidden folder beside ``--out`` and
renamed onto it when complete (``durable.replace_folder``): a kill leaves no ``--out`` at all, never half
of one. The inputs are only read, under their writer locks (a render still writing into one is refused).

Refused, with one line naming the stores, before anything is written: a pair id in two inputs, mixed
schema versions (``omnidiff compact`` upgrades the older ones), mixed generator versions (the same seed
would not give the same pairs), and manifests that disagree on what the store is (``info.benchmark``...).

Annotation logs are carried over: each input's valid entries for the pairs it holds, in their order, renumbered
into one log, so the merged store shows the same annotated captions and keeps every annotator's history.
Torn lines, malformed entries and entries for pairs their store does not hold are left out and counted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from annotations import shards as shard_io
from annotations.annotation_log import LOG_RELPATH, AnnotationLog, entry_line
from annotations.durable import discard_folder, replace_folder, staging_folder, write_atomic
from annotations.errors import StoreError
from annotations.layout import COUNTS_KEY, LOCK, NEXT_SHARD_KEY, SCHEMA_VERSION_KEY, ShardInfo, count_rows, enclosing_store, shard_file
from annotations.locks import exclusive
from annotations.store import Store

Progress = Callable[[int, int], None]
RENDER_KEY = "render"
COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class MergeSummary:
    stores: int
    pairs: int
    shards: int
    log_entries: int  # annotation entries carried over
    log_left_out: int  # torn lines, malformed entries, entries for pairs their store does not hold


def _check_paths(roots: list[Path], out: Path) -> None:
    if not roots:
        raise StoreError("merge: name at least one store")
    resolved = [r.resolve() for r in roots]
    for i, r in enumerate(resolved):
        if r in resolved[:i]:
            raise StoreError(f"merge: {roots[i]} is named twice")
    target = out.resolve()
    for root, r in zip(roots, resolved):
        if target == r:
            raise StoreError(f"merge: --out {out} is one of the input stores; choose a new folder")
        if r in target.parents:
            raise StoreError(f"merge: --out {out} is inside the input store {root}; choose a new folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StoreError(f"merge: --out {out} already exists and is not an empty folder; choose a new --out")
    holder = enclosing_store(out.parent)
    if holder is not None:
        raise StoreError(f"merge: --out {out} is inside the store {holder}; choose a folder outside it")


def _named(stores: list[Store], values: list[Any]) -> str:
    return ", ".join(f"{s.root} ({v})" for s, v in zip(stores, values))


def _check_same(stores: list[Store]) -> None:
    versions = [s.schema_version for s in stores]
    if len(set(versions)) > 1:
        raise StoreError(f"merge: mixed schema versions: {_named(stores, versions)}; "
                         "run omnidiff compact on the older ones first (it upgrades them)")
    generated = [(s, (s.info.get(RENDER_KEY) or {}).get("generator_version")) for s in stores]
    generated = [(s, v) for s, v in generated if v is not None]
    if len({v for _, v in generated}) > 1:
        raise StoreError(f"merge: mixed generator versions: {_named([s for s, _ in generated], [v for _, v in generated])}; "
                         "render every part with one version")


def merged_info(stores: list[Store]) -> dict[str, Any]:
    """The inputs' manifest info as one: render runs and failed scenes joined, lists concatenated, the rest
    equal in every input that has it (else refused: the stores are not parts of one thing)."""
    info: dict[str, Any] = {}
    holders: dict[str, list[tuple[Store, Any]]] = {}
    for store in stores:
        for key, value in store.info.items():
            holders.setdefault(key, []).append((store, value))
    for key, held in holders.items():
        values = [v for _, v in held]
        if key == RENDER_KEY:
            info[key] = _merged_render([v for v in values if isinstance(v, dict)])
        elif all(isinstance(v, list) for v in values):
            info[key] = [item for v in values for item in v]
        elif any(v != values[0] for v in values):
            raise StoreError(f"merge: the stores disagree on info.{key}: {_named([s for s, _ in held], [repr(v)[:80] for v in values])}")
        else:
            info[key] = values[0]
    info["merged_from"] = [{"store": str(s.root.resolve()), "name": s.name, "pairs": len(s)} for s in stores]
    return info


def _merged_render(parts: list[dict[str, Any]]) -> dict[str, Any]:
    render: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key not in ("runs", "failed"):
                render.setdefault(key, value)  # generator version checked equal; bpy version of the first
    render["runs"] = [run for part in parts for run in part.get("runs", [])]
    render["failed"] = dict(sorted({sid: why for part in parts for sid, why in (part.get("failed") or {}).items()}.items()))
    return render


def _pair_ids(stores: list[Store]) -> dict[tuple[int, str], list[str]]:
    """(input number, shard file) -> its pair ids; refuses a pair id held twice."""
    held: dict[str, int] = {}
    out: dict[tuple[int, str], list[str]] = {}
    for n, store in enumerate(stores):
        for shard in store.shards:
            ids = store._shard_ids(shard)
            for pid in ids:
                first = held.setdefault(pid, n)
                if first != n:
                    raise StoreError(f"merge: pair id {pid!r} is in both {stores[first].root} and {store.root}")
            out[(n, shard.file)] = ids
    return out


def _copy_shard(store: Store, shard: ShardInfo, dest: Path) -> None:
    source = shard_io.check_shard_path(store.root, shard.file)

    def copy(fh: BinaryIO) -> tuple[int, str]:
        digest, size = hashlib.sha256(), 0
        with open(source, "rb") as src:
            for chunk in iter(lambda: src.read(COPY_CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                fh.write(chunk)
        return size, digest.hexdigest()

    try:
        size, sha = write_atomic(dest, copy)
    except FileNotFoundError:
        raise StoreError(f"merge: {store.root}: shard {shard.file} listed in the manifest is missing") from None
    if shard.sha256 is not None and (sha != shard.sha256 or size != shard.bytes):
        raise StoreError(f"merge: {store.root}: shard {shard.file} does not match the SHA-256 its manifest records "
                         f"(run omnidiff validate {store.root}); nothing was written")


def _merged_log(stores: list[Store], ids: dict[tuple[int, str], list[str]]) -> tuple[list[dict[str, Any]], int]:
    entries: list[dict[str, Any]] = []
    left_out = 0
    for n, store in enumerate(stores):
        scan = AnnotationLog(store.root).scan()
        left_out += scan.torn_lines + len(scan.malformed)
        mine = {pid for (m, _), pids in ids.items() if m == n for pid in pids}
        ordered = sorted(enumerate(scan.entries), key=lambda e: (e[1].get("seq", -1), e[0]))  # the log's own order
        for _, entry in ordered:
            if entry["pair_id"] in mine:
                entries.append({**entry, "seq": len(entries) + 1})
            else:
                left_out += 1
    return entries, left_out


def _build(staging: Path, name: str, stores: list[Store], info: dict[str, Any], ids: dict[tuple[int, str], list[str]],
           progress: Progress | None) -> MergeSummary:
    store = Store.create(staging, name=name, info=info)
    store.manifest[SCHEMA_VERSION_KEY] = stores[0].schema_version
    index = store._writer_index()
    total = sum(len(s.shards) for s in stores)
    shards: list[ShardInfo] = []
    for n, source in enumerate(stores):
        for shard in source.shards:
            new = ShardInfo(shard_file(shard.split, len(shards)), shard.split, shard.rows, shard.bytes, shard.sha256)
            _copy_shard(source, shard, staging / new.file)
            index.add(new, ids[(n, shard.file)])
            shards.append(new)
            if progress is not None:
                progress(len(shards), total)
    store._shards = shards
    store.manifest[NEXT_SHARD_KEY] = len(shards)
    store.manifest[COUNTS_KEY] = count_rows(store.table(["split", "domain", "change_types"], annotated=False))
    store._write_manifest()
    entries, left_out = _merged_log(stores, ids)
    if entries:
        write_atomic(staging / LOG_RELPATH, b"".join(entry_line(e) for e in entries))
    pairs = len(store)
    store.close()
    return MergeSummary(len(stores), pairs, len(shards), len(entries), left_out)


def merge_stores(inputs: Sequence[str | Path], out: str | Path, progress: Progress | None = None) -> MergeSummary:
    """Join ``inputs`` into the new store ``out``; ``progress(done, total)`` counts shards copied."""
    roots, out = [Path(p) for p in inputs], Path(out)
    _check_paths(roots, out)
    with ExitStack() as held:
        for root in roots:
            try:
                Store.open(root)  # a folder that is not a store is refused before any lock file is made in it
            except StoreError as exc:
                raise StoreError(f"merge: {exc}") from None
            held.enter_context(exclusive(root / LOCK, "omnidiff merge (reading)", f"store {root}"))
        stores = [Store.open(root) for root in roots]  # read under the locks: no writer is half-way
        _check_same(stores)
        info = merged_info(stores)
        ids = _pair_ids(stores)
        staging = staging_folder(out)
        try:
            summary = _build(staging, out.name, stores, info, ids, progress)
            replace_folder(staging, out)
        except FileExistsError:
            discard_folder(staging)
            raise StoreError(f"merge: --out {out} was made by someone else meanwhile; nothing was written") from None
        except BaseException:
            discard_folder(staging)
            raise
    return summary
