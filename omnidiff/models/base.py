"""The model interface: a batch of (before, after, prompt) in, one caption per item out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from PIL import Image


@dataclass(frozen=True)
class CaptionRequest:
    """One item of a batch. Images are decoded RGB PIL images."""

    pair_id: str
    image_before: Image.Image
    image_after: Image.Image
    prompt: str


@dataclass(frozen=True)
class ModelParam:
    """A ``--model-arg`` a model declares: name, type, default, help."""

    name: str
    type: type = str
    default: Any = None
    help: str = ""


class CaptionModel(ABC):
    """Subclasses implement ``caption``; options arrive as keyword arguments already checked."""

    params: ClassVar[tuple[ModelParam, ...]] = ()

    def __init__(self, **options: Any) -> None:
        self.options = options

    @abstractmethod
    def caption(self, batch: list[CaptionRequest]) -> list[str]:
        """Return one caption per request, in order (an empty string when the model says nothing)."""

    def weights_identity(self) -> str:
        """What identifies the weights for the cache (a hash, a revision); '' when there are none."""
        return ""

    def close(self) -> None:
        """Release resources (processes, sessions, GPU memory)."""
