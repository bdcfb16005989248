"""Render bench: pairs/hour (1 and 2 workers), overhead ratio, the CLEVR-style baseline, memory.

Run: ``.venv/bin/python bench/render.py [--scenes 3] [--memory-scenes 50] [--quality-size 240x160]``.
Everything is measured side by side in one run and printed as a markdown section for RESULTS.md.

1. Throughput at ``preview``: the same scenes rendered with 1 and with 2 workers (omnidiff
   preset, ``--pairs-per-scene`` pairs per scene to keep the bench short).
2. Overhead: wall time per scene inside the worker / time inside Blender's render calls.
3. Against clevr-dataset-gen's defaults (512 samples, no denoiser, .blend re-opened for every
   image, a separate visibility render): seconds per pair and PSNR of both against a
   1,024-sample reference of the same frame (done at ``--quality-size`` to keep it affordable).
4. Memory: worker RSS after each of ``--memory-scenes`` scenes (test profile, clevr-change),
   with recycling every 25 scenes and without recycling.
5. Kits: seconds per pair of rooms and streets against tabletops at ``preview``, in one Blender
   process, scenes of the three settings interleaved (so that load on a shared machine hits them
   alike), split into the Cycles pass, the id pass, building the scene, and the rest (sampling,
   checks, captions, retried changes).
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def throughput(scenes: int, workers: int, pairs_per_scene: int, root: Path) -> dict:
    from generators.synthetic.run import RenderOptions, render

    opts = RenderOptions(out=root / f"tp-{workers}", scenes=scenes, profile="preview", seed=11,
                         pairs_per_scene=pairs_per_scene, workers=workers)
    s = render(opts)
    return {"workers": workers, "scenes": s.rendered_scenes, "pairs": s.pairs, "wall_s": s.wall_seconds,
            "pairs_per_hour": s.pairs / s.wall_seconds * 3600, "render_s": s.render_seconds,
            "scene_wall_s": sum(s.scene_walls), "overhead": sum(s.scene_walls) / s.render_seconds,
            "run_overhead": s.wall_seconds * workers / s.render_seconds}


def _quality_job(size: tuple[int, int], out: dict) -> None:
    """In a child process (bpy): our pair vs the CLEVR-style pair, both against a 1,024-spp reference."""
    from dataclasses import replace

    from generators.synthetic.profiles import PROFILES
    from generators.synthetic.renderer import BlenderSession, render_clevr_style, render_with, save_blend
    from generators.synthetic.scene_job import SceneJob, render_scene
    from generators.synthetic.sampling import SamplingError, sample_scene
    from generators.synthetic.seeding import stream

    profile = replace(PROFILES["preview"], width=size[0], height=size[1])
    work = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    session = BlenderSession(profile, work)
    for attempt in range(20):
        try:
            spec = sample_scene("omnidiff", stream(11, "bench", attempt), profile.aspect)
            break
        except SamplingError:
            continue
    # ours: one pair the way the pipeline makes it (ids + image, before and after), timed in process
    job = SceneJob("omnidiff", 11, 0, profile, pairs_per_scene=1)
    start = time.perf_counter()
    outcome = render_scene(job, session)
    ours_pair_s = time.perf_counter() - start
    ours_img, ours_img_s = render_with(session, spec, profile.samples, True)
    reference, ref_s = render_with(session, spec, 1024, False, seed=7)  # independent noise from both
    blend = work / "scene.blend"
    save_blend(session, spec, blend)
    clevr_img, clevr_img_s = render_clevr_style(blend, work, 512)
    # a CLEVR-style pair = two such images (before and after), each with its re-open and visibility render
    shutil.rmtree(work, ignore_errors=True)
    out.update({"size": f"{size[0]}x{size[1]}", "ours_pair_s": ours_pair_s, "ours_pairs": len(outcome.records),
                "ours_image_s": ours_img_s, "clevr_image_s": clevr_img_s, "clevr_pair_s": 2 * clevr_img_s,
                "reference_s": ref_s, "ours_png": ours_img, "clevr_png": clevr_img, "reference_png": reference})


def psnr(a: bytes, b: bytes) -> float:
    from PIL import Image

    x = np.asarray(Image.open(io.BytesIO(a)).convert("RGB"), dtype=np.float64)
    y = np.asarray(Image.open(io.BytesIO(b)).convert("RGB"), dtype=np.float64)
    mse = float(((x - y) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def quality(size: tuple[int, int]) -> dict:
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        shared = manager.dict()
        proc = ctx.Process(target=_quality_job, args=(size, shared))
        proc.start()
        proc.join()
        result = dict(shared)
    result["ours_psnr"] = psnr(result.pop("ours_png"), result["reference_png"])
    result["clevr_psnr"] = psnr(result.pop("clevr_png"), result.pop("reference_png"))
    result["speedup"] = result["clevr_pair_s"] / result["ours_pair_s"]
    return result


def _kits_job(scenes: int, pairs: int, out: dict) -> None:
    """In a child process (bpy): every setting's scenes through the real scene job, timed by part."""
    from generators.synthetic.profiles import PROFILES
    from generators.synthetic.renderer import BlenderSession
    from generators.synthetic.scene_job import SceneJob, render_scene

    profile = PROFILES["preview"]
    work = Path(tempfile.mkdtemp(prefix="bench-kits-"))
    session = BlenderSession(profile, work)
    totals = {s: {"pairs": 0, "wall": 0.0, "image": 0.0, "ids": 0.0, "sync": 0.0, "rejections": 0, "failed": 0}
              for s in ("tabletop", "indoor", "outdoor")}
    for index in range(scenes):
        for setting in totals:
            t = totals[setting]
            marks = (session.render_seconds, session.image_seconds, session.sync_seconds)
            start = time.perf_counter()
            outcome = render_scene(SceneJob("omnidiff", 21, index, profile, pairs_per_scene=pairs, setting=setting), session)
            t["wall"] += time.perf_counter() - start
            t["image"] += session.image_seconds - marks[1]
            t["ids"] += (session.render_seconds - marks[0]) - (session.image_seconds - marks[1])
            t["sync"] += session.sync_seconds - marks[2]
            t["pairs"] += len(outcome.records)
            t["rejections"] += len(outcome.rejections)
            t["failed"] += outcome.failed is not None
    shutil.rmtree(work, ignore_errors=True)
    out.update(totals)


