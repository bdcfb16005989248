"""``omnidiff export DIR --format clevr-change``: a store in CLEVR-Change's native layout.

Layout (as the CLEVR-Change release ships it, so existing training code runs unchanged)::

    images/CLEVR_default_000000.png       before
    sc_images/CLEVR_semantic_000000.png   after, semantic change
    nsc_images/CLEVR_nonsemantic_000000.png  after, distractor (camera jitter)
    change_captions.json      {"CLEVR_default_000000.png": [captions...]}
    no_change_captions.json   {"CLEVR_default_000000.png": [captions...]}
    splits.json               {"train": [0, ...], "val": [...], "test": [...]}
    type_mapping.json         {"color": ["CLEVR_default_000000.png", ...], "material": ..., ...}

Loaders list each image folder sorted and index it with the integer split ids, so the ids are a
dense 0..N-1 range and the three folders hold the same count. One index per semantic pair: a
scene rendered with more than one semantic change gives several indices that share its before
image and its distractor. The folder is written under a temporary name and renamed at the end.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from annotations import SPLITS, Store
from annotations.durable import replace_folder
from annotations.errors import OmniDiffError

FORMATS = ("clevr-change",)
SEMANTIC_TYPES = ("color", "material", "add", "drop", "move")


@dataclass
class ExportSummary:
    out: Path
    items: int
    skipped_scenes: int


def export_store(store_path: Path, fmt: str, out: Path) -> ExportSummary:
    if fmt.replace("_", "-") not in FORMATS:
        raise OmniDiffError(f"unknown export format {fmt!r}; available: {', '.join(FORMATS)}")
    store = Store.open(store_path)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OmniDiffError(f"--out {out}: already exists and is not an empty folder")
    scenes: dict[str, dict[str, list]] = {}
    meta = store.table(["pair_id", "scene_id", "benchmark", "native_change_type", "distractor", "split"])
    for row in meta.to_pylist():
        if row["benchmark"] != "clevr_change":
            continue
        entry = scenes.setdefault(row["scene_id"], {"semantic": [], "distractor": []})
        entry["distractor" if row["distractor"] else "semantic"].append(row)
    if not scenes:
        raise OmniDiffError(f"{store_path}: no clevr_change pairs to export (render with --preset clevr-change)")
    complete = {sid: e for sid, e in scenes.items() if e["semantic"] and e["distractor"]}
    if not complete:
        raise OmniDiffError(f"{store_path}: no scene has both a semantic and a distractor pair (render with --pairs-per-scene 2 or more)")
    items = []  # (semantic pair id, distractor pair id, split, native type)
    for sid in sorted(complete):
        entry = complete[sid]
        distractor = sorted(r["pair_id"] for r in entry["distractor"])[0]
        for row in sorted(entry["semantic"], key=lambda r: r["pair_id"]):
            if row["native_change_type"] not in SEMANTIC_TYPES:
                raise OmniDiffError(f"{row['pair_id']}: native change type {row['native_change_type']!r} is not a CLEVR-Change type")
            items.append((row["pair_id"], distractor, row["split"], row["native_change_type"]))

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{uuid.uuid4().hex}.tmp"
    try:
        for folder in ("images", "sc_images", "nsc_images"):
            (tmp / folder).mkdir(parents=True)
        wanted = {p for item in items for p in item[:2]}
        records = {r.pair_id: r for r in store.records(pair_ids=wanted)}
        change, no_change = {}, {}
        splits: dict[str, list[int]] = {s: [] for s in SPLITS}
        types: dict[str, list[str]] = {t: [] for t in SEMANTIC_TYPES}
        for index, (sem_id, dis_id, split, native) in enumerate(items):
            sem, dis = records[sem_id], records[dis_id]
            name = f"CLEVR_default_{index:06d}.png"
            _write_png(tmp / "images" / name, sem.image_before)
            _write_png(tmp / "sc_images" / f"CLEVR_semantic_{index:06d}.png", sem.image_after)
            _write_png(tmp / "nsc_images" / f"CLEVR_nonsemantic_{index:06d}.png", dis.image_after)
            change[name] = list(sem.captions)
            no_change[name] = list(dis.captions)
            splits[split].append(index)
            types[native].append(name)
        for fname, data in (("change_captions.json", change), ("no_change_captions.json", no_change),
                            ("splits.json", splits), ("type_mapping.json", types)):
            (tmp / fname).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        replace_folder(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return ExportSummary(out, len(items), len(scenes) - len(complete))


def _write_png(path: Path, data: bytes | None) -> None:
    if not data:
        raise OmniDiffError(f"{path.name}: the store holds no image for this pair")
    if not data.startswith(b"\x89PNG"):
        from io import BytesIO

        from PIL import Image

        buf = BytesIO()
        Image.open(BytesIO(data)).convert("RGB").save(buf, format="PNG")
        data = buf.getvalue()
    path.write_bytes(data)
