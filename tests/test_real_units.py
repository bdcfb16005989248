"""Unit checks of the real-pair parts: registration, quality, hashing, splits, pair discovery."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from annotations.errors import OmniDiffError
from generators.real.align import Alignment, register
from generators.real.quality import QualityThresholds, hamming, measure, phash
from generators.real.sources import discover_folder
from annotations.splits import assign_splits
from annotations.splits import parse_split_ratios as parse_ratios
from tests.real_helpers import jpeg_bytes, save_png, scene


def test_register_recovers_a_perspective_change():
    before = scene(3, (320, 240))
    truth = np.array([[1.01, 0.02, -5.0], [-0.015, 0.99, 3.0], [2e-5, -1e-5, 1.0]])  # before -> after
    after = cv2.warpPerspective(before, truth, (320, 240), borderMode=cv2.BORDER_REFLECT)
    found = register(before, after)
    assert found.ok and found.method.startswith("orb+ransac")
    err = Alignment(found.matrix @ truth).corner_shift(320, 240)
    print(f"perspective registration corner error: {err:.3f} px")
    assert err < 1.0


def test_register_reports_failure_on_unrelated_images():
    flat = np.full((120, 160, 3), 128, np.uint8)
    found = register(scene(1, (160, 120)), flat)
    assert not found.ok


def test_quality_checks():
    img = scene(4, (200, 150))
    limits = QualityThresholds()
    assert measure(img).problem(limits) is None
    assert measure(cv2.GaussianBlur(img, (0, 0), 4)).problem(limits).startswith("blurred")
    assert measure((img * 0.1).astype(np.uint8)).problem(limits).startswith("underexposed")
    assert measure(np.clip(img.astype(int) + 200, 0, 255).astype(np.uint8)).problem(limits).startswith(("overexposed", "clipped"))


def test_perceptual_hash_tells_near_duplicates_from_other_scenes():
    import io

    from PIL import Image

    a = scene(5, (200, 150))
    reencoded = np.asarray(Image.open(io.BytesIO(jpeg_bytes(a, quality=60))).convert("RGB"))
    assert hamming(phash(a), phash(reencoded)) <= 4
    assert hamming(phash(a), phash(scene(6, (200, 150)))) > 12


def test_splits_by_scene_are_seeded_and_stable():
    scenes = [f"cam{i:02d}" for i in range(20)]
    one = assign_splits(scenes, seed=1)
    assert one == assign_splits(list(reversed(scenes)), seed=1)  # listing order does not matter
    assert sorted(one.values()).count("train") == 16 and list(one.values()).count("val") == 2
    assert one != assign_splits(scenes, seed=2)
    known = {"cam00": "test"}
    assert assign_splits(scenes, seed=1, known=known)["cam00"] == "test"
    assert set(assign_splits(scenes, seed=1, forced="val").values()) == {"val"}
    with pytest.raises(OmniDiffError):
        assign_splits(scenes, seed=1, forced="dev")
    assert parse_ratios("8,1,1") == (0.8, 0.1, 0.1)
    with pytest.raises(OmniDiffError):
        parse_ratios("0.5,0.5")


def test_discovery_conventions_and_ambiguity(tmp_path):
    img = scene(1, (64, 48))
    save_png(img, tmp_path / "a.png")
    save_png(img, tmp_path / "a_2.png")
    save_png(img, tmp_path / "b_before.png")
    save_png(img, tmp_path / "b_after.png")
    (tmp_path / "notes.txt").write_text("not an image: ignored")
    pairs = discover_folder(tmp_path).pairs
    assert [(p.name, p.before.name, p.after.name) for p in pairs] == [
        ("a", "a.png", "a_2.png"), ("b", "b_before.png", "b_after.png")]
    save_png(img, tmp_path / "a.jpg")  # two files with one stem: which one is the pair?
    with pytest.raises(OmniDiffError, match="a.jpg"):
        discover_folder(tmp_path)
