"""Store statistics: what a dataset paper's statistics table reports, from metadata only.

Image sizes come from the image headers (PIL opens lazily), so no image is decoded.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from annotations.layout import ANNOTATION_LOG
from annotations.store import Store


def _length_summary(lengths: list[int]) -> dict[str, float]:
    if not lengths:
        return {"count": 0, "mean": 0.0, "median": 0.0, "p5": 0.0, "p95": 0.0, "min": 0, "max": 0}
    arr = np.asarray(lengths, dtype=float)
    return {
        "count": int(arr.size),
        "mean": round(float(arr.mean()), 2),
        "median": float(np.median(arr)),
        "p5": float(np.percentile(arr, 5)),
        "p95": float(np.percentile(arr, 95)),
        "min": int(arr.min()),
        "max": int(arr.max()),
    }


def _image_sizes(store: Store) -> dict[str, int]:
    from PIL import Image

    sizes: Counter[str] = Counter()
    for rec in store.records(columns=["pair_id", "image_before"], annotated=False):  # streamed: one row group at a time
        if not rec.image_before:
            sizes["missing"] += 1
            continue
        try:
            with Image.open(io.BytesIO(rec.image_before)) as img:
                sizes[f"{img.size[0]}x{img.size[1]}"] += 1
        except Exception:
            sizes["undecodable"] += 1
    return dict(sizes.most_common())


def compute_stats(root: str | Path, image_sizes: bool = True) -> dict[str, Any]:
    store = Store.open(root)
    grid: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    per_scene: Counter[str] = Counter()
    primary: list[int] = []
    every: list[int] = []
    distractors = 0
    by_type: Counter[str] = Counter()
    for rec in store.records(columns=["pair_id", "scene_id", "split", "domain", "change_types", "captions", "distractor"]):
        cell = grid[rec.split][rec.domain]
        cell["pairs"] += 1
        for ct in rec.change_types or ["(none)"]:
            cell[ct] += 1
            by_type[ct] += 1
        per_scene[rec.scene_id] += 1
        distractors += bool(rec.distractor)
        words = [len(c.split()) for c in rec.captions]
        if words:
            primary.append(words[0])
        every.extend(words)
    scene_counts = list(per_scene.values())
    result: dict[str, Any] = {
        "store": str(store.root),
        "name": store.name,
        "pairs": len(store),
        "distractors": distractors,
        "by_split_domain": {s: {d: dict(sorted(c.items())) for d, c in doms.items()} for s, doms in sorted(grid.items())},
        "by_change_type": dict(sorted(by_type.items())),
        "scenes": {
            "count": len(per_scene),
            "pairs_per_scene_mean": round(statistics.fmean(scene_counts), 2) if scene_counts else 0.0,
            "pairs_per_scene_min": min(scene_counts, default=0),
            "pairs_per_scene_max": max(scene_counts, default=0),
        },
        "caption_words_primary": _length_summary(primary),
        "caption_words_all": _length_summary(every),
    }
    if image_sizes:
        result["image_sizes"] = _image_sizes(store)
    if (store.root / ANNOTATION_LOG).is_file():
        from annotations.annotation_log import AnnotationLog

        result["annotation"] = AnnotationLog(store.root).progress(store.pair_ids())
    return result


def render_stats(result: dict[str, Any], console) -> None:
    """Print the statistics as rich tables."""
    from rich.table import Table

    console.print(f"[bold]{result['name']}[/bold]  {result['store']}  {result['pairs']} pairs, "
                  f"{result['scenes']['count']} scenes, {result['distractors']} distractors")
    types = sorted({ct for doms in result["by_split_domain"].values() for c in doms.values() for ct in c if ct != "pairs"})
    grid = Table(title="Pairs by split x domain x change type")
    grid.add_column("split")
    grid.add_column("domain")
    grid.add_column("pairs", justify="right")
    for ct in types:
        grid.add_column(ct, justify="right")
    for split, doms in result["by_split_domain"].items():
        for domain, counts in doms.items():
            grid.add_row(split, domain, str(counts.get("pairs", 0)), *[str(counts.get(ct, 0)) for ct in types])
    console.print(grid)
    lengths = Table(title="Caption length (words)")
    for col in ("captions", "count", "mean", "median", "p5", "p95", "min", "max"):
        lengths.add_column(col, justify="right" if col != "captions" else "left")
    for label, key in (("primary", "caption_words_primary"), ("all references", "caption_words_all")):
        s = result[key]
        lengths.add_row(label, *[str(s[k]) for k in ("count", "mean", "median", "p5", "p95", "min", "max")])
    console.print(lengths)
    sc = result["scenes"]
    console.print(f"pairs per scene: mean {sc['pairs_per_scene_mean']}, min {sc['pairs_per_scene_min']}, "
                  f"max {sc['pairs_per_scene_max']}")
    if "image_sizes" in result:
        console.print("image sizes: " + ", ".join(f"{k} ({v})" for k, v in result["image_sizes"].items()))
    if "annotation" in result:
        ann = result["annotation"]
        console.print("annotation: " + ", ".join(f"{k} {v}" for k, v in ann.items()))
