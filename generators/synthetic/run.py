"""``omnidiff render``: plan the scenes, skip those already stored, render them, append per scene.

The parent process owns the store: it appends each finished scene's pairs as one atomic shard
(so appends are serialised and a kill loses at most the scenes in flight), and records failed
scenes with their reasons in ``manifest["info"]["render"]["failed"]``. A rerun skips scene ids
that are already in the store, so an interrupted run is resumed by running it again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from annotations import SPLITS, Store
from annotations.errors import OmniDiffError
from generators.synthetic import GENERATOR_VERSION
from generators.synthetic.plan import normalise_preset, parse_settings, setting_for
from generators.synthetic.pool import PoolEvent, RenderPool
from generators.synthetic.profiles import get_profile
from generators.synthetic.scene_job import SceneJob, scene_id_for


@dataclass
class RenderOptions:
    out: Path
    scenes: int
    preset: str = "omnidiff"
    profile: str = "preview"
    seed: int = 0
    pairs_per_scene: int | None = None
    changes_per_pair: int = 1
    split: str | None = None
    split_ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    workers: int = 1
    shard: tuple[int, int] = (0, 1)
    scenes_per_worker: int = 25  # recycle a Blender process after this many scenes
    scene_timeout: float = 3600.0  # seconds one scene may take before its worker is killed
    backend: str = "local"
    setting: str | None = None  # --setting: comma-separated settings; None = the preset's default
    settings: tuple[str, ...] = ()  # parsed by check_options


@dataclass
class RenderSummary:
    rendered_scenes: int = 0
    skipped_scenes: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    pairs: int = 0
    wall_seconds: float = 0.0
    render_seconds: float = 0.0
    scene_walls: list[float] = field(default_factory=list)
    scene_stats: list[dict[str, float]] = field(default_factory=list)  # per finished scene, in finishing order
    workers_started: int = 0
    bpy_version: str = ""
    device: str = ""


def parse_shard(text: str | None) -> tuple[int, int]:
    if not text:
        return (0, 1)
    try:
        i, n = (int(p) for p in text.split("/"))
    except ValueError:
        raise OmniDiffError(f"--shard {text!r}: expected I/N, e.g. 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise OmniDiffError(f"--shard {text!r}: need 0 <= I < N")
    return (i, n)


def parse_ratios(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(p) for p in text.split(","))
    except ValueError:
        raise OmniDiffError(f"--split-ratios {text!r}: expected three numbers, e.g. 0.8,0.1,0.1") from None
    if len(values) != 3 or any(v < 0 for v in values) or abs(sum(values) - 1.0) > 1e-6:
        raise OmniDiffError(f"--split-ratios {text!r}: need three non-negative shares that add up to 1")
    return values  # type: ignore[return-value]


def check_options(opts: RenderOptions) -> None:
    opts.preset = normalise_preset(opts.preset)
    opts.settings = parse_settings(opts.setting, opts.preset)
    get_profile(opts.profile)
    if opts.scenes < 1:
        raise OmniDiffError("--scenes must be at least 1")
    if opts.split is not None and opts.split not in SPLITS:
        raise OmniDiffError(f"--split {opts.split!r}: choose train, val or test")
    if opts.workers < 1:
        raise OmniDiffError("--workers must be at least 1")
    if opts.pairs_per_scene is not None and opts.pairs_per_scene < 1:
        raise OmniDiffError("--pairs-per-scene must be at least 1")
    if opts.changes_per_pair < 1:
        raise OmniDiffError("--changes-per-pair must be at least 1")
    if opts.changes_per_pair > 1 and opts.preset != "omnidiff":
        raise OmniDiffError("--changes-per-pair above 1 is for the omnidiff preset; the CLEVR presets have one change per pair")
    if opts.backend != "local":
        raise OmniDiffError(f"--backend {opts.backend}: only the local backend is available in this installation (ray is not installed)")
    if opts.out.exists() and not opts.out.is_dir():
        raise OmniDiffError(f"--out {opts.out}: exists and is not a folder")


def plan_jobs(opts: RenderOptions, done_scene_ids: set[str]) -> tuple[list[SceneJob], int]:
    shard_i, shard_n = opts.shard
    profile = get_profile(opts.profile)
    jobs, skipped = [], 0
    for index in range(opts.scenes):
        if index % shard_n != shard_i:
            continue
        setting = setting_for(opts.settings, opts.seed, index)
        if scene_id_for(opts.preset, opts.seed, index, setting) in done_scene_ids:
            skipped += 1
            continue
        jobs.append(SceneJob(opts.preset, opts.seed, index, profile, opts.pairs_per_scene, opts.changes_per_pair,
                             opts.split, opts.split_ratios, setting=setting))
    return jobs, skipped


def render(opts: RenderOptions, progress: Any = None) -> RenderSummary:
    """Render the scenes of ``opts`` into ``opts.out``; ``progress`` is an optional rich Progress."""
    check_options(opts)
    from generators.synthetic.renderer_version import installed_bpy_version

    bpy_version = installed_bpy_version()
    store = Store.open_or_create(opts.out, name=opts.out.name)
    done = set(store.table(["scene_id"]).column("scene_id").to_pylist())
    jobs, skipped = plan_jobs(opts, done)
    jobs = [replace(j, bpy_version=bpy_version) for j in jobs]
    summary = RenderSummary(skipped_scenes=skipped, bpy_version=bpy_version)
    info = dict(store.info.get("render", {}))
    failed: dict[str, str] = dict(info.get("failed", {}))
    info.update({"generator_version": GENERATOR_VERSION, "bpy_version": bpy_version})
    runs = list(info.get("runs", []))
    runs.append({"preset": opts.preset, "settings": list(opts.settings), "profile": opts.profile, "seed": opts.seed, "scenes": opts.scenes,
                 "shard": f"{opts.shard[0]}/{opts.shard[1]}", "pairs_per_scene": opts.pairs_per_scene,
                 "changes_per_pair": opts.changes_per_pair})
    info["runs"] = runs[-20:]
    store.update_info(render=info)
    if not jobs:
        return summary
    task = progress.add_task(f"render {opts.preset}/{opts.profile}", total=len(jobs), pairs=0, rate="-") if progress else None
    start = time.perf_counter()

    def on_event(event: PoolEvent) -> None:
        if event.kind == "ready":
            summary.device = (event.info or {}).get("device", "")
            return
        index = event.scene_index or 0
        sid = scene_id_for(opts.preset, opts.seed, index, setting_for(opts.settings, opts.seed, index))
        if event.kind == "done" and event.outcome is not None:
            store.append(event.outcome.records)
            failed.pop(sid, None)
            summary.rendered_scenes += 1
            summary.pairs += len(event.outcome.records)
            if event.timing:
                summary.render_seconds += event.timing["render"]
                summary.scene_walls.append(event.timing["wall"])
                summary.scene_stats.append({"scene_index": event.scene_index, **event.timing})
        else:
            failed[sid] = event.reason or "unknown"
            summary.failed[sid] = failed[sid]
        info["failed"] = dict(sorted(failed.items()))
        store.update_info(render=info)
        if progress is not None:
            hours = (time.perf_counter() - start) / 3600
            rate = f"{summary.pairs / hours:,.0f}" if hours > 0 and summary.pairs else "-"
            progress.update(task, advance=1, pairs=summary.pairs, rate=rate)

    pool = RenderPool(opts.workers, opts.profile, opts.scenes_per_worker, opts.scene_timeout)
    pool.run(jobs, on_event)
    summary.wall_seconds = time.perf_counter() - start
    summary.workers_started = pool.started_workers
    info["failed"] = dict(sorted(failed.items()))
    store.update_info(render=info)
    return summary
