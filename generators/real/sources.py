"""Finding before/after pairs in a folder (by naming convention) or in a CSV/JSONL manifest.

Folder conventions, per directory (sub-directories are scanned too, each one a scene):
``X_before.*`` + ``X_after.*``; ``X.*`` + ``X_2.*`` (Spot-the-Diff); or two sub-folders ``before/`` and
``after/`` (also ``bef/`` + ``aft/``) holding files with the same stem. An image that fits none of
them is an error: a silently skipped file is a lost pair.

Nothing outside the source is read: manifest paths are relative to the manifest's folder (or a
root the user names) and never absolute or climbing; a symlink that leads outside the source, a
symlink loop (``loop/up -> ..``) or a folder reached twice is refused and reported, never followed.
Every text that goes into the store (names, captions, licences) must be valid UTF-8.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from annotations import TAXONOMY
from annotations import jsonl
from annotations.errors import OmniDiffError
from annotations.safe_paths import escape_reason, relative_parts
from generators.real.media import is_image_file

FOLDER_PAIRS = (("before", "after"), ("bef", "aft"))
MANIFEST_SUFFIXES = (".csv", ".jsonl")


@dataclass
class PairSource:
    """One pair to ingest, as found on disk."""

    name: str  # readable id: relative path of the before file without suffix
    before: Path
    after: Path
    scene: str
    captions: list[str] = field(default_factory=list)
    change_types: list[str] = field(default_factory=list)
    license: str | None = None
    source: str | None = None
    setting: str | None = None


@dataclass
class Refused:
    """A file or folder that was not followed, as the report lists it."""

    item: str  # path relative to the source, or the manifest line
    reason: str  # outside_source, symlink_loop, symlink_alias
    detail: str


@dataclass
class Discovery:
    """The pairs found under ``root`` and what was refused on the way."""

    root: Path  # the folder every path is relative to
    pairs: list[PairSource]
    refused: list[Refused] = field(default_factory=list)


def _refusal(item: str, why: str) -> Refused:
    return Refused(item, "symlink_loop" if "loop" in why else "outside_source", why)


def _check_text(value: object, where: str, what: str) -> None:
    """Text bound for the store must encode as UTF-8 (a lone surrogate from a JSON escape or an
    undecodable file name would fail deep in the Parquet writer)."""
    values = value if isinstance(value, list) else [value]
    for text in values:
        if isinstance(text, str):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise OmniDiffError(f"{where}: {what} {text!r} is not valid Unicode text (a lone surrogate or "
                                    "bytes that are not UTF-8); fix or rename it") from None


def _check_pair_text(pair: PairSource, where: str) -> PairSource:
    for what in ("name", "scene", "captions", "change_types", "license", "source", "setting"):
        _check_text(getattr(pair, what), where, "file name" if what == "name" else what)
    return pair


def _unsafe_files(root: Path, pair: PairSource) -> str | None:
    for file in (pair.before, pair.after):
        reason = escape_reason(root, file)
        if reason is not None:
            return f"{file.relative_to(root).as_posix()} is {reason}"
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._/-]+", "-", text).strip("-/") or "root"


def _scene_name(src: Path, folder: Path) -> str:
    rel = folder.relative_to(src).as_posix()
    return _slug(src.name if rel == "." else f"{src.name}/{rel}")


def _pair_folder(src: Path, folder: Path, before_dir: Path, after_dir: Path, unmatched: list[str]) -> list[PairSource]:
    befores = {p.stem: p for p in sorted(before_dir.iterdir()) if is_image_file(p)}
    afters = {p.stem: p for p in sorted(after_dir.iterdir()) if is_image_file(p)}
    for stem in sorted(set(befores) ^ set(afters)):
        lonely = befores.get(stem) or afters[stem]
        unmatched.append(lonely.relative_to(src).as_posix())
    scene = _scene_name(src, folder)
    return [
        PairSource(f"{folder.relative_to(src).as_posix()}/{stem}".lstrip("./"), befores[stem], afters[stem], scene)
        for stem in sorted(set(befores) & set(afters))
    ]


def _pair_names(src: Path, folder: Path, files: list[Path], unmatched: list[str]) -> list[PairSource]:
    stems: dict[str, list[Path]] = {}
    for path in files:
        stems.setdefault(path.stem, []).append(path)
    by_stem: dict[str, Path] = {}
    for stem, paths in sorted(stems.items()):
        if len(paths) > 1:  # a.jpg and a.png: which one belongs to the pair is not ours to guess
            names = ", ".join(p.relative_to(src).as_posix() for p in paths)
            unmatched.append(f"{names} (one name, {len(paths)} files)")
        else:
            by_stem[stem] = paths[0]
    used: set[str] = set()
    pairs: list[tuple[str, Path, Path]] = []
    for stem in sorted(by_stem):
        low = stem.lower()
        if low.endswith("_before"):
            base = stem[: -len("_before")]
            after = next((s for s in (base + "_after", base + "_After", base + "_AFTER") if s in by_stem), None)
            if after is not None:
                pairs.append((base, by_stem[stem], by_stem[after]))
                used.update({stem, after})
    for stem in sorted(by_stem):
        if stem in used or stem.lower().endswith(("_before", "_after")):
            continue
        if stem + "_2" in by_stem and stem + "_2" not in used:
            pairs.append((stem, by_stem[stem], by_stem[stem + "_2"]))
            used.update({stem, stem + "_2"})
    for stem in sorted(set(by_stem) - used):
        unmatched.append(by_stem[stem].relative_to(src).as_posix())
    scene = _scene_name(src, folder)
    rel = folder.relative_to(src).as_posix()
    return [PairSource(base if rel == "." else f"{rel}/{base}", b, a, scene) for base, b, a in sorted(pairs)]


def _walk_entries(src: Path, folder: Path, seen: set[str], refused: list[Refused]) -> list[Path]:
    """The entries of ``folder`` worth looking at: no hidden names, no symlink leading outside ``src``,
    no symlinked folder (one inside the source is scanned under its own name; one to itself or an
    ancestor, such as ``loop/up -> ..``, is a loop), no folder reached a second time."""
    kept = []
    for p in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        rel = p.relative_to(src).as_posix()
        if p.is_symlink():
            reason = escape_reason(src, p)
            if reason is not None:
                refused.append(_refusal(rel, f"{rel} is {reason}"))
                continue
            if p.is_dir():
                target = Path(os.path.realpath(p))
                if (folder.resolve()).is_relative_to(target):
                    refused.append(_refusal(rel, f"{rel} is a symlink loop (it leads back to {target.name or '/'})"))
                else:
                    refused.append(Refused(rel, "symlink_alias", f"{rel} is a symlink to a folder of the source, "
                                           "scanned under its own name"))
                continue
        if p.is_dir():
            real = os.path.realpath(p)
            if real in seen:  # a bind mount can loop without any symlink
                refused.append(_refusal(rel, f"{rel} leads to a folder reached twice (a loop)"))
                continue
            seen.add(real)
        kept.append(p)
    return kept


def discover_folder(src: Path) -> Discovery:
    """All pairs under ``src``; raises when an image file has no partner."""
    if not src.is_dir():
        raise OmniDiffError(f"{src}: no such folder")
    unmatched: list[str] = []
    pairs: list[PairSource] = []
    refused: list[Refused] = []
    seen = {os.path.realpath(src)}
    stack = [src]
    while stack:
        folder = stack.pop()
        entries = _walk_entries(src, folder, seen, refused)
        subdirs = {p.name.lower(): p for p in entries if p.is_dir()}
        pair_dirs = next(((subdirs[b], subdirs[a]) for b, a in FOLDER_PAIRS if b in subdirs and a in subdirs), None)
        if pair_dirs is not None:
            pairs += _pair_folder(src, folder, pair_dirs[0], pair_dirs[1], unmatched)
        images = [p for p in entries if is_image_file(p)]
        pairs += _pair_names(src, folder, images, unmatched)
        skip = set(pair_dirs or ())
        stack.extend(sorted((p for p in entries if p.is_dir() and p not in skip), reverse=True))
    if unmatched:
        more = f" and {len(unmatched) - 3} more" if len(unmatched) > 3 else ""
        raise OmniDiffError(
            f"{src}: {len(unmatched)} image file(s) without a partner: {', '.join(unmatched[:3])}{more} "
            "(expected X_before/X_after, X/X_2, or before/ and after/ folders)"
        )
    safe = []
    for pair in sorted(pairs, key=lambda p: p.name):
        why = _unsafe_files(src, pair)
        if why is not None:
            refused.append(_refusal(pair.name, why))
        else:
            safe.append(_check_pair_text(pair, f"{src}: {pair.before.relative_to(src).as_posix()}"))
    if not safe and not refused:
        raise OmniDiffError(f"{src}: no image pairs found (expected X_before/X_after, X/X_2, or before/ and after/ folders)")
    return Discovery(src, safe, refused)


def _as_list(value: object, where: str, what: str) -> list[str]:
    """A manifest cell as a list: a JSON array, or text split on ``|`` (captions) / ``;,|`` (types)."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError:
                raise OmniDiffError(f"{where}: {what} is not a valid JSON list") from None
        elif what == "captions":
            items = [c for c in text.split("|")]
        else:
            items = re.split(r"[;,|]", text)
    else:
        raise OmniDiffError(f"{where}: {what} must be text or a list")
    if not all(isinstance(i, str) for i in items):
        raise OmniDiffError(f"{where}: {what} must be strings")
    return [i.strip() for i in items if i.strip()]


