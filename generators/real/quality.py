"""Image quality checks (blur, exposure) and perceptual hashes for near-duplicate removal.

Measures are taken on a copy scaled to a fixed size so that thresholds mean the same thing for a
phone photo and a video frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

ANALYSIS_SIDE = 512


@dataclass(frozen=True)
class QualityThresholds:
    """Limits of the blur and exposure checks (defaults suit ordinary photos and video frames)."""

    min_sharpness: float = 40.0  # variance of the Laplacian at ANALYSIS_SIDE
    min_mean: float = 25.0  # mean luminance 0..255
    max_mean: float = 235.0
    max_clipped: float = 0.5  # share of pixels at <= 3 or >= 252


@dataclass(frozen=True)
class Quality:
    sharpness: float
    mean_luma: float
    clipped: float

    def problem(self, limits: QualityThresholds) -> str | None:
        """The reason to drop this image, or None when it passes (exposure is judged first)."""
        if self.mean_luma < limits.min_mean:
            return f"underexposed (mean {self.mean_luma:.0f} < {limits.min_mean:g})"
        if self.mean_luma > limits.max_mean:
            return f"overexposed (mean {self.mean_luma:.0f} > {limits.max_mean:g})"
        if self.clipped > limits.max_clipped:
            return f"clipped exposure ({self.clipped:.0%} of pixels black or white)"
        if self.sharpness < limits.min_sharpness:  # after exposure: a dark frame also has weak edges
            return f"blurred (sharpness {self.sharpness:.1f} < {limits.min_sharpness:g})"
        return None

    def as_dict(self) -> dict[str, float]:
        return {"sharpness": round(self.sharpness, 2), "mean_luma": round(self.mean_luma, 2), "clipped": round(self.clipped, 4)}


def to_gray(rgb: np.ndarray) -> np.ndarray:
    return rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def scaled(image: np.ndarray, side: int = ANALYSIS_SIDE) -> np.ndarray:
    """A copy whose longer side is at most ``side``."""
    h, w = image.shape[:2]
    factor = side / max(h, w)
    if factor >= 1.0:  # never enlarge: upsampling would smooth the image and fake blur
        return image
    interp = cv2.INTER_AREA
    return cv2.resize(image, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=interp)


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian: low for blurred images."""
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def measure(rgb: np.ndarray) -> Quality:
    gray = scaled(to_gray(rgb))
    clipped = float(np.mean((gray <= 3) | (gray >= 252)))
    return Quality(sharpness(gray), float(gray.mean()), clipped)


def phash(rgb: np.ndarray) -> int:
    """64-bit DCT perceptual hash: low frequencies of a 32x32 grey thumbnail against their median."""
    gray = cv2.resize(to_gray(rgb), (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(gray)[:8, :8].flatten()
    bits = low > np.median(low[1:])
    return int("".join("1" if b else "0" for b in bits), 2)


def hamming(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


def hash_hex(value: int) -> str:
    return f"{value:016x}"


@dataclass
class DuplicateIndex:
    """Perceptual hashes of pairs already kept (this run, the target store, other stores).

    A pair is a near-duplicate when both its before and its after hash are within ``max_distance``
    bits of one pair already indexed.
    """

    max_distance: int = 6

    def __post_init__(self) -> None:
        self._pairs: list[tuple[int, int, str]] = []

    def __len__(self) -> int:
        return len(self._pairs)

    def find(self, before: int, after: int) -> str | None:
        for hb, ha, label in self._pairs:
            if hamming(hb, before) <= self.max_distance and hamming(ha, after) <= self.max_distance:
                return label
        return None

    def add(self, before: int, after: int, label: str) -> None:
        self._pairs.append((before, after, label))
