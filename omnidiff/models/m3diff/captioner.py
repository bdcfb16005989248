"""``m3diff`` in the model registry: batched greedy captions from M3Diff (``preset=tiny-random`` for CPU tests)."""

from __future__ import annotations

from typing import Any, ClassVar

from omnidiff.models.base import CaptionModel, CaptionRequest, ModelParam
from omnidiff.models.m3diff.config import DEFAULT_HUB_ID
from omnidiff.models.m3diff.errors import M3DiffError


class M3DiffCaptioner(CaptionModel):
    """Loads once at construction, so that a missing GPU or missing weights fail before any pair is read."""

    params: ClassVar[tuple[ModelParam, ...]] = (
        ModelParam("path", str, DEFAULT_HUB_ID, "local folder or hub id of the M3Diff weights (safetensors)"),
        ModelParam("device", str, "auto", "auto (CUDA), cuda, cuda:N or cpu; without CUDA only cpu is accepted"),
        ModelParam("dtype", str, "auto", "auto (bfloat16 on CUDA, float32 on CPU), bfloat16, float16, float32"),
        ModelParam("batch_size", int, 4, "pairs per generate call", affects_output=False),
        ModelParam("max_new_tokens", int, 128, "caption length limit in tokens"),
        ModelParam("preset", str, "", "tiny-random: a tiny configuration with random weights (pipeline tests)"),
        ModelParam("seed", int, 0, "seed of the tiny-random weights"),
    )
    version: ClassVar[str] = "1"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        from omnidiff.models.m3diff.loading import resolve_placement
        from omnidiff.models.m3diff.pipeline import TINY_PRESET, build_tiny_random, load_bundle

        if int(options.get("batch_size", 4)) < 1:
            raise M3DiffError("m3diff: batch_size must be at least 1")
        if int(options.get("max_new_tokens", 128)) < 1:
            raise M3DiffError("m3diff: max_new_tokens must be at least 1")
        preset = (options.get("preset") or "").strip()
        if preset not in ("", TINY_PRESET):
            raise M3DiffError(f"m3diff: preset={preset!r}: the only preset is {TINY_PRESET}")
        placement = resolve_placement(options.get("device", "auto"), options.get("dtype", "auto"))
        if preset == TINY_PRESET:
            self.bundle = build_tiny_random(placement, seed=int(options.get("seed", 0)))
        else:
            self.bundle = load_bundle(options.get("path") or DEFAULT_HUB_ID, placement)

    def caption(self, batch: list[CaptionRequest]) -> list[str]:
        from omnidiff.models.m3diff.pipeline import generate_captions

        size = int(self.options.get("batch_size", 4))
        captions: list[str] = []
        for start in range(0, len(batch), size):
            chunk = batch[start:start + size]
            captions.extend(generate_captions(
                self.bundle,
                [(r.image_before, r.image_after) for r in chunk],
                [r.prompt for r in chunk],
                int(self.options.get("max_new_tokens", 128)),
            ))
        return captions

    def weights_identity(self) -> str:
        return self.bundle.identity

    def close(self) -> None:
        import torch

        self.bundle = None  # type: ignore[assignment]
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
