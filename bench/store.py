"""Store benchmarks, each measured side by side against its baseline in one run.

``folder``: the Parquet store vs a CLEVR-Change-style folder of PNGs plus one JSON of captions. Same data
both ways: N pairs of 480x320 PNG images (encoded once up front, not timed), a caption and change-type
labels per pair. Write and read throughput of each layout (the store fsyncs each shard before it commits;
the folder is written both as people usually do, without fsync, and with an fsync per file, which is what
the store's durability costs a folder), the time to read all captions and labels without images, ratios.

``scale``: the time of one append of 100 pairs and of ``Store.images`` for 8 pairs in stores of 1k, 10k
and 100k pairs (tiny images, so that 100k pairs fit the disk), and the ratios 100k / 1k.

``checksums``: write and read throughput of the same 480x320 pairs with the store's checksums (Parquet
page CRCs written and verified, each image's SHA-256 written and verified, each shard's SHA-256) and
without them, and the ratios.

    .venv/bin/python bench/store.py [--section all|folder|scale|checksums] [--pairs 2000]
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


def folder_section(args, pngs: list[bytes]) -> None:
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


# -- scale: appends and Store.images against the store's size ----------------------------------------
def tiny_pngs(rng: np.random.Generator, count: int = 16) -> list[bytes]:
    out = []
    for _ in range(count):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


def tiny_records(start: int, count: int, pngs: list[bytes]) -> list[PairRecord]:
    return [PairRecord(pair_id=f"pair-{i:07d}", scene_id=f"scene-{i // 4}", benchmark="omnidiff",
                       split=("train", "train", "val", "test")[i % 4], domain="render",
                       image_before=pngs[i % len(pngs)], image_after=pngs[(i + 1) % len(pngs)],
                       captions=[f"the red cube {i} moved to the left of the sphere"], change_types=["movement"])
            for i in range(start, start + count)]


def scale_section(args) -> None:
    rng = np.random.default_rng(args.seed)
    pngs = tiny_pngs(rng)
    sizes = [1_000, 10_000, 100_000]
    tmp = Path(tempfile.mkdtemp(prefix="bench-store-scale-"))
    times: dict[int, dict[str, list[float]]] = {n: {"append": [], "cold": [], "warm": []} for n in sizes}
    try:
        ids: dict[int, list[str]] = {}
        readers: dict[int, Store] = {}
        for n in sizes:
            store = Store.create(tmp / f"s{n}")
            store.append(tiny_records(0, n, pngs))  # one append: full shards of each split (SHARD_ROWS rows at most)
            ids[n] = store.pair_ids()
            readers[n] = reader = Store.open(store.root)
            for shard in reader.shards:  # an open store: each shard's footer has been read once
                reader._file(shard)
            reader.images(ids[n][:1])
        os.sync()
        pick = np.random.default_rng(args.seed + 1)
        for k in range(args.repeats):  # sizes interleaved, so that the shared machine's load falls on all alike
            for n in sizes:
                batch = tiny_records(10_000_000 + 100 * k, 100, pngs)
                fresh = Store.open(tmp / f"s{n}")
                times[n]["append"].append(timed(lambda: fresh.append(batch))[0])
                chosen = [ids[n][i] for i in pick.choice(len(ids[n]), 8, replace=False)]
                times[n]["cold"].append(timed(lambda: Store.open(tmp / f"s{n}").images(chosen))[0])
                for _ in range(20):
                    chosen = [ids[n][i] for i in pick.choice(len(ids[n]), 8, replace=False)]
                    times[n]["warm"].append(timed(lambda: readers[n].images(chosen))[0])
        shards = {n: len(Store.open(tmp / f"s{n}").shards) for n in sizes}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {n: {k: float(np.median(v)) * 1e3 for k, v in t.items()} for n, t in times.items()}
    print(f"medians of {args.repeats} appends of 100 pairs and of Store.images for 8 random pairs, sizes interleaved (ms)")
    print(f"{'pairs':>10}{'shards':>8}{'append':>10}{'images (open+read)':>20}{'images (open store)':>21}")
    for n in sizes:
        print(f"{n:>10,}{shards[n]:>8}{med[n]['append']:>10.2f}{med[n]['cold']:>20.2f}{med[n]['warm']:>21.2f}")
    big, small = med[sizes[-1]], med[sizes[0]]
    print(f"ratio 100k / 1k: append {big['append'] / small['append']:.2f}, images (open+read) "
          f"{big['cold'] / small['cold']:.2f}, images (open store) {big['warm'] / small['warm']:.2f}")


# -- checksums: what the integrity checks cost ------------------------------------------------------
def checksums_section(args, pngs: list[bytes]) -> None:
    import pyarrow.parquet as pq

    import annotations.schema as schema
    from annotations.durable import write_atomic
    from annotations.schema import IMAGE_COLUMNS, records_to_table, sha256_hex
    from annotations.shards import write_shard, write_shard_file

    n = args.pairs
    records = [PairRecord(pair_id=f"p{i:06d}", scene_id=f"scene-{i}", benchmark="omnidiff", split="train",
                          domain="render", image_before=pngs[(2 * i) % len(pngs)], image_after=pngs[(2 * i + 1) % len(pngs)],
                          captions=["the small red cube moved"], change_types=["movement"]) for i in range(n)]
    mb = sum(len(r.image_before) + len(r.image_after) for r in records) / 1e6
    tmp = Path(tempfile.mkdtemp(prefix="bench-store-checksums-"))
    chunk = 500

    def write(folder: str, crcs: bool, hashes: bool) -> None:
        real = schema.sha256_hex
        if not hashes:
            schema.sha256_hex = lambda data: None  # the same table, its hash column left empty
        try:
            for k, start in enumerate(range(0, n, chunk)):
                table = records_to_table(records[start:start + chunk])
                path = tmp / folder / f"{k:05d}.parquet"
                if hashes:  # each image's SHA-256 in the row (above) and the shard's, hashed as it is written
                    write_shard_file(path, lambda w, t=table: w.write(t), table.schema, checksums=crcs)
                else:
                    write_atomic(path, lambda fh, t=table: write_shard(t, fh, checksums=crcs))
        finally:
            schema.sha256_hex = real

    def read(folder: str, crcs: bool, hashes: bool) -> int:
        total = 0
        for path in sorted((tmp / folder).glob("*.parquet")):
            pf = pq.ParquetFile(path, page_checksum_verification=crcs)
            for rg in range(pf.num_row_groups):
                for row in pf.read_row_group(rg, columns=[*IMAGE_COLUMNS[:2], "image_sha256"]).to_pylist():
                    for col in IMAGE_COLUMNS[:2]:
                        data = row[col]["bytes"]
                        if hashes and sha256_hex(data) != row["image_sha256"][col]:
                            raise AssertionError("hash mismatch")
                        total += len(data)
        return total

    variants = {"none": (False, False), "page CRCs": (True, False), "all": (True, True)}
    times: dict[tuple[str, str], list[float]] = {}
    try:
        for _ in range(3):  # interleaved, medians: the machine is shared
            for name, (crcs, hashes) in variants.items():
                shutil.rmtree(tmp / name, ignore_errors=True)
                times.setdefault(("write", name), []).append(timed(lambda: write(name, crcs, hashes))[0])
            os.sync()
            sizes = set()
            for name, (crcs, hashes) in variants.items():
                t, total = timed(lambda: read(name, crcs, hashes))
                times.setdefault(("read", name), []).append(t)
                sizes.add(total)
            assert len(sizes) == 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: float(np.median(v)) for k, v in times.items()}
    print(f"{n} pairs of {W}x{H} PNG, {mb:.0f} MB of image bytes; shards of {chunk} pairs, durable writes; "
          "median of 3 interleaved runs")
    print("all = page CRCs written and verified + each image's SHA-256 written and verified + each shard's SHA-256")
    print(f"{'(pairs/s)':32}{'none':>10}{'page CRCs':>11}{'all':>10}{'CRCs/none':>11}{'all/none':>10}")
    for what in ("write", "read"):
        label = "write" if what == "write" else "read all image bytes"
        rate = {name: n / med[(what, name)] for name in variants}
        print(f"{label:32}{rate['none']:>10.1f}{rate['page CRCs']:>11.1f}{rate['all']:>10.1f}"
              f"{rate['page CRCs'] / rate['none']:>11.2f}{rate['all'] / rate['none']:>10.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--section", choices=("all", "folder", "scale", "checksums"), default="all")
    ap.add_argument("--pairs", type=int, default=2000, help="pairs of the folder and checksums sections")
    ap.add_argument("--repeats", type=int, default=7, help="appends and image reads per store size (median)")
    ap.add_argument("--distinct-images", type=int, default=200, help="distinct PNGs cycled through (encoding is not timed)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    pngs = []
    if args.section in ("all", "folder", "checksums"):
        rng = np.random.default_rng(args.seed)
        pngs = [scene_png(rng) for _ in range(args.distinct_images)]
    if args.section in ("all", "folder"):
        folder_section(args, pngs)
    if args.section in ("all", "scale"):
        scale_section(args)
    if args.section in ("all", "checksums"):
        checksums_section(args, pngs)


if __name__ == "__main__":
    main()
