"""Who captions the batches of ``omnidiff eval``: the model in this process, or its replicas on Ray.

The harness has one flow (``runner.py``): plan, look up the cache, cut the pairs still to caption into
batches, save each batch's captions as they arrive, score. The captioner is the one part that differs by
``--backend``: ``LocalCaptioner`` calls the model here, batch after batch; ``RayReplicas``
(``ray_replicas.py``) sends each batch to a free one of ``--model-arg replicas=N`` model replicas (Ray actors)
and yields the answers in the order they finish. Either way the driver alone writes the prediction cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from annotations.errors import OmniDiffError

BACKENDS = ("local", "ray")
REPLICAS_ARG = "replicas"  # --model-arg replicas=N: the backend's, not the model's (kept out of the cache key)


@dataclass(frozen=True)
class Batch:
    """Pairs to caption in one model call, images still encoded (PNG/JPEG bytes, as stored)."""

    pair_ids: list[str]
    images: list[tuple[bytes, bytes]]  # (before, after) per pair
    prompt: str


def requests_of(batch: Batch) -> list:
    """The model's view of a batch: decoded RGB images."""
    from annotations.schema import decode_image
    from omnidiff.models.base import CaptionRequest

    return [CaptionRequest(pid, decode_image(before).convert("RGB"), decode_image(after).convert("RGB"), batch.prompt)
            for pid, (before, after) in zip(batch.pair_ids, batch.images)]


class Captioner(Protocol):
    name: str  # the model's registered name
    options: dict[str, Any]  # its checked options (what the cache key and run.json record)
    params: tuple  # its declared ModelParams
    backend: str  # what run.json says ran it

    def prepare(self, context: Any) -> str:
        """Get ready for a benchmark (``CaptionModel.prepare``); returns the model fingerprint."""

    def caption(self, batches: Iterable[Batch]) -> Iterator[tuple[Batch, list]]:
        """Each batch with the model's answers, as they finish; batches are drawn only as they are sent."""

    def close(self) -> None: ...


class LocalCaptioner:
    """The model in this process."""

    backend = "local"

    def __init__(self, loaded: Any) -> None:
        self.loaded = loaded
        self.name = loaded.manifest.name
        self.options = loaded.options
        self.params = type(loaded.model).params

    def prepare(self, context: Any) -> str:
        from omnidiff.models.registry import model_fingerprint

        self.loaded.model.prepare(context)
        return model_fingerprint(self.loaded.manifest, self.loaded.model, self.options)

    def caption(self, batches: Iterable[Batch]) -> Iterator[tuple[Batch, list]]:
        for batch in batches:
            yield batch, self.loaded.model.caption(requests_of(batch))

    def close(self) -> None:
        self.loaded.model.close()


def _replicas(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise OmniDiffError(f"--model-arg {REPLICAS_ARG}={value!r}: expected a whole number of at least 1")
    return count


def open_captioner(model: str, model_args: dict[str, str], backend: str = "local", ray_address: str | None = None,
                   report: Callable[[str], None] | None = None) -> Captioner:
    """The captioner of ``--backend`` for ``model``; its option errors come before Ray starts or weights load."""
    from omnidiff.models.registry import check_options, get_manifest, load_model, resolve_class

    if backend not in BACKENDS:
        raise OmniDiffError(f"--backend {backend!r}: choose {' or '.join(BACKENDS)}")
    if ray_address is not None and backend != "ray":
        raise OmniDiffError("--ray-address is for --backend ray")
    args = dict(model_args)
    replicas = args.pop(REPLICAS_ARG, None)
    if backend == "local":
        if replicas is not None:
            raise OmniDiffError(f"--model-arg {REPLICAS_ARG} is for --backend ray (model replicas as Ray actors)")
        return LocalCaptioner(load_model(model, args))
    count = _replicas(replicas) if replicas is not None else 1
    manifest = get_manifest(model)
    cls = resolve_class(manifest)
    options = check_options(cls, model, args)
    if getattr(cls, "remote_api", False):
        if report is not None:
            report(f"note: {model} calls its endpoint with its own concurrency; it runs here, without Ray replicas")
        return LocalCaptioner(load_model(model, args))
    from omnidiff.harness.ray_replicas import RayReplicas

    return RayReplicas(manifest, cls, options, count, ray_address)
