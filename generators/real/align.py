"""Registration of the after image onto the before image: features + RANSAC homography, ECC refinement.

The result is a transform recorded in provenance; the stored originals are never warped. The matrix
maps pixel coordinates of the after image to those of the before image (``cv2.warpPerspective(after,
H, before_size)`` lays the after image over the before image).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from generators.real.quality import scaled, to_gray

FEATURE_SIDE = 1024
ECC_SIDE = 320
MIN_INLIERS = 12


@dataclass
class Alignment:
    """A homography (after -> before pixels) and how it was found."""

    matrix: np.ndarray = field(default_factory=lambda: np.eye(3))
    method: str = "identity"
    matches: int = 0
    inliers: int = 0
    ecc: float | None = None  # ECC correlation after refinement
    ok: bool = True  # False when registration was asked for but failed

    def corner_shift(self, width: int, height: int) -> float:
        """Largest displacement of an image corner under the transform, in pixels."""
        corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]]).reshape(-1, 1, 2)
        moved = cv2.perspectiveTransform(corners, self.matrix)
        return float(np.max(np.linalg.norm(moved - corners, axis=2)))

    def as_provenance(self, width: int, height: int) -> dict:
        return {
            "model": "homography",
            "direction": "after_to_before",
            "matrix": [[round(float(v), 8) for v in row] for row in self.matrix],
            "method": self.method,
            "matches": self.matches,
            "inliers": self.inliers,
            "ecc": None if self.ecc is None else round(self.ecc, 5),
            "ok": self.ok,
            "corner_shift_px": round(self.corner_shift(width, height), 3),
        }


def _scale_matrix(s_x: float, s_y: float) -> np.ndarray:
    return np.array([[s_x, 0, 0], [0, s_y, 0], [0, 0, 1]], dtype=np.float64)


def _match(detector: cv2.Feature2D, gb: np.ndarray, ga: np.ndarray):
    kb, db = detector.detectAndCompute(gb, None)
    ka, da = detector.detectAndCompute(ga, None)
    if db is None or da is None or len(kb) < 4 or len(ka) < 4:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    good = []
    for pair in matcher.knnMatch(da, db, k=2):
        if len(pair) == 2 and pair[0].distance < 0.8 * pair[1].distance:
            good.append(pair[0])
    if len(good) < MIN_INLIERS:
        return None
    src = np.float32([ka[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
    dst = np.float32([kb[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
    return src, dst


def feature_homography(gray_before: np.ndarray, gray_after: np.ndarray, model: str = "homography") -> Alignment | None:
    """ORB, then AKAZE when ORB finds too little; RANSAC fit (after -> before) at full scale.

    ``model="similarity"`` (shift, rotation, scale) is steadier for the small jitter of a fixed
    camera; ``"homography"`` follows any planar view change.
    """
    sb, sa = scaled(gray_before, FEATURE_SIDE), scaled(gray_after, FEATURE_SIDE)
    fb = gray_before.shape[1] / sb.shape[1], gray_before.shape[0] / sb.shape[0]
    fa = gray_after.shape[1] / sa.shape[1], gray_after.shape[0] / sa.shape[0]
    cv2.setRNGSeed(0)
    for name, detector in (("orb", cv2.ORB_create(nfeatures=3000)), ("akaze", cv2.AKAZE_create())):
        matched = _match(detector, sb, sa)
        if matched is None:
            continue
        src, dst = matched
        if model == "similarity":
            affine, inlier_mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=2.0)
            h_small = None if affine is None else np.vstack([affine, [0.0, 0.0, 1.0]])
        else:
            h_small, inlier_mask = cv2.findHomography(src, dst, cv2.RANSAC, 3.0, maxIters=2000, confidence=0.995)
        if h_small is None:
            continue
        inliers = int(inlier_mask.sum())
        if inliers < MIN_INLIERS:
            continue
        full = _scale_matrix(*fb) @ h_small @ np.linalg.inv(_scale_matrix(*fa))
        method = f"{name}+ransac" if model == "homography" else f"{name}+ransac-{model}"
        return Alignment(full / full[2, 2], method, len(src), inliers)
    return None


@dataclass
class _EccFrame:
    """Both images at the ECC scale, with the matrices that convert coordinates to and from it."""

    before: np.ndarray
    after: np.ndarray
    to_small_before: np.ndarray  # full before pixels -> small
    to_full_after: np.ndarray  # small after pixels -> full

    @classmethod
    def of(cls, gray_before: np.ndarray, gray_after: np.ndarray) -> "_EccFrame":
        sb = scaled(gray_before, ECC_SIDE).astype(np.float32)
        sa = scaled(gray_after, ECC_SIDE).astype(np.float32)
        kb = _scale_matrix(sb.shape[1] / gray_before.shape[1], sb.shape[0] / gray_before.shape[0])
        ka = _scale_matrix(gray_after.shape[1] / sa.shape[1], gray_after.shape[0] / sa.shape[0])
        return cls(sb, sa, kb, ka)

    def small(self, full: np.ndarray) -> np.ndarray:
        m = self.to_small_before @ full @ self.to_full_after
        return m / m[2, 2]

    def full(self, small: np.ndarray) -> np.ndarray:
        m = np.linalg.inv(self.to_small_before) @ small @ np.linalg.inv(self.to_full_after)
        return m / m[2, 2]

    def residual(self, small: np.ndarray, exclude: np.ndarray | None) -> float:
        """Mean absolute grey difference once the before image is laid onto the after image."""
        h, w = self.after.shape
        warped = cv2.warpPerspective(self.before, small, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        cover = cv2.warpPerspective(np.ones(self.before.shape, np.uint8), small, (w, h),
                                    flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP) > 0
        if exclude is not None:
            cover &= exclude == 0
        if cover.sum() < 0.2 * cover.size:
            return float("inf")
        diff = np.abs(cv2.GaussianBlur(warped, (0, 0), 1.0) - cv2.GaussianBlur(self.after, (0, 0), 1.0))
        return float(diff[cover].mean())


def refine_ecc(frame: _EccFrame, initial_small: np.ndarray, exclude: np.ndarray | None) -> tuple[np.ndarray, float] | None:
    """ECC homography refinement (after -> before, small scale) ignoring ``exclude``d after pixels."""
    # ECC's warp maps template (before) coordinates to input (after) coordinates.
    warp = np.linalg.inv(initial_small).astype(np.float32)
    warp /= warp[2, 2]
    mask = None if exclude is None else np.where(exclude > 0, 0, 255).astype(np.uint8)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-5)
    try:
        rho, warp = cv2.findTransformECC(frame.before, frame.after, warp, cv2.MOTION_HOMOGRAPHY, criteria, mask, 5)
    except cv2.error:
        return None
    refined = np.linalg.inv(warp.astype(np.float64))
    return refined / refined[2, 2], float(rho)


def _change_mask(frame: _EccFrame, small: np.ndarray) -> np.ndarray:
    """Where the images differ under a transform (dilated), so that ECC and the residual skip it."""
    from generators.real.proposals import propose_change_mask

    before = np.repeat(frame.before[..., None], 3, axis=2)
    after = np.repeat(frame.after[..., None], 3, axis=2)
    mask = propose_change_mask(before, after, small).mask
    return cv2.dilate(mask, np.ones((7, 7), np.uint8))


def register(before_rgb: np.ndarray, after_rgb: np.ndarray, refine: bool = True, model: str = "homography") -> Alignment:
    """Find the after -> before transform; an identity with ``ok=False`` when nothing matches.

    ECC refinement ignores the pixels that changed (a planted object would pull it) and is kept only
    when it lowers the residual difference outside the change.
    """
    gb, ga = to_gray(before_rgb), to_gray(after_rgb)
    found = feature_homography(gb, ga, model)
    if found is None:
        if gb.shape == ga.shape:
            start = Alignment(np.eye(3), "identity", ok=False)
        else:
            sx, sy = gb.shape[1] / ga.shape[1], gb.shape[0] / ga.shape[0]
            start = Alignment(_scale_matrix(sx, sy), "resize", ok=False)
    else:
        start = found
    if not refine:
        return start
    frame = _EccFrame.of(gb, ga)
    start_small = frame.small(start.matrix)
    exclude = _change_mask(frame, start_small)
    refined = refine_ecc(frame, start_small, exclude)
    if refined is None:
        return start
    small, rho = refined
    if frame.residual(small, exclude) >= frame.residual(start_small, exclude):
        return start
    return Alignment(frame.full(small), start.method + "+ecc", start.matches, start.inliers, rho, ok=found is not None or rho > 0.8)
