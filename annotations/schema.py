"""The pair record: one row per image pair, one Arrow schema, Hugging Face feature metadata.

Image columns are stored as ``struct<bytes: binary, path: string>``, which is how the
``datasets`` library stores its ``Image`` feature, so ``datasets.load_dataset("parquet", ...)``
decodes them when the feature metadata travels in the Parquet schema.
"""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any, Union

import numpy as np
import pyarrow as pa

SCHEMA_VERSION = 2  # 2 added the image_sha256 column; a version-1 store is read as it is, compact upgrades it
KNOWN_SCHEMA_VERSIONS = (1, 2)

SPLITS = ("train", "val", "test")
DOMAINS = ("render", "real")
IMAGE_COLUMNS = ("image_before", "image_after", "mask_before", "mask_after")
JSON_COLUMNS = ("scene_diff", "provenance")
IMAGE_HASH_COLUMN = "image_sha256"  # struct: the SHA-256 hex digest of each image column's bytes
IMAGE_FORMATS = ("PNG", "JPEG")
MAX_PAIR_ID_CHARS = 200

ImageLike = Union[bytes, "Image.Image", None]  # noqa: F821 - PIL is imported lazily

_IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
_BOX_TYPE = pa.struct(
    [
        ("image", pa.string()),
        ("label", pa.string()),
        ("x0", pa.int32()),
        ("y0", pa.int32()),
        ("x1", pa.int32()),
        ("y1", pa.int32()),
    ]
)

_HASH_TYPE = pa.struct([(name, pa.string()) for name in IMAGE_COLUMNS])

_FIELDS_V1: list[pa.Field] = [
    pa.field("pair_id", pa.string(), nullable=False),
    pa.field("scene_id", pa.string(), nullable=False),
    pa.field("benchmark", pa.string(), nullable=False),
    pa.field("split", pa.string(), nullable=False),
    pa.field("domain", pa.string(), nullable=False),
    pa.field("setting", pa.string()),
    pa.field("image_before", _IMAGE_TYPE),
    pa.field("image_after", _IMAGE_TYPE),
    pa.field("change_types", pa.list_(pa.string())),
    pa.field("native_change_type", pa.string()),
    pa.field("distractor", pa.bool_()),
    pa.field("captions", pa.list_(pa.string())),
    pa.field("mask_before", _IMAGE_TYPE),
    pa.field("mask_after", _IMAGE_TYPE),
    pa.field("boxes", pa.list_(_BOX_TYPE)),
    pa.field("scene_diff", pa.string()),
    pa.field("provenance", pa.string()),
    pa.field("license", pa.string()),
    pa.field("source", pa.string()),
]
_FIELDS_BY_VERSION: dict[int, list[pa.Field]] = {1: _FIELDS_V1, 2: _FIELDS_V1 + [pa.field(IMAGE_HASH_COLUMN, _HASH_TYPE)]}

RECORD_COLUMNS: tuple[str, ...] = tuple(f.name for f in _FIELDS_V1)  # what a PairRecord holds
COLUMNS: tuple[str, ...] = tuple(f.name for f in _FIELDS_BY_VERSION[SCHEMA_VERSION])
METADATA_COLUMNS: tuple[str, ...] = tuple(c for c in RECORD_COLUMNS if c not in IMAGE_COLUMNS)


def columns_for(version: int) -> tuple[str, ...]:
    return tuple(f.name for f in _FIELDS_BY_VERSION[version])


def hf_features_dict(version: int = SCHEMA_VERSION) -> dict[str, Any]:
    """The ``datasets`` feature description of a pair record, as ``Features.to_dict()`` gives it."""
    string = {"dtype": "string", "_type": "Value"}
    i32 = {"dtype": "int32", "_type": "Value"}
    image = {"_type": "Image"}
    features = {
        "pair_id": string,
        "scene_id": string,
        "benchmark": string,
        "split": string,
        "domain": string,
        "setting": string,
        "image_before": image,
        "image_after": image,
        "change_types": {"feature": string, "_type": "List"},
        "native_change_type": string,
        "distractor": {"dtype": "bool", "_type": "Value"},
        "captions": {"feature": string, "_type": "List"},
        "mask_before": image,
        "mask_after": image,
        "boxes": {
            "feature": {"image": string, "label": string, "x0": i32, "y0": i32, "x1": i32, "y1": i32},
            "_type": "List",
        },
        "scene_diff": string,
        "provenance": string,
        "license": string,
        "source": string,
    }
    if version >= 2:
        features[IMAGE_HASH_COLUMN] = {name: string for name in IMAGE_COLUMNS}
    return features


@lru_cache(maxsize=4)
def arrow_schema(version: int = SCHEMA_VERSION) -> pa.Schema:
    """The store schema of a version, with the ``huggingface`` metadata key that ``datasets`` reads."""
    meta = {
        b"huggingface": json.dumps({"info": {"features": hf_features_dict(version)}}).encode(),
        b"omnidiff": json.dumps({"schema_version": version}).encode(),
    }
    return pa.schema(_FIELDS_BY_VERSION[version], metadata=meta)


def pair_id_problem(pair_id: Any) -> str | None:
    """Why a pair id is unsafe (None when it is fine): ids become file names in exports and URLs in the page,
    so no path separators, no ``..``, no control characters (NUL included), nothing empty or huge."""
    if not isinstance(pair_id, str) or not pair_id.strip():
        return "pair id must be a non-empty string"
    if len(pair_id) > MAX_PAIR_ID_CHARS:
        return f"pair id is longer than {MAX_PAIR_ID_CHARS} characters"
    if "/" in pair_id or "\\" in pair_id:
        return "pair id must not contain a path separator"
    if ".." in pair_id:
        return "pair id must not contain '..'"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in pair_id):
        return "pair id must not contain control characters"
    return None


