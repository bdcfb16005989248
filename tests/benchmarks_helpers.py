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


CLEVR_DC_WORDING = {
    "color": "the small red rubber cube changed to blue",
    "material": "the large gray metal sphere became rubber",
    "add": "a small cyan cylinder has been newly placed",
    "remove": "the large yellow cube is missing",
    "move": "the small brown sphere moved",
    "distractor": "nothing has changed",
}
CLEVR_DC_ACTIONS = ("color", "material", "add", "remove", "move", "distractor")


def clevr_dc_worded_source(tmp: Path, layout: str = "release", swap: tuple[str, str] | None = None) -> Path:
    """Two pairs per 8,000-id block, captioned in the wording of the block's action (``swap`` exchanges the
    captions of two actions' blocks); ``layout`` ``release`` (hsgkim: bef/, aft/, unpadded names, captions.json,
    split.json) or ``dirl`` (images/, sc_images/, padded names, change_captions.json, splits.json)."""
    src = tmp / f"clevr-dc-{layout}-{'-'.join(swap) if swap else 'ok'}"
    captions, split = {}, {"train": [], "val": [], "test": []}
    for block, action in enumerate(CLEVR_DC_ACTIONS):
        worded = action
        if swap and action in swap:
            worded = swap[1] if action == swap[0] else swap[0]
        for k in range(2):
            n = block * 8000 + k
            name = f"{n}.png" if layout == "release" else f"{n:06d}.png"
            write_image(src / ("bef" if layout == "release" else "images") / name, block * 20 + k)
            write_image(src / ("aft" if layout == "release" else "sc_images") / name, 250 - block * 20 - k)
            captions[str(n) if layout == "release" else f"{n:06d}.png"] = [CLEVR_DC_WORDING[worded], f"pair {n}"]
            split["test" if k else "train"].append(n)
    (src / ("captions.json" if layout == "release" else "change_captions.json")).write_text(json.dumps(captions))
    (src / ("split.json" if layout == "release" else "splits.json")).write_text(json.dumps(split))
    return src
