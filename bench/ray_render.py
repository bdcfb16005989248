"""Ray render bench: pairs/hour and per-scene overhead of ``--backend ray`` against the local backend.

(Not ``bench/ray.py``: the script's folder comes first on ``sys.path``, and a ``ray.py`` there would stand in for Ray.)

Run: ``.venv/bin/python bench/ray_render.py [--scenes 4] [--pairs-per-scene 1] [--rounds 2] [--workers 2]``.
The same scenes (same seed) at the ``preview`` profile (``--profile``), rendered by both backends with the same workers:
``--workers`` Blender processes of one thread each (local: ``RenderOptions.threads=1``; Ray: that many tasks of
one CPU in flight, on a local Ray of ``--workers`` CPUs). Rounds interleave local and Ray, side by side in one
run; both stores are compared (ids, captions, masks, provenance must be equal; pairs whose images differ are counted).

The Ray runs join the Ray this script started (as ``--ray-address`` joins a cluster); each round sets its own
``OMNIDIFF_BENCH_ROUND`` variable, which the tasks carry in their runtime environment, so every round starts
fresh Ray worker processes and fresh Blender processes, as the local pool does: no round reuses a warm Blender
of the one before. The start of a local Ray itself (what a command without ``--ray-address`` pays once) is
timed apart. Prints a markdown section for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROUND_ENV = "OMNIDIFF_BENCH_ROUND"


def render_once(backend: str, out: Path, args: argparse.Namespace) -> dict:
    from generators.synthetic.run import RenderOptions, render

    opts = RenderOptions(out=out, scenes=args.scenes, profile=args.profile, seed=args.seed, pairs_per_scene=args.pairs_per_scene,
                         workers=args.workers, backend=backend, threads=1 if backend == "local" else None)
    s = render(opts)
    if s.failed:
        raise SystemExit(f"bench: {backend} run failed scenes: {s.failed}")
    return {"backend": backend, "scenes": s.rendered_scenes, "pairs": s.pairs, "wall_s": s.wall_seconds,
            "pairs_per_hour": s.pairs / s.wall_seconds * 3600, "render_s": s.render_seconds,
            "scene_wall_s": sum(s.scene_walls), "blender_started": s.workers_started}


def stored(root: Path) -> dict:
    from annotations import Store

    return {r["pair_id"]: r for r in Store.open(root).table(None, annotated=False).to_pylist()}


IMAGE_COLUMNS = ("image_before", "image_after", "image_sha256")


def compare(local: dict, ray: dict, round_no: int) -> int:
    """Pairs whose images differ; anything else that differs (ids, captions, masks, provenance) stops the bench."""
    if sorted(local) != sorted(ray):
        raise SystemExit(f"bench: round {round_no}: the Ray store holds other pair ids than the local one")
    differing = 0
    for pid, row in local.items():
        other = {k for k in row if row[k] != ray[pid][k]}
        if other - set(IMAGE_COLUMNS):
            raise SystemExit(f"bench: round {round_no}: pair {pid} differs in {sorted(other)}")
        differing += bool(other)
    return differing


def start_ray(cpus: int) -> tuple[object, float, Path]:
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    temp = Path(tempfile.mkdtemp(prefix="rb-", dir="/tmp"))  # Ray's socket paths break on long paths
    start = time.perf_counter()
    ray.init(address="local", num_cpus=cpus, include_dashboard=False, _temp_dir=str(temp),
             logging_level=logging.WARNING, log_to_driver=False)
    return ray, time.perf_counter() - start, temp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--pairs-per-scene", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--profile", default="preview", help="render profile (test: a quick check of the bench)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    ray, ray_start_s, ray_temp = start_ray(args.workers)
    runs: list[dict] = []
    differing: list[int] = []
    try:
        for i in range(args.rounds):
            os.environ[ROUND_ENV] = str(i)
            for backend in ("local", "ray") if i % 2 == 0 else ("ray", "local"):
                runs.append({"round": i, **render_once(backend, root / f"{backend}-{i}", args)})
                print(runs[-1], flush=True)
            differing.append(compare(stored(root / f"local-{i}"), stored(root / f"ray-{i}"), i))
    finally:
        ray.shutdown()
        shutil.rmtree(ray_temp, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
    print(markdown(runs, differing, ray_start_s, args, os.getloadavg()))


def _total(runs: list[dict], backend: str, key: str) -> float:
    return sum(r[key] for r in runs if r["backend"] == backend)


def idle_per_scene(run: dict, workers: int) -> float:
    """Seconds per scene that a worker slot spent outside scene work (starting Blender, waiting for a job,
    sending results, the tail of the run): what a backend adds. Unlike wall time it does not move when a busy
    machine slows the renders themselves."""
    return (run["wall_s"] * workers - run["scene_wall_s"]) / run["scenes"]


def markdown(runs: list[dict], differing: list[int], ray_start_s: float, args: argparse.Namespace,
             load: tuple[float, ...]) -> str:
    scenes = _total(runs, "local", "scenes")
    local_wall, ray_wall = _total(runs, "local", "wall_s"), _total(runs, "ray", "wall_s")
    idle = {b: sum(idle_per_scene(r, args.workers) * r["scenes"] for r in runs if r["backend"] == b) / scenes
            for b in ("local", "ray")}
    work = _total(runs, "local", "scene_wall_s") / scenes
    lines = [f"## Ray render backend (bench/ray_render.py, issue 15), {time.strftime('%Y-%m-%d')}, "
             f"{platform.machine()} {mp.cpu_count()}-core CPU, shared", "",
             f"`.venv/bin/python bench/ray_render.py --scenes {args.scenes} --pairs-per-scene {args.pairs_per_scene} "
             f"--rounds {args.rounds} --workers {args.workers}`: `{args.profile}` profile, omnidiff preset, seed {args.seed}; "
             f"{args.workers} Blender processes of 1 thread each for both backends; rounds interleaved; pair ids, captions, "
             f"masks and provenance equal in every round; images not byte-equal in {sum(differing)} of "
             f"{_total(runs, 'local', 'pairs'):.0f} pairs. Load average at the end: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}.", "",
             "| round | backend | pairs | wall s | pairs/hour | scene work s (sum in workers) | slot idle s per scene |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in runs:
        lines.append(f"| {r['round']} | {r['backend']} | {r['pairs']} | {r['wall_s']:.1f} | {r['pairs_per_hour']:.0f} "
                     f"| {r['scene_wall_s']:.1f} | {idle_per_scene(r, args.workers):.1f} |")
    overhead = idle["ray"] - idle["local"]
    lines += ["", f"Over all rounds ({scenes:.0f} scenes per backend): pairs/hour Ray / local "
              f"{local_wall / ray_wall:.3f} (wall {ray_wall:.1f} s against {local_wall:.1f} s); per-scene overhead of "
              f"Ray (slot idle per scene, Ray minus local): {overhead:+.2f} s, {overhead / work * 100:+.1f} % of the "
              f"{work:.1f} s a scene takes in a worker. Starting a local Ray (once per command without "
              f"`--ray-address`): {ray_start_s:.1f} s.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
