"""``omnidiff ingest video`` and ``ingest timelapse`` on inputs drawn and written by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from annotations import Store
from annotations.schema import decode_image
from generators.real.proposals import mask_iou
from tests.real_helpers import box_mask, jpeg_bytes, plant_square, scene, write_video


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    folder = tmp_path_factory.mktemp("video")
    path = folder / "desk.avi"
    truth = write_video(path)
    return path, truth


@pytest.fixture(scope="module")
def video_store(video, tmp_path_factory):
    """One ingest of the test video, shared by the checks below (ingesting takes a few seconds)."""
    import cli

    path, _ = video
    out = tmp_path_factory.mktemp("vs") / "store"
    report_file = out.parent / "report.json"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            cli.main(["ingest", "video", str(path), "--out", str(out), "--sample-every", "0.2", "--max-pairs", "4", "--json"])
        except SystemExit as exc:
            assert exc.code in (0, None)
    report_file.write_text(buf.getvalue())
    return out, json.loads(buf.getvalue())


def test_video_pairs_find_the_planted_changes(video, video_store):
    _, truth = video
    out, report = video_store
    records = list(Store.open(out).records())
    assert 3 <= len(records) <= 4
    ious = []
    for rec in records:
        prov = rec.provenance_dict
        i, j = prov["frames"]
        assert i < j
        assert not (i < truth.cut_at <= j), "a pair crosses the scene cut"
        assert truth.blurred[0] not in (i, j), "a blurred frame was used"
        assert truth.boxes[i] != truth.boxes[j], f"frames {i} and {j} show the same state"
        mask = np.asarray(decode_image(rec.mask_after))
        iou = mask_iou(mask, box_mask([truth.boxes[i], truth.boxes[j]], mask.shape))
        ious.append(round(iou, 3))
        assert prov["mask"] == "proposed" and prov["awaiting_annotation"] is True
        assert rec.scene_id == records[0].scene_id and rec.split == records[0].split
        assert decode_image(rec.image_before).size == (240, 180)
    print("\nvideo proposed-mask IoU per pair:", ious)
    assert min(ious) > 0.6
    middles = sorted(sum(r.provenance_dict["frames"]) / 2 for r in records)
    assert middles[-1] - middles[0] >= 15  # spread over the video, not bunched
    assert report["dropped_by_reason"]["blurred"] >= 1
    assert any(d["item"] == f"frame {truth.blurred[0]}" for d in report["dropped_items"])
    assert report["dropped_by_reason"]["scene_cut"] == 1
    cut = next(d for d in report["dropped_items"] if d["reason"] == "scene_cut")
    assert cut["item"].endswith(f"frame {truth.cut_at}")
    assert Store.open(out).manifest["info"]["ingest_reports"][-1]["kept"] == len(records)


def test_video_again_adds_nothing_and_duplicates_are_dropped(run_cli, video, video_store, tmp_path):
    path, _ = video
    out, _ = video_store
    count = len(Store.open(out))
    copy = tmp_path / "renamed.avi"
    copy.write_bytes(path.read_bytes())
    for source in (path, copy):  # the same video, under its name or another: its quota is used up
        res = run_cli("ingest", "video", source, "--out", out, "--sample-every", "0.2", "--max-pairs", "4", "--json")
        assert res.code == 0, res.err
        report = json.loads(res.out)
        assert report["kept"] == 0 and "already holds 4 pair(s)" in report["notes"][0]
    assert len(Store.open(out)) == count
    # Into another store, checked against the first: its best candidates are near-duplicates.
    res = run_cli("ingest", "video", copy, "--out", tmp_path / "other", "--sample-every", "0.2", "--max-pairs", "2",
                  "--dedupe-against", out, "--json")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    assert report["dropped_by_reason"]["near_duplicate"] >= 2
    assert any(f" in {out}" in d["detail"] for d in report["dropped_items"] if d["reason"] == "near_duplicate")


def test_unreadable_video_exits_1_and_leaves_the_store(run_cli, video_store, tmp_path):
    out, _ = video_store
    manifest = (out / "omnidiff.json").read_bytes()
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    for target, expect in ((bad, "broken.mp4"), (tmp_path / "absent.mp4", "no such video")):
        res = run_cli("ingest", "video", target, "--out", out)
        assert res.code == 1
        assert expect in res.err and "Traceback" not in res.err
        assert len([ln for ln in res.err.splitlines() if ln.startswith("error:")]) == 1
    assert (out / "omnidiff.json").read_bytes() == manifest
    res = run_cli("ingest", "video", bad, "--out", tmp_path / "new")
    assert res.code == 1 and not (tmp_path / "new").exists()


def _timelapse(folder: Path) -> np.ndarray:
    """Ten JPEG frames of a fixed camera, the light drifting from dim to bright; a box appears at
    frame 5 and stays; frame 2 is blurred. Returns the planted mask."""
    folder.mkdir()
    base = scene(50, (240, 180))
    with_box, mask = plant_square(base, (150, 40, 200, 90), colour=(30, 60, 230))
    rng = np.random.default_rng(2)
    for k in range(10):
        frame = (with_box if k >= 5 else base).astype(np.float32)
        frame = np.clip(frame * (0.75 + 0.06 * k) + 4 * k, 0, 255).astype(np.uint8)
        shift = np.float32([[1, 0, rng.uniform(-1, 1)], [0, 1, rng.uniform(-1, 1)]])
        frame = cv2.warpAffine(frame, shift, (240, 180), borderMode=cv2.BORDER_REFLECT)
        if k == 2:
            frame = cv2.GaussianBlur(frame, (0, 0), 4)
        (folder / f"img_{k + 1}.jpg").write_bytes(jpeg_bytes(frame))  # img_10 sorts after img_9
    return mask


def test_timelapse_with_lighting_drift(run_cli, capsys, tmp_path):
    planted = _timelapse(tmp_path / "cam")
    out = tmp_path / "store"
    res = run_cli("ingest", "timelapse", tmp_path / "cam", "--out", out, "--max-pairs", "3", "--json")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    assert any(d["item"] == "img_3.jpg" and d["reason"] == "blurred" for d in report["dropped_items"])
    records = list(Store.open(out).records())
    assert 1 <= len(records) <= 3
    ious = []
    for rec in records:
        i, j = rec.provenance_dict["frames"]
        assert i < 5 <= j, f"pair {i}-{j} does not span the appearance: lighting drift was taken for a change"
        ious.append(round(mask_iou(np.asarray(decode_image(rec.mask_after)), planted), 3))
        assert rec.image_before[:2] == b"\xff\xd8"  # JPEG stays JPEG, re-encoded without metadata
    with capsys.disabled():
        print("\ntime-lapse proposed-mask IoU per pair:", ious)
    assert min(ious) > 0.6


def test_timelapse_with_a_truncated_jpeg_exits_1(run_cli, tmp_path):
    _timelapse(tmp_path / "cam")
    data = (tmp_path / "cam" / "img_4.jpg").read_bytes()
    (tmp_path / "cam" / "img_4.jpg").write_bytes(data[: len(data) * 2 // 3])
    res = run_cli("ingest", "timelapse", tmp_path / "cam", "--out", tmp_path / "store")
    assert res.code == 1 and "img_4.jpg" in res.err and "Traceback" not in res.err
    assert not (tmp_path / "store").exists()


def test_panning_camera_is_compensated(run_cli, capsys, tmp_path):
    from tests.real_helpers import write_panning_video

    offsets, change_at, (x0, y0, x1, y1) = write_panning_video(tmp_path / "pan.avi")
    out = tmp_path / "store"
    res = run_cli("ingest", "video", tmp_path / "pan.avi", "--out", out, "--sample-every", "0.2", "--max-pairs", "2", "--json")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    assert report["stats"]["registration_segments"] >= 2  # the pan outruns one reference frame
    records = list(Store.open(out).records())
    assert records
    ious = []
    for rec in records:
        i, j = rec.provenance_dict["frames"]
        assert i < change_at <= j
        assert rec.provenance_dict["transform"]["corner_shift_px"] > 2  # camera motion was found...
        mask = np.asarray(decode_image(rec.mask_after))
        planted = box_mask([(x0 - offsets[j], y0, x1 - offsets[j], y1)], mask.shape)  # ...and the box is in after pixels
        ious.append(round(mask_iou(mask, planted), 3))
    with capsys.disabled():
        print("\npanning video proposed-mask IoU per pair:", ious)
    assert min(ious) > 0.6
