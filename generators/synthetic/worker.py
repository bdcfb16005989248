"""The worker process: one Blender session, many scenes, then it retires (recycling).

Runs under the ``spawn`` start method, so ``bpy`` is imported here only, never in the parent.
``OMNIDIFF_RENDER_FAULT`` (tests only) makes a worker die on a given scene to exercise the
parent's crash handling: ``<scene index>`` dies every time, ``<scene index>:once:<marker file>``
dies only while the marker file does not exist yet, ``<scene index>:hang`` sleeps for an hour.
"""

from __future__ import annotations

import os
import queue
import signal
import time
import traceback
from pathlib import Path
from typing import Any

FAULT_ENV = "OMNIDIFF_RENDER_FAULT"
POLL_SECONDS = 0.5


def fault_due(scene_index: int, env: str = FAULT_ENV) -> str | None:
    """The test fault that ``env`` asks for on this scene: "kill" or "hang", else None (the ``once`` form
    writes its marker file, so it is due only the first time)."""
    spec = os.environ.get(env)
    if not spec:
        return None
    parts = spec.split(":", 2)
    if int(parts[0]) != scene_index:
        return None
    if len(parts) == 2 and parts[1] == "hang":
        return "hang"
    if len(parts) == 3 and parts[1] == "once":
        marker = Path(parts[2])
        if marker.exists():
            return None
        marker.write_text("crashed once\n")
    return "kill"


def _maybe_crash(scene_index: int) -> None:
    fault = fault_due(scene_index)
    if fault == "hang":
        time.sleep(3600)
    if fault is not None:
        os.kill(os.getpid(), signal.SIGKILL)


def _rss_bytes() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _silence_native_output() -> None:
    """Blender prints a line per saved render on the C stdout, and headless GL prints EGL warnings on
    the C stderr for every Workbench render; keep the command's output clean. Python errors still
    reach the parent through the result pipe; OMNIDIFF_DEBUG=1 keeps Blender's stderr."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    if not os.environ.get("OMNIDIFF_DEBUG"):
        os.dup2(devnull, 2)
    os.close(devnull)


def worker_main(worker_id: int, tasks: Any, results: Any, profile_name: str, max_scenes: int, parent_pid: int,
                scratch: str, threads: int | None = None) -> None:
    """Serve scene jobs until ``max_scenes`` are done, the parent sends None, or the parent is gone.

    ``results`` is this worker's own pipe to the parent; ``send`` is synchronous, so a message is
    complete before the next job starts, and a worker dying mid-send only cuts its own pipe.
    """
    _silence_native_output()
    from generators.synthetic.profiles import get_profile
    from generators.synthetic.renderer import BlenderSession, bpy_version
    from generators.synthetic.scene_job import render_scene

    workdir = Path(scratch) / f"worker-{worker_id}"
    session = BlenderSession(get_profile(profile_name), workdir)
    session.use_threads(threads)
    results.send(("ready", worker_id, bpy_version(), session.device))
    done = 0
    while done < max_scenes:
        try:
            job = tasks.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if os.getppid() != parent_pid:  # orphaned: the parent was killed
                return
            continue
        if job is None:
            break
        _maybe_crash(job.scene_index)
        start_render, start = session.render_seconds, time.perf_counter()
        try:
            outcome = render_scene(job, session)
        except Exception as exc:  # a bug or a Blender error: report it, the parent records the scene as failed
            results.send(("error", worker_id, job.scene_index, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        else:
            timing = {"wall": time.perf_counter() - start, "render": session.render_seconds - start_render,
                      "rss": _rss_bytes(), "worker": worker_id}
            results.send(("done", worker_id, job.scene_index, outcome, timing))
        done += 1
    session.close()
    results.send(("retired", worker_id, done))
