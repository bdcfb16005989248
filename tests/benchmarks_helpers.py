"""Stand-in images and native-layout fixtures for the benchmark loader tests."""

from __future__ import annotations

import io
import json
import shutil
from functools import lru_cache
from pathlib import Path

from PIL import Image

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF"}


@lru_cache(maxsize=16)
def tiny_image(suffix: str, shade: int) -> bytes:
    """An 8x8 image in the format its file name says (the loaders keep the bytes as they are)."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (shade, 255 - shade, 64)).save(buf, format=FORMATS[suffix.lower()])
    return buf.getvalue()


def write_image(path: Path, shade: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tiny_image(path.suffix, shade))


def spot_the_diff_source(tmp: Path, shared: Path, splits=("test",)) -> Path:
    """The shared annotation files plus stand-in images ``resized_images/<id>.png``, ``<id>_2.png``."""
    src = tmp / "spot-the-diff"
    shutil.copytree(shared / "spot-the-diff" / "annotations", src / "annotations")
    for split in splits:
        for entry in json.loads((src / "annotations" / f"{split}.json").read_text()):
            write_image(src / "resized_images" / f"{entry['img_id']}.png", 10)
            write_image(src / "resized_images" / f"{entry['img_id']}_2.png", 200)
    return src


def iedit_source(tmp: Path, shared: Path, splits=("test",)) -> Path:
    """The shared IEdit JSON files plus stand-in images under the names they give, in ``images/``."""
    src = tmp / "iedit"
    src.mkdir(parents=True)
    for name in ("train", "valid", "test"):
        shutil.copy(shared / "iedit" / f"{name}.json", src / f"{name}.json")
    for split in splits:
        for entry in json.loads((src / f"{split}.json").read_text()):
            write_image(src / "images" / entry["img0"], 30)
            write_image(src / "images" / entry["img1"], 220)
    return src


CLEVR_CHANGE_TYPES = {0: "color", 1: "material", 2: "drop", 3: "color", 4: "add", 5: "move"}
CLEVR_CHANGE_SPLITS = {"train": [0, 1], "val": [2], "test": [3, 4, 5]}


def clevr_change_source(tmp: Path) -> Path:
    """A six-scene CLEVR-Change download in the authors' layout."""
    src = tmp / "clevr-change"
    change, no_change = {}, {}
    for n, kind in CLEVR_CHANGE_TYPES.items():
        name = f"CLEVR_default_{n:06d}.png"
        write_image(src / "images" / name, n)
        write_image(src / "sc_images" / f"CLEVR_semantic_{n:06d}.png", 100 + n)
        write_image(src / "nsc_images" / f"CLEVR_nonsemantic_{n:06d}.png", 200 + n)
        change[name] = [f"the object changed ({kind}) in scene {n}", f"a {kind} change happened"]
        no_change[name] = ["the scene is the same as before", "nothing has changed"]
    types: dict[str, list[str]] = {}
    for n, kind in CLEVR_CHANGE_TYPES.items():
        types.setdefault(kind, []).append(f"{n:06d}.png")
    for name, value in (("change_captions.json", change), ("no_change_captions.json", no_change),
                        ("splits.json", CLEVR_CHANGE_SPLITS), ("type_mapping.json", types)):
        (src / name).write_text(json.dumps(value))
    return src


def clevr_dc_source(tmp: Path, shared: Path, split: str = "val") -> Path:
    """The real CLEVR-DC ``split.json`` with stand-in ``bef/``/``aft/`` images and captions for one split."""
    src = tmp / "clevr-dc"
    src.mkdir(parents=True)
    shutil.copy(shared / "clevr-dc" / "split.json", src / "split.json")
    ids = json.loads((src / "split.json").read_text())[split]
    captions = {}
    for i in ids:
        write_image(src / "bef" / f"{i:06d}.png", 40)
        write_image(src / "aft" / f"{i:06d}.png", 180)
        captions[str(i)] = [f"change number {i}"]
    (src / "captions.json").write_text(json.dumps(captions))
    return src
