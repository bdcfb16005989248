"""Blender renders at the ``test`` profile: determinism, resume after SIGKILL, crashes, masks, CLI errors."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from annotations import Store
from generators.synthetic.changes import TABLETOP_CHANGE_TYPES
from generators.synthetic.profiles import PROFILES

# never import bpy here: it puts Blender's script folders on sys.path, which spawned workers inherit
pytestmark = [pytest.mark.blender,
              pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy is not installed")]

REPO = Path(__file__).resolve().parents[1]


def records_by_id(path: Path) -> dict:
    return {r.pair_id: r for r in Store.open(path).records()}


def mask_array(data: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(data))
    assert img.mode == "L"
    return np.asarray(img)


@pytest.fixture(scope="module")
def twin_stores(tmp_path_factory):
    """Acceptance 1: the same command twice (1 and 2 workers) into A and B."""
    import cli

    root = tmp_path_factory.mktemp("twins")
    for name, workers in (("A", "1"), ("B", "2")):
        with pytest.raises(SystemExit) as exc:
            cli.main(["render", "--scenes", "3", "--profile", "test", "--seed", "1", "--setting", "tabletop", "--out", str(root / name),
                      "--workers", workers])
        assert exc.value.code in (0, None)
    return root / "A", root / "B"


def test_same_seed_gives_same_ids_and_bytes(twin_stores, run_cli):
    a, b = twin_stores
    ra, rb = records_by_id(a), records_by_id(b)
    assert len(ra) == 3 * len(TABLETOP_CHANGE_TYPES)
    assert sorted(ra) == sorted(rb)
    for pid in ra:
        assert ra[pid].image_before == rb[pid].image_before
        assert ra[pid].image_after == rb[pid].image_after
        assert ra[pid] == rb[pid], pid
    for store in (a, b):
        res = run_cli("validate", store)
        assert res.code == 0, res.out + res.err
    res = run_cli("stats", a, "--json")
    assert res.code == 0
    stats = json.loads(res.out)
    text = json.dumps(stats)
    for key in TABLETOP_CHANGE_TYPES:
        assert key in text
    assert "caption" in text


def test_records_have_the_promised_shape(twin_stores):
    a, _ = twin_stores
    for rec in Store.open(a).records():
        assert rec.benchmark == "omnidiff" and rec.domain == "render" and rec.setting == "tabletop"
        assert len(rec.captions) >= 3 and len(set(rec.captions)) == len(rec.captions)
        prov = rec.provenance_dict
        for key in ("generator_version", "bpy_version", "seed", "profile", "camera_jitter", "rejections"):
            assert key in prov
        assert prov["profile"]["name"] == "test"
        img = Image.open(io.BytesIO(rec.image_before))
        assert img.size == (PROFILES["test"].width, PROFILES["test"].height)
        assert rec.pair_id == f"{rec.scene_id}-{rec.change_types[0]}"


def changed_area(rec, image: str) -> int:
    return int((mask_array(getattr(rec, f"mask_{image}")) == 255).sum())


def test_masks_agree_with_the_structured_diff_for_every_change_type(twin_stores):
    """Acceptance 3: one pair per change type, masks checked against the diff."""
    a, _ = twin_stores
    minimum = PROFILES["test"].min_visible_pixels
    seen = set()
    for rec in Store.open(a).records():
        key = rec.change_types[0]
        seen.add(key)
        diff = rec.scene_diff_dict["changes"][0]
        before, after = changed_area(rec, "before"), changed_area(rec, "after")
        same_image = rec.image_before == rec.image_after
        assert not same_image, f"{key}: the images are identical"
        if key in ("viewpoint", "illumination"):
            assert before == after == 0 and not rec.boxes
            if key == "viewpoint":
                assert diff["before"] != diff["after"]
        elif key in ("disappearance", "removal"):
            assert before >= minimum and after == 0
        elif key == "addition":
            assert before == 0 and after >= minimum
        elif key == "counting":
            assert (before == 0) != (after == 0) and max(before, after) >= minimum
        else:
            need = max(4, minimum // 4) if key == "text" else minimum
            assert before >= need and after >= need, key
            if key in ("color", "material"):
                # nothing moved: the object covers exactly the same pixels in both images
                assert rec.mask_before == rec.mask_after, key
            if key == "text":  # the letters have an id of their own: the mask is the old word, then the new one
                assert rec.mask_before != rec.mask_after
            if key == "orientation":
                assert rec.mask_before != rec.mask_after and abs(before - after) <= 0.6 * max(before, after)
            if key == "size":
                grew = diff["after"] == "large"
                assert (after > before) == grew, (before, after, diff["after"])
            if key == "movement":
                mb, ma = mask_array(rec.mask_before) > 0, mask_array(rec.mask_after) > 0
                assert (mb & ma).sum() < 0.5 * min(mb.sum(), ma.sum())
        for box in rec.boxes or []:
            mask = mask_array(rec.mask_before if box.image == "before" else rec.mask_after)
            assert mask[box.y0:box.y1, box.x0:box.x1].any()
            assert box.label == key
    assert seen == set(TABLETOP_CHANGE_TYPES)


def test_rerun_skips_stored_scenes(twin_stores, run_cli, tmp_path):
    a, _ = twin_stores
    before = Store.open(a).pair_ids()
    res = run_cli("render", "--scenes", "3", "--profile", "test", "--seed", "1", "--setting", "tabletop", "--out", a)
    assert res.code == 0
    assert "skipped 3" in res.out
    assert Store.open(a).pair_ids() == before


def test_sigkill_halfway_then_rerun_equals_uninterrupted_run(tmp_path, run_cli, monkeypatch):
    """Acceptance 2; the killed run's scratch folder is removed by the next run."""
    import tempfile

    args = ["render", "--scenes", "6", "--profile", "test", "--seed", "4", "--pairs-per-scene", "3", "--append-every", "0.2",
            "--setting", "tabletop"]
    killed = tmp_path / "killed"
    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", *args, "--out", str(killed)],
                            cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, TMPDIR=str(scratch_root)))
    deadline = time.monotonic() + 240
    pairs = 0
    while time.monotonic() < deadline and proc.poll() is None:
        manifest = killed / "omnidiff.json"
        if manifest.is_file():
            try:
                pairs = json.loads(manifest.read_text())["counts"]["pairs"]
            except (ValueError, KeyError):
                pairs = 0
            if pairs >= 9:  # three of six scenes stored
                break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    partial = Store.open(killed).pair_ids()
    assert 9 <= len(partial) < 18, f"the kill did not land halfway ({len(partial)} pairs)"
    assert [p.name.split("-")[2] for p in scratch_root.glob("omnidiff-render-*")] == [str(proc.pid)]  # left behind
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_root))
    res = run_cli(*args, "--out", killed)
    assert res.code == 0, res.err
    assert list(scratch_root.glob("omnidiff-render-*")) == []  # the stale folder went, and this run removed its own
    monkeypatch.undo()
    ids = Store.open(killed).pair_ids()
    assert len(ids) == len(set(ids)) == 18
    res = run_cli(*args, "--out", tmp_path / "whole")
    assert res.code == 0
    assert records_by_id(killed) == records_by_id(tmp_path / "whole")
    assert run_cli("validate", killed).code == 0


