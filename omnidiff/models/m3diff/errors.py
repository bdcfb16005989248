"""M3Diff's user-fixable failures (all ``OmniDiffError``: one line on the command line, exit code 1)."""

from __future__ import annotations

from annotations.errors import OmniDiffError


class M3DiffError(OmniDiffError):
    """Missing weights, no GPU, a bad option, a bad checkpoint folder."""


class CheckpointKeyError(M3DiffError):
    """A checkpoint whose tensors do not match the model: never silently random-initialised."""

    def __init__(self, source: str, missing: list[str], unexpected: list[str], mismatched: list[str]) -> None:
        self.missing, self.unexpected, self.mismatched = missing, unexpected, mismatched
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape-mismatched", mismatched)):
            if keys:
                parts.append(f"{len(keys)} {label} key(s): {', '.join(keys)}")
        super().__init__(f"M3Diff checkpoint {source} does not match the model: " + "; ".join(parts))