def kits(scenes: int, pairs: int) -> dict:
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        shared = manager.dict()
        proc = ctx.Process(target=_kits_job, args=(scenes, pairs, shared))
        proc.start()
        proc.join()
        result = {k: dict(v) for k, v in shared.items()}
    base = result["tabletop"]["wall"] / max(1, result["tabletop"]["pairs"])
    for r in result.values():
        n = max(1, r["pairs"])
        r.update({"s_per_pair": r["wall"] / n, "image_per_pair": r["image"] / n, "ids_per_pair": r["ids"] / n,
                  "sync_per_pair": r["sync"] / n, "other_per_pair": (r["wall"] - r["image"] - r["ids"] - r["sync"]) / n,
                  "vs_tabletop": (r["wall"] / n) / base})
    return result


def memory(scenes: int, per_worker: int, root: Path) -> dict:
    from generators.synthetic.run import RenderOptions, render

    opts = RenderOptions(out=root / f"mem-{per_worker}", scenes=scenes, preset="clevr_change", profile="test",
                         seed=12, workers=1, scenes_per_worker=per_worker)
    s = render(opts)
    rss = [st["rss"] / 2 ** 20 for st in sorted(s.scene_stats, key=lambda st: st["scene_index"])]
    return {"scenes_per_worker": per_worker, "scenes": len(rss), "workers_started": s.workers_started,
            "rss_mib": {str(i + 1): round(rss[i], 1) for i in sorted({0, 9, 24, len(rss) // 2, len(rss) - 1}) if i < len(rss)},
            "rss_first_last_ratio": rss[-1] / rss[0] if rss else None, "max_mib": max(rss) if rss else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=3, help="scenes per throughput run")
    parser.add_argument("--pairs-per-scene", type=int, default=2)
    parser.add_argument("--memory-scenes", type=int, default=50)
    parser.add_argument("--quality-size", default="240x160")
    parser.add_argument("--kit-scenes", type=int, default=2, help="scenes per setting in the kits comparison")
    parser.add_argument("--kit-pairs", type=int, default=4, help="pairs per scene in the kits comparison")
    parser.add_argument("--skip", nargs="*", default=[], choices=["throughput", "quality", "memory", "kits"])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-render-"))
    results: dict = {"machine": f"{platform.machine()} {mp.cpu_count()} cores", "date": time.strftime("%Y-%m-%d")}
    if "throughput" not in args.skip:
        results["throughput"] = [throughput(args.scenes, w, args.pairs_per_scene, root) for w in (1, 2)]
        print(json.dumps(results["throughput"], indent=1), flush=True)
    if "quality" not in args.skip:
        w, h = (int(v) for v in args.quality_size.split("x"))
        results["quality"] = quality((w, h))
        print(json.dumps(results["quality"], indent=1), flush=True)
    if "memory" not in args.skip:
        results["memory"] = [memory(args.memory_scenes, k, root) for k in (25, 10 ** 6)]
        print(json.dumps(results["memory"], indent=1), flush=True)
    if "kits" not in args.skip:
        results["kits"] = kits(args.kit_scenes, args.kit_pairs)
        print(json.dumps(results["kits"], indent=1), flush=True)
    shutil.rmtree(root, ignore_errors=True)
    print(markdown(results, args))


def markdown(r: dict, args: argparse.Namespace) -> str:
    lines = [f"## Render (generators/synthetic), {r['date']}, machine: 2-core x86_64 CPU, 24 GiB, no GPU", ""]
    if "throughput" in r:
        lines += [f"Throughput at `preview` (480x320, Cycles 16 spp + OIDN), omnidiff preset, {args.scenes} scenes x "
                  f"{args.pairs_per_scene} pairs (each scene: ids + image for before and every after):", "",
                  "| workers | pairs | wall s | pairs/hour | overhead (worker wall / render calls) |", "|---|---|---|---|---|"]
        for t in r["throughput"]:
            lines.append(f"| {t['workers']} | {t['pairs']} | {t['wall_s']:.1f} | {t['pairs_per_hour']:.0f} | {t['overhead']:.3f} |")
        t1, t2 = r["throughput"]
        lines += ["", f"2 workers / 1 worker pairs/hour: {t2['pairs_per_hour'] / t1['pairs_per_hour']:.2f}x. "
                  f"Whole-run ratio incl. Blender start-up (wall x workers / render): {t1['run_overhead']:.2f} (1 worker).", ""]
    if "quality" in r:
        q = r["quality"]
        lines += [f"Against clevr-dataset-gen defaults, one frame at {q['size']} (1,024-spp reference of the same frame):", "",
                  "| | seconds per pair | PSNR vs reference (dB) |", "|---|---|---|",
                  f"| this pipeline (16 spp + OIDN, one session, ids by Workbench) | {q['ours_pair_s']:.2f} | {q['ours_psnr']:.2f} |",
                  f"| CLEVR-style (512 spp, no denoiser, re-open per image, separate visibility render) | {q['clevr_pair_s']:.2f} | {q['clevr_psnr']:.2f} |",
                  "", f"Speed-up per pair: {q['speedup']:.1f}x (reference render took {q['reference_s']:.0f} s).", ""]
    if "kits" in r:
        lines += [f"Rooms and streets against tabletops at `preview`, {args.kit_scenes} scenes x {args.kit_pairs} pairs per setting, "
                  "one Blender process, settings interleaved (seconds per pair; each pair shares its scene's before image):", "",
                  "| setting | pairs | s/pair | x tabletop | Cycles pass | id pass | scene build | rest (sampling, checks, retries) | rejections |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name in ("tabletop", "indoor", "outdoor"):
            k = r["kits"][name]
            lines.append(f"| {name} | {k['pairs']} | {k['s_per_pair']:.2f} | {k['vs_tabletop']:.2f} | {k['image_per_pair']:.2f} | "
                         f"{k['ids_per_pair']:.2f} | {k['sync_per_pair']:.2f} | {k['other_per_pair']:.2f} | {k['rejections']} |")
        lines.append("")
    if "memory" in r:
        lines += [f"Worker memory (RSS MiB after scene n), test profile, clevr-change, {args.memory_scenes} scenes:", "",
                  "| recycling | workers started | RSS after scene n | last/first |", "|---|---|---|---|"]
        for m in r["memory"]:
            label = f"every {m['scenes_per_worker']} scenes" if m["scenes_per_worker"] < 10 ** 6 else "none"
            rss = ", ".join(f"{k}: {v}" for k, v in m["rss_mib"].items())
            lines.append(f"| {label} | {m['workers_started']} | {rss} | {m['rss_first_last_ratio']:.2f} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
