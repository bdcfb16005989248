"""Object-id colours for the flat-colour pass, and masks and boxes from the decoded id map.

The renderer paints every object in a flat colour that encodes its uid (Workbench, flat light,
no anti-aliasing, no dithering, Standard view transform), so each pixel names exactly one object.
Channel levels are far apart after the sRGB transform, and decoding takes the nearest palette
colour, so a rounding difference of a few levels cannot change an id.
"""

from __future__ import annotations

import io

import numpy as np

LEVELS = (0.0, 0.2, 0.5, 1.0)  # scene-linear channel values
MAX_UID = len(LEVELS) ** 3 - 1  # 63; uid 0 is the background and the ground
MAX_DECODE_DISTANCE = 24  # 8-bit units; farther than this means the pass is not a flat-colour pass


def _srgb8(v: float) -> int:
    s = v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
    return int(round(s * 255))


def uid_color(uid: int) -> tuple[float, float, float]:
    """Scene-linear RGB for ``uid`` (1..63)."""
    if not 0 <= uid <= MAX_UID:
        raise ValueError(f"object uid {uid} outside the id palette (0..{MAX_UID})")
    n = len(LEVELS)
    return (LEVELS[uid // (n * n)], LEVELS[(uid // n) % n], LEVELS[uid % n])


def palette8() -> np.ndarray:
    """(64, 3) expected 8-bit display colours of uids 0..63."""
    return np.array([[_srgb8(c) for c in uid_color(u)] for u in range(MAX_UID + 1)], dtype=np.int32)


def decode_ids(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 flat-colour render -> (H, W) uint8 uid map."""
    pal = palette8()
    flat = rgb.reshape(-1, 3).astype(np.int32)
    colors, inverse = np.unique(flat, axis=0, return_inverse=True)
    dist = ((colors[:, None, :] - pal[None, :, :]) ** 2).sum(-1)
    nearest = dist.argmin(1)
    if (np.sqrt(dist[np.arange(len(colors)), nearest]) > MAX_DECODE_DISTANCE).any():
        raise ValueError("id pass holds colours that are not object ids (anti-aliasing or shading left on?)")
    return nearest[inverse.reshape(-1)].reshape(rgb.shape[:2]).astype(np.uint8)


def pixel_counts(ids: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(ids, return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts) if v != 0}


def mask_png(ids: np.ndarray, uids: list[int]) -> bytes:
    """PNG "L": 255 where one of ``uids`` is the visible object, else 0."""
    from PIL import Image

    mask = np.isin(ids, np.array(uids, dtype=np.uint8)) if uids else np.zeros(ids.shape, bool)
    buf = io.BytesIO()
    Image.fromarray((mask * 255).astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def box_of(ids: np.ndarray, uid: int) -> tuple[int, int, int, int] | None:
    """Pixel box (x0, y0, x1, y1), x1/y1 exclusive, of uid's visible pixels; None when it is hidden."""
    ys, xs = np.nonzero(ids == uid)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
