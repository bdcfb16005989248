"""Object-id colours for the flat-colour pass, and masks and boxes from the decoded id map.

The renderer paints every part of an object in one flat colour that encodes its id (Workbench, flat
light, no anti-aliasing, no dithering, Standard view transform), so each pixel names exactly one
object. A text gets an id of its own (``text_id``), so that a text change masks the letters, not
the whole sign or building. Eight levels per channel, evenly spaced in 8-bit display values (36 or
37 apart), give 511 ids; decoding takes the nearest palette colour and refuses a pixel farther than
``MAX_DECODE_DISTANCE`` from every id (a shaded or anti-aliased pass), so a rounding difference of a
few levels cannot change an id.
"""

from __future__ import annotations

import io

import numpy as np

DISPLAY_LEVELS = (0, 36, 73, 109, 146, 182, 219, 255)  # 8-bit sRGB values of the channel levels
N_LEVELS = len(DISPLAY_LEVELS)
MAX_ID = N_LEVELS ** 3 - 1  # 511; id 0 is the background, the ground and the shell
TEXT_ID_OFFSET = 256  # the text of object uid u has id u + 256
MAX_UID = TEXT_ID_OFFSET - 1  # object uids 1..255
MAX_DECODE_DISTANCE = 12  # 8-bit units; farther than this means the pass is not a flat-colour pass


def _linear(display: int) -> float:
    s = display / 255.0
    return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4


def _srgb8(v: float) -> int:
    s = v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
    return int(round(s * 255))


LEVELS = tuple(_linear(v) for v in DISPLAY_LEVELS)  # scene-linear channel values


def text_id(uid: int) -> int:
    if not 1 <= uid <= MAX_UID:
        raise ValueError(f"object uid {uid} outside 1..{MAX_UID}")
    return uid + TEXT_ID_OFFSET


def uid_color(uid: int) -> tuple[float, float, float]:
    """Scene-linear RGB for id ``uid`` (0..511)."""
    if not 0 <= uid <= MAX_ID:
        raise ValueError(f"object id {uid} outside the id palette (0..{MAX_ID})")
    n = N_LEVELS
    return (LEVELS[uid // (n * n)], LEVELS[(uid // n) % n], LEVELS[uid % n])


def palette8() -> np.ndarray:
    """(512, 3) expected 8-bit display colours of ids 0..511."""
    return np.array([[_srgb8(c) for c in uid_color(u)] for u in range(MAX_ID + 1)], dtype=np.int32)


def decode_ids(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 flat-colour render -> (H, W) uint16 id map."""
    pal = palette8()
    flat = rgb.reshape(-1, 3).astype(np.int32)
    colors, inverse = np.unique(flat, axis=0, return_inverse=True)
    dist = ((colors[:, None, :] - pal[None, :, :]) ** 2).sum(-1)
    nearest = dist.argmin(1)
    if (np.sqrt(dist[np.arange(len(colors)), nearest]) > MAX_DECODE_DISTANCE).any():
        raise ValueError("id pass holds colours that are not object ids (anti-aliasing or shading left on?)")
    return nearest[inverse.reshape(-1)].reshape(rgb.shape[:2]).astype(np.uint16)


def pixel_counts(ids: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(ids, return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts) if v != 0}


def mask_png(ids: np.ndarray, uids: list[int]) -> bytes:
    """PNG "L": 255 where one of ``uids`` is the visible id, else 0."""
    from PIL import Image

    mask = np.isin(ids, np.array(uids, dtype=ids.dtype)) if uids else np.zeros(ids.shape, bool)
    buf = io.BytesIO()
    Image.fromarray((mask * 255).astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def box_of(ids: np.ndarray, uid: int) -> tuple[int, int, int, int] | None:
    """Pixel box (x0, y0, x1, y1), x1/y1 exclusive, of uid's visible pixels; None when it is hidden."""
    ys, xs = np.nonzero(ids == uid)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
