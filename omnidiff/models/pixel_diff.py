"""Baseline ``pixel-diff``: register the pair, threshold the difference, describe the changed regions.

An honest floor, not a captioner: it knows nothing of objects, only of pixels. It aligns the after
image to the before image (ECC homography, falling back to ORB features, then to identity), finds
connected regions where they differ, and fills a template with how many regions changed, where in a
3x3 grid, how large, and whether something appeared, vanished or changed colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnidiff.models.base import CaptionModel, CaptionRequest, ModelParam

GRID_ROWS = ("top", "middle", "bottom")
GRID_COLS = ("left", "center", "right")
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


@dataclass(frozen=True)
class Region:
    """One changed region, in the before image's coordinates."""

    x0: int
    y0: int
    x1: int
    y1: int
    area_fraction: float
    kind: str  # appeared, vanished, changed colour, changed

    def place(self, width: int, height: int) -> str:
        cx, cy = (self.x0 + self.x1) / 2 / width, (self.y0 + self.y1) / 2 / height
        row, col = GRID_ROWS[min(int(cy * 3), 2)], GRID_COLS[min(int(cx * 3), 2)]
        if row == "middle" and col == "center":
            return "in the center"
        if row == "middle":
            return f"on the {col}"
        return f"in the {row} {col}" if col != "center" else f"at the {row}"

    @property
    def size_word(self) -> str:
        if self.area_fraction < 0.01:
            return "small"
        if self.area_fraction < 0.06:
            return "medium-sized"
        return "large"


def _candidate_warps(before_gray: np.ndarray, after_gray: np.ndarray, iterations: int) -> list[np.ndarray]:
    """Homographies (before's pixels to after's) worth trying: phase-correlation shift, ECC, ORB.

    Each method fails on some pairs (ECC drifts when large regions changed, ORB needs corners),
    so ``find_regions`` keeps whichever leaves the least difference.
    """
    import cv2

    found: list[np.ndarray] = []
    b32, a32 = before_gray.astype(np.float32), after_gray.astype(np.float32)
    window = cv2.createHanningWindow(b32.shape[::-1], cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(b32, a32, window)
    shift = np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float32)
    if response > 0.05:
        found.append(shift)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-5)
    try:
        _, warp = cv2.findTransformECC(b32, a32, shift.copy(), cv2.MOTION_HOMOGRAPHY, criteria, None, 5)
        found.append(warp)
    except cv2.error:
        pass
    orb = cv2.ORB_create(nfeatures=500)
    kb, db = orb.detectAndCompute(before_gray, None)
    ka, da = orb.detectAndCompute(after_gray, None)
    if db is None or da is None or len(kb) < 8 or len(ka) < 8:
        return found
    matches = sorted(cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(db, da), key=lambda m: m.distance)
    if len(matches) >= 8:
        src = np.float32([kb[m.queryIdx].pt for m in matches]).reshape(-1, 1, 2)
        dst = np.float32([ka[m.trainIdx].pt for m in matches]).reshape(-1, 1, 2)
        homography, _ = cv2.findHomography(src, dst, cv2.RANSAC, 3.0)
        if homography is not None:
            found.append(homography.astype(np.float32))
    return found


def _objectness(image: np.ndarray, mask: np.ndarray, ring: np.ndarray) -> float:
    """How far the region's colours stand from its surroundings (high = something is there)."""
    inside, around = image[mask], image[ring]
    if len(inside) == 0 or len(around) == 0:
        return 0.0
    return float(np.linalg.norm(inside.mean(axis=0) - np.median(around, axis=0)) + inside.std(axis=0).mean())


def _classify(before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> str:
    import cv2

    dilated = cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8), iterations=2).astype(bool)
    ring = dilated & ~mask
    ob, oa = _objectness(before, mask, ring), _objectness(after, mask, ring)
    if oa > 1.6 * ob + 4:
        return "appeared"
    if ob > 1.6 * oa + 4:
        return "vanished"
    hsv_b = cv2.cvtColor(before, cv2.COLOR_RGB2HSV)[mask].astype(np.float32)
    hsv_a = cv2.cvtColor(after, cv2.COLOR_RGB2HSV)[mask].astype(np.float32)
    hue_shift = abs(float(np.median(hsv_b[:, 0]) - np.median(hsv_a[:, 0])))
    hue_shift = min(hue_shift, 180 - hue_shift)
    if hue_shift > 12 and float(np.median(hsv_a[:, 1])) > 40:
        return "changed colour"
    return "changed"


@dataclass(frozen=True)
class Analysis:
    regions: list[Region]  # largest first, at most max_regions
    changed_fraction: float  # share of the compared pixels that differ after alignment
    camera_shift: float  # how far the kept alignment moves the image corners, as a share of the diagonal


def find_regions(before_rgb: np.ndarray, after_rgb: np.ndarray, **options) -> list[Region]:
    """Changed regions of a pair, largest first (images as HxWx3 uint8 RGB of the same size)."""
    return analyse(before_rgb, after_rgb, **options).regions


