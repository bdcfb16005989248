"""Proposed change masks from the aligned, photometrically matched difference of a pair.

A proposal helps the annotator find the change; it is stored as ``mask_after`` with provenance
``{"mask": "proposed"}`` and is not ground truth. Global lighting drift (time-lapses) is removed by
matching each colour channel's mean and spread before differencing; small misregistration is
absorbed by blurring and a morphological opening.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from generators.real.quality import scaled

PROPOSAL_SIDE = 512


@dataclass(frozen=True)
class ProposalSettings:
    min_threshold: float = 28.0  # least channel difference (0..255) that counts as a change
    mad_factor: float = 6.0  # or this many robust deviations above the median difference
    min_component: float = 0.0005  # smallest kept blob, as a share of the image
    blur_sigma: float = 1.5


@dataclass
class ChangeProposal:
    mask: np.ndarray  # uint8 0/255 in the after image's pixel grid
    fraction: float  # changed share of the overlapping area
    boxes: list[tuple[int, int, int, int]]  # x0, y0, x1, y1 in after-image pixels, largest first
    overlap: float  # share of the after image that the warped before image covers


def _scale(sx: float, sy: float) -> np.ndarray:
    return np.array([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], dtype=np.float64)


def _match_photometry(source: np.ndarray, target: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``source`` with a robust per-channel gain and offset fitted onto ``target`` inside ``valid``.

    The fit is repeated on the pixels it explains (so the local change itself does not pull it), and
    pixels clipped in the target are left out (an overexposed sky says nothing about the gain).
    """
    out = np.empty_like(source)
    step = max(1, int(valid.sum()) // 20000)  # a sample of the pixels is enough for two numbers
    for c in range(source.shape[2]):
        s, t = source[..., c][valid][::step], target[..., c][valid][::step]
        use = (t > 4) & (t < 251)
        gain, offset = 1.0, 0.0
        for _ in range(4):
            if use.sum() < 32:
                break
            su, tu = s[use], t[use]
            var = float(su.var())
            gain = float(np.clip(((su - su.mean()) * (tu - tu.mean())).mean() / var, 0.4, 2.5)) if var > 1e-6 else 1.0
            offset = float(tu.mean() - gain * su.mean())
            resid = np.abs(t - (gain * s + offset))
            mad = float(np.median(resid[use])) * 1.4826
            use = (t > 4) & (t < 251) & (resid < max(8.0, 3.0 * mad))
        out[..., c] = np.clip(source[..., c] * gain + offset, 0, 255)
    return out


def propose_change_mask(
    before_rgb: np.ndarray,
    after_rgb: np.ndarray,
    after_to_before: np.ndarray | None = None,
    settings: ProposalSettings = ProposalSettings(),
) -> ChangeProposal:
    """Where the after image differs from the before image, once aligned; in after-image pixels."""
    h_full, w_full = after_rgb.shape[:2]
    sa = scaled(after_rgb, PROPOSAL_SIDE).astype(np.float32)
    sb = scaled(before_rgb, PROPOSAL_SIDE).astype(np.float32)
    k_a = _scale(sa.shape[1] / w_full, sa.shape[0] / h_full)
    k_b = _scale(sb.shape[1] / before_rgb.shape[1], sb.shape[0] / before_rgb.shape[0])
    homography = np.eye(3) if after_to_before is None else np.asarray(after_to_before, dtype=np.float64)
    before_to_after_small = k_a @ np.linalg.inv(homography) @ np.linalg.inv(k_b)
    size = (sa.shape[1], sa.shape[0])
    warped = cv2.warpPerspective(sb, before_to_after_small, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    coverage = cv2.warpPerspective(np.ones(sb.shape[:2], np.uint8), before_to_after_small, size, flags=cv2.INTER_NEAREST)
    valid = cv2.erode(coverage, np.ones((5, 5), np.uint8)) > 0

    if settings.blur_sigma > 0:
        warped = cv2.GaussianBlur(warped, (0, 0), settings.blur_sigma)
        sa = cv2.GaussianBlur(sa, (0, 0), settings.blur_sigma)
    warped = _match_photometry(warped, sa, valid)
    diff = np.abs(sa - warped).max(axis=2)
    diff[~valid] = 0
    inside = diff[valid]
    if inside.size:
        med = float(np.median(inside))
        mad = float(np.median(np.abs(inside - med))) * 1.4826
        threshold = max(settings.min_threshold, med + settings.mad_factor * mad)
    else:
        threshold = settings.min_threshold
    raw = (diff > threshold).astype(np.uint8)
    raw = cv2.morphologyEx(raw, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    raw = cv2.morphologyEx(raw, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))

    n, labels, stats, _ = cv2.connectedComponentsWithStats(raw, connectivity=8)
    min_px = max(4, int(settings.min_component * raw.size))
    keep = np.zeros(n, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_px
    small_mask = keep[labels].astype(np.uint8) * 255
    mask = cv2.resize(small_mask, (w_full, h_full), interpolation=cv2.INTER_NEAREST)

    sx, sy = w_full / sa.shape[1], h_full / sa.shape[0]
    order = sorted((i for i in range(1, n) if keep[i]), key=lambda i: -stats[i, cv2.CC_STAT_AREA])
    boxes = []
    for i in order:
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        boxes.append((int(x * sx), int(y * sy), min(w_full, int(np.ceil((x + bw) * sx))), min(h_full, int(np.ceil((y + bh) * sy)))))
    covered = int(valid.sum())
    fraction = float((small_mask[valid] > 0).sum() / covered) if covered else 0.0
    return ChangeProposal(mask, fraction, boxes, covered / valid.size)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks of one size (empty vs empty counts as 1)."""
    pa, pb = a > 0, b > 0
    union = np.logical_or(pa, pb).sum()
    return 1.0 if union == 0 else float(np.logical_and(pa, pb).sum() / union)
