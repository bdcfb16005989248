"""Baseline ``nn-caption``: return the caption of the train pair whose difference image looks closest.

Fitted on the train split of the same benchmark (the harness passes the store through ``prepare``).
The descriptor is deliberately cheap: a coarse grid of the absolute and signed colour difference
plus a histogram of difference magnitudes. The fitted index is cached on disk, keyed by the store's
shard list and the descriptor version, so a second run does not decode the train images again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from PIL import Image

from annotations.errors import OmniDiffError
from omnidiff.models.base import CaptionModel, CaptionRequest, EvalContext, ModelParam

DESCRIPTOR_VERSION = "1"
GRID = 12


def describe_difference(before: Image.Image, after: Image.Image) -> np.ndarray:
    """Unit-length descriptor of how ``after`` differs from ``before``."""
    b = np.asarray(before.convert("RGB").resize((GRID * 4, GRID * 4), Image.BILINEAR), np.float32) / 255.0
    a = np.asarray(after.convert("RGB").resize((GRID * 4, GRID * 4), Image.BILINEAR), np.float32) / 255.0
    signed = (a - b).reshape(GRID, 4, GRID, 4, 3).mean(axis=(1, 3))
    magnitude = np.abs(a - b).max(axis=2)
    absolute = magnitude.reshape(GRID, 4, GRID, 4).mean(axis=(1, 3))
    hist, _ = np.histogram(magnitude, bins=8, range=(0.05, 1.0))
    hist = hist.astype(np.float32) / magnitude.size
    vec = np.concatenate([absolute.ravel() * 2.0, signed.ravel(), hist * 4.0]).astype(np.float32)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 1e-8 else vec


class NearestNeighbourCaptioner(CaptionModel):
    """Nearest-neighbour caption retrieval baseline (no weights, CPU)."""

    version = DESCRIPTOR_VERSION
    params = (
        ModelParam("train_split", str, "train", "split of the store the index is fitted on"),
        ModelParam("train_data", str, None, "another store to fit on (default: the evaluated store)"),
    )

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self._features: np.ndarray | None = None
        self._captions: list[str] = []
        self._identity = ""

    def prepare(self, context: EvalContext) -> None:
        from annotations import Store

        root = Path(self.options["train_data"] or context.store_root)
        store = Store.open(root)
        split = self.options["train_split"]
        shards = [(s.file, s.rows) for s in store.shards if s.split == split]
        key_text = json.dumps([DESCRIPTOR_VERSION, context.benchmark, split, str(root.resolve()), shards])
        key = hashlib.sha256(key_text.encode()).hexdigest()[:16]
        path = Path(context.cache_dir) / f"nn-caption-{key}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as data:
                self._features = data["features"]
                self._captions = json.loads(str(data["captions"]))
        else:
            self._fit(store, context.benchmark, split, root)
            from annotations.durable import write_atomic

            write_atomic(path, lambda fh: np.savez(fh, features=self._features, captions=np.array(json.dumps(self._captions))))
        content = hashlib.sha256(self._features.tobytes() + json.dumps(self._captions).encode()).hexdigest()
        self._identity = f"index-{content[:16]}"

    def _fit(self, store, benchmark: str, split: str, root: Path) -> None:
        from annotations.schema import decode_image

        features, captions = [], []
        for rec in store.records(split=split):
            if rec.benchmark != benchmark or not rec.captions or rec.image_before is None or rec.image_after is None:
                continue
            features.append(describe_difference(decode_image(rec.image_before), decode_image(rec.image_after)))
            captions.append(rec.captions[0])
        if not features:
            raise OmniDiffError(
                f"nn-caption: no {split} pairs of benchmark {benchmark} with captions in {root} to fit on "
                "(use --model-arg train_data=STORE)"
            )
        self._features = np.stack(features)
        self._captions = captions

    def weights_identity(self) -> str:
        return self._identity

    def caption(self, batch: list[CaptionRequest]) -> list[str]:
        if self._features is None:
            raise OmniDiffError("nn-caption: not fitted (the harness calls prepare() before captioning)")
        queries = np.stack([describe_difference(r.image_before, r.image_after) for r in batch])
        nearest = np.argmax(queries @ self._features.T, axis=1)  # first index wins ties: store order
        return [self._captions[int(i)] for i in nearest]
