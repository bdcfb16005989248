"""A small process pool for Blender workers: recycling, crash isolation, bounded retries.

``concurrent.futures`` breaks the whole pool when one process dies; here each worker has its own
task queue and its own result pipe, so a crash loses only the scene that worker held. (A result
queue shared by all workers is not safe: a worker killed while its feeder thread writes leaves a
half message and a held lock in the shared pipe, and the parent blocks on it for ever.) That scene is retried once on a
fresh worker and then reported as failed; the other workers go on.
"""

from __future__ import annotations

import multiprocessing as mp
from multiprocessing.connection import wait as wait_for_messages
import os
import queue
import shutil
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from annotations.errors import OmniDiffError
from generators.synthetic.scene_job import SceneJob, SceneOutcome

MAX_TRIES = 2  # first try + one retry after a crash
READY_TIMEOUT_S = 180.0
SCENE_TIMEOUT_S = 3600.0  # a worker silent this long on one scene is killed and treated as crashed


SCRATCH_PREFIX = "omnidiff-render-"  # then the owner's PID: omnidiff-render-<pid>-<random>


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_scratch(folder: Path) -> list[Path]:
    """Remove this user's render scratch folders whose owning process is gone (a killed parent
    cannot clean up after itself); returns what was removed."""
    removed = []
    for path in folder.glob(f"{SCRATCH_PREFIX}*"):
        owner = path.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        try:
            info = path.lstat()
        except OSError:
            continue
        if not owner.isdigit() or _pid_alive(int(owner)) or info.st_uid != os.getuid() or path.is_symlink():
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


@dataclass
class _Worker:
    wid: int
    process: Any
    tasks: Any
    conn: Any  # read end of the worker's result pipe; None once it reached end of file
    job: SceneJob | None = None
    tries: int = 0  # how many times its job has been tried, this try included
    ready: bool = False
    assigned: int = 0  # scenes sent; a worker retires after scenes_per_worker, so it gets no more
    job_started: float = 0.0
    timed_out: bool = False
    started: float = field(default_factory=time.monotonic)


@dataclass
class PoolEvent:
    kind: str  # done, failed, ready
    scene_index: int | None = None
    outcome: SceneOutcome | None = None
    reason: str | None = None
    timing: dict[str, float] | None = None
    info: dict[str, Any] | None = None


def start_worker(ctx: Any, wid: int, profile_name: str, scenes_per_worker: int, scratch: Path,
                 threads: int | None = None) -> _Worker:
    """Start one Blender worker process (``worker.worker_main``) with its own task queue and result pipe."""
    from generators.synthetic.worker import worker_main

    tasks = ctx.Queue()
    reader, writer = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=worker_main, name=f"omnidiff-render-{wid}",
        args=(wid, tasks, writer, profile_name, scenes_per_worker, os.getpid(), str(scratch), threads),
        daemon=True,
    )
    proc.start()
    writer.close()  # only the worker holds the write end: its death gives the reader end of file
    return _Worker(wid, proc, tasks, reader)


SCENE_MESSAGES = ("done", "error")  # what a worker sends when it finished a scene, one way or the other


def scene_event(msg: tuple) -> PoolEvent:
    """The event of a worker's "done" or "error" message (a scene that could not be made is failed, not retried)."""
    if msg[0] == "done":
        outcome: SceneOutcome = msg[3]
        if outcome.failed:
            return PoolEvent("failed", msg[2], outcome=outcome, reason=outcome.failed)
        return PoolEvent("done", msg[2], outcome=outcome, timing=msg[4])
    return PoolEvent("failed", msg[2], reason=f"worker error: {msg[3]}")


class PendingJobs:
    """Jobs waiting for a worker, with how often each was tried: retries first, then the next ones
    drawn from a lazy plan (memory grows with the jobs in flight, not with the plan)."""

    def __init__(self, jobs: Iterable[SceneJob], total: int) -> None:
        self._fresh = iter(jobs)
        self._left = total  # fresh jobs not drawn yet
        self._retries: deque[tuple[SceneJob, int]] = deque()

    def __len__(self) -> int:
        return len(self._retries) + self._left

    def popleft(self) -> tuple[SceneJob, int]:
        """The next job and how many times it was tried before."""
        if self._retries:
            return self._retries.popleft()
        job = next(self._fresh, None)
        if job is None:
            raise RuntimeError("the render plan ended before its announced count")
        self._left -= 1
        return job, 0

    def appendleft(self, job: SceneJob, tried: int) -> None:
        self._retries.appendleft((job, tried))