def test_a_crashing_worker_loses_only_its_scene(tmp_path, run_cli, monkeypatch):
    args = ["render", "--scenes", "3", "--profile", "test", "--seed", "2", "--preset", "clevr-change"]
    monkeypatch.setenv("OMNIDIFF_RENDER_FAULT", "1")  # scene 1 kills its worker every time
    res = run_cli(*args, "--out", tmp_path / "s")
    assert res.code == 1, res.err  # a render with failed scenes is not a success
    assert "1 failed" in res.out and "error: 1 of 3 scene(s) failed" in res.err
    assert "failed: clevr_change-s2-000001: worker crashed" in res.err
    store = Store.open(tmp_path / "s")
    assert {sid for sid in store.table(["scene_id"]).column("scene_id").to_pylist()} == {
        "clevr_change-s2-000000", "clevr_change-s2-000002"}
    failed = store.info["render"]["failed"]
    assert list(failed) == ["clevr_change-s2-000001"] and "crashed" in failed["clevr_change-s2-000001"]
    # crash once only: the retry on a fresh worker succeeds, the rerun fills the gap and clears the failure
    monkeypatch.setenv("OMNIDIFF_RENDER_FAULT", f"1:once:{tmp_path / 'marker'}")
    res = run_cli(*args, "--out", tmp_path / "s")
    assert res.code == 0 and (tmp_path / "marker").exists()
    store = Store.open(tmp_path / "s")
    assert len(store) == 6 and store.info["render"]["failed"] == {}


