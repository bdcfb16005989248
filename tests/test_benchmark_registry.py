"""The benchmark registry: a new benchmark is one module and one registry line; names normalise one way;
every reported number names its source."""

from __future__ import annotations

import json
import textwrap

import pytest

from annotations.benchmark_names import BenchmarkNameError, benchmark_key, benchmark_label
from annotations.validate import validate_store
from leaderboard.board import REPORTED_FILE, load_reported
from omnidiff.benchmarks import get_benchmark, list_benchmarks
from omnidiff.harness.prompts import prompt_for
from tests.benchmarks_helpers import write_image

TOY_MODULE = '''
"""A toy benchmark: ``pairs.json`` ([{id, before, after, caption, kind}]) beside its images."""
from pathlib import Path

from omnidiff.benchmarks.base import Benchmark, PlannedPair, read_json, safe_path


class ToyBenchmark(Benchmark):
    name = "toy_bench"
    title = "Toy benchmark for the registry test"
    short_title = "Toy"
    citation = "Nobody. A toy. 2026."
    url = "https://example.invalid/toy"
    split_sizes = {"test": 4}
    protocol = "total, odd, even"
    table_views = {"odd": "odd pairs"}
    prompt = "Say in one sentence what changed between the two toy images."

    def plan(self, source: Path, splits):
        entries = read_json(source / "pairs.json", "pairs.json")
        return [PlannedPair(pair_id=e["id"], scene_id=e["id"], split="test", before=safe_path(source, e["before"], "toy"),
                            after=safe_path(source, e["after"], "toy"), captions=[e["caption"]], domain="render")
                for e in entries if "test" in splits]

    def subsets(self, records):
        ids = [r.pair_id for r in records]
        return {"total": ids, "odd": ids[1::2], "even": ids[0::2]}
'''


@pytest.fixture
def toy_benchmark(tmp_path, monkeypatch):
    """One new module and one registry line (an ``omnidiff.benchmarks`` entry point), nothing else."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "toy_bench.py").write_text(textwrap.dedent(TOY_MODULE))
    dist = site / "toy_bench-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-bench\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[omnidiff.benchmarks]\ntoy_bench = toy_bench:ToyBenchmark\n")
    monkeypatch.syspath_prepend(str(site))
    src = tmp_path / "toy-download"
    entries = []
    for i in range(4):
        write_image(src / f"{i}_a.png", 10 * i)
        write_image(src / f"{i}_b.png", 200 - 10 * i)
        entries.append({"id": f"t{i}", "before": f"{i}_a.png", "after": f"{i}_b.png",
                        "caption": f"the square turned {'dark' if i % 2 else 'light'} in toy pair {i}"})
    (src / "pairs.json").write_text(json.dumps(entries))
    return src


def test_a_toy_benchmark_is_one_module_and_one_registry_line(run_cli, toy_benchmark, tmp_path):
    assert [b.name for b in list_benchmarks()][-1] == "toy_bench"
    assert prompt_for("toy-bench").startswith("Say in one sentence")
    listing = run_cli("benchmarks", "list")
    assert listing.code == 0 and "toy-bench" in listing.out and "Nobody. A toy." in listing.out

    store = tmp_path / "toy-store"
    res = run_cli("benchmarks", "prepare", "toy-bench", "--source", toy_benchmark, "--out", store)
    assert res.code == 0, res.err
    assert str(store) in res.out
    assert validate_store(store).problems == []

    results = tmp_path / "results"
    res = run_cli("eval", "--model", "pixel-diff", "--data", store, "--results", results, "--no-spice", "--no-progress")
    assert res.code == 0, res.err
    scores = json.loads((results / "pixel-diff" / "toy_bench" / "test" / "scores.json").read_text())
    assert scores["n"] == 4 and scores["subsets"]["odd"]["n"] == 2 and scores["subsets"]["even"]["n"] == 2
    run = json.loads((results / "pixel-diff" / "toy_bench" / "test" / "run.json").read_text())
    assert run["prompt"] == get_benchmark("toy_bench").prompt

    board = run_cli("leaderboard", "--results", results, "--no-reported")
    assert board.code == 0, board.err
    assert "### Toy (test)" in board.out and "### Toy, odd pairs (test)" in board.out
    assert "| pixel-diff | reproduced | 4 |" in board.out and "| pixel-diff | reproduced | 2 |" in board.out


@pytest.mark.parametrize("typed, key", [("clevr-change", "clevr_change"), (" CLEVR_Change ", "clevr_change"),
                                        ("Spot-the-Diff", "spot_the_diff"), ("iedit", "iedit")])
def test_one_name_normaliser_for_every_layer(typed, key):
    from generators.synthetic.plan import normalise_preset

    assert benchmark_key(typed) == key and benchmark_label(typed) == key.replace("_", "-")
    assert get_benchmark(typed).name == key
    assert prompt_for(typed) == get_benchmark(key).prompt
    if key in ("clevr_change",):
        assert normalise_preset(typed) == key


@pytest.mark.parametrize("bad", ["", "   ", "../etc", "a/b", "9lives", None, 3])
def test_text_that_is_no_benchmark_name_is_refused(bad, run_cli):
    with pytest.raises(BenchmarkNameError):
        benchmark_key(bad)
    if isinstance(bad, str):
        res = run_cli("benchmarks", "prepare", bad, "--source", ".", "--out", "x")
        assert res.code != 0 and "Traceback" not in res.err


def test_every_reported_row_names_its_source_whether_primary_and_its_subset(tmp_path):
    rows, citations = load_reported()
    assert len(rows) >= 11
    for row in rows:
        assert row["source"] in citations and row["source_kind"] in ("primary", "secondary") and row["subset"]
    finer = [r for r in rows if r["model"] == "FINER-MLLM" and r["view"] in ("clevr_change", "iedit")]
    assert {r["source"] for r in finer} == {"procap2026"} and {r["source_kind"] for r in finer} == {"secondary"}
    assert "2603.05969" in citations["procap2026"] and "ACM MM 2024" in citations["finer-mllm2024"]
    dirl = next(r for r in rows if r["model"] == "DIRL")
    assert dirl["metrics"] == {"Bleu_4": 51.4, "METEOR": 32.3, "ROUGE_L": 66.3, "CIDEr": 84.1, "SPICE": 16.8}

    data = json.loads(REPORTED_FILE.read_text())
    del data["rows"][3]["source"]
    broken = tmp_path / "reported.json"
    broken.write_text(json.dumps(data))
    with pytest.raises(Exception, match="has no source"):
        load_reported(broken)
    data["rows"][3]["source"] = "omnidiff2025"
    data["rows"][3]["source_kind"] = "tertiary"
    broken.write_text(json.dumps(data))
    with pytest.raises(Exception, match="primary or secondary"):
        load_reported(broken)
