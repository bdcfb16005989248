"""``omnidiff eval --model NAME`` over every benchmark of a data root, against one eval per benchmark.

Side by side in one run, on a data root holding the five benchmarks (N small pairs each) and a model that
returns at once:
  baseline  five evals, one ``--benchmark`` each (each scoring job starts its own METEOR JVM);
  all       one eval over the data root (one METEOR JVM for every benchmark, started while the model
            captions the first one).
Both start from an empty results folder. The ratio all / baseline is what evaluating everything at once costs.

    .venv/bin/python bench/eval_all.py [--pairs 40]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import register_instant_model  # noqa: E402  bench/harness.py: the instant model's entry point


def _png(shade: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, 255 - shade, 90)).save(buf, format="PNG")
    return buf.getvalue()


def make_data_root(root: Path, pairs: int) -> None:
    from annotations import PairRecord, Store
    from annotations.data_root import benchmark_store, render_store

    folders = {"omnidiff": render_store(root, "omnidiff")}
    folders.update({b: benchmark_store(root, b) for b in ("clevr_change", "clevr_dc", "spot_the_diff", "iedit")})
    for bench, folder in folders.items():
        store = Store.create(folder, name=bench, info={"benchmark": bench})
        store.append([PairRecord(
            pair_id=f"{bench}-{i:04d}", scene_id=f"s{i}", benchmark=bench, split="test",
            domain="real" if i % 3 == 0 else "render", image_before=_png(i % 250), image_after=_png((i * 7) % 250),
            captions=[f"a small red cube appeared near object {i % 5}.", "something was added on the left."],
            change_types=["addition"], distractor=bench.startswith("clevr") and i % 4 == 0)
            for i in range(pairs)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=40)
    args = ap.parse_args()

    from omnidiff.harness.runner import EvalConfig, run_eval

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        register_instant_model(tmp_path / "site")
        make_data_root(tmp_path / "data", args.pairs)

        def config(results: str, benchmarks: tuple[str, ...] = ()) -> EvalConfig:
            return EvalConfig(model="bench-instant", data_root=tmp_path / "data", results=tmp_path / results,
                              benchmarks=benchmarks, spice=False, progress=False)

        start = time.perf_counter()
        for bench in ("omnidiff", "clevr_change", "clevr_dc", "spot_the_diff", "iedit"):
            run_eval(config("one-by-one", (bench,)))
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        outcomes = run_eval(config("all"))
        together = time.perf_counter() - start
    assert len(outcomes) == 5
    print(f"five benchmarks, {args.pairs} pairs each (64x48 PNG), a model that returns at once")
    print(f"baseline  five evals, one per benchmark:  {baseline:7.1f} s")
    print(f"all       one eval over the data root:    {together:7.1f} s   ratio {together / baseline:5.2f}x")


if __name__ == "__main__":
    main()
