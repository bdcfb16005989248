"""The user's own commands as typed: a data root where render, ingest and prepare put stores and where
``omnidiff eval --model NAME`` finds every benchmark, ending with the leaderboard."""

from __future__ import annotations

import importlib.util
import json

import pytest

from annotations import Store
from generators.synthetic.kits import get_kit
from conftest import make_record
from tests.benchmarks_helpers import clevr_change_source, clevr_dc_source, iedit_source, spot_the_diff_source
from tests.conftest import SHARED_BENCHMARKS

# in-process `omnidiff score`/`eval` runs borrow one warm METEOR JVM (tests/metrics_helpers.py)
pytestmark = pytest.mark.usefixtures("shared_meteor")

OTHERS = ("clevr-change", "clevr-dc", "spot-the-diff", "iedit")


@pytest.fixture
def empty_folder(tmp_path, monkeypatch):
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("OMNIDIFF_DATA", raising=False)
    return folder


@pytest.mark.blender
@pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy is not installed")
def test_render_then_eval_as_typed_in_an_empty_folder(run_cli, empty_folder):
    res = run_cli("render", "--scenes", "1", "--profile", "test")
    assert res.code == 0, res.err
    assert "data/omnidiff-render" in res.out and Store.open(empty_folder / "data" / "omnidiff-render").pair_ids()

    n = len(get_kit("indoor").change_types)  # one pair per change type of the scene's kit (rooms and streets alike)
    res = run_cli("eval", "--model", "pixel-diff", "--no-progress", "--no-spice")
    assert res.code == 0, res.err
    for label in OTHERS:  # one line each, with the command that makes it
        line = next(line for line in res.err.splitlines() if line.startswith(f"{label}: "))
        assert f"omnidiff benchmarks prepare {label} --source PATH" in line
    assert "omnidiff: data/omnidiff-render holds no test pairs; evaluating its train split" in res.err
    assert f"omnidiff/train: n={n} ({n} computed, 0 cached" in res.out
    assert "### OmniDiff (train)" in res.out and f"| pixel-diff | reproduced | {n} |" in res.out
    board = run_cli("leaderboard", "--benchmark", "omnidiff")
    table = res.out[res.out.index("### OmniDiff (train)"):]
    assert board.code == 0 and table == board.out[board.out.index("### OmniDiff (train)"):]  # the same table
    assert (empty_folder / "results" / "pixel-diff" / "omnidiff" / "train" / "scores.json").is_file()

    again = run_cli("eval", "--model", "pixel-diff", "--no-progress", "--no-spice")
    assert again.code == 0 and f"(0 computed, {n} cached" in again.out

    resumed = run_cli("render", "--scenes", "1", "--profile", "test")
    assert resumed.code == 0 and "skipped 1 already stored" in resumed.out


@pytest.mark.timeout(600)
def test_eval_finds_all_five_benchmarks_under_the_data_root(run_cli, tmp_path, monkeypatch):
    root = tmp_path / "root"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMNIDIFF_DATA", str(root))
    sources = {"clevr-change": clevr_change_source(tmp_path), "iedit": iedit_source(tmp_path, SHARED_BENCHMARKS),
               "spot-the-diff": spot_the_diff_source(tmp_path, SHARED_BENCHMARKS),
               "clevr-dc": clevr_dc_source(tmp_path, SHARED_BENCHMARKS, split="test")}
    for label, src in sources.items():
        res = run_cli("benchmarks", "prepare", label, "--source", src, "--split", "test")
        assert res.code == 0, res.err
        assert f"wrote {root / 'benchmarks' / label}" in res.out
    render = Store.create(root / "omnidiff-render", name="render")  # what render and ingest leave there
    render.append([make_record(i, domain="render") for i in range(4)])
    real = Store.create(root / "real", name="real")
    real.append([make_record(i, domain="real", pair_id=f"real-{i}") for i in range(10, 13)])

    res = run_cli("eval", "--model", "pixel-diff", "--limit", "40", "--no-progress", "--no-spice")
    assert res.code == 0, res.err
    assert "no store under" not in res.err
    for name in ("omnidiff", "clevr_change", "clevr_dc", "spot_the_diff", "iedit"):
        assert f"{name}/test: n=" in res.out
        assert (tmp_path / "results" / "pixel-diff" / name / "test" / "scores.json").is_file()
    omni = json.loads((tmp_path / "results" / "pixel-diff" / "omnidiff" / "test" / "scores.json").read_text())
    assert omni["n"] == 7 and omni["subsets"]["domain/real"]["n"] == 3 and omni["subsets"]["domain/render"]["n"] == 4
    run = json.loads((tmp_path / "results" / "pixel-diff" / "omnidiff" / "test" / "run.json").read_text())
    assert run["stores"] == [str((root / "omnidiff-render").resolve()), str((root / "real").resolve())]
    for title in ("### OmniDiff (test)", "### OmniDiff-Real (test)", "### OmniDiff-Render (test)",
                  "### CLEVR-Change (test)", "### CLEVR-DC (test)", "### Spot-the-Diff (test)", "### IEdit (test)"):
        section = res.out[res.out.index(title):].split("\n### ")[0]
        assert "| pixel-diff | reproduced |" in section, title
    assert "| pixel-diff | reproduced | 7 |" in res.out  # OmniDiff: the rendered and the real store together
    assert "| pixel-diff | reproduced | 3 |" in res.out.split("### OmniDiff-Real (test)")[1].split("###")[0]


def test_explicit_data_root_and_the_omnidiff_data_variable(run_cli, tmp_path, monkeypatch, small_store):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMNIDIFF_DATA", str(tmp_path / "from-env"))
    res = run_cli("benchmarks", "prepare", "omnidiff", "--source", small_store.root, "--split", "test")
    assert res.code == 0 and (tmp_path / "from-env" / "benchmarks" / "omnidiff" / "omnidiff.json").is_file()
    res = run_cli("benchmarks", "prepare", "omnidiff", "--source", small_store.root, "--data-root", tmp_path / "mine")
    assert res.code == 0 and str(tmp_path / "mine" / "benchmarks" / "omnidiff") in res.out
    res = run_cli("eval", "--model", "pixel-diff", "--data-root", tmp_path / "mine", "--benchmark", "omnidiff",
                  "--no-progress", "--no-spice")
    assert res.code == 0, res.err
    assert "omnidiff/test: n=6" in res.out and "clevr-change:" not in res.err  # --benchmark narrows it
    res = run_cli("eval", "--model", "pixel-diff", "--data-root", tmp_path / "mine", "--benchmark", "iedit",
                  "--no-progress", "--no-spice")
    assert res.code == 1 and f"--data-root {tmp_path / 'mine'}" in res.err
    assert res.err.strip().splitlines()[-1].startswith("error: no benchmark store found under")


def test_nothing_found_is_exit_1_with_a_line_per_benchmark(run_cli, empty_folder):
    res = run_cli("eval", "--model", "pixel-diff", "--no-progress")
    assert res.code == 1
    lines = res.err.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:5]] == ["omnidiff", *OTHERS]
    assert "omnidiff render --scenes N" in lines[0] and lines[-1].startswith("error: no benchmark store found under data")
    assert not (empty_folder / "results").exists() or not any((empty_folder / "results").rglob("scores.json"))


def test_m3diff_without_cuda_still_ends_with_its_refusal(run_cli, empty_folder):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    res = run_cli("eval", "--model", "m3diff", "--no-progress")
    assert res.code == 1
    last = res.err.strip().splitlines()[-1]
    assert last.startswith("error: ") and "needs a CUDA GPU" in last and "device=cpu" in last
