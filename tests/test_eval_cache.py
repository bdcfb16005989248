"""The prediction cache keys by the content of both images: another store with the same pair ids is not served."""

from __future__ import annotations

import pytest
from PIL import Image

from annotations import Store
from annotations.schema import sha256_hex
from conftest import make_record, png_bytes
from harness_helpers import TESTS_DIR, install_test_models
from omnidiff.harness.cache import PredictionCache, images_key


# in-process `omnidiff score`/`eval` runs borrow one warm METEOR JVM (tests/metrics_helpers.py)
pytestmark = pytest.mark.usefixtures("shared_meteor")


def test_same_ids_other_images_are_captioned_again(run_cli, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(install_test_models(tmp_path / "site")))
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    first = Store.create(tmp_path / "first")
    first.append([make_record(i) for i in range(4)])
    rerender = Store.create(tmp_path / "rerender")  # a re-render of the same seed at another size: same ids
    rerender.append([make_record(i, image_after=png_bytes(Image.new("RGB", (48, 32), (i, 90, 9)))) for i in range(4)])
    args = ("eval", "--model", "counting", "--results", tmp_path / "results", "--no-spice", "--no-progress")
    assert run_cli(*args, "--data", first.root).code == 0
    res = run_cli(*args, "--data", rerender.root)
    assert res.code == 0 and "4 computed, 0 cached" in " ".join(res.out.split())


def test_cache_rows_match_on_both_image_hashes(tmp_path):
    cache = PredictionCache(tmp_path / "c.sqlite")
    key = images_key(sha256_hex(b"before"), sha256_hex(b"after"))
    cache.put_many("fp", "omnidiff", "prompt", {}, {"p1": "a caption"}, {"p1": key})
    assert cache.get_many("fp", "omnidiff", "prompt", {}, {"p1": key}) == {"p1": "a caption"}
    swapped = images_key(sha256_hex(b"after"), sha256_hex(b"before"))
    assert cache.get_many("fp", "omnidiff", "prompt", {}, {"p1": swapped}) == {}
    assert cache.get_many("fp", "omnidiff", "prompt", {}, {"p2": key}) == {}
    cache.close()
