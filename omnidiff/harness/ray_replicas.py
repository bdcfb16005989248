"""Model replicas as Ray actors for ``omnidiff eval --backend ray --model-arg replicas=N``.

Each replica loads the model once (one GPU each when the model asks for CUDA: ``device=cuda``, ``cuda:N``,
or ``auto`` on a cluster that has GPUs). The driver reads a batch's images from the store only when a
replica is free for it (two batches queued per replica, so none waits for the driver), sends the encoded
bytes through Ray's object store and yields the captions as replicas answer; the harness commits each
answer to the prediction cache at once, so a killed run loses only the batches in flight.

A replica prepares for a benchmark lazily, on the first batch that names it, so a replica that Ray
restarted (``max_restarts=1``; its batch is sent again, ``max_task_retries=1``) is ready like the others.
Its fingerprint is computed with the driver's options, so local and Ray runs share one cache.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from typing import Any

from annotations.errors import OmniDiffError
from annotations.ray_session import cluster_total, error_line, ray_session, task_env, unwrap_error
from omnidiff.harness.captioners import Batch, requests_of

BATCHES_PER_REPLICA = 2  # one running, one waiting in the actor's queue
CPUS_PER_REPLICA = 1


class Replica:
    """One copy of the model, in a Ray actor process."""

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        from omnidiff.models.registry import load_model

        load = dict(options)
        device = str(load.get("device", ""))
        if device.startswith("cuda:"):  # Ray shows an actor only its own GPU, as cuda:0
            load["device"] = "cuda"
        self.loaded = load_model(name, load)
        self.options = options
        self.prepared: Any = None

    def ready(self) -> bool:
        return True

    def _prepare(self, context: Any) -> None:
        if context != self.prepared:
            self.loaded.model.prepare(context)
            self.prepared = context

    def fingerprint(self, context: Any) -> str:
        from omnidiff.models.registry import model_fingerprint

        self._prepare(context)
        return model_fingerprint(self.loaded.manifest, self.loaded.model, self.options)

    def caption(self, context: Any, batch: Batch) -> list:
        self._prepare(context)
        return self.loaded.model.caption(requests_of(batch))

    def close(self) -> None:
        self.loaded.model.close()


def wants_gpu(options: dict[str, Any], cluster_gpus: float) -> bool:
    device = str(options.get("device", "")).strip().lower()
    if device.startswith("cuda"):
        if cluster_gpus < 1:
            raise OmniDiffError(f"device={device}: the Ray cluster has no GPUs")
        return True
    return device == "auto" and cluster_gpus >= 1


class RayReplicas:
    """The ``Captioner`` of ``--backend ray``."""

    def __init__(self, manifest: Any, cls: type, options: dict[str, Any], replicas: int, address: str | None) -> None:
        self.name = manifest.name
        self.options = options
        self.params = cls.params
        self.backend = f"ray ({replicas} replicas)"
        self._context: Any = None
        self._stack = ExitStack()
        try:
            self._ray = ray = self._stack.enter_context(ray_session(address))
            gpu = wants_gpu(options, cluster_total(ray, "GPU"))
            kind, have = ("GPU", cluster_total(ray, "GPU")) if gpu else ("CPU", cluster_total(ray, "CPU") / CPUS_PER_REPLICA)
            if replicas > have:
                raise OmniDiffError(f"--model-arg replicas={replicas}: the Ray cluster has {have:g} {kind}s for them")
            actor = ray.remote(Replica).options(num_cpus=CPUS_PER_REPLICA, num_gpus=1 if gpu else 0, max_restarts=1,
                                                max_task_retries=1, **task_env())
            self._actors = [actor.remote(self.name, options) for _ in range(replicas)]
            self._stack.callback(self._stop)
            self._get([a.ready.remote() for a in self._actors])  # a model that cannot load says so now
        except BaseException:
            self._stack.close()
            raise

    def _get(self, refs: Any) -> Any:
        ray = self._ray
        try:
            return ray.get(refs)
        except ray.exceptions.RayError as exc:
            inner = unwrap_error(exc)
            if isinstance(inner, OmniDiffError):
                raise OmniDiffError(str(inner)) from None
            raise OmniDiffError(f"model {self.name} on a Ray replica: {error_line(exc)}") from None

    def prepare(self, context: Any) -> str:
        self._context = context
        return self._get(self._actors[0].fingerprint.remote(context))

    def caption(self, batches: Iterable[Batch]) -> Iterator[tuple[Batch, list]]:
        ray = self._ray
        free = deque(i for _ in range(BATCHES_PER_REPLICA) for i in range(len(self._actors)))
        in_flight: dict[Any, tuple[Batch, int]] = {}
        fresh = iter(batches)
        drawn_all = False
        while in_flight or not drawn_all:
            while free and not drawn_all:
                batch = next(fresh, None)
                if batch is None:
                    drawn_all = True
                    break
                replica = free.popleft()
                in_flight[self._actors[replica].caption.remote(self._context, batch)] = (batch, replica)
            if not in_flight:
                break
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                batch, replica = in_flight.pop(ref)
                free.append(replica)
                yield batch, self._get(ref)

    def _stop(self) -> None:
        for actor in self._actors:
            try:
                self._ray.get(actor.close.remote(), timeout=30)
            except Exception:  # noqa: BLE001 - a replica that is gone needs no closing
                pass
            self._ray.kill(actor)

    def close(self) -> None:
        self._stack.close()
