"""``omnidiff show``: a contact sheet (PNG, or JPEG for a .jpg name), one row per pair: before | after |
mask over after | caption."""

from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from annotations.errors import OmniDiffError
from annotations.layout import refuse_inside_store
from annotations.schema import IMAGE_COLUMNS, decode_image
from annotations.store import Store
from annotations.taxonomy import TAXONOMY

FONT_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")
MASK_TINT = (255, 40, 40)
PAD = 6
SHEET_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def _font(size: int) -> ImageFont.ImageFont:
    for name in FONT_CANDIDATES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def _thumb(img: Image.Image, width: int) -> Image.Image:
    height = max(1, round(img.height * width / img.width))
    return img.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)


@dataclass
class SheetPair:
    """One row of the sheet: the pair's annotated labels and its image bytes."""

    pair_id: str
    change_types: list[str]
    captions: list[str]
    image_before: bytes | None
    image_after: bytes | None
    mask_before: bytes | None
    mask_after: bytes | None


def _mask_overlay(rec: SheetPair, after: Image.Image) -> Image.Image:
    """The after image dimmed, with the changed pixels (before or after mask) tinted red."""
    base = after.convert("RGB")
    dim = Image.blend(base, Image.new("RGB", base.size, (0, 0, 0)), 0.45)
    mask = np.zeros((base.height, base.width), dtype=np.uint8)
    for data in (rec.mask_before, rec.mask_after):
        if data:
            m = decode_image(data).convert("L").resize(base.size, Image.Resampling.NEAREST)
            mask = np.maximum(mask, np.asarray(m))
    tint = Image.blend(base, Image.new("RGB", base.size, MASK_TINT), 0.55)
    return Image.composite(tint, dim, Image.fromarray(np.where(mask > 0, 255, 0).astype(np.uint8)))


def select_pairs(store: Store, n: int, split: str | None, change_type: str | None, seed: int,
                 setting: str | None = None, one_per_type: bool = False) -> list[SheetPair]:
    """Seeded sample of n pairs (in store order) among those that match the filters (annotated labels);
    with one_per_type, a seeded pick of one pair per primary change type (taxonomy order), n at most.
    Only the chosen pairs' images are read."""
    key = TAXONOMY.resolve(change_type) if change_type else None
    rows = store.table(["pair_id", "change_types", "captions", "setting"], split=split).to_pylist()
    matching = [r for r in rows if (key is None or key in (r["change_types"] or []))
                and (setting is None or r["setting"] == setting)]
    if not matching:
        raise OmniDiffError(f"{store.root}: no pair matches split={split or 'any'} setting={setting or 'any'} "
                            f"change type={key or 'any'}")
    rng = random.Random(seed)
    if one_per_type:
        by_type: dict[str, list[str]] = {}
        for r in matching:
            by_type.setdefault((r["change_types"] or ["none"])[0], []).append(r["pair_id"])
        order = [k for k in TAXONOMY.keys if k in by_type] + sorted(set(by_type) - set(TAXONOMY.keys))
        firsts = {rng.choice(by_type[k]): k for k in order[:n]}
        matching = sorted((r for r in matching if r["pair_id"] in firsts), key=lambda r: order.index(firsts[r["pair_id"]]))
        n = len(matching)
    chosen = set(rng.sample([r["pair_id"] for r in matching], min(n, len(matching))))
    picked = [r for r in matching if r["pair_id"] in chosen]
    images = store.images([r["pair_id"] for r in picked], IMAGE_COLUMNS)
    return [SheetPair(r["pair_id"], list(r["change_types"] or []), list(r["captions"] or []), **images[r["pair_id"]])
            for r in picked]


def make_contact_sheet(root: str | Path, out: str | Path, n: int = 8, split: str | None = None,
                       change_type: str | None = None, seed: int = 0, thumb_width: int = 240,
                       setting: str | None = None, one_per_type: bool = False) -> int:
    image_format = SHEET_FORMATS.get(Path(out).suffix.lower())
    if image_format is None:
        raise OmniDiffError(f"--out {out}: a contact sheet is written as .png, .jpg or .jpeg (the suffix says which)")
    refuse_inside_store(out)
    store = Store.open(root)
    records = select_pairs(store, n, split, change_type, seed, setting, one_per_type)
    font = _font(max(10, thumb_width // 18))
    small = _font(max(9, thumb_width // 22))
    text_w = int(thumb_width * 1.6)
    chars = max(20, int(text_w / (font.size * 0.55)))
    rows: list[Image.Image] = []
    for rec in records:
        before, after = decode_image(rec.image_before), decode_image(rec.image_after)
        cells = [_thumb(before, thumb_width), _thumb(after, thumb_width), _thumb(_mask_overlay(rec, after), thumb_width)]
        h = max(c.height for c in cells)
        caption = rec.captions[0] if rec.captions else "(no caption)"
        lines = textwrap.wrap(caption, chars) or [""]
        label = f"{rec.pair_id}  [{', '.join(rec.change_types) or 'no change'}]"
        line_h = font.size + 3
        h = max(h, line_h * (len(lines) + 1) + PAD)
        row = Image.new("RGB", (3 * (thumb_width + PAD) + text_w + PAD, h + PAD), "white")
        for i, cell in enumerate(cells):
            row.paste(cell, (PAD + i * (thumb_width + PAD), PAD // 2))
        draw = ImageDraw.Draw(row)
        x = PAD + 3 * (thumb_width + PAD)
        draw.text((x, PAD // 2), label, fill=(90, 90, 90), font=small)
        for j, line in enumerate(lines):
            draw.text((x, PAD // 2 + line_h * (j + 1)), line, fill="black", font=font)
        rows.append(row)
    header_h = font.size + 2 * PAD
    width = rows[0].width
    sheet = Image.new("RGB", (width, header_h + sum(r.height for r in rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, title in enumerate(("before", "after", "change mask", "primary caption")):
        draw.text((PAD + i * (thumb_width + PAD), PAD), title, fill="black", font=font)
    y = header_h
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if image_format == "JPEG":
        sheet.save(out, format="JPEG", quality=92)
    else:
        sheet.save(out, format="PNG", optimize=True)
    return len(rows)