class RenderPool:
    def __init__(self, workers: int, profile_name: str, scenes_per_worker: int,
                 scene_timeout: float = SCENE_TIMEOUT_S, threads: int | None = None) -> None:
        self.scene_timeout = scene_timeout
        self.threads = threads  # Blender threads per worker; None: Blender's default (all cores)
        self.ctx = mp.get_context("spawn")
        self.n = workers
        self.profile_name = profile_name
        self.scenes_per_worker = scenes_per_worker
        self.workers: dict[int, _Worker] = {}
        self._next_id = 0
        self.started_workers = 0
        remove_stale_scratch(Path(tempfile.gettempdir()))
        # workers' render files; removed at close, or by a later run when this process was killed
        self.scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))

    def _spawn(self) -> _Worker:
        wid = self._next_id
        self._next_id += 1
        worker = start_worker(self.ctx, wid, self.profile_name, self.scenes_per_worker, self.scratch, self.threads)
        self.started_workers += 1
        self.workers[wid] = worker
        return worker

    def run(self, jobs: Iterable[SceneJob], total: int, on_event: Callable[[PoolEvent], None]) -> None:
        """Render the ``total`` jobs that ``jobs`` yields (drawn as workers free up, never all held);
        ``on_event`` gets each finished or failed scene in the parent process."""
        pending = PendingJobs(jobs, total)
        finished = 0
        try:
            while finished < total:
                self._top_up(pending, total)
                for w in list(self.workers.values()):
                    if w.ready and w.job is None and pending and w.assigned < self.scenes_per_worker:
                        w.job, tried = pending.popleft()
                        w.tries = tried + 1
                        w.assigned += 1
                        w.job_started = time.monotonic()
                        w.tasks.put(w.job)
                finished += self._collect(on_event)
                finished += self._reap(pending, on_event)
        finally:
            self.close()

    def _top_up(self, pending: PendingJobs, total: int) -> None:
        busy = sum(1 for w in self.workers.values() if w.job is not None or w.assigned >= self.scenes_per_worker)
        while len(self.workers) < self.n and len(self.workers) < busy + len(pending):
            if self.started_workers >= self.n + total * MAX_TRIES + total // max(1, self.scenes_per_worker) + 2:
                raise OmniDiffError("render workers keep exiting before they finish a scene; "
                                    "run with one worker and OMNIDIFF_DEBUG=1 to see why")
            self._spawn()

    def _collect(self, on_event: Callable[[PoolEvent], None], timeout: float = 0.5,
                 only: _Worker | None = None) -> int:
        """Handle the messages that arrive within ``timeout`` (all workers, or one being reaped)."""
        conns = {w.conn: w for w in ([only] if only else self.workers.values()) if w.conn is not None}
        if not conns:
            time.sleep(min(timeout, 0.05))
            return 0
        finished = 0
        for conn in wait_for_messages(list(conns), timeout=timeout):
            worker = conns[conn]
            for _ in range(1000):  # drain what is already there, bounded
                try:
                    msg = conn.recv()
                except (EOFError, OSError):  # the worker is gone; a half-sent message is dropped with it
                    worker.conn = None
                    conn.close()
                    break
                finished += self._handle(msg, on_event)
                if not conn.poll():
                    break
        return finished

    def _handle(self, msg: tuple, on_event: Callable[[PoolEvent], None]) -> int:
        kind, wid = msg[0], msg[1]
        worker = self.workers.get(wid)
        if kind == "ready":
            if worker is not None:
                worker.ready = True
            on_event(PoolEvent("ready", info={"bpy_version": msg[2], "device": msg[3]}))
            return 0
        if kind == "retired":
            return 0
        if worker is not None:
            worker.job = None
        if kind in SCENE_MESSAGES:
            on_event(scene_event(msg))
            return 1
        return 0

    def _reap(self, pending: PendingJobs, on_event: Callable[[PoolEvent], None]) -> int:
        """Replace dead workers; a crash with a scene in flight retries it once, then fails it."""
        finished = 0
        for w in list(self.workers.values()):
            if w.process.is_alive():
                if not w.ready and time.monotonic() - w.started > READY_TIMEOUT_S:
                    w.process.kill()
                if w.job is not None and time.monotonic() - w.job_started > self.scene_timeout:
                    w.timed_out = True
                    w.process.kill()  # hung in Blender: reaped on a later pass like a crash
                continue
            w.process.join(timeout=1)
            finished += self._collect(on_event, timeout=0.2, only=w)  # its last messages may still be in the pipe
            del self.workers[w.wid]
            job = w.job
            if job is None:
                continue
            code = w.process.exitcode
            if w.tries < MAX_TRIES:
                pending.appendleft(job, w.tries)
            else:
                why = f"took longer than {self.scene_timeout:.0f} s" if w.timed_out else f"crashed (exit code {code})"
                on_event(PoolEvent("failed", job.scene_index, reason=f"worker {why} twice on this scene"))
                finished += 1
        return finished

    def close(self) -> None:
        for w in self.workers.values():
            if w.process.is_alive():
                try:
                    w.tasks.put(None)
                except (OSError, ValueError):
                    pass
        deadline = time.monotonic() + 10
        for w in self.workers.values():
            w.process.join(timeout=max(0.1, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=5)
        for w in self.workers.values():
            if w.conn is not None:
                w.conn.close()
        self.workers.clear()
        shutil.rmtree(self.scratch, ignore_errors=True)
