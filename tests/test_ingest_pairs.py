"""``omnidiff ingest pairs``: conventions, manifests, checks, privacy, proposals, splits, bad input."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest
from PIL import Image

from annotations import Store
from annotations.schema import decode_image
from generators.real.media import has_gps
from generators.real.proposals import mask_iou
from tests.real_helpers import gps_exif, jpeg_bytes, plant_square, save_png, scene

SIZE = (200, 150)


def _layout(root: Path) -> dict[str, np.ndarray]:
    """Three cameras in the three folder conventions, plus a blurred pair and a duplicate.

    Returns the planted change mask of every pair by its name.
    """
    truth: dict[str, np.ndarray] = {}
    cam1, cam2, cam3 = root / "cam1", root / "cam2", root / "cam3"
    for d in (cam1, cam2, cam3 / "before", cam3 / "after"):
        d.mkdir(parents=True)
    for k in range(2):  # X_before / X_after
        b = scene(10 + k, SIZE)
        a, m = plant_square(b, (30 + 40 * k, 40, 70 + 40 * k, 80))
        save_png(b, cam1 / f"desk{k}_before.png")
        save_png(a, cam1 / f"desk{k}_after.png")
        truth[f"cam1/desk{k}"] = m
    b = scene(20, SIZE)  # Spot-the-Diff: X.png / X_2.png
    a, m = plant_square(b, (120, 60, 160, 110), colour=(200, 30, 200))
    save_png(b, cam2 / "0042.png")
    save_png(a, cam2 / "0042_2.png")
    truth["cam2/0042"] = m
    b = scene(30, SIZE)  # before/ and after/ folders; the after is a JPEG with a GPS tag
    a, m = plant_square(b, (20, 90, 70, 140), colour=(250, 250, 250))
    save_png(b, cam3 / "before" / "shelf.png")
    (cam3 / "after" / "shelf.jpg").write_bytes(jpeg_bytes(a, exif=gps_exif()))
    truth["cam3/shelf"] = m
    b = scene(40, SIZE)  # a blurred pair: dropped
    a, _ = plant_square(b, (30, 30, 60, 60))
    save_png(cv2.GaussianBlur(b, (0, 0), 4), cam1 / "blurry_before.png")
    save_png(cv2.GaussianBlur(a, (0, 0), 4), cam1 / "blurry_after.png")
    dup = root / "cam1" / "later"  # the desk0 pair again (sorted after it), re-encoded as JPEG: a near-duplicate
    dup.mkdir()
    for side in ("before", "after"):
        rgb = np.asarray(Image.open(cam1 / f"desk0_{side}.png").convert("RGB"))
        (dup / f"desk0_{side}.jpg").write_bytes(jpeg_bytes(rgb, quality=85))
    return truth


@pytest.fixture
def pairs_folder(tmp_path) -> tuple[Path, dict[str, np.ndarray]]:
    src = tmp_path / "photos"
    truth = _layout(src)
    return src, truth


def _records(store: Path):
    return {r.provenance_dict["name"]: r for r in Store.open(store).records()}


def test_folder_conventions_checks_masks_and_privacy(run_cli, capsys, pairs_folder, tmp_path):
    src, truth = pairs_folder
    out = tmp_path / "store"
    res = run_cli("ingest", "pairs", src, "--out", out, "--license", "CC-BY-4.0", "--source", "test photos", "--json")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    assert report["kept"] == 4
    assert report["dropped_by_reason"] == {"blurred": 1, "near_duplicate": 1}
    dropped = {d["item"]: d for d in report["dropped_items"]}
    assert "(cam1/desk0)" in dropped["cam1/later/desk0"]["detail"]
    assert "cam1/blurry" in dropped

    recs = _records(out)
    assert set(recs) == set(truth)
    ious = {}
    for name, rec in recs.items():
        prov = rec.provenance_dict
        assert rec.benchmark == "omnidiff" and rec.domain == "real" and rec.setting == "unknown"
        assert rec.captions == [] and prov["awaiting_annotation"] is True
        assert rec.license == "CC-BY-4.0" and rec.source == "test photos"
        assert prov["mask"] == "proposed" and prov["transform"]["model"] == "homography"
        assert prov["transform"]["corner_shift_px"] < 1.0  # same camera: registration finds no motion
        mask = np.asarray(decode_image(rec.mask_after))
        ious[name] = mask_iou(mask, truth[name])
    with capsys.disabled():
        print("\nproposed-mask IoU per pair:", {k: round(v, 3) for k, v in sorted(ious.items())})
    assert min(ious.values()) > 0.6

    # EXIF (with its GPS block) is gone from the stored bytes; the source had it.
    assert has_gps((src / "cam3" / "after" / "shelf.jpg").read_bytes())
    shelf = recs["cam3/shelf"]
    assert shelf.image_after[:2] == b"\xff\xd8"  # a JPEG source stays JPEG
    for data in (shelf.image_before, shelf.image_after):
        assert not has_gps(data)
        with Image.open(io.BytesIO(data)) as img:
            assert not img.getexif() and "exif" not in img.info
    assert shelf.provenance_dict["source_had_exif"] is True

    # Scenes are the camera folders; a camera's pairs share one split.
    scenes = {name: rec.scene_id for name, rec in recs.items()}
    assert scenes["cam1/desk0"] == scenes["cam1/desk1"] != scenes["cam2/0042"]
    assert recs["cam1/desk0"].split == recs["cam1/desk1"].split
    info = Store.open(out).manifest["info"]["ingest_reports"]
    assert info[-1]["dropped_by_reason"] == {"blurred": 1, "near_duplicate": 1}

    res = run_cli("validate", out, "--no-images")
    assert res.code == 0, res.out + res.err


def test_same_command_same_bytes_and_reingest_drops_duplicates(run_cli, pairs_folder, tmp_path):
    src, _ = pairs_folder
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("ingest", "pairs", src, "--out", a, "--seed", "3").code == 0
    assert run_cli("ingest", "pairs", src, "--out", b, "--seed", "3").code == 0
    shards_a = sorted((a / "data").glob("*.parquet"))
    assert shards_a and [p.read_bytes() for p in shards_a] == [p.read_bytes() for p in sorted((b / "data").glob("*.parquet"))]

    before = len(Store.open(a))
    res = run_cli("ingest", "pairs", src, "--out", a, "--json")
    assert res.code == 0
    assert json.loads(res.out)["dropped_by_reason"]["near_duplicate"] == 5
    assert len(Store.open(a)) == before

    fresh = tmp_path / "fresh"
    res = run_cli("ingest", "pairs", src / "cam2", "--out", fresh, "--dedupe-against", a, "--json")
    assert res.code == 0
    assert json.loads(res.out)["dropped_by_reason"] == {"near_duplicate": 1}
    assert not fresh.exists()  # nothing kept: no empty store is left behind


def test_manifest_with_captions_and_registration(run_cli, capsys, tmp_path):
    src = tmp_path / "m"
    src.mkdir()
    big = scene(7, (280, 210))
    after_full, planted = plant_square(big, (120, 80, 170, 130))
    rot = cv2.getRotationMatrix2D((140, 105), 2.0, 1.0)
    rot[:, 2] += (4, -3)
    moved = cv2.warpAffine(after_full, rot, (280, 210), borderMode=cv2.BORDER_REFLECT)
    moved_mask = cv2.warpAffine(planted, rot, (280, 210), flags=cv2.INTER_NEAREST)
    before, after = big[20:190, 20:260], moved[20:190, 20:260]
    save_png(before, src / "b.png")
    save_png(after, src / "a.png")
    rows = [{"before": "b.png", "after": "a.png", "captions": ["a green box was put on the table.", "a box appeared."],
             "change_types": ["add"], "license": "CC0", "source": "https://example.org/1", "scene": "kitchen"}]
    (src / "pairs.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "store"
    res = run_cli("ingest", "pairs", src / "pairs.jsonl", "--out", out, "--setting", "indoor")
    assert res.code == 0, res.err
    (rec,) = Store.open(out).records()
    assert rec.captions == rows[0]["captions"] and rec.change_types == ["addition"]
    assert rec.license == "CC0" and rec.source == "https://example.org/1" and rec.scene_id == "kitchen"
    assert rec.setting == "indoor" and "awaiting_annotation" not in rec.provenance_dict
    # The original is stored as it was (never warped); the transform undoes the camera motion.
    assert np.array_equal(np.asarray(decode_image(rec.image_after)), after)
    H = np.array(rec.provenance_dict["transform"]["matrix"])
    shift = np.array([[1, 0, 20], [0, 1, 20], [0, 0, 1]], float)
    truth = np.linalg.inv(shift) @ np.vstack([rot, [0, 0, 1]]) @ shift  # before -> after
    corners = np.float32([[0, 0], [240, 0], [240, 170], [0, 170]]).reshape(-1, 1, 2)
    err = np.linalg.norm(cv2.perspectiveTransform(cv2.perspectiveTransform(corners, truth), H) - corners, axis=2).max()
    with capsys.disabled():
        print(f"\nregistration corner error: {err:.3f} px")
    assert err < 1.0
    iou = mask_iou(np.asarray(decode_image(rec.mask_after)), moved_mask[20:190, 20:260])
    with capsys.disabled():
        print(f"\nproposed-mask IoU after registration: {iou:.3f}")
    assert iou > 0.6


def test_face_blur_uses_the_bundled_detector(run_cli, tmp_path):
    photo = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    face = np.asarray(Image.open(photo).convert("RGB"))
    src = tmp_path / "faces"
    src.mkdir()
    after, _ = plant_square(face, (20, 500, 90, 570))
    save_png(face, src / "p_before.png")
    save_png(after, src / "p_after.png")
    out = tmp_path / "store"
    assert run_cli("ingest", "pairs", src, "--out", out, "--blur-faces").code == 0
    (rec,) = Store.open(out).records()
    assert rec.provenance_dict["faces_blurred"] >= 1
    from generators.real.privacy import detect_faces

    (x, y, w, h), *_ = detect_faces(face)
    stored = np.asarray(decode_image(rec.image_before))
    lap = lambda img: cv2.Laplacian(cv2.cvtColor(img[y:y + h, x:x + w], cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()  # noqa: E731
    assert lap(stored) < 0.2 * lap(face)
    assert detect_faces(stored) == []


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".omnidiff.lock"}


@pytest.mark.parametrize("case", ["truncated_jpeg", "unmatched", "bad_manifest_type", "missing_manifest_file"])
def test_bad_input_exits_1_and_leaves_the_store_as_it_was(run_cli, pairs_folder, tmp_path, case):
    src, _ = pairs_folder
    out = tmp_path / "store"
    assert run_cli("ingest", "pairs", src / "cam1", "--out", out).code == 0
    before = _snapshot(out)
    bad = tmp_path / "bad"
    shutil.copytree(src / "cam2", bad)
    if case == "truncated_jpeg":
        data = jpeg_bytes(scene(3, SIZE))
        (bad / "x_before.jpg").write_bytes(jpeg_bytes(scene(4, SIZE)))
        (bad / "x_after.jpg").write_bytes(data[: len(data) // 2])
        target, expect = bad, "x_after.jpg"
    elif case == "unmatched":
        save_png(scene(5, SIZE), bad / "lonely_before.png")
        target, expect = bad, "lonely_before.png"
    elif case == "bad_manifest_type":
        (bad / "m.csv").write_text("before,after,change_types\n0042.png,0042_2.png,teleport\n")
        target, expect = bad / "m.csv", "teleport"
    else:
        (bad / "m.csv").write_text("before,after\n0042.png,missing.png\n")
        target, expect = bad / "m.csv", "missing.png"
    for dest in (out, tmp_path / "new"):
        res = run_cli("ingest", "pairs", target, "--out", dest)
        assert res.code == 1
        lines = [line for line in res.err.strip().splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:") and expect in lines[0], res.err
        assert "Traceback" not in res.err
    assert _snapshot(out) == before
    assert not (tmp_path / "new").exists()
    assert os.listdir(out / "data") == [p.split("/")[-1] for p in before if p.startswith("data/")]


@pytest.mark.parametrize(
    "args, expect",
    [
        (["--dedupe-against", "{tmp}"], "not a store"),
        (["--split-ratios", "0.9,0.1"], "--split-ratios"),
        (["--split", "dev"], "--split 'dev'"),
    ],
)
def test_bad_options_exit_1_before_any_work(run_cli, pairs_folder, tmp_path, args, expect):
    src, _ = pairs_folder
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    res = run_cli("ingest", "pairs", src, "--out", tmp_path / "new", *args)
    assert res.code == 1 and expect in res.err and "Traceback" not in res.err
    assert not (tmp_path / "new").exists()


def test_bad_area_range_for_sequences(run_cli, tmp_path):
    res = run_cli("ingest", "timelapse", tmp_path, "--out", tmp_path / "new", "--min-area", "0.5", "--max-area", "0.1")
    assert res.code == 1 and "--min-area" in res.err


# -- paths that leave the source, symlinks, loops, text that is not Unicode ----------------------
def _pair_files(folder: Path, stem: str, seed: int) -> tuple[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    b = scene(seed, (120, 90))
    a, _ = plant_square(b, (30, 20, 70, 60))
    save_png(b, folder / f"{stem}_before.png")
    save_png(a, folder / f"{stem}_after.png")
    return f"{stem}_before.png", f"{stem}_after.png"


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("bad, expect", [("ABS", "absolute file name"), ("../outside/o_after.png", "climbs out"),
                                         ("sub/../../outside/o_after.png", "climbs out")])
@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_manifest_paths_that_leave_the_folder_are_refused(run_cli, tmp_path, bad, expect, kind):
    src = tmp_path / "src"
    b, a = _pair_files(src, "p", 1)
    _pair_files(tmp_path / "outside", "o", 2)
    bad = str(tmp_path / "outside" / "o_after.png") if bad == "ABS" else bad
    if kind == "jsonl":
        manifest = _jsonl(src / "m.jsonl", [{"before": b, "after": a}, {"before": b, "after": bad}])
    else:
        manifest = src / "m.csv"
        manifest.write_text(f"before,after\n{b},{a}\n{b},{bad}\n")
    res = run_cli("ingest", "pairs", manifest, "--out", tmp_path / "store")
    assert res.code == 1 and expect in res.err and res.err.count("\n") == 1, res.err
    assert not (tmp_path / "store").exists()


@pytest.mark.timeout(60)
def test_symlinks_out_of_the_source_and_loops_are_refused_with_a_note(run_cli, tmp_path):
    src, outside = tmp_path / "src", tmp_path / "outside"
    _pair_files(src, "inside", 1)
    _pair_files(outside, "secret", 2)
    (src / "loop").mkdir()
    (src / "loop" / "up").symlink_to("..")  # walking it would never end
    (src / "twins").symlink_to("twins")  # a link to itself
    (src / "ext").symlink_to(outside)  # a folder outside
    for side in ("before", "after"):  # files outside
        (src / f"leak_{side}.png").symlink_to(outside / f"secret_{side}.png")
    (src / "alias").symlink_to(src / "loop")  # inside the source: scanned under its own name only
    res = run_cli("ingest", "pairs", src, "--out", tmp_path / "store", "--json")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    assert report["kept"] == 1
    dropped = {d["item"]: d["reason"] for d in report["dropped_items"]}
    assert dropped == {"ext": "outside_source", "leak_after.png": "outside_source", "leak_before.png": "outside_source",
                       "loop/up": "symlink_loop", "twins": "symlink_loop", "alias": "symlink_alias"}
    assert any("not followed" in n for n in report["notes"])
    (rec,) = Store.open(tmp_path / "store").records()
    assert rec.provenance_dict["source_files"] == ["inside_before.png", "inside_after.png"]


def test_manifest_symlinks_out_are_refused_and_root_names_the_folder(run_cli, tmp_path):
    data, outside = tmp_path / "data", tmp_path / "outside"
    b, a = _pair_files(data / "cam", "p", 1)
    _pair_files(outside, "o", 2)
    (data / "cam" / "leak_after.png").symlink_to(outside / "o_after.png")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    rows = [{"before": f"cam/{b}", "after": f"cam/{a}"}, {"before": f"cam/{b}", "after": "cam/leak_after.png"}]
    manifest = _jsonl(manifests / "m.jsonl", rows)
    res = run_cli("ingest", "pairs", manifest, "--out", tmp_path / "s1")  # relative to the manifest's folder
    assert res.code == 1 and "not found" in res.err
    res = run_cli("ingest", "pairs", manifest, "--root", data, "--out", tmp_path / "s2", "--json")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    assert report["kept"] == 1 and report["dropped_by_reason"] == {"outside_source": 1}
    assert "leak_after.png is a symlink leading outside" in report["dropped_items"][0]["detail"]
    res = run_cli("ingest", "pairs", data, "--root", data, "--out", tmp_path / "s3")
    assert res.code == 1 and "--root applies to a .csv/.jsonl manifest" in res.err


@pytest.mark.parametrize("where", ["caption", "license", "change_types"])
def test_a_lone_surrogate_is_a_clear_error_and_leaves_no_store(run_cli, tmp_path, where):
    src = tmp_path / "src"
    b, a = _pair_files(src, "p", 1)
    row = {"before": b, "after": a, "captions": ["a box appeared."], "license": "CC0", "change_types": ["addition"]}
    bad = "bad \ud800 text"
    if where == "caption":
        row["captions"] = [bad]
    elif where == "license":
        row["license"] = bad
    else:
        row["change_types"] = [bad]
    manifest = src / "m.jsonl"
    manifest.write_text(json.dumps(row) + "\n")  # ensure_ascii: the file holds the escape \ud800
    for out in (tmp_path / "new", tmp_path / "empty"):
        (tmp_path / "empty").mkdir(exist_ok=True)
        res = run_cli("ingest", "pairs", manifest, "--out", out)
        assert res.code == 1 and "m.jsonl:1" in res.err and "not valid Unicode" in res.err, res.err
        assert res.err.count("\n") == 1
    assert not (tmp_path / "new").exists() and list((tmp_path / "empty").iterdir()) == []


def test_line_separators_inside_manifest_captions_survive(run_cli, tmp_path):
    src = tmp_path / "src"
    b, a = _pair_files(src, "p", 1)
    caption = "a box\u2028appeared\x85on the\u2029table\x1c."
    _jsonl(src / "m.jsonl", [{"before": b, "after": a, "captions": [caption]}])
    (src / "m.csv").write_text(f'before,after,captions\n{b},{a},"{caption}\nsecond line"\n', encoding="utf-8")
    res = run_cli("ingest", "pairs", src / "m.jsonl", "--out", tmp_path / "s1")
    assert res.code == 0, res.err
    assert [r.captions for r in Store.open(tmp_path / "s1").records()] == [[caption]]
    res = run_cli("ingest", "pairs", src / "m.csv", "--out", tmp_path / "s2")
    assert res.code == 0, res.err
    assert [r.captions for r in Store.open(tmp_path / "s2").records()] == [[caption + "\nsecond line"]]
