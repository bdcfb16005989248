"""The Ray backend of ``omnidiff render``: each scene is a Ray task; the driver stays the only writer.

A task renders its scene in a Blender worker process (``worker.worker_main``, started by
``pool.start_worker``), so ``bpy`` never enters a Ray process. The Ray worker process keeps that Blender
process for its next tasks until it retires after ``--scenes-per-worker`` scenes, as in the local pool,
so Blender starts once per many scenes. Blender renders with the task's CPUs as its thread count (Ray sets
``OMP_NUM_THREADS`` to them; Blender alone would take every core of the node). The records return through
Ray's object store; the driver turns each result into the local pool's event (``pool.scene_event``), and
``run.py`` appends them with the store's buffered appender: nodes need no shared folder.

Retries, as locally (``pool.MAX_TRIES``): a task is lost when its Blender worker crashed or overran
``scene_timeout`` (the task says so) or when its own process died (killed, out of memory, node lost: Ray
says so); the driver sends a lost scene once more, before new ones, and then records it as failed. One
rule in one place, so Ray's own task retries are off. A scene that cannot be made (no valid sample) and a
Python error in the worker are recorded at once, not retried.

``OMNIDIFF_RAY_TASK_FAULT`` (tests only; the forms of ``OMNIDIFF_RENDER_FAULT``) kills the task's own Ray
worker process once it has handed its scene to Blender.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import signal
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotations.errors import OmniDiffError
from annotations.ray_session import cluster_total, error_line, ray_session, task_env
from generators.synthetic.pool import (
    MAX_TRIES, READY_TIMEOUT_S, SCENE_MESSAGES, SCENE_TIMEOUT_S, SCRATCH_PREFIX, PendingJobs, PoolEvent, _Worker,
    remove_stale_scratch, scene_event, start_worker,
)
from generators.synthetic.profiles import RenderProfile, get_profile
from generators.synthetic.scene_job import SceneJob
from generators.synthetic.worker import fault_due

TASK_FAULT_ENV = "OMNIDIFF_RAY_TASK_FAULT"
CPUS_PER_SCENE = 1  # Cycles scales across processes at least as well as across threads of one
WAIT_SECONDS = 1.0


class BlenderWorkerLost(Exception):
    """The task's Blender worker crashed, did not start or overran its time."""


@dataclass
class SceneResult:
    """What a task returns: the worker's "done" or "error" message, and the Blender process it ran in."""

    message: tuple
    device: str
    started_worker: bool  # this task started a fresh Blender process


