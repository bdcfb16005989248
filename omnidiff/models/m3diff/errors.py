"""M3Diff's user-fixable failures (all ``OmniDiffError``: one line on the command line, exit code 1)."""

from __future__ import annotations

from annotations.errors import OmniDiffError


class M3DiffError(OmniDiffError):
    """Missing weights, no GPU, a bad option, a bad checkpoint folder."""


class CheckpointKeyError(M3DiffError):
    """A checkpoint whose tensors do not match the model: never silently random-initialised.

    ``shapes`` (key -> shape) turns the key lists into grouped ones (``blocks.{0-2}.w [4, 8] x3``), so that a
    7B checkpoint's hundreds of keys still read as a few lines' worth of one message."""

    def __init__(self, source: str, missing: list[str], unexpected: list[str], mismatched: list[str],
                 shapes: dict[str, tuple[int, ...]] | None = None, hint: str = "") -> None:
        from omnidiff.models.m3diff.layout import group_keys

        self.missing, self.unexpected, self.mismatched = missing, unexpected, mismatched
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape-mismatched", mismatched)):
            if keys:
                shown = group_keys({k: shapes[k] for k in keys}) if shapes and all(k in shapes for k in keys) else keys
                parts.append(f"{len(keys)} {label} key(s): {'; '.join(shown)}")
        super().__init__(f"M3Diff checkpoint {source} does not match the model: " + " | ".join(parts) + hint)
