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
    affects_output: bool = True  # False for concurrency, timeouts, batch size: kept out of the cache key


@dataclass(frozen=True)
class EvalContext:
    """What the harness tells a model about the run: the benchmark, its store, a cache folder."""

    benchmark: str
    split: str
    store_root: Any  # pathlib.Path of the store the pairs come from
    cache_dir: Any  # pathlib.Path where a model may keep fitted state between runs


class CaptionModel(ABC):
    """Subclasses implement ``caption``; options arrive as keyword arguments already checked."""

    params: ClassVar[tuple[ModelParam, ...]] = ()
    version: ClassVar[str] = "1"  # bump when the same options give different captions
    remote_api: ClassVar[bool] = False  # calls a server with its own concurrency: `eval --backend ray` makes no replicas

    def __init__(self, **options: Any) -> None:
        self.options = options

    @abstractmethod
    def caption(self, batch: list[CaptionRequest]) -> list[str]:
        """Return one caption per request, in order (an empty string when the model says nothing)."""

    def prepare(self, context: "EvalContext") -> None:
        """Called by the harness once per benchmark before captioning (e.g. to fit on its train split)."""

    def weights_identity(self) -> str:
        """What identifies the weights for the cache (a hash, a revision); '' when there are none."""
        return ""

    def close(self) -> None:
        """Release resources (processes, sessions, GPU memory)."""
