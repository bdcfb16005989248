"""The vocabulary data file (shapes, colours, materials, sizes, nouns, words), loaded once."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.json")


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, Any]:
    return json.loads(VOCABULARY_PATH.read_text(encoding="utf-8"))


def srgb_to_linear(rgb: tuple[int, int, int] | list[int]) -> tuple[float, float, float]:
    """Blender material colours are scene-linear; the data file keeps display sRGB values."""

    def channel(c: int) -> float:
        v = c / 255.0
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return tuple(round(channel(c), 6) for c in rgb)  # type: ignore[return-value]
