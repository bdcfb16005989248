"""``--backend ray`` on a local Ray (one for the session, ``ray_helpers.ray_cluster``).

Render: each scene a Ray task running the Blender worker; the store equals the local backend's byte for
byte, a killed task or crashed Blender worker is sent again once, a scene lost twice is recorded as failed.
Eval: model replicas as Ray actors give the local backend's predictions and scores, into the same cache.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from annotations import Store
from conftest import make_record
from ray_helpers import needs_ray, ray_cluster  # noqa: F401 - the fixture

RENDER = ["render", "--scenes", "2", "--setting", "indoor,outdoor", "--profile", "test", "--seed", "11",
          "--pairs-per-scene", "2"]  # a room and a street
needs_bpy = pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy is not installed")


def stored(root: Path) -> dict:
    """Every stored value of every pair (pair ids, images, masks, captions, provenance), by pair id."""
    return {r["pair_id"]: r for r in Store.open(root).table(None, annotated=False).to_pylist()}


@pytest.fixture(scope="module")
def local_render(tmp_path_factory) -> Path:
    """The reference: the same two scenes by the local backend."""
    import cli

    out = tmp_path_factory.mktemp("local") / "store"
    with pytest.raises(SystemExit) as exc:
        cli.main([*RENDER, "--out", str(out)])
    assert exc.value.code in (0, None)
    return out


@needs_ray
@needs_bpy
@pytest.mark.blender
def test_ray_render_equals_the_local_backend_byte_for_byte(ray_cluster, local_render, run_cli, tmp_path):
    res = run_cli(*RENDER, "--backend", "ray", "--out", tmp_path / "ray")
    assert res.code == 0, res.err
    assert "rendered 2 scenes (4 pairs)" in res.out
    local, ray = stored(local_render), stored(tmp_path / "ray")
    assert len(local) == 4 and sorted(ray) == sorted(local)
    assert {r["setting"] for r in local.values()} == {"indoor", "outdoor"}
    assert ray == local
    assert Store.open(tmp_path / "ray").info == Store.open(local_render).info  # runs, versions, no failures
    assert run_cli("validate", tmp_path / "ray").code == 0


@needs_ray
@needs_bpy
@pytest.mark.blender
def test_a_killed_task_and_a_crashed_blender_worker_are_sent_again(ray_cluster, local_render, run_cli, tmp_path,
                                                                  monkeypatch):
    # scene 1: its Ray worker process is SIGKILLed mid-scene; scene 0: its Blender process dies mid-scene
    monkeypatch.setenv("OMNIDIFF_RAY_TASK_FAULT", f"1:once:{tmp_path / 'task-killed'}")
    monkeypatch.setenv("OMNIDIFF_RENDER_FAULT", f"0:once:{tmp_path / 'blender-killed'}")
    res = run_cli(*RENDER, "--backend", "ray", "--out", tmp_path / "ray")
    assert res.code == 0, res.err
    assert (tmp_path / "task-killed").exists() and (tmp_path / "blender-killed").exists()
    assert "0 failed" in res.out
    assert stored(tmp_path / "ray") == stored(local_render)
    assert Store.open(tmp_path / "ray").info["render"]["failed"] == {}


@needs_ray
@needs_bpy
@pytest.mark.blender
def test_a_scene_lost_twice_is_recorded_failed_and_the_run_goes_on(ray_cluster, local_render, run_cli, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("OMNIDIFF_RAY_TASK_FAULT", "1")  # scene 1 kills its task on every try
    res = run_cli(*RENDER, "--backend", "ray", "--out", tmp_path / "ray")
    assert res.code == 1
    assert "error: 1 of 2 scene(s) failed" in res.err
    store = Store.open(tmp_path / "ray")
    [(scene, why)] = store.info["render"]["failed"].items()
    assert scene.endswith("-s11-000001") and why.startswith("Ray task lost (") and why.endswith("twice on this scene")
    local = stored(local_render)
    assert stored(tmp_path / "ray") == {pid: r for pid, r in local.items() if r["scene_id"] != scene}
    assert len(stored(tmp_path / "ray")) == 2


@pytest.fixture
def eval_store(tmp_path) -> Store:
    store = Store.create(tmp_path / "store", name="pairs")
    types = [["addition"], ["color"], ["addition", "color"], ["disappearance"]]
    store.append([make_record(i, domain="real" if i % 3 == 0 else "render", change_types=types[i % 4])
                  for i in range(8)])
    return store


def _eval(run_cli, store: Store, results: Path, log: Path, *extra: str):
    return run_cli("eval", "--model", "counting", "--model-arg", "template=a red square moved in pair {n}.",
                   "--model-arg", f"log={log}", "--data", store.root, "--results", results, "--batch-size", "2",
                   "--no-spice", "--no-progress", *extra)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@needs_ray
def test_ray_replicas_give_the_local_predictions_and_a_rerun_computes_nothing(ray_cluster, run_cli, eval_store,
                                                                              tmp_path):
    assert _eval(run_cli, eval_store, tmp_path / "local", tmp_path / "local.log").code == 0
    ray_args = ("--backend", "ray", "--model-arg", "replicas=2")
    res = _eval(run_cli, eval_store, tmp_path / "ray", tmp_path / "ray.log", *ray_args)
    assert res.code == 0, res.err
    assert "8 computed, 0 cached" in res.out
    local, ray = (tmp_path / p / "counting" / "omnidiff" / "test" for p in ("local", "ray"))
    assert (ray / "predictions.jsonl").read_bytes() == (local / "predictions.jsonl").read_bytes()
    scores = [json.loads((folder / "scores.json").read_text()) for folder in (local, ray)]
    for s in scores:
        s.pop("created")
    assert scores[0] == scores[1] and scores[0]["n"] == 8
    assert json.loads((ray / "run.json").read_text())["backend"] == "ray (2 replicas)"
    assert sorted(_lines(tmp_path / "ray.log")) == sorted(eval_store.pair_ids())  # each pair captioned once

    again = _eval(run_cli, eval_store, tmp_path / "ray", tmp_path / "ray.log", *ray_args)
    assert again.code == 0, again.err
    assert "0 computed, 8 cached" in again.out
    assert len(_lines(tmp_path / "ray.log")) == 8  # no replica was asked for anything
    assert (ray / "predictions.jsonl").read_bytes() == (local / "predictions.jsonl").read_bytes()


@needs_ray
@pytest.mark.parametrize("args, message", [
    (["--backend", "ray", "--model-arg", "replicas=0"], "replicas='0': expected a whole number of at least 1"),
    (["--backend", "ray", "--model-arg", "replicas=3"], "replicas=3: the Ray cluster has 2 CPUs for them"),
    (["--model-arg", "replicas=2"], "replicas is for --backend ray"),
    (["--ray-address", "auto"], "--ray-address is for --backend ray"),
    (["--backend", "spark"], "--backend 'spark': choose local or ray"),
])
def test_bad_ray_eval_options_are_one_line(ray_cluster, run_cli, eval_store, tmp_path, args, message):
    res = _eval(run_cli, eval_store, tmp_path / "r", tmp_path / "calls.log", *args)
    assert res.code == 1
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.err
    assert not (tmp_path / "calls.log").exists()


def test_without_ray_the_backend_is_refused_with_the_install_hint(run_cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as where it is not installed
    res = run_cli(*RENDER, "--backend", "ray", "--out", tmp_path / "x")
    assert res.code == 1 and not (tmp_path / "x").exists()
    assert res.err.strip() == "error: --backend ray needs Ray, which is not installed here (pip install 'omnidiff[ray]')"
