"""M3Diff through the command line: train (with resume), eval end to end, and the GPU check script on CPU."""

from __future__ import annotations

import json
import shutil
import sys

import pytest
import torch
from safetensors.torch import load_file

from conftest import REPO, make_record
from m3diff_helpers import rewrite_weights, single_thread

# in-process `omnidiff score`/`eval` runs borrow one warm METEOR JVM (tests/metrics_helpers.py)
pytestmark = pytest.mark.usefixtures("shared_meteor")

TINY = ("--preset", "tiny-random", "--device", "cpu", "--save-every", "1", "--batch-size", "1", "--global-batch-size", "2")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    yield from single_thread()


@pytest.fixture(scope="module")
def train_store(tmp_path_factory):
    from annotations import Store

    store = Store.create(tmp_path_factory.mktemp("m3d") / "store", name="m3diff-train")
    store.append([make_record(i, split="train") for i in range(3)])
    store.append([make_record(i, split="test") for i in range(3, 8)])
    return store.root


def log_steps(out):
    return [json.loads(line)["step"] for line in (out / "train_log.jsonl").read_text().splitlines()]


def test_train_resume_gives_the_same_weights_as_an_uninterrupted_run(run_cli, train_store, tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    for out in (straight, resumed):
        res = run_cli("train", "m3diff", "--data", train_store, "--out", out, "--max-steps", "2", *TINY)
        assert res.code == 0, res.err
        assert "trained 2 steps" in res.out
    assert log_steps(straight) == [1, 2]
    assert sorted(p.name for p in (straight / "checkpoints").iterdir()) == ["step-0000001", "step-0000002"]

    # What a run killed after its first checkpoint leaves behind.
    shutil.rmtree(resumed / "final")
    shutil.rmtree(resumed / "checkpoints" / "step-0000002")

    refused = run_cli("train", "m3diff", "--data", train_store, "--out", resumed, "--max-steps", "2", *TINY)
    assert refused.code == 1 and "pass --resume" in refused.err
    changed = run_cli("train", "m3diff", "--data", train_store, "--out", resumed, "--max-steps", "2", "--lr", "0.1",
                      "--resume", *TINY)
    assert changed.code == 1 and "settings changed: lr" in changed.err

    res = run_cli("train", "m3diff", "--data", train_store, "--out", resumed, "--max-steps", "2", "--resume", *TINY)
    assert res.code == 0, res.err
    assert "resumed at 1" in res.out
    assert log_steps(resumed) == [1, 2]
    a = load_file(str(straight / "final" / "model.safetensors"))
    b = load_file(str(resumed / "final" / "model.safetensors"))
    assert sorted(a) == sorted(b) and all(torch.equal(a[k], b[k]) for k in a)
    trained = load_file(str(straight / "checkpoints" / "step-0000002" / "trainable.safetensors"))
    assert any("lora_A" in k for k in trained) and any(".mdp." in k for k in trained)
    assert any(".vision_tower." in k for k in trained)
    assert not any("language_model" in k and "lora_" not in k for k in trained)  # the LLM itself stays frozen

    again = run_cli("train", "m3diff", "--data", train_store, "--out", straight, "--max-steps", "2", "--resume", *TINY)
    assert again.code == 1 and "already holds a finished run" in again.err


def test_the_trained_model_is_evaluated_by_path(run_cli, train_store, tmp_path):
    out = tmp_path / "run"
    assert run_cli("train", "m3diff", "--data", train_store, "--out", out, "--max-steps", "1", *TINY).code == 0
    res = run_cli("eval", "--model", "m3diff", "--model-arg", f"path={out / 'final'}", "--model-arg", "device=cpu",
                  "--model-arg", "max_new_tokens=4", "--benchmark", "omnidiff", "--data", train_store,
                  "--limit", "2", "--results", tmp_path / "results", "--no-spice", "--no-progress")
    assert res.code == 0, res.err
    lines = (tmp_path / "results" / "m3diff" / "omnidiff" / "test" / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 2


@pytest.mark.parametrize("args, message", [
    (("--preset", "tiny-random", "--device", "auto"), "needs a CUDA GPU"),
    (("--preset", "tiny-random", "--device", "cpu", "--split", "val"), "no captioned val pairs"),
    (("--preset", "tiny-random", "--device", "cpu", "--lr", "0"), "learning rates must be > 0"),
    (("--preset", "huge", "--device", "cpu"), "the only preset is tiny-random"),
])
def test_bad_training_input_is_one_line_and_exit_1(run_cli, train_store, tmp_path, args, message):
    if "auto" in args and torch.cuda.is_available():
        pytest.skip("checks the refusal without CUDA")
    res = run_cli("train", "m3diff", "--data", train_store, "--out", tmp_path / "o", "--max-steps", "1", *args)
    assert res.code == 1
    assert message in res.err and len(res.err.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "final").exists()


def test_training_on_a_missing_store_fails_cleanly(run_cli, tmp_path):
    res = run_cli("train", "m3diff", "--data", tmp_path / "nope", "--out", tmp_path / "o", *TINY)
    assert res.code == 1 and res.err.strip().startswith("error:") and "no such store" in res.err
    assert len(res.err.strip().splitlines()) == 1


# Acceptance 5 ------------------------------------------------------------------------------------------
def test_eval_runs_end_to_end_with_the_tiny_random_preset(run_cli, train_store, tmp_path):
    results = tmp_path / "results"
    res = run_cli("eval", "--model", "m3diff", "--model-arg", "preset=tiny-random", "--model-arg", "device=cpu",
                  "--benchmark", "omnidiff", "--data", train_store, "--limit", "4", "--results", results,
                  "--no-spice", "--no-progress")
    assert res.code == 0, res.err
    folder = results / "m3diff" / "omnidiff" / "test"
    predictions = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    assert [p["pair_id"] for p in predictions] == [f"pair-{i:04d}" for i in range(3, 7)]
    assert all(isinstance(p["caption"], str) for p in predictions)
    scores = json.loads((folder / "scores.json").read_text())
    assert scores["n"] == 4 and scores["model"] == "m3diff"


def test_eval_without_cuda_or_with_a_broken_checkpoint_says_what_is_missing(run_cli, train_store, tmp_path):
    from m3diff_helpers import tiny_bundle
    from omnidiff.models.m3diff.pipeline import save_bundle

    base = ("eval", "--model", "m3diff", "--benchmark", "omnidiff", "--data", train_store, "--limit", "1",
            "--results", tmp_path / "results", "--no-spice", "--no-progress")
    if not torch.cuda.is_available():
        res = run_cli(*base, "--model-arg", "preset=tiny-random")
        assert res.code == 1 and "needs a CUDA GPU" in res.err and "device=cpu" in res.err
    folder = tmp_path / "ckpt"
    save_bundle(tiny_bundle(), folder)
    rewrite_weights(folder, lambda w: {k: v for k, v in w.items() if k != "lm_head.weight"})
    res = run_cli(*base, "--model-arg", f"path={folder}", "--model-arg", "device=cpu")
    assert res.code == 1 and "1 missing key(s): lm_head.weight" in res.err


# Acceptance 7 (CPU part) -------------------------------------------------------------------------------
def test_gpu_check_runs_every_section_with_the_tiny_configuration_on_cpu(tmp_path, monkeypatch, capsys):
    from m3diff_helpers import tiny_bundle
    from omnidiff.models.m3diff.pipeline import save_bundle

    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    import gpu_check

    weights = tmp_path / "weights"
    save_bundle(tiny_bundle(), weights)
    out = tmp_path / "gpu.json"
    code = gpu_check.main(["--preset", "tiny", "--batch-sizes", "1,2", "--new-tokens", "2", "--repeats", "1",
                           "--train-pairs", "4", "--answer-tokens", "6", "--fsdp-ranks", "2", "--weights", str(weights),
                           "--captions", "2", "--caption-tokens", "3", "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    report = json.loads(printed)  # stdout is exactly one JSON document
    assert report == json.loads(out.read_text())
    rows = {(r["model"], r["batch_size"]) for r in report["generation"]["results"]}
    assert rows == {("m3diff", 1), ("m3diff", 2), ("llava-onevision", 1), ("llava-onevision", 2)}
    for row in report["generation"]["results"]:
        assert row["pairs_per_s"] > 0 and row["peak_memory_gib"] > 0
        assert (row["mdp_seconds"] > 0) == (row["model"] == "m3diff")
        assert 0 <= row["mdp_share"] < 1
    assert set(report["generation"]["throughput_ratio_vs_baseline"]) == {"1", "2"}
    train, fsdp = report["train_step"], report["fsdp_step"]
    assert train["step_seconds"] > 0 and train["peak_memory_gib"] > 0 and train["trainable_parameters"] > 0
    assert fsdp.get("error") is None and fsdp["ranks"] == 2 and fsdp["parallel"] == "fsdp" and fsdp["step_seconds"] > 0
    assert abs(fsdp["losses"][0] - train["losses"][0]) < 1e-4  # the same pairs, the same random model, sharded
    assert len(report["weights"]["captions"]) == 2 and report["weights"]["load_seconds"] > 0
    if not torch.cuda.is_available():
        assert gpu_check.main(["--preset", "paper"]) == 1
    assert gpu_check.main(["--preset", "tiny", "--train-pairs", "3"]) == 1
    sys.modules.pop("gpu_check", None)