@contextmanager
def _plain_main() -> Iterator[None]:
    """Start a spawned process with a blank ``__main__``: multiprocessing would else re-run the Ray worker's
    main script (``default_worker.py``) in the Blender process, importing all of Ray there for nothing."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class _TaskWorker:
    """The Blender worker process of one Ray worker process, kept between its tasks."""

    current: "_TaskWorker | None" = None  # one per Ray worker process

    def __init__(self, key: tuple, profile_name: str, threads: int, scenes_per_worker: int) -> None:
        self.key = key
        self.left = scenes_per_worker
        remove_stale_scratch(Path(tempfile.gettempdir()))
        self.scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
        with _plain_main():
            self.proc: _Worker = start_worker(mp.get_context("spawn"), 0, profile_name, scenes_per_worker,
                                              self.scratch, threads)
        message = self._receive(READY_TIMEOUT_S)
        if message is None:
            self.close()
            raise BlenderWorkerLost(f"worker did not start within {READY_TIMEOUT_S:.0f} s")
        self.device = str(message[3])

    @classmethod
    def for_task(cls, profile_name: str, threads: int, scenes_per_worker: int) -> tuple["_TaskWorker", bool]:
        """This process's Blender worker for these settings (and GPU), started when there is none alive."""
        key = (profile_name, threads, scenes_per_worker, os.environ.get("CUDA_VISIBLE_DEVICES"))
        worker = cls.current
        if worker is not None and worker.key == key and worker.proc.process.is_alive() and worker.left > 0:
            return worker, False
        if worker is not None:
            worker.close()
        cls.current = None
        cls.current = cls(key, profile_name, threads, scenes_per_worker)
        return cls.current, True

    def _lost(self, why: str) -> BlenderWorkerLost:
        self.close()
        return BlenderWorkerLost(why)

    def _receive(self, timeout: float) -> tuple | None:
        """The worker's next message within ``timeout`` (None when none came); its death raises."""
        conn = self.proc.conn
        if not conn.poll(timeout):
            return None
        try:
            return conn.recv()
        except (EOFError, OSError):
            self.proc.process.join(timeout=5)
            raise self._lost(f"worker crashed (exit code {self.proc.process.exitcode})") from None

    def render(self, job: SceneJob, timeout: float) -> tuple:
        self.proc.tasks.put(job)
        self.left -= 1
        if fault_due(job.scene_index, TASK_FAULT_ENV) is not None:
            os.kill(os.getpid(), signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            message = self._receive(min(remaining, WAIT_SECONDS))
            if message is not None and message[0] in SCENE_MESSAGES:
                if self.left <= 0:  # it retires now: the next task starts a fresh one
                    self.close()
                return message
        raise self._lost(f"worker took longer than {timeout:.0f} s")

    def close(self) -> None:
        if _TaskWorker.current is self:
            _TaskWorker.current = None
        process = self.proc.process
        if process.is_alive():
            try:
                self.proc.tasks.put(None)
            except (OSError, ValueError):
                pass
            process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
        self.proc.conn.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def render_scene_task(job: SceneJob, profile_name: str, threads: int, scenes_per_worker: int,
                      scene_timeout: float) -> SceneResult:
    """The Ray task: one scene in this process's Blender worker; a lost worker is a ("lost", why) message."""
    try:
        worker, started = _TaskWorker.for_task(profile_name, threads, scenes_per_worker)
    except BlenderWorkerLost as exc:
        return SceneResult(("lost", str(exc)), "", True)
    try:
        message = worker.render(job, scene_timeout)
    except BlenderWorkerLost as exc:
        message = ("lost", str(exc))
    return SceneResult(message, worker.device, started)


def task_resources(ray: Any, profile: RenderProfile) -> tuple[dict[str, float], int]:
    """Ray resources of one scene (one GPU for a GPU profile on a cluster that has GPUs, else CPUs) and how
    many such tasks the cluster runs at once."""
    gpus = cluster_total(ray, "GPU")
    if profile.use_gpu and gpus >= 1:
        return {"num_cpus": CPUS_PER_SCENE, "num_gpus": 1}, int(gpus)
    slots = int(cluster_total(ray, "CPU") // CPUS_PER_SCENE)
    if slots < 1:
        raise OmniDiffError("the Ray cluster has no CPUs for render tasks (start workers with `ray start --address ...`)")
    return {"num_cpus": CPUS_PER_SCENE}, slots


class RayRenderPool:
    """``RenderPool``'s face (``run``, ``started_workers``) over Ray tasks."""

    def __init__(self, address: str | None, workers: int | None, profile_name: str, scenes_per_worker: int,
                 scene_timeout: float = SCENE_TIMEOUT_S) -> None:
        self.address = address
        self.workers = workers  # scenes in flight at most; None: as many as the cluster runs at once
        self.profile_name = profile_name
        self.scenes_per_worker = scenes_per_worker
        self.scene_timeout = scene_timeout
        self.started_workers = 0  # Blender processes the tasks started

    def run(self, jobs: Iterable[SceneJob], total: int, on_event: Callable[[PoolEvent], None]) -> None:
        """Render the ``total`` jobs that ``jobs`` yields, drawn as tasks finish (never all held); a lost task
        is sent again once (before new ones), then its scene is failed."""
        with ray_session(self.address) as ray:
            resources, slots = task_resources(ray, get_profile(self.profile_name))
            task = ray.remote(render_scene_task).options(max_retries=0, **resources, **task_env())
            args = (self.profile_name, int(resources["num_cpus"]), self.scenes_per_worker, self.scene_timeout)
            pending = PendingJobs(jobs, total)
            in_flight: dict[Any, tuple[SceneJob, int]] = {}  # task -> its job and which try it is
            finished = 0
            try:
                while finished < total:
                    while pending and len(in_flight) < (self.workers or slots):
                        job, tried = pending.popleft()
                        in_flight[task.remote(job, *args)] = (job, tried + 1)
                    ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=WAIT_SECONDS)
                    for ref in ready:
                        job, tries = in_flight.pop(ref)
                        events, lost = self._events(ray, ref, job)
                        for event in events:
                            on_event(event)
                        if lost is not None and tries < MAX_TRIES:
                            pending.appendleft(job, tries)
                            continue
                        if lost is not None:
                            on_event(PoolEvent("failed", job.scene_index, reason=f"{lost} twice on this scene"))
                        finished += 1
            finally:
                for ref in in_flight:  # an interrupted driver leaves no scene rendering for nobody
                    ray.cancel(ref, force=True)

    def _events(self, ray: Any, ref: Any, job: SceneJob) -> tuple[list[PoolEvent], str | None]:
        """A finished task as the local pool's events ("ready" for a fresh Blender process, then the scene's),
        or why it was lost (its Blender worker or its own process died, or it overran its time)."""
        try:
            result: SceneResult = ray.get(ref)
        except ray.exceptions.RayError as exc:
            return [], f"Ray task lost ({error_line(exc)})"
        events = []
        if result.started_worker:
            self.started_workers += 1
            if result.device:
                events.append(PoolEvent("ready", info={"device": result.device}))
        if result.message[0] == "lost":
            return events, str(result.message[1])
        return [*events, scene_event(result.message)], None