def analyse(
    before_rgb: np.ndarray, after_rgb: np.ndarray, threshold: int = 30, min_area: float = 0.002,
    max_regions: int = 6, register: bool = True, ecc_iterations: int = 50,
) -> Analysis:
    """Align, difference, threshold and label a pair."""
    import cv2

    height, width = before_rgb.shape[:2]
    before_gray = cv2.cvtColor(before_rgb, cv2.COLOR_RGB2GRAY)
    after_gray = cv2.cvtColor(after_rgb, cv2.COLOR_RGB2GRAY)
    valid = np.ones((height, width), bool)
    diff = cv2.absdiff(before_rgb, after_rgb).max(axis=2)
    if register:
        best = (diff > threshold).mean()
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        ones = np.full((height, width), 255, np.uint8)
        aligned, kept = after_rgb, np.eye(3, dtype=np.float32)
        for warp in _candidate_warps(before_gray, after_gray, ecc_iterations):
            if np.allclose(warp, np.eye(3), atol=1e-3):
                continue
            warped = cv2.warpPerspective(after_rgb, warp, (width, height), flags=flags)
            warped_valid = cv2.warpPerspective(ones, warp, (width, height), flags=flags) > 0
            warped_valid = cv2.erode(warped_valid.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
            if warped_valid.mean() < 0.5:
                continue
            warped_diff = cv2.absdiff(before_rgb, warped).max(axis=2)
            changed = (warped_diff > threshold)[warped_valid].mean()
            if changed < best:  # keep the alignment that explains the most of the difference
                best, aligned, valid, diff, kept = changed, warped, warped_valid, warped_diff, warp
        after_rgb = aligned
    corners = np.float32([[0, 0], [width, 0], [0, height], [width, height]]).reshape(-1, 1, 2)
    moved = cv2.perspectiveTransform(corners, kept) - corners if register else np.zeros_like(corners)
    camera_shift = float(np.linalg.norm(moved.reshape(-1, 2), axis=1).max() / np.hypot(width, height))
    diff = cv2.GaussianBlur(diff, (5, 5), 0)
    binary = ((diff > threshold) & valid).astype(np.uint8)
    binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    total = float(height * width)
    regions = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area / total < min_area:
            continue
        mask = labels == label
        regions.append(Region(x, y, x + w, y + h, area / total, _classify(before_rgb, after_rgb, mask)))
    regions.sort(key=lambda r: (-r.area_fraction, r.y0, r.x0))
    changed = float(binary[valid].mean()) if valid.any() else 0.0
    return Analysis(regions[:max_regions], changed, camera_shift)


def describe(regions: list[Region], width: int, height: int, changed_fraction: float = 0.0,
             camera_shift: float = 0.0, global_fraction: float = 0.3, camera_fraction: float = 0.015) -> str:
    """The templated caption; a change over most of the image is told as lighting, a large
    alignment as a camera move."""
    if changed_fraction >= global_fraction:
        return "The lighting changed: the brightness and colour of the whole scene are different."
    camera = "The camera viewpoint changed." if camera_shift >= camera_fraction else ""
    if not regions:
        return camera or "There is no visible change between the two images."
    n = len(regions)
    count = NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else str(n)
    head = f"{count.capitalize()} region{'s' if n > 1 else ''} changed."
    parts = []
    for r in regions:
        subject = f"a {r.size_word} object"
        if r.kind == "changed":
            parts.append(f"Something {r.size_word} changed {r.place(width, height)}.")
        else:
            parts.append(f"{subject.capitalize()} {r.kind} {r.place(width, height)}.")
    return " ".join(filter(None, [camera, head, *parts]))


class PixelDiffCaptioner(CaptionModel):
    """Pixel-difference baseline (no weights, CPU)."""

    version = "1"
    params = (
        ModelParam("threshold", int, 30, "difference (0-255) above which a pixel counts as changed"),
        ModelParam("min_area", float, 0.002, "smallest region kept, as a fraction of the image"),
        ModelParam("max_regions", int, 6, "most regions described"),
        ModelParam("register", bool, True, "align the images first (ECC homography, ORB fallback)"),
        ModelParam("work_size", int, 320, "longest side the images are resized to before comparing"),
        ModelParam("global_fraction", float, 0.3, "changed share of the image read as a lighting change"),
        ModelParam("camera_fraction", float, 0.015, "alignment shift (share of the diagonal) read as a camera move"),
    )

    def caption(self, batch: list[CaptionRequest]) -> list[str]:
        return [self._one(req) for req in batch]

    def _one(self, req: CaptionRequest) -> str:
        before = req.image_before.convert("RGB")
        after = req.image_after.convert("RGB")
        size = self.options["work_size"]
        scale = min(1.0, size / max(before.size))
        dims = (max(1, round(before.width * scale)), max(1, round(before.height * scale)))
        before, after = before.resize(dims), after.resize(dims)
        result = analyse(
            np.asarray(before), np.asarray(after), threshold=self.options["threshold"],
            min_area=self.options["min_area"], max_regions=self.options["max_regions"],
            register=self.options["register"],
        )
        return describe(result.regions, dims[0], dims[1], result.changed_fraction, result.camera_shift,
                        self.options["global_fraction"], self.options["camera_fraction"])
