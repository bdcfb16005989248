"""Render profiles: image size, engine, samples, denoiser, and the visibility threshold."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from annotations.errors import OmniDiffError


@dataclass(frozen=True)
class RenderProfile:
    name: str
    width: int
    height: int
    samples: int
    denoise: bool
    adaptive_threshold: float | None  # Cycles adaptive sampling noise threshold, None = off
    use_gpu: bool  # use a GPU when Cycles finds one
    denoise_quality: str = "HIGH"  # OpenImageDenoise quality: HIGH, BALANCED or FAST
    denoise_prefilter: str = "ACCURATE"  # how OIDN cleans its albedo/normal guides: ACCURATE costs seconds per image
    min_visible_fraction: float = 0.0015  # a changed object must cover this share of the image

    @property
    def aspect(self) -> float:
        return self.width / self.height

    @property
    def min_visible_pixels(self) -> int:
        return max(6, round(self.min_visible_fraction * self.width * self.height))

    def min_pixels_of(self, ident: int) -> int:
        """Letters are thin: a text id needs a quarter of an object's pixels (legibility is their height)."""
        from generators.synthetic.masks import TEXT_ID_OFFSET

        return max(4, self.min_visible_pixels // 4) if ident > TEXT_ID_OFFSET else self.min_visible_pixels

    def to_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, RenderProfile] = {
    "test": RenderProfile("test", 120, 80, samples=4, denoise=False, adaptive_threshold=None, use_gpu=False),
    "preview": RenderProfile("preview", 480, 320, samples=16, denoise=True, adaptive_threshold=None, use_gpu=False,
                             denoise_quality="BALANCED", denoise_prefilter="FAST"),
    "release": RenderProfile("release", 480, 320, samples=256, denoise=True, adaptive_threshold=0.01, use_gpu=True),
}


def get_profile(name: str) -> RenderProfile:
    if name not in PROFILES:
        raise OmniDiffError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    return PROFILES[name]
