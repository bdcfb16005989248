"""Optional face blurring with the Haar cascade that ships inside OpenCV (no download).

Faces are blurred in both images of a pair with the union of detections, so that a face found in
one image only is not left sharp in the other.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from annotations.errors import OmniDiffError

CASCADE = "haarcascade_frontalface_default.xml"


@lru_cache(maxsize=1)
def _detector() -> cv2.CascadeClassifier:
    path = Path(cv2.data.haarcascades) / CASCADE
    detector = cv2.CascadeClassifier(str(path))
    if detector.empty():
        raise OmniDiffError(f"OpenCV face detector not found at {path}")
    return detector


def detect_faces(rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h), sorted, for a deterministic result."""
    gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    min_side = max(24, min(gray.shape) // 40)
    found = _detector().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
    return sorted((int(x), int(y), int(w), int(h)) for x, y, w, h in (found if len(found) else []))


def blur_boxes(rgb: np.ndarray, boxes: list[tuple[int, int, int, int]], margin: float = 0.2) -> np.ndarray:
    """A copy with each box (grown by ``margin``) replaced by a strong Gaussian blur."""
    out = rgb.copy()
    h, w = rgb.shape[:2]
    for x, y, bw, bh in boxes:
        dx, dy = int(bw * margin), int(bh * margin)
        x0, y0, x1, y1 = max(0, x - dx), max(0, y - dy), min(w, x + bw + dx), min(h, y + bh + dy)
        if x1 <= x0 or y1 <= y0:
            continue
        k = max(3, (max(x1 - x0, y1 - y0) // 3) | 1)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(out[y0:y1, x0:x1], (k, k), 0)
    return out


def blur_faces_in_pair(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Blur faces found in either image in both (same-size pairs) or in each separately."""
    fb, fa = detect_faces(before), detect_faces(after)
    if before.shape == after.shape:
        boxes = sorted(set(fb) | set(fa))
        return blur_boxes(before, boxes), blur_boxes(after, boxes), len(boxes)
    return blur_boxes(before, fb), blur_boxes(after, fa), len(fb) + len(fa)
