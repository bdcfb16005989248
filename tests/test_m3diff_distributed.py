"""M3Diff training on several ranks (torchrun, gloo on CPU): the same weights as one process, resume across rank
counts, the weighted store mixture, the run folder and the log."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import REPO, make_record
from m3diff_helpers import single_thread

# float32: the comparison is about which samples and which gradients, not about bf16 rounding
TINY = ("--preset", "tiny-random", "--device", "cpu", "--dtype", "float32", "--global-batch-size", "8",
        "--save-every", "1", "--seed", "5")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    yield from single_thread()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from annotations import Store

    created = Store.create(tmp_path_factory.mktemp("dist") / "store", name="dist")
    created.append([make_record(i, split="train") for i in range(6)])  # 12 samples: 3 steps of 8 go round twice
    return created.root


def torchrun(ranks: int, *args: object) -> subprocess.CompletedProcess:
    launcher = Path(sys.executable).with_name("torchrun")
    head = [str(launcher)] if launcher.is_file() else [sys.executable, "-m", "torch.distributed.run"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [*head, "--standalone", "--nproc_per_node", str(ranks), str(REPO / "cli.py"), "train", "m3diff",
               *map(str, args)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def weights(out: Path, step: int | None = None) -> dict[str, torch.Tensor]:
    if step is None:
        return load_file(str(out / "final" / "model.safetensors"))
    return load_file(str(out / "checkpoints" / f"step-{step:07d}" / "trainable.safetensors"))


def assert_close(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert sorted(a) == sorted(b)
    worst = max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
    assert worst <= 1e-5, worst
    return worst


@pytest.fixture(scope="module")
def one_process(store, tmp_path_factory):
    """The reference: one process, --batch-size 4 (accumulation 2), 3 steps."""
    import cli

    out = tmp_path_factory.mktemp("one") / "run"
    with pytest.raises(SystemExit) as finished:
        cli.main(["train", "m3diff", "--data", str(store), "--out", str(out), "--max-steps", "3", "--batch-size", "4", *TINY])
    assert finished.value.code in (0, None)
    return out


def test_two_ranks_with_batch_2_train_the_weights_of_one_process_with_batch_4(one_process, store, tmp_path):
    out = tmp_path / "two"
    res = torchrun(2, "--data", store, "--out", out, "--max-steps", "3", "--batch-size", "2", *TINY)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "on 2 rank(s), ddp" in res.stdout and res.stdout.count("trained 3 steps") == 1  # rank 0 speaks
    assert_close(weights(one_process), weights(out))
    assert_close(weights(one_process, 3), weights(out, 3))
    trained = weights(out, 3)
    assert any("lora_A" in k for k in trained) and any(".mdp." in k for k in trained)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    reference = [json.loads(line) for line in (one_process / "train_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log] == [1, 2, 3] and [e["samples"] for e in log] == [8, 16, 24]
    assert all(abs(a["loss"] - b["loss"]) < 1e-5 and a["tokens"] == b["tokens"] for a, b in zip(log, reference))
    assert {"loss", "lr", "samples_per_s", "eta_s", "elapsed_s"} <= set(log[0]) and log[-1]["eta_s"] == 0


def test_a_run_killed_after_step_2_resumes_on_another_rank_count(one_process, store, tmp_path):
    out = tmp_path / "killed"
    shutil.copytree(one_process, out)
    # what a run killed after its step-2 checkpoint leaves behind: no step 3, no final model, a log line too many
    shutil.rmtree(out / "final")
    shutil.rmtree(out / "checkpoints" / "step-0000003")
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-0000002"]
    res = torchrun(2, "--data", store, "--out", out, "--max-steps", "3", "--batch-size", "1", "--resume", *TINY)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "resumed at 2" in res.stdout
    assert_close(weights(one_process), weights(out))
    assert [json.loads(line)["step"] for line in (out / "train_log.jsonl").read_text().splitlines()] == [1, 2, 3]


def test_fsdp_full_shard_trains_the_same_weights(one_process, store, tmp_path):
    out = tmp_path / "fsdp"
    res = torchrun(2, "--data", store, "--out", out, "--max-steps", "3", "--batch-size", "2", "--parallel", "fsdp", *TINY)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "on 2 rank(s), fsdp" in res.stdout
    assert_close(weights(one_process, 3), weights(out, 3))
    assert_close(weights(one_process), weights(out))


def test_a_global_batch_the_ranks_cannot_split_is_refused(run_cli, store, tmp_path, monkeypatch):
    from omnidiff.models.m3diff.errors import M3DiffError
    from omnidiff.models.m3diff.sampling import accumulation_steps

    assert accumulation_steps(256, 2, 8) == 16
    with pytest.raises(M3DiffError, match="--global-batch-size 8 is not a multiple of --batch-size 2 x 3 rank"):
        accumulation_steps(8, 2, 3)
    res = run_cli("train", "m3diff", "--data", store, "--out", tmp_path / "o", "--max-steps", "1", "--batch-size", "3", *TINY)
    assert res.code == 1 and "--global-batch-size 8 is not a multiple of --batch-size 3 x 1 rank(s)" in res.err
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "2")
    res = run_cli("train", "m3diff", "--data", store, "--out", tmp_path / "o", "--max-steps", "1", *TINY)
    assert res.code == 1 and "RANK 2 outside WORLD_SIZE 2" in res.err
    assert not (tmp_path / "o").exists()


# The mixture ------------------------------------------------------------------------------------------
def test_weighted_stores_are_drawn_in_their_proportions_in_a_seeded_order():
    from omnidiff.models.m3diff.sampling import SampleOrder

    sizes = [40, 25]
    first = SampleOrder(sizes, seed=11, weights=[3.0, 1.0])
    drawn = [first[p] for p in range(1000)]
    share = sum(1 for i in drawn if i < sizes[0]) / len(drawn)
    assert abs(share - 0.75) <= 0.05 * 0.75
    again = SampleOrder(sizes, seed=11, weights=[3.0, 1.0])
    assert [again[p] for p in reversed(range(1000))][::-1] == drawn  # any access order, the same sequence
    assert [SampleOrder(sizes, seed=12, weights=[3.0, 1.0])[p] for p in range(1000)] != drawn
    # each store goes round its own seeded order: the first 25 draws of the small store are all its samples
    small = [i for i in drawn if i >= sizes[0]][:25]
    assert sorted(small) == list(range(40, 65))


def test_the_data_option_takes_weights_for_every_store_or_none(store, tmp_path):
    from omnidiff.models.m3diff.errors import M3DiffError
    from omnidiff.models.m3diff.sampling import parse_source, parse_sources

    assert parse_source(f"{store}:3").weight == 3.0 and parse_source(str(store)).weight is None
    assert parse_source("C:/odd:name").path == Path("C:/odd:name")
    for bad in (f"{store}:0", f"{store}:-1", f"{store}:nan"):
        with pytest.raises(M3DiffError, match="positive number"):
            parse_source(bad)
    with pytest.raises(M3DiffError, match="to every --data store"):
        parse_sources([f"{store}:3", str(store)])


def test_a_weighted_mixture_trains_and_is_recorded(run_cli, store, tmp_path):
    from annotations import Store

    other = Store.create(tmp_path / "other", name="other")
    other.append([make_record(i, split="train", captions=[f"only {i}."]) for i in range(20, 23)])
    out = tmp_path / "mix"
    res = run_cli("train", "m3diff", "--data", f"{store}:3", "--data", f"{other.root}:1", "--out", out,
                  "--max-steps", "1", "--batch-size", "4", *TINY)
    assert res.code == 0, res.err
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["data"] == [f"{store}:3", f"{other.root}:1"]
    changed = run_cli("train", "m3diff", "--data", f"{store}:1", "--data", f"{other.root}:1", "--out", out,
                      "--max-steps", "1", "--batch-size", "4", "--resume", *TINY)
    assert changed.code == 1 and "already holds a finished run" in changed.err


# The run folder (issue 10) -----------------------------------------------------------------------------
def test_out_must_be_new_empty_or_a_run(run_cli, store, tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    res = run_cli("train", "m3diff", "--data", store, "--out", busy, "--max-steps", "1", "--batch-size", "4", *TINY)
    assert res.code == 1 and "is not empty and not a training run (notes.txt)" in res.err
    assert len(res.err.strip().splitlines()) == 1 and sorted(p.name for p in busy.iterdir()) == ["notes.txt"]
    file = tmp_path / "file"
    file.write_text("x")
    res = run_cli("train", "m3diff", "--data", store, "--out", file, "--max-steps", "1", "--batch-size", "4", *TINY)
    assert res.code == 1 and "is a file" in res.err and file.read_text() == "x"
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run_cli("train", "m3diff", "--data", store, "--out", empty, "--max-steps", "1", "--batch-size", "4", *TINY)
    assert res.code == 0, res.err
    assert sorted(p.name for p in empty.iterdir()) == ["checkpoints", "final", "run.json", "train_log.jsonl"]
    assert "samples/s" in res.out and "loss" in res.out  # the summary
