"""Finding before/after pairs in a folder (by naming convention) or in a CSV/JSONL manifest.

Folder conventions, per directory (sub-directories are scanned too, each one a scene):
``X_before.*`` + ``X_after.*``; ``X.*`` + ``X_2.*`` (Spot-the-Diff); or two sub-folders ``before/`` and
``after/`` (also ``bef/`` + ``aft/``) holding files with the same stem. An image that fits none of
them is an error: a silently skipped file is a lost pair.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from annotations import TAXONOMY
from annotations.errors import OmniDiffError
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


def discover_folder(src: Path) -> list[PairSource]:
    """All pairs under ``src``; raises when an image file has no partner."""
    if not src.is_dir():
        raise OmniDiffError(f"{src}: no such folder")
    unmatched: list[str] = []
    pairs: list[PairSource] = []
    stack = [src]
    while stack:
        folder = stack.pop()
        entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
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
    if not pairs:
        raise OmniDiffError(f"{src}: no image pairs found (expected X_before/X_after, X/X_2, or before/ and after/ folders)")
    return sorted(pairs, key=lambda p: p.name)


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
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OmniDiffError(f"{path}: cannot read manifest ({exc})") from None
    rows: list[tuple[str, dict]] = []
    if path.suffix.lower() == ".jsonl":
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise OmniDiffError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise OmniDiffError(f"{path}:{n}: each line must be a JSON object")
            rows.append((f"{path.name}:{n}", row))
    else:
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or not {"before", "after"} <= set(reader.fieldnames):
            raise OmniDiffError(f"{path}: a CSV manifest needs 'before' and 'after' columns")
        for n, row in enumerate(reader, start=2):
            rows.append((f"{path.name}:{n}", row))
    return rows


def discover_manifest(path: Path) -> list[PairSource]:
    """Pairs listed in a CSV or JSONL manifest; paths are relative to the manifest's folder."""
    if not path.is_file():
        raise OmniDiffError(f"{path}: no such manifest file")
    base = path.parent
    pairs: list[PairSource] = []
    for where, row in _read_manifest_rows(path):
        files = []
        for key in ("before", "after"):
            value = row.get(key)
            if not isinstance(value, str) or not value.strip():
                raise OmniDiffError(f"{where}: '{key}' is missing")
            file = (base / value.strip()) if not Path(value.strip()).is_absolute() else Path(value.strip())
            if not file.is_file():
                raise OmniDiffError(f"{where}: {key} file {value.strip()!r} not found")
            files.append(file)
        captions = _as_list(row.get("captions", row.get("caption")), where, "captions")
        types = _as_list(row.get("change_types"), where, "change_types")
        try:
            types = TAXONOMY.resolve_all(types)
        except OmniDiffError as exc:
            raise OmniDiffError(f"{where}: {exc}") from None
        scene = row.get("scene") or row.get("scene_id")
        if not scene:
            parent = files[0].parent
            scene = _scene_name(base, parent) if parent.is_relative_to(base) else _slug(parent.name)
        name = files[0].relative_to(base).with_suffix("").as_posix() if files[0].is_relative_to(base) else files[0].stem
        pairs.append(
            PairSource(
                name, files[0], files[1], _slug(str(scene)), captions, types,
                license=(row.get("license") or None), source=(row.get("source") or row.get("source_url") or None),
                setting=(row.get("setting") or None),
            )
        )
    if not pairs:
        raise OmniDiffError(f"{path}: the manifest lists no pairs")
    return pairs


def discover(src: Path) -> list[PairSource]:
    if src.is_file() and src.suffix.lower() in MANIFEST_SUFFIXES:
        return discover_manifest(src)
    if src.is_file():
        raise OmniDiffError(f"{src}: expected a folder of pairs or a .csv/.jsonl manifest")
    return discover_folder(src)
