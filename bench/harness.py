"""Harness overhead: time per pair of ``omnidiff eval`` around a model that returns at once.

Side by side in one run, on the same store of N pairs of 480x320 PNGs:
  baseline  reading the split and decoding both images of every pair in a plain loop (the I/O any
            harness must do);
  harness   ``run_eval`` with an instant model, first run (everything computed and written to the
            SQLite cache, predictions written) and second run (everything served from the cache),
            scoring time excluded (measured apart and printed for information).
The ratio harness / baseline is the cost of the harness itself.

    .venv/bin/python bench/harness.py [--pairs 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from omnidiff.models.base import CaptionModel, CaptionRequest  # noqa: E402


class InstantModel(CaptionModel):
    """Returns at once."""

    def caption(self, batch: list[CaptionRequest]) -> list[str]:
        return ["a small red cube appeared on the left of the table."] * len(batch)


def register_instant_model(folder: Path) -> None:
    """Register ``InstantModel`` through a real ``omnidiff.models`` entry point."""
    dist = folder / "omnidiff_bench_models-0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: omnidiff-bench-models\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[omnidiff.models]\nbench-instant = harness:InstantModel\n")
    sys.path.insert(0, str(folder))


def make_store(root: Path, pairs: int, seed: int):
    from annotations import PairRecord, Store
    from store import scene_png  # bench/store.py: same synthetic 480x320 PNGs
    import numpy as np

    rng = np.random.default_rng(seed)
    pngs = [scene_png(rng) for _ in range(40)]
    store = Store.create(root, name="bench")
    store.append([
        PairRecord(pair_id=f"p{i:05d}", scene_id=f"s{i // 10}", benchmark="omnidiff", split="test", domain="render",
                   image_before=pngs[i % 40], image_after=pngs[(i * 7 + 1) % 40], change_types=["addition"],
                   captions=["a red cube appeared on the left.", "something was added on the left."])
        for i in range(pairs)
    ])
    return store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import omnidiff.metrics as metrics
    from annotations.schema import decode_image
    from omnidiff.harness.runner import EvalConfig, run_eval

    scoring = {"seconds": 0.0}
    real_score = metrics.score_captions

    def timed_score(*a, **kw):
        start = time.perf_counter()
        try:
            return real_score(*a, **kw)
        finally:
            scoring["seconds"] += time.perf_counter() - start

    metrics.score_captions = timed_score
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        register_instant_model(tmp_path / "site")
        store = make_store(tmp_path / "store", args.pairs, args.seed)
        n = args.pairs

        start = time.perf_counter()
        for rec in store.records(split="test"):
            decode_image(rec.image_before).convert("RGB")
            decode_image(rec.image_after).convert("RGB")
        baseline = (time.perf_counter() - start) / n

        config = EvalConfig(model="bench-instant", data=store.root, results=tmp_path / "results",
                            batch_size=args.batch_size, spice=False, progress=False)
        runs = []
        for _ in range(2):
            scoring["seconds"] = 0.0
            start = time.perf_counter()
            [outcome] = run_eval(config)
            total = time.perf_counter() - start
            runs.append(((total - scoring["seconds"]) / n, scoring["seconds"] / n, outcome))
    (first, score_first, o1), (second, _score_second, o2) = runs
    assert o1.computed == n and o2.cached == n
    print(f"pairs: {n} (480x320 PNG), batch size {args.batch_size}")
    print(f"baseline  read + decode both images:        {baseline * 1000:8.2f} ms/pair")
    print(f"harness   first run (computed, cached):     {first * 1000:8.2f} ms/pair   ratio {first / baseline:5.2f}x")
    print(f"harness   second run (all from the cache):  {second * 1000:8.2f} ms/pair   ratio {second / baseline:5.2f}x")
    print(f"scoring   (pycocoevalcap, for information):  {score_first * 1000:8.2f} ms/pair")


if __name__ == "__main__":
    main()