def _read_manifest_rows(path: Path) -> list[tuple[str, dict]]:
    text = jsonl.read_text(path)
    rows: list[tuple[str, dict]] = []
    if path.suffix.lower() == ".jsonl":
        for n, row in jsonl.parse_lines(text, str(path)):
            if not isinstance(row, dict):
                raise OmniDiffError(f"{path}:{n}: each line must be a JSON object")
            rows.append((f"{path.name}:{n}", row))
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""))  # quoted cells may hold any line break
        if not reader.fieldnames or not {"before", "after"} <= set(reader.fieldnames):
            raise OmniDiffError(f"{path}: a CSV manifest needs 'before' and 'after' columns")
        for row in reader:
            rows.append((f"{path.name}:{reader.line_num}", row))
    return rows


def discover_manifest(path: Path, root: Path | None = None) -> Discovery:
    """Pairs listed in a CSV or JSONL manifest; paths are relative to ``root`` (default: the manifest's folder)."""
    if not path.is_file():
        raise OmniDiffError(f"{path}: no such manifest file")
    base = root if root is not None else path.parent
    if not base.is_dir():
        raise OmniDiffError(f"--root {base}: no such folder")
    pairs: list[PairSource] = []
    refused: list[Refused] = []
    for where, row in _read_manifest_rows(path):
        files = []
        for key in ("before", "after"):
            value = row.get(key)
            if not isinstance(value, str) or not value.strip():
                raise OmniDiffError(f"{where}: '{key}' is missing")
            files.append(base.joinpath(*relative_parts(value.strip(), f"{where}: {key}")))
        why = next((f"{f.relative_to(base).as_posix()} is {r}" for f in files
                    for r in [escape_reason(base, f)] if r is not None), None)
        if why is not None:
            refused.append(_refusal(where, why))
            continue
        for key, file in zip(("before", "after"), files):
            if not file.is_file():
                raise OmniDiffError(f"{where}: {key} file {row[key].strip()!r} not found")
        captions = _as_list(row.get("captions", row.get("caption")), where, "captions")
        types = _as_list(row.get("change_types"), where, "change_types")
        _check_text(types, where, "change_types")
        try:
            types = TAXONOMY.resolve_all(types)
        except OmniDiffError as exc:
            raise OmniDiffError(f"{where}: {exc}") from None
        scene = row.get("scene") or row.get("scene_id")
        if not scene:
            scene = _scene_name(base, files[0].parent)
        name = files[0].relative_to(base).with_suffix("").as_posix()
        pair = PairSource(
            name, files[0], files[1], _slug(str(scene)), captions, types,
            license=(row.get("license") or None), source=(row.get("source") or row.get("source_url") or None),
            setting=(row.get("setting") or None),
        )
        pairs.append(_check_pair_text(pair, where))
    if not pairs and not refused:
        raise OmniDiffError(f"{path}: the manifest lists no pairs")
    return Discovery(base, pairs, refused)


def discover(src: Path, root: Path | None = None) -> Discovery:
    if src.is_file() and src.suffix.lower() in MANIFEST_SUFFIXES:
        return discover_manifest(src, root)
    if src.is_file():
        raise OmniDiffError(f"{src}: expected a folder of pairs or a .csv/.jsonl manifest")
    if root is not None:
        raise OmniDiffError("--root applies to a .csv/.jsonl manifest only (a folder is its own root)")
    return discover_folder(src)
