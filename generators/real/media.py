"""Reading source images strictly and writing them back without metadata.

Why re-encode: EXIF carries GPS position, camera serial numbers and capture times; the stored bytes
must carry none of it. Orientation is applied to the pixels first so that dropping the tag does not
turn the picture. A truncated or corrupt file is an error here (PIL raises on a short JPEG as long as
``LOAD_TRUNCATED_IMAGES`` stays off), never a half-grey image in the store.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from annotations.errors import OmniDiffError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
JPEG_QUALITY = 95


class MediaError(OmniDiffError):
    """A source file that cannot be read as an image or a video."""


@dataclass
class LoadedImage:
    """A decoded source image (RGB, orientation applied) and the format it came in."""

    path: str
    rgb: np.ndarray  # H x W x 3, uint8
    source_format: str  # "JPEG", "PNG", ...
    had_exif: bool


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def decode_strict(data: bytes, label: str) -> LoadedImage:
    """Decode encoded bytes fully; a truncated or corrupt file raises ``MediaError``."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise MediaError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on; refusing to read images leniently")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or "PNG"
            had_exif = bool(img.getexif()) or "exif" in img.info
            img.load()
            upright = ImageOps.exif_transpose(img)
            rgb = np.asarray(upright.convert("RGB"), dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaError(f"{label}: not a readable image ({exc})") from None
    if rgb.shape[0] < 8 or rgb.shape[1] < 8:
        raise MediaError(f"{label}: image is too small ({rgb.shape[1]}x{rgb.shape[0]})")
    return LoadedImage(label, rgb, fmt, had_exif)


def load_image(path: Path, label: str | None = None) -> LoadedImage:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise MediaError(f"{label or path}: cannot read ({exc.strerror or exc})") from None
    return decode_strict(data, label or str(path))


def encode_clean(rgb: np.ndarray, source_format: str = "PNG") -> bytes:
    """Encode pixels with no metadata at all: JPEG sources stay JPEG (quality 95), others become PNG."""
    img = Image.fromarray(rgb, mode="RGB")
    buf = io.BytesIO()
    if source_format.upper() in ("JPEG", "JPG", "MPO"):
        img.save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=False, exif=b"")
    else:
        img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def encode_mask(mask: np.ndarray) -> bytes:
    """A 0/255 single-channel PNG."""
    buf = io.BytesIO()
    Image.fromarray(np.where(mask > 0, 255, 0).astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def has_gps(data: bytes) -> bool:
    """Whether encoded bytes carry an EXIF GPS block (used by checks and tests)."""
    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        return bool(exif.get_ifd(0x8825)) or 0x8825 in exif
