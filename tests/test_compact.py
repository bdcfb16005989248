"""``omnidiff compact``: many small shards become few large ones with the same rows and bytes, atomically."""

from __future__ import annotations

import io
import math
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from annotations import Store, StoreError
from annotations.compact import compact_store
from annotations.schema import IMAGE_COLUMNS
from annotations.validate import validate_store
from conftest import REPO, make_record
from store_helpers import make_v1_store


def everything(root) -> dict:
    """Every stored value of every pair (images included), by split in store order."""
    store = Store.open(root)
    return {split: store.table(None, split=split, annotated=False).drop_columns(["image_sha256"]).to_pylist()
            for split in ("train", "val", "test")}


def small_shards(root, n: int, image: bytes | None = None) -> Store:
    store = Store.create(root)
    for i in range(n):
        extra = {} if image is None else {"image_before": image, "image_after": image, "mask_before": None,
                                          "mask_after": None}
        store.append([make_record(i, split=("train", "test", "train", "val")[i % 4], **extra)])
    return store


def noise_png(seed: int, size=(160, 120)) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def two_hundred(tmp_path_factory):
    """A store of 200 one-pair shards (160x120 noise images), made once for this module; copy it."""
    store = small_shards(tmp_path_factory.mktemp("compact") / "original", 200, noise_png(2))
    return store.root, everything(store.root)


def test_two_hundred_small_shards_become_one_per_split_with_the_same_rows(run_cli, tmp_path, two_hundred):
    original, before = two_hundred
    shutil.copytree(original, tmp_path / "s")
    store = Store.open(tmp_path / "s")
    assert len(store.shards) == 200
    res = run_cli("compact", store.root)
    assert res.code == 0, res.err
    assert "200 shards -> 3" in " ".join(res.out.split())
    after = Store.open(store.root)
    assert sorted(s.split for s in after.shards) == ["test", "train", "val"]
    assert everything(store.root) == before  # same rows, same bytes, same order within each split
    assert sorted(p.name for p in (store.root / "data").iterdir()) == sorted(s.file[5:] for s in after.shards)
    assert validate_store(store.root).problems == []
    after.append([make_record(500, split="val")])  # the store takes appends as before
    assert len(Store.open(store.root)) == 201 and validate_store(store.root).problems == []


def test_shards_are_cut_at_the_image_size_target(tmp_path):
    image = noise_png(1)
    store = small_shards(tmp_path / "s", 40, image)
    train_bytes = sum(2 * len(image) for i in range(40) if i % 4 in (0, 2))
    target = train_bytes // 4 + 1
    compact_store(store.root, target_bytes=target)
    shards = Store.open(store.root).shards
    train = [s for s in shards if s.split == "train"]
    assert len(train) in (math.ceil(train_bytes / target), math.ceil(train_bytes / target) + 1)
    assert sum(s.rows for s in train) == 20 and validate_store(store.root).problems == []


COMPACTOR = r"""
import sys
sys.path.insert(0, {repo!r})
from annotations.compact import compact_store
print("compacting", flush=True)
compact_store({root!r})
print("done", flush=True)
"""


def _run_compactor(root, kill_after: float | None) -> bool:
    """Compact ``root`` in a child process; SIGKILL it ``kill_after`` seconds in. True if it finished."""
    proc = subprocess.Popen([sys.executable, "-c", COMPACTOR.format(repo=str(REPO), root=str(root))],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "compacting"
    if kill_after is None:
        return proc.wait(timeout=120) == 0
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return proc.returncode == 0


@pytest.mark.timeout(300)
def test_sigkill_at_random_moments_leaves_a_store_that_validates_with_every_row(tmp_path, two_hundred):
    original, before = two_hundred
    timing = tmp_path / "timing"
    shutil.copytree(original, timing)
    start = time.monotonic()
    assert _run_compactor(timing, None)
    duration = time.monotonic() - start
    rng = random.Random(11)
    kills = 6
    offsets = [duration * (k + rng.random()) / kills for k in range(kills)]  # one random moment per sixth
    outcomes = []
    for k, offset in enumerate(offsets):
        root = tmp_path / f"killed-{k}"
        shutil.copytree(original, root)
        finished = _run_compactor(root, offset)
        shards = len(Store.open(root).shards)
        outcomes.append((round(offset, 2), finished, shards))
        report = validate_store(root)
        assert report.problems == [], (offset, report.problems)
        assert report.pairs == 200 and everything(root) == before, offset
        compact_store(root)  # the next run cleans up and finishes the job
        assert len(Store.open(root).shards) == 3 and validate_store(root).problems == []
        assert sorted(p.name for p in (root / "data").iterdir()) == sorted(s.file[5:] for s in Store.open(root).shards)
    print("kill offsets (s), finished, shards left:", outcomes)
    assert any(shards == 200 for _, _, shards in outcomes), "no kill landed before the commit"


@pytest.mark.parametrize("step", ["before the manifest", "after the manifest"])
def test_a_crash_on_either_side_of_the_commit_leaves_a_valid_store(tmp_path, monkeypatch, step):
    import annotations.store as store_mod

    store = small_shards(tmp_path / "s", 12)
    before = everything(store.root)

    class Crash(BaseException):
        pass

    def crash(*args, **kwargs):
        raise Crash

    if step == "before the manifest":
        monkeypatch.setattr(store_mod, "write_atomic", crash)
    else:
        monkeypatch.setattr(store_mod.Path, "unlink", crash)
    with pytest.raises(Crash):
        compact_store(store.root)
    monkeypatch.undo()
    report = validate_store(store.root)
    assert report.problems == [] and everything(store.root) == before
    assert len(Store.open(store.root).shards) == (12 if step == "before the manifest" else 3)
    assert any("left by an interrupted append or compaction" in n for n in report.notes)
    compact_store(store.root)
    assert validate_store(store.root).notes == [] and everything(store.root) == before


def test_version_1_store_reads_refuses_appends_and_compact_upgrades_it(tmp_path, run_cli):
    root = make_v1_store(tmp_path / "v1", [[make_record(i) for i in range(3)], [make_record(i, split="train") for i in range(3, 5)]])
    store = Store.open(root)
    assert store.schema_version == 1 and store.pair_ids() == [f"pair-{i:04d}" for i in range(5)]
    assert store.images(["pair-0003"])["pair-0003"]["image_after"] == make_record(3).image_after
    assert store.image_hashes(["pair-0001"])["pair-0001"][0] is not None
    assert validate_store(root).problems == []
    with pytest.raises(StoreError, match="omnidiff compact"):
        store.append([make_record(9)])
    res = run_cli("compact", root)
    assert res.code == 0 and "upgraded from schema version 1" in " ".join(res.out.split())
    store = Store.open(root)
    assert store.schema_version == 2 and all(s.sha256 for s in store.shards)
    rec = make_record(2)
    assert store.images(["pair-0002"], IMAGE_COLUMNS)["pair-0002"]["mask_after"] == rec.mask_after
    store.append([make_record(9)])
    assert validate_store(root).problems == [] and len(Store.open(root)) == 6
