"""``omnidiff eval``: result files, equality with ``omnidiff score``, cache and resume, bad input."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, make_record
from harness_helpers import TESTS_DIR, install_test_models

from annotations import Store

# in-process `omnidiff score`/`eval` runs borrow one warm METEOR JVM (tests/metrics_helpers.py)
pytestmark = pytest.mark.usefixtures("shared_meteor")


@pytest.fixture
def test_models(tmp_path, monkeypatch):
    """The harness test models, found through a real entry point on sys.path."""
    folder = install_test_models(tmp_path / "site")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    return folder


@pytest.fixture
def mixed_store(tmp_path):
    """8 test pairs (real and render, three change types) and 4 train pairs."""
    store = Store.create(tmp_path / "store", name="mixed")
    types = [["addition"], ["color"], ["addition", "color"], ["disappearance"]]
    store.append([make_record(i, split="test", domain="real" if i % 3 == 0 else "render", change_types=types[i % 4])
                  for i in range(8)])
    store.append([make_record(i, split="train") for i in range(8, 12)])
    return store


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_pixel_diff_eval_writes_results_equal_to_omnidiff_score(run_cli, mixed_store, tmp_path):
    results = tmp_path / "results"
    res = run_cli("eval", "--model", "pixel-diff", "--benchmark", "omnidiff", "--data", mixed_store.root,
                  "--results", results, "--no-spice", "--no-progress")
    assert res.code == 0, res.err
    folder = results / "pixel-diff" / "omnidiff" / "test"
    preds = [json.loads(line) for line in lines(folder / "predictions.jsonl")]
    assert [p["pair_id"] for p in preds] == mixed_store.pair_ids("test")
    assert set(preds[0]) == {"pair_id", "caption"} and all(p["caption"] for p in preds)
    scores = json.loads((folder / "scores.json").read_text())
    assert set(scores) == {"model", "model_fingerprint", "benchmark", "split", "n", "metrics", "subsets", "notes",
                           "omnidiff_version", "created"}
    assert scores["model"] == "pixel-diff" and scores["benchmark"] == "omnidiff" and scores["n"] == 8
    assert {"total", "domain/real", "domain/render", "change_type/addition", "change_type/color",
            "change_type/disappearance"} <= set(scores["subsets"])
    assert scores["subsets"]["change_type/addition"]["n"] == 4
    assert scores["metrics"]["SPICE"] is None and "SPICE" in scores["notes"]

    scored = run_cli("score", "--predictions", folder / "predictions.jsonl", "--references", mixed_store.root,
                     "--benchmark", "omnidiff", "--split", "test", "--no-spice")
    assert scored.code == 0, scored.err
    independent = json.loads(scored.out)
    assert independent["metrics"] == scores["metrics"]
    assert independent["subsets"] == scores["subsets"]


def test_second_run_is_served_from_the_cache_and_gives_the_same_bytes(run_cli, mixed_store, tmp_path, test_models):
    log = tmp_path / "calls.log"
    args = ("eval", "--model", "counting", "--model-arg", f"log={log}", "--data", mixed_store.root,
            "--results", tmp_path / "r", "--no-spice", "--no-progress", "--batch-size", "3")
    assert run_cli(*args).code == 0
    assert len(lines(log)) == 8
    first = (tmp_path / "r/counting/omnidiff/test/predictions.jsonl").read_bytes()
    res = run_cli(*args)
    assert res.code == 0 and "0 computed, 8 cached" in res.out
    assert len(lines(log)) == 8
    assert (tmp_path / "r/counting/omnidiff/test/predictions.jsonl").read_bytes() == first


def test_fingerprint_follows_options_that_change_the_output(test_models):
    from omnidiff.models.registry import load_model

    def fingerprint(**raw):
        return load_model("counting", raw).fingerprint()

    base = fingerprint()
    assert base.startswith("counting-") and base == fingerprint()
    assert fingerprint(log="/tmp/x", delay="0.5") == base  # declared affects_output=False
    assert fingerprint(empty_for="pair-0001") != base


def test_killed_run_resumes_without_recomputing(mixed_store, tmp_path, test_models):
    log, results = tmp_path / "calls.log", tmp_path / "results"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(test_models), str(TESTS_DIR), str(REPO)]))
    cmd = [sys.executable, "-m", "cli", "eval", "--model", "counting", "--model-arg", f"log={log}",
           "--batch-size", "1", "--data", str(mixed_store.root), "--results", str(results), "--no-spice", "--no-progress"]
    proc = subprocess.Popen(cmd + ["--model-arg", "delay=0.4"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        # batches run one after another: when the 4th call is logged, the first 3 are committed
        while len(lines(log)) < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with sqlite3.connect(results / ".cache" / "predictions.sqlite") as db:
        cached = {row[0] for row in db.execute("SELECT pair_id FROM predictions_v2")}
    called_before = lines(log)
    assert 3 <= len(cached) < 8 and set(called_before) >= cached
    assert not (results / "counting" / "omnidiff" / "test" / "scores.json").exists()

    resumed = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    called_after = lines(log)[len(called_before):]
    assert sorted(called_after) == sorted(set(mixed_store.pair_ids("test")) - cached)  # nothing cached was redone
    preds = lines(results / "counting" / "omnidiff" / "test" / "predictions.jsonl")
    assert len(preds) == 8


def test_limit_and_empty_outputs_are_scored_and_noted(run_cli, mixed_store, tmp_path, test_models):
    res = run_cli("eval", "--model", "counting", "--model-arg", "empty_for=pair-0001,pair-0003", "--limit", "5",
                  "--data", mixed_store.root, "--results", tmp_path / "r", "--no-spice", "--no-progress", "--json")
    assert res.code == 0, res.err
    [scores] = json.loads(res.out)
    assert scores["n"] == 5
    assert "2 of 5" in scores["notes"]["empty_captions"] and "first 5 of 8" in scores["notes"]["limit"]
    preds = [json.loads(x) for x in lines(tmp_path / "r/counting/omnidiff/test/predictions.jsonl")]
    assert [p["pair_id"] for p in preds] == mixed_store.pair_ids("test")[:5]
    assert [p["caption"] for p in preds if p["pair_id"] in ("pair-0001", "pair-0003")] == ["", ""]


def test_nn_caption_fits_on_train_and_caches_its_index(run_cli, tmp_path):
    store = Store.create(tmp_path / "s", name="nn")
    store.append([make_record(i, split="train", captions=[f"train caption {i}"]) for i in range(5)])
    # test pairs identical to train pairs 1 and 3: the nearest neighbour is that pair
    store.append([make_record(i, split="test", pair_id=f"test-{i}", captions=["x"]) for i in (1, 3)])
    args = ("eval", "--model", "nn-caption", "--data", store.root, "--results", tmp_path / "r", "--no-spice",
            "--no-progress")
    assert run_cli(*args).code == 0
    preds = [json.loads(x) for x in lines(tmp_path / "r/nn-caption/omnidiff/test/predictions.jsonl")]
    assert [p["caption"] for p in preds] == ["train caption 1", "train caption 3"]
    assert len(list((tmp_path / "r/.cache/models").glob("nn-caption-*.npz"))) == 1


def test_nn_caption_without_train_pairs_is_a_clear_error(run_cli, small_store, tmp_path):
    empty_train = Store.create(tmp_path / "only-test", name="t")
    empty_train.append([make_record(i, split="test") for i in range(2)])
    res = run_cli("eval", "--model", "nn-caption", "--data", empty_train.root, "--results", tmp_path / "r", "--no-progress")
    assert res.code == 1 and "no train pairs" in res.err and "Traceback" not in res.err


@pytest.mark.parametrize(
    "extra, message",
    [
        (("--model", "no-such-model"), "unknown model 'no-such-model'"),
        (("--model", "pixel-diff", "--model-arg", "colour=red"), "known options: camera_fraction, global_fraction, max_regions"),
        (("--model", "pixel-diff", "--model-arg", "threshold=high"), "expected int"),
        (("--model", "pixel-diff", "--model-arg", "threshold"), "expected KEY=VALUE"),
        (("--model", "pixel-diff", "--benchmark", "clevr-change"), "no clevr_change pairs"),
        (("--model", "pixel-diff", "--benchmark", "mnist"), "unknown benchmark"),
        (("--model", "pixel-diff", "--split", "val"), "no pairs in split 'val'"),
        (("--model", "not-a-model"), "is not a CaptionModel subclass"),
        (("--model", "missing-module"), "cannot import"),
        (("--model", "pixel-diff", "--name", "../elsewhere"), "use a plain folder name"),
    ],
)
def test_bad_input_is_one_line_exit_1(run_cli, mixed_store, tmp_path, test_models, extra, message):
    res = run_cli("eval", "--data", mixed_store.root, "--results", tmp_path / "r", "--no-progress", *extra)
    assert res.code == 1, res.out
    assert message in res.err and len(res.err.strip().splitlines()) == 1


def test_missing_store_is_exit_1(run_cli, tmp_path):
    res = run_cli("eval", "--model", "pixel-diff", "--data", tmp_path / "nope", "--results", tmp_path / "r")
    assert res.code == 1 and "nope" in res.err


def test_a_failing_model_keeps_what_was_already_cached(run_cli, mixed_store, tmp_path, test_models):
    results = tmp_path / "r"
    ok = run_cli("eval", "--model", "counting", "--limit", "3", "--data", mixed_store.root, "--results", results,
                 "--no-spice", "--no-progress")
    assert ok.code == 0
    scores_before = (results / "counting/omnidiff/test/scores.json").read_bytes()
    bad = run_cli("eval", "--model", "counting", "--model-arg", "wrong_count=true", "--data", mixed_store.root,
                  "--results", results, "--no-spice", "--no-progress", "--batch-size", "2")
    assert bad.code == 1 and "returned 1 captions for 2 pairs" in bad.err
    assert (results / "counting/omnidiff/test/scores.json").read_bytes() == scores_before  # nothing written lost
    with sqlite3.connect(results / ".cache" / "predictions.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM predictions_v2").fetchone()[0] == 3


def test_models_list_shows_needs_and_entry_point_models(run_cli, test_models):
    res = run_cli("models", "list", "--json")
    assert res.code == 0
    rows = {r["name"]: r for r in json.loads(res.out)}
    assert {"pixel-diff", "nn-caption", "hf-vlm", "openai", "counting"} <= set(rows)
    assert "API key" in rows["openai"]["needs"] and "weights" in rows["hf-vlm"]["needs"]
    assert rows["counting"]["source"] == "omnidiff-test-models"


def test_models_list_imports_no_model_module():
    probe = ("import sys\n"
             "try:\n    import cli; cli.main(['models', 'list'])\nexcept SystemExit: pass\n"
             "heavy = [m for m in ('torch', 'transformers', 'cv2', 'omnidiff.models.hf_vlm') if m in sys.modules]\n"
             "print('HEAVY', heavy)\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


@pytest.mark.blender
@pytest.mark.slow
def test_pixel_diff_on_a_rendered_store_matches_omnidiff_score(run_cli, tmp_path, rendered_six):
    store = rendered_six  # one scene, six pairs, rendered once (tests/conftest.py); eval and score only read it
    results = tmp_path / "results"
    res = run_cli("eval", "--model", "pixel-diff", "--benchmark", "omnidiff", "--data", store, "--results", results,
                  "--no-spice", "--no-progress")
    assert res.code == 0, res.err
    folder = results / "pixel-diff" / "omnidiff" / "test"
    scores = json.loads((folder / "scores.json").read_text())
    assert scores["n"] == 6 and any(name.startswith("change_type/") for name in scores["subsets"])
    scored = run_cli("score", "--predictions", folder / "predictions.jsonl", "--references", store,
                     "--benchmark", "omnidiff", "--split", "test", "--no-spice")
    assert scored.code == 0, scored.err
    assert json.loads(scored.out)["subsets"] == scores["subsets"]
    assert json.loads(scored.out)["metrics"] == scores["metrics"]
