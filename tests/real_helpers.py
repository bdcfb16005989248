"""Drawn inputs for the real-pair tests: textured scenes with planted local changes, videos, time-lapses.

Everything is made with OpenCV/numpy from a seed, so every test input is reproducible and its
ground truth (the planted change mask) is known exactly.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def scene(seed: int, size: tuple[int, int] = (240, 180)) -> np.ndarray:
    """A cluttered RGB scene (many shapes over smooth noise) that has features for registration."""
    rng = np.random.default_rng(seed)
    w, h = size
    noise = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    img = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    img = cv2.GaussianBlur(img, (0, 0), 2)
    img = (img.astype(np.float32) * 0.5 + 60).astype(np.uint8)
    for _ in range(40):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(3, max(4, w // 14)))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), r, colour, -1)
        else:
            cv2.rectangle(img, (x, y), (x + r, y + int(rng.integers(3, r + 4))), colour, -1)
    return img


def plant_square(img: np.ndarray, box: tuple[int, int, int, int], colour=(20, 220, 40)) -> tuple[np.ndarray, np.ndarray]:
    """A copy with a filled box (x0, y0, x1, y1) and the planted mask."""
    out = img.copy()
    x0, y0, x1, y1 = box
    cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), colour, -1)
    cv2.rectangle(out, (x0 + 3, y0 + 3), (x1 - 4, y1 - 4), (240, 240, 30), 2)
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[y0:y1, x0:x1] = 255
    return out, mask


def save_png(rgb: np.ndarray, path: Path) -> Path:
    Image.fromarray(rgb).save(path, format="PNG")
    return path


def jpeg_bytes(rgb: np.ndarray, exif: bytes | None = None, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    kwargs = {"quality": quality}
    if exif is not None:
        kwargs["exif"] = exif
    Image.fromarray(rgb).save(buf, format="JPEG", **kwargs)
    return buf.getvalue()


def gps_exif() -> bytes:
    """An EXIF block with a GPS position (Cambridge, UK) and a camera make."""
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 12.0, 30.0)
    gps[3] = "E"
    gps[4] = (0.0, 7.0, 5.0)
    return exif.tobytes()


@dataclass
class VideoTruth:
    """Where the moving object was in each frame (None when absent), and the frame indices of events."""

    boxes: list[tuple[int, int, int, int] | None]
    blurred: list[int]
    cut_at: int


def write_video(path: Path, fps: int = 10, size: tuple[int, int] = (240, 180)) -> VideoTruth:
    """A static scene in which a box appears, moves and leaves; one blurred frame; then a scene cut.

    Frames 0-11 empty, 12-23 box at A, 24-35 box at B, 36-47 empty, 48 onward a different scene
    (the cut) with no change. Frame 30 is blurred. Slight camera jitter (1-2 px) throughout.
    """
    w, h = size
    base = scene(11, size)
    other = scene(99, size)
    a_box, b_box = (40, 50, 80, 90), (150, 90, 190, 130)
    boxes: list[tuple[int, int, int, int] | None] = []
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write MJPG video here")
    blurred = [30]
    cut_at = 48
    rng = np.random.default_rng(5)
    for i in range(60):
        box = a_box if 12 <= i < 24 else b_box if 24 <= i < 36 else None
        frame = other.copy() if i >= cut_at else base.copy()
        if box is not None:
            frame, _ = plant_square(frame, box)
        dx, dy = float(rng.uniform(-1.5, 1.5)), float(rng.uniform(-1.5, 1.5))
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        frame = cv2.warpAffine(frame, shift, (w, h), borderMode=cv2.BORDER_REFLECT)
        if i in blurred:
            frame = cv2.GaussianBlur(frame, (0, 0), 4)
        boxes.append(None if box is None or i >= cut_at else box)
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return VideoTruth(boxes, blurred, cut_at)


def box_mask(boxes, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    for box in boxes:
        if box is not None:
            x0, y0, x1, y1 = box
            mask[y0:y1, x0:x1] = 255
    return mask


def write_panning_video(path: Path, fps: int = 10) -> tuple[list[int], int, tuple[int, int, int, int]]:
    """A camera panning right 3 px a frame over a wide scene (40 frames, 240x180 view); a box is
    put down at frame 20. Returns each frame's crop x, the frame of the change and the box in scene
    coordinates."""
    wide = scene(21, (420, 180))
    box = (150, 60, 195, 105)  # inside the view in every frame
    with_box, _ = plant_square(wide, box, colour=(240, 120, 20))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (240, 180))
    offsets = []
    for i in range(40):
        x = 3 * i
        offsets.append(x)
        frame = (with_box if i >= 20 else wide)[:, x:x + 240]
        writer.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
    writer.release()
    return offsets, 20, box
