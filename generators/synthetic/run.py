"""``omnidiff render``: plan the scenes, skip those already stored, render them, append in batches.

The parent process owns the store and holds its writer lock for the whole run (a second render into
the same store exits at once, naming this one's PID). Finished scenes are buffered and appended as one
shard per ~256 MiB of images or per minute, whichever comes first (``annotations.buffered``), with the
failed scenes and their reasons committed in the same manifest write
(``manifest["info"]["render"]["failed"]``). A kill loses at most the scenes not yet appended; a rerun
skips scene ids that are already in the store, so it renders exactly those again.

Two backends run the same plan into the same handler: ``pool.RenderPool`` (worker processes here) and
``ray_pool.RayRenderPool`` (each scene a Ray task on a cluster; ``--backend ray``).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from annotations import SPLITS, Store
from annotations.buffered import FLUSH_BYTES, FLUSH_SECONDS, BufferedAppender
from annotations.errors import OmniDiffError
from generators.synthetic import GENERATOR_VERSION
from generators.synthetic.plan import normalise_preset, parse_settings, setting_for
from generators.synthetic.pool import PoolEvent, RenderPool
from generators.synthetic.profiles import get_profile
from generators.synthetic.scene_job import SceneJob, scene_id_for

BACKENDS = ("local", "ray")
MAX_SCENES = 10_000_000  # a month of a fast GPU at a quarter second a scene; more is a typo


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
    workers: int | None = None  # local: Blender processes (default 1); ray: scenes in flight (default: the cluster's CPUs)
    shard: tuple[int, int] = (0, 1)
    scenes_per_worker: int = 25  # recycle a Blender process after this many scenes
    scene_timeout: float = 3600.0  # seconds one scene may take before its worker is killed
    backend: str = "local"
    ray_address: str | None = None  # --backend ray: a running cluster ("auto", HOST:PORT); None: start a local Ray
    threads: int | None = None  # local backend: Blender threads per worker (None: all cores); Ray uses the task's CPUs
    append_bytes: int = FLUSH_BYTES  # buffered scenes are appended past this many image bytes...
    append_seconds: float = FLUSH_SECONDS  # ...or this long after the first of them finished
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


def check_options(opts: RenderOptions) -> None:
    opts.preset = normalise_preset(opts.preset)
    opts.settings = parse_settings(opts.setting, opts.preset)
    get_profile(opts.profile)
    if opts.scenes < 1:
        raise OmniDiffError("--scenes must be at least 1")
    if opts.scenes > MAX_SCENES:
        raise OmniDiffError(f"--scenes {opts.scenes}: at most {MAX_SCENES:,} scenes per store "
                            "(render more as several stores, or with --shard on several machines)")
    if opts.split is not None and opts.split not in SPLITS:
        raise OmniDiffError(f"--split {opts.split!r}: choose train, val or test")
    if opts.workers is not None and opts.workers < 1:
        raise OmniDiffError("--workers must be at least 1")
    if opts.pairs_per_scene is not None and opts.pairs_per_scene < 1:
        raise OmniDiffError("--pairs-per-scene must be at least 1")
    if opts.changes_per_pair < 1:
        raise OmniDiffError("--changes-per-pair must be at least 1")
    if opts.changes_per_pair > 1 and opts.preset != "omnidiff":
        raise OmniDiffError("--changes-per-pair above 1 is for the omnidiff preset; the CLEVR presets have one change per pair")
    if opts.backend not in BACKENDS:
        raise OmniDiffError(f"--backend {opts.backend!r}: choose {' or '.join(BACKENDS)}")
    if opts.ray_address is not None and opts.backend != "ray":
        raise OmniDiffError("--ray-address is for --backend ray")
    if opts.backend == "ray":
        from annotations.ray_session import import_ray

        import_ray()  # refused before the store is made when Ray is not installed
    if opts.out.exists() and not opts.out.is_dir():
        raise OmniDiffError(f"--out {opts.out}: exists and is not a folder")


@dataclass
class JobPlan:
    """The scenes still to render, planned lazily: ``jobs`` yields them in scene order and ``count``
    says how many it will yield, so ``--scenes`` may be large without a list of them in memory."""

    jobs: Iterator[SceneJob]
    count: int
    skipped: int  # scenes of this plan already in the store


def _indices_in_shard(scenes: int, shard: tuple[int, int]) -> int:
    i, n = shard
    return max(0, (scenes - i + n - 1) // n)


def scene_id_of(opts: RenderOptions, index: int) -> str:
    """The id of scene ``index`` of this plan (its setting is drawn from the index, in equal shares)."""
    return scene_id_for(opts.preset, opts.seed, index, setting_for(opts.settings, opts.seed, index))


def _planned_index(opts: RenderOptions, scene_id: str) -> int | None:
    """The scene index of a stored scene id when it belongs to this plan (preset, settings, seed, shard, count)."""
    digits = scene_id.rsplit("-", 1)[-1]
    if not digits.isdigit():
        return None
    index = int(digits)
    if index >= opts.scenes or index % opts.shard[1] != opts.shard[0] or scene_id_of(opts, index) != scene_id:
        return None
    return index


def plan_jobs(opts: RenderOptions, done_scene_ids: set[str], bpy_version: str = "") -> JobPlan:
    """The scenes of ``opts`` that are not in ``done_scene_ids``; costs the stored ids, not ``--scenes``."""
    shard_i, shard_n = opts.shard
    profile = get_profile(opts.profile)
    skipped = sum(1 for sid in done_scene_ids if _planned_index(opts, sid) is not None)

    def jobs() -> Iterator[SceneJob]:
        for index in range(shard_i, opts.scenes, shard_n):
            if scene_id_of(opts, index) not in done_scene_ids:
                yield SceneJob(opts.preset, opts.seed, index, profile, opts.pairs_per_scene, opts.changes_per_pair,
                               opts.split, opts.split_ratios, bpy_version, setting_for(opts.settings, opts.seed, index))

    return JobPlan(jobs(), _indices_in_shard(opts.scenes, opts.shard) - skipped, skipped)


def _pool(opts: RenderOptions) -> Any:
    if opts.backend == "ray":
        from generators.synthetic.ray_pool import RayRenderPool

        return RayRenderPool(opts.ray_address, opts.workers, opts.profile, opts.scenes_per_worker, opts.scene_timeout)
    return RenderPool(opts.workers or 1, opts.profile, opts.scenes_per_worker, opts.scene_timeout, opts.threads)


def render(opts: RenderOptions, progress: Any = None) -> RenderSummary:
    """Render the scenes of ``opts`` into ``opts.out``; ``progress`` is an optional rich Progress."""
    check_options(opts)
    from generators.synthetic.renderer_version import installed_bpy_version

    bpy_version = installed_bpy_version()
    store = Store.open_or_create(opts.out, name=opts.out.name)
    with store.writer("omnidiff render"):
        return _render_into(store, opts, bpy_version, progress)


def _render_into(store: Store, opts: RenderOptions, bpy_version: str, progress: Any) -> RenderSummary:
    done = set(store.table(["scene_id"]).column("scene_id").to_pylist())
    plan = plan_jobs(opts, done, bpy_version)
    summary = RenderSummary(skipped_scenes=plan.skipped, bpy_version=bpy_version)
    info = dict(store.info.get("render", {}))
    failed: dict[str, str] = dict(info.get("failed", {}))
    info.update({"generator_version": GENERATOR_VERSION, "bpy_version": bpy_version})
    runs = list(info.get("runs", []))
    runs.append({"preset": opts.preset, "settings": list(opts.settings), "profile": opts.profile, "seed": opts.seed, "scenes": opts.scenes,
                 "shard": f"{opts.shard[0]}/{opts.shard[1]}", "pairs_per_scene": opts.pairs_per_scene,
                 "changes_per_pair": opts.changes_per_pair})
    info["runs"] = runs[-20:]
    store.update_info(render=info)
    if not plan.count:
        return summary
    task = progress.add_task(f"render {opts.preset}/{opts.profile}", total=plan.count, pairs=0, rate="-") if progress else None
    start = time.perf_counter()

    def on_event(event: PoolEvent) -> None:
        if event.kind == "ready":
            summary.device = (event.info or {}).get("device", "")
            return
        sid = scene_id_of(opts, event.scene_index or 0)
        records = []
        if event.kind == "done" and event.outcome is not None:
            records = event.outcome.records
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
        buffer.add(records, info={"render": copy.deepcopy(info)})
        if progress is not None:
            hours = (time.perf_counter() - start) / 3600
            rate = f"{summary.pairs / hours:,.0f}" if hours > 0 and summary.pairs else "-"
            progress.update(task, advance=1, pairs=summary.pairs, rate=rate)

    pool = _pool(opts)
    with BufferedAppender(store, opts.append_bytes, opts.append_seconds) as buffer:
        pool.run(plan.jobs, plan.count, on_event)
    summary.wall_seconds = time.perf_counter() - start
    summary.workers_started = pool.started_workers
    info["failed"] = dict(sorted(failed.items()))
    store.update_info(render=info)
    return summary
