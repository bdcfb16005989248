"""Render appends in batches: few shards per run, and a kill loses only what was not yet appended."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from annotations import Store
from annotations.buffered import BufferedAppender
from annotations.validate import validate_store
from conftest import REPO, make_record

# Tabletops: these tests are about appends, not scenes, and a tabletop scene is the cheapest to render.
SETTING_ARGS = ["--setting", "tabletop"]
CHEAP = ["--profile", "test", "--pairs-per-scene", "1", *SETTING_ARGS]


@pytest.mark.timeout(600)
def test_a_forty_scene_render_leaves_at_most_three_shards(run_cli, tmp_path):
    out = tmp_path / "r40"
    # The per-minute flush is tested on the appender itself (below); a generous interval here keeps the shard
    # count a property of the buffering, not of how busy the machine is.
    res = run_cli("render", "--scenes", "40", *CHEAP, "--append-every", "600", "--out", out)
    assert res.code == 0, res.err
    store = Store.open(out)
    assert len(store) == 40 and len(store.shards) <= 3, [s.file for s in store.shards]
    assert len(list((out / "data").glob("*.parquet"))) == len(store.shards)
    assert validate_store(out, check_images=False).problems == []


def test_buffer_flushes_by_size_by_time_and_at_close(tmp_path):
    store = Store.create(tmp_path / "s")
    one = len(make_record(0).image_before) * 2 + len(make_record(0).mask_before) + len(make_record(0).mask_after)
    with BufferedAppender(store, max_bytes=3 * one, max_seconds=3600) as buffer:
        buffer.add([make_record(0), make_record(1)])
        assert len(Store.open(store.root)) == 0  # still buffered
        buffer.add([make_record(2)], info={"render": {"failed": {}}})
        assert len(Store.open(store.root)) == 3 and buffer.flushes == 1  # the size limit
        buffer.add([make_record(3)])
    assert len(Store.open(store.root)) == 4 and buffer.flushes == 2  # closing flushes the rest
    assert Store.open(store.root).info["render"] == {"failed": {}}
    with BufferedAppender(store, max_bytes=1 << 30, max_seconds=0.4) as buffer:
        buffer.add([make_record(4)])
        deadline = time.monotonic() + 10
        while buffer.flushes < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(Store.open(store.root)) == 5 and buffer.flushes == 1  # the timer, with no add to wake it


@pytest.mark.timeout(600)
def test_a_kill_loses_only_unappended_scenes_and_the_rerun_renders_just_those(run_cli, tmp_path):
    args = ["render", "--scenes", "12", *CHEAP, "--seed", "5", "--append-every", "1"]
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", *args, "--out", str(out)],
                            cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if json.loads((out / "omnidiff.json").read_text())["counts"]["pairs"] >= 3:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    kept = Store.open(out).pair_ids()
    assert 3 <= len(kept) < 12, f"the kill did not land mid-run ({len(kept)} pairs)"
    assert validate_store(out, check_images=False).problems == []
    res = run_cli(*args, "--out", out)
    assert res.code == 0, res.err
    flat = " ".join(res.out.split())
    assert f"rendered {12 - len(kept)} scenes" in flat and f"skipped {len(kept)} already stored" in flat
    ids = Store.open(out).pair_ids()
    assert len(ids) == len(set(ids)) == 12 and ids[:len(kept)] == kept