def test_recycling_shards_and_clevr_presets(tmp_path, run_cli):
    out = tmp_path / "dc"
    res = run_cli("render", "--scenes", "4", "--profile", "test", "--seed", "3", "--preset", "clevr-dc",
                  "--shard", "1/2", "--scenes-per-worker", "1", "--out", out)
    assert res.code == 0, res.err
    recs = list(Store.open(out).records())
    assert sorted(r.scene_id for r in recs) == ["clevr_dc-s3-000001", "clevr_dc-s3-000003"]
    for rec in recs:
        assert rec.benchmark == "clevr_dc" and rec.native_change_type
        cams = [d for d in rec.scene_diff_dict["changes"] if d["type"] == "viewpoint"]
        assert cams and abs(cams[0]["after"]["azimuth"] - cams[0]["before"]["azimuth"]) >= 45
        assert rec.distractor == (rec.native_change_type == "distractor")
    assert Store.open(out).info["render"]["runs"][-1]["shard"] == "1/2"


def test_several_changes_per_pair(tmp_path, run_cli):
    out = tmp_path / "multi"
    res = run_cli("render", "--scenes", "1", "--profile", "test", "--seed", "8", "--pairs-per-scene", "2", "--setting", "tabletop",
                  "--changes-per-pair", "2", "--split", "val", "--out", out)
    assert res.code == 0, res.err
    for rec in Store.open(out).records():
        assert len(rec.change_types) == 2 and rec.split == "val"
        assert [d["type"] for d in rec.scene_diff_dict["changes"]] == rec.change_types
        uids = {u for d in rec.scene_diff_dict["changes"] for u in d["mask_before"] + d["mask_after"]}
        assert len(uids) == sum(len(set(d["mask_before"] + d["mask_after"])) for d in rec.scene_diff_dict["changes"])


@pytest.mark.parametrize("extra, message", [
    (["--preset", "bogus"], "unknown preset"),
    (["--profile", "huge"], "unknown profile"),
    (["--shard", "2/2"], "--shard"),
    (["--split-ratios", "0.5,0.6,0.1"], "--split-ratios"),
    (["--split", "holdout"], "--split"),
    (["--backend", "spark"], "choose local or ray"),
    (["--ray-address", "auto"], "--ray-address is for --backend ray"),
    (["--preset", "clevr-change", "--changes-per-pair", "2"], "--changes-per-pair"),
    (["--workers", "0"], "--workers"),
    (["--setting", "attic"], "--setting"),
    (["--preset", "clevr-change", "--setting", "indoor"], "--setting"),
])
def test_bad_render_options_fail_in_one_line(tmp_path, run_cli, extra, message):
    res = run_cli("render", "--scenes", "1", "--profile", "test", "--out", tmp_path / "x", *extra)
    assert res.code == 1
    assert message in res.err and len(res.err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_out_that_is_a_file_or_a_foreign_store_is_refused(tmp_path, run_cli):
    target = tmp_path / "file"
    target.write_text("keep me")
    res = run_cli("render", "--scenes", "1", "--profile", "test", "--out", target)
    assert res.code == 1 and target.read_text() == "keep me"
    folder = tmp_path / "notastore"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    res = run_cli("render", "--scenes", "1", "--profile", "test", "--out", folder)
    assert res.code == 1 and (folder / "notes.txt").read_text() == "mine"
    assert "Traceback" not in res.err


def test_help_says_pose_waits_for_the_people(run_cli):
    res = run_cli("render", "--help")
    assert res.code == 0
    flat = " ".join(res.out.split())
    assert "Pose is not rendered yet" in flat and "people" in flat and "--setting" in flat


def test_a_hung_worker_is_killed_and_its_scene_recorded(tmp_path, monkeypatch):
    from generators.synthetic.run import RenderOptions, render

    monkeypatch.setenv("OMNIDIFF_RENDER_FAULT", "0:hang")
    opts = RenderOptions(out=tmp_path / "h", scenes=2, preset="clevr-change", profile="test", seed=2,
                         scene_timeout=3.0)
    summary = render(opts)
    assert summary.rendered_scenes == 1
    assert list(summary.failed) == ["clevr_change-s2-000000"]
    assert "longer than 3 s" in summary.failed["clevr_change-s2-000000"]
    assert Store.open(tmp_path / "h").info["render"]["failed"] == summary.failed
