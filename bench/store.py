"""Store throughput: Parquet store vs a CLEVR-Change-style folder of PNGs plus one JSON of captions.

Same data both ways: N pairs of 480x320 PNG images (encoded once up front, not timed), a caption and
change-type labels per pair. Prints write and read throughput of each layout (the store fsyncs
each shard before it commits; the folder is written both as people usually do, without fsync, and
with an fsync per file, which is what the store's durability costs a folder), the time to read all
captions and labels without images, and the ratios (store / folder), measured side by side in one run.

    .venv/bin/python bench/store.py [--pairs 2000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from annotations import PairRecord, Store  # noqa: E402

W, H = 480, 320


def scene_png(rng: np.random.Generator) -> bytes:
    """A smooth background with a few shapes and sensor-like noise: PNG sizes like real renders."""
    yy, xx = np.mgrid[0:H, 0:W]
    base = (np.stack([xx / W, yy / H, (xx + yy) / (W + H)], -1) * rng.uniform(60, 200, 3)).astype(np.float32)
    img = Image.fromarray(np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(5):
        x, y, r = rng.integers(20, W - 20), rng.integers(20, H - 20), rng.integers(10, 40)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--distinct-images", type=int, default=200, help="distinct PNGs cycled through (encoding is not timed)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    pngs = [scene_png(rng) for _ in range(args.distinct_images)]
    n = args.pairs
    caps = [f"the small red metal cube to the left of the sphere moved {i % 7} units" for i in range(n)]
    records = [PairRecord(pair_id=f"CLEVR_default_{i:06d}", scene_id=f"scene-{i}", benchmark="clevr_change",
                          split="train", domain="render", image_before=pngs[(2 * i) % len(pngs)],
                          image_after=pngs[(2 * i + 1) % len(pngs)], captions=[caps[i]], change_types=["movement"],
                          native_change_type="move") for i in range(n)]
    mb = sum(len(r.image_before) + len(r.image_after) for r in records) / 1e6
    tmp = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        # -- write -------------------------------------------------------------------------
        def write_store():
            store = Store.create(tmp / "store")
            for i in range(0, n, 500):
                store.append(records[i:i + 500])
            return store

        def write_file(path: Path, data: bytes, durable: bool) -> None:
            with open(path, "wb") as fh:
                fh.write(data)
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())

        def write_folder(name: str = "folder", durable: bool = False):
            root = tmp / name
            for sub in ("images", "sc_images"):
                (root / sub).mkdir(parents=True)
            for r in records:
                write_file(root / "images" / f"{r.pair_id}.png", r.image_before, durable)
                write_file(root / "sc_images" / f"{r.pair_id}.png", r.image_after, durable)
            (root / "change_captions.json").write_text(json.dumps({f"{r.pair_id}.png": r.captions for r in records}))
            (root / "type_mapping.json").write_text(json.dumps({f"{r.pair_id}.png": r.native_change_type for r in records}))
            return root

        t_wf, folder = timed(write_folder)
        t_wfd, _ = timed(lambda: write_folder("folder-fsync", durable=True))
        t_ws, store = timed(write_store)
        os.sync()
        # -- read everything (bytes, not decoded) ------------------------------------------
        def read_store():
            return sum(len(r.image_before) + len(r.image_after) for r in Store.open(store.root).records())

        def read_folder():
            caps_ = json.loads((folder / "change_captions.json").read_text())
            total = 0
            for name in sorted(os.listdir(folder / "images")):
                total += len((folder / "images" / name).read_bytes()) + len((folder / "sc_images" / name).read_bytes())
                _ = caps_[name]
            return total

        t_rf, bytes_f = timed(read_folder)
        t_rs, bytes_s = timed(read_store)
        assert bytes_f == bytes_s
        # -- captions and labels only --------------------------------------------------------
        def meta_store():
            t = Store.open(store.root).table(["pair_id", "captions", "change_types", "native_change_type"])
            return t.num_rows

        def meta_folder():
            c = json.loads((folder / "change_captions.json").read_text())
            m = json.loads((folder / "type_mapping.json").read_text())
            return len([k for k in sorted(os.listdir(folder / "images")) if k in c and k in m])

        t_mf, nf = timed(meta_folder)
        t_ms, ns = timed(meta_store)
        assert nf == ns == n
        size_store = sum(p.stat().st_size for p in (store.root / "data").iterdir()) / 1e6
        size_folder = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{n} pairs of {W}x{H} PNG, {mb:.0f} MB of image bytes")
    print(f"{'':32}{'store':>12}{'folder':>12}{'store/folder':>14}")
    rows = [("write (pairs/s)", n / t_ws, n / t_wf),
            ("write, folder fsyncs (pairs/s)", n / t_ws, n / t_wfd), ("read all bytes (pairs/s)", n / t_rs, n / t_rf),
            ("captions+labels only (s)", t_ms, t_mf), ("size on disk (MB)", size_store, size_folder)]
    for label, a, b in rows:
        print(f"{label:32}{a:12.3f}{b:12.3f}{a / b:14.2f}")


if __name__ == "__main__":
    main()