def image_format(data: bytes | None) -> str | None:
    """PNG or JPEG by the file signature, else None (the store holds only these two)."""
    if not data:
        return None
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    return None


def as_stored_format(data: bytes) -> bytes:
    """PNG and JPEG bytes as given; any other image (a GIF or WEBP in a native benchmark download) is
    re-encoded losslessly as PNG from its first frame, since the store holds only PNG and JPEG."""
    if image_format(data) is not None:
        return data
    img = decode_image(data)
    if img.mode not in ("1", "L", "LA", "RGB", "RGBA", "I", "I;16"):
        img = img.convert("RGBA" if "transparency" in img.info or img.mode in ("PA", "RGBa", "La") else "RGB")
    return image_to_bytes(img)


def sha256_hex(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def image_to_bytes(value: ImageLike) -> bytes | None:
    """Encoded bytes as given; a PIL image is encoded as PNG (lossless, deterministic)."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if hasattr(value, "save"):
        buf = io.BytesIO()
        value.save(buf, format="PNG")
        return buf.getvalue()
    raise TypeError(f"image must be encoded bytes or a PIL image, not {type(value).__name__}")


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class Box:
    image: str  # "before" or "after"
    label: str
    x0: int
    y0: int
    x1: int
    y1: int


@dataclass
class PairRecord:
    """One before/after pair with its annotations (the columns of DESIGN.md)."""

    pair_id: str
    scene_id: str
    benchmark: str
    split: str
    domain: str
    image_before: ImageLike
    image_after: ImageLike
    captions: list[str] = field(default_factory=list)
    change_types: list[str] = field(default_factory=list)
    setting: str | None = None
    native_change_type: str | None = None
    distractor: bool = False
    mask_before: ImageLike = None
    mask_after: ImageLike = None
    boxes: list[Box] | None = None
    scene_diff: str | None = None
    provenance: str = "{}"
    license: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        self.scene_diff = _json_text(self.scene_diff)
        self.provenance = _json_text(self.provenance) or "{}"
        self.captions = list(self.captions)
        self.change_types = list(self.change_types)
        if self.boxes is not None:
            self.boxes = [b if isinstance(b, Box) else Box(**b) for b in self.boxes]

    @property
    def provenance_dict(self) -> dict[str, Any]:
        return json.loads(self.provenance or "{}")

    @property
    def scene_diff_dict(self) -> Any:
        return json.loads(self.scene_diff) if self.scene_diff else None

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in IMAGE_COLUMNS:
                data = image_to_bytes(value)
                value = None if data is None else {"bytes": data, "path": None}
            elif f.name == "boxes" and value is not None:
                value = [vars(b) for b in value]
            row[f.name] = value
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any], decode_images: bool = False) -> "PairRecord":
        kwargs: dict[str, Any] = {}
        for name in RECORD_COLUMNS:
            value = row.get(name)
            if name in IMAGE_COLUMNS:
                value = None if value is None else value.get("bytes")
                if decode_images and value is not None:
                    value = decode_image(value)
            kwargs[name] = value
        if kwargs["distractor"] is None:
            kwargs["distractor"] = False
        kwargs["captions"] = kwargs["captions"] or []
        kwargs["change_types"] = kwargs["change_types"] or []
        return cls(**kwargs)


def decode_image(data: bytes):
    """Decode encoded bytes into a loaded PIL image (raises on corrupt data)."""
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    img.load()
    return img


MAX_BINARY_COLUMN_BYTES = 2**31 - 1  # int32 offsets of Arrow's binary type


def binary_array(data: list[bytes | None]) -> pa.Array:
    """A binary array built from one joined buffer: 10x faster than ``pa.array`` on image bytes."""
    lengths = np.fromiter((0 if d is None else len(d) for d in data), dtype=np.int64, count=len(data))
    if lengths.sum() > MAX_BINARY_COLUMN_BYTES:
        raise ValueError("more than 2 GiB of image bytes in one column; append in smaller batches")
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    valid = np.array([d is not None for d in data], dtype=bool)
    validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    joined = b"".join(d for d in data if d is not None)
    return pa.Array.from_buffers(pa.binary(), len(data), [validity, pa.py_buffer(offsets), pa.py_buffer(joined)])


def records_to_table(records: list[PairRecord]) -> pa.Table:
    """Column-wise conversion: image bytes go into Arrow buffers without a per-row dict; each image's
    SHA-256 goes into ``image_sha256``."""
    schema = arrow_schema()
    arrays = []
    encoded: dict[str, list[bytes | None]] = {}
    for f in schema:
        if f.name == IMAGE_HASH_COLUMN:
            digests = [pa.array([sha256_hex(d) for d in encoded[name]], pa.string()) for name in IMAGE_COLUMNS]
            arrays.append(pa.StructArray.from_arrays(digests, fields=list(f.type)))
            continue
        values = [getattr(r, f.name) for r in records]
        if f.name in IMAGE_COLUMNS:
            data = encoded[f.name] = [image_to_bytes(v) for v in values]
            mask = pa.array([d is None for d in data], pa.bool_())
            arrays.append(pa.StructArray.from_arrays(
                [binary_array(data), pa.nulls(len(data), pa.string())], fields=list(f.type), mask=mask))
        elif f.name == "boxes":
            arrays.append(pa.array([None if v is None else [vars(b) for b in v] for v in values], f.type))
        else:
            arrays.append(pa.array(values, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)
