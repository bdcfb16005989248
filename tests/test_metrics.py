"""The scorer against pycocoevalcap's own classes, subset by subset, and its Java handling."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from pycocoevalcap.cider.cider_scorer import CiderScorer

from annotations import PairRecord
from omnidiff.benchmarks import get_benchmark
from omnidiff.metrics import METRIC_NAMES, score_captions
from omnidiff.metrics.cider import CiderCache
from omnidiff.metrics.java import JavaError, find_java, parse_java_major
from omnidiff.metrics.spice import CORENLP_JARS, SpiceSetup, find_spice
from tests.conftest import SHARED_BENCHMARKS
from tests.metrics_helpers import stock_scores, stock_tokenize_once, synthetic_corpus

DDLA = SHARED_BENCHMARKS / "spot-the-diff" / "ddla"
DDLA_TABLE = {"Bleu_1": 0.296, "Bleu_2": 0.187, "Bleu_3": 0.118, "Bleu_4": 0.076,
              "METEOR": 0.109, "ROUGE_L": 0.280, "CIDEr": 0.351}
STOCK_METRICS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")


def clevr_change_protocol(kinds: dict[str, str]) -> dict[str, list[str]]:
    """The CLEVR-Change protocol subsets for the synthetic corpus, through the benchmark's own code."""
    from annotations import TAXONOMY

    records = []
    for pid, kind in kinds.items():
        mapped = TAXONOMY.map_native("clevr_change", kind)
        records.append(PairRecord(pair_id=pid, scene_id=pid, benchmark="clevr_change", split="test",
                                  domain="render", image_before=None, image_after=None,
                                  change_types=list(mapped.change_types), distractor=mapped.distractor))
    return get_benchmark("clevr-change").subsets(records)


@pytest.mark.timeout(300)
def test_every_subset_equals_a_separate_stock_scoring(meteor_session, stock_meteor):
    preds, refs, kinds = synthetic_corpus(60, seed=7)
    preds["000001.png"] = "The RED cube, it changed... to \"blue\"!"  # punctuation and case go through PTB
    subsets = clevr_change_protocol(kinds)
    assert set(subsets) == {"total", "semantic", "distractor", "change_type/color", "change_type/material",
                            "change_type/addition", "change_type/disappearance", "change_type/movement"}
    result = score_captions(preds, refs, subsets, meteor=meteor_session)
    assert result.n == 60 and result.subsets["total"]["n"] == 60
    tokenized = stock_tokenize_once(preds, refs, list(preds))  # PTB tokenizes line by line: slices are per-subset runs
    for name, ids in subsets.items():
        expected = stock_scores(preds, refs, ids, meteor=stock_meteor, tokenized=tokenized)
        got = result.subsets[name]["metrics"]
        assert result.subsets[name]["n"] == len(ids)
        for metric in STOCK_METRICS:
            assert got[metric] == pytest.approx(expected[metric], abs=1e-9, rel=0), (name, metric)
        assert got["SPICE"] is None
    assert result.metrics == result.subsets["total"]["metrics"]
    # subsets really differ: CIDEr of a subset is not the total's
    assert result.subsets["semantic"]["metrics"]["CIDEr"] != result.metrics["CIDEr"]


@pytest.mark.timeout(120)
def test_cider_cache_equals_cider_scorer_on_random_subsets():
    preds, refs, _ = synthetic_corpus(80, seed=3, refs_per_pair=4)
    ids = list(preds)
    cache = CiderCache(preds, refs)
    rng = random.Random(11)
    for size in (1, 2, 5, 17, 80):
        chosen = rng.sample(ids, size)
        stock = CiderScorer(n=4, sigma=6.0)
        for pid in chosen:
            stock += (preds[pid], refs[pid])
        score, scores = stock.compute_score()
        mine = cache.item_scores(chosen)
        assert mine == pytest.approx(list(scores), abs=1e-9, rel=0)
        assert cache.corpus_score(chosen) == pytest.approx(float(score), abs=1e-9, rel=0)


def test_cider_cache_weighs_ngrams_found_in_every_document_exactly_zero():
    # CLEVR-Change distractors: every reference says the same; CiderScorer then skips normalisation
    preds = {f"p{i}": ["there is no difference", "the scene is the same", "nothing changed"][i % 3] for i in range(9)}
    refs = {f"p{i}": ["there is no difference", "nothing has changed", "the scene is the same as before"]
            for i in range(9)}
    stock = CiderScorer(n=4, sigma=6.0)
    for pid in preds:
        stock += (preds[pid], refs[pid])
    score, scores = stock.compute_score()
    cache = CiderCache(preds, refs)
    assert cache.item_scores(list(preds)) == pytest.approx(list(scores), abs=1e-9, rel=0)
    assert cache.corpus_score(list(preds)) == pytest.approx(float(score), abs=1e-9, rel=0)


@pytest.mark.timeout(300)
@pytest.mark.usefixtures("shared_meteor")
def test_ddla_table_through_omnidiff_score(run_cli):
    res = run_cli("score", "--predictions", DDLA / "predfile.json", "--references", DDLA / "gtfile.json")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert out["n"] == 1270
    for metric, published in DDLA_TABLE.items():
        assert round(out["metrics"][metric], 3) == pytest.approx(published, abs=1e-12), metric
    assert out["metrics"]["SPICE"] is None
    assert out["notes"]["SPICE"].startswith("skipped:")


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("shared_meteor")
def test_score_jsonl_with_subsets_file(run_cli, tmp_path):
    preds, refs, kinds = synthetic_corpus(12, seed=5)
    pfile, rfile, sfile = tmp_path / "p.jsonl", tmp_path / "r.jsonl", tmp_path / "s.json"
    pfile.write_text("".join(json.dumps({"pair_id": k, "caption": v}) + "\n" for k, v in preds.items()))
    rfile.write_text("".join(json.dumps({"pair_id": k, "captions": v}) + "\n" for k, v in refs.items()))
    subsets = {"semantic": [k for k, t in kinds.items() if t != "distractor"], "empty": []}
    sfile.write_text(json.dumps(subsets))
    res = run_cli("score", "--predictions", pfile, "--references", rfile, "--subsets", sfile, "--no-spice")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert out["n"] == 12 and out["subsets"]["semantic"]["n"] == len(subsets["semantic"])
    assert set(out["metrics"]) == set(METRIC_NAMES)
    assert all(0 < out["metrics"][m] <= 1 for m in ("Bleu_1", "METEOR", "ROUGE_L"))
    assert out["subsets"]["semantic"]["metrics"]["CIDEr"] != out["metrics"]["CIDEr"]
    assert out["subsets"]["empty"] == {"n": 0, "metrics": {m: None for m in METRIC_NAMES}}
    assert out["notes"]["SPICE"] == "skipped: not requested"


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("shared_meteor")
def test_score_against_a_store(run_cli, small_store, tmp_path):
    ids = small_store.pair_ids(split="test")
    pfile = tmp_path / "p.jsonl"
    pfile.write_text("".join(json.dumps({"pair_id": i, "caption": "a red square appeared"}) + "\n" for i in ids))
    res = run_cli("score", "--predictions", pfile, "--references", small_store.root, "--split", "test",
                  "--benchmark", "omnidiff")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert out["n"] == 6
    assert set(out["subsets"]) >= {"total", "domain/render", "domain/real", "change_type/addition"}
    assert out["subsets"]["domain/real"]["n"] == 0
    assert out["subsets"]["change_type/addition"]["metrics"] == out["metrics"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ('[{"image_id": "1"}]', "missing 'caption'"),
        ('[{"image_id": "1", "caption": "a"}, {"image_id": "1", "caption": "b"}]', "second prediction"),
        ('[{"image_id": "1", "caption": 5}]', "must be a string"),
        ("", "empty"),
    ],
)
def test_bad_prediction_files_are_one_line_errors(run_cli, tmp_path, content, message):
    pfile = tmp_path / "p.json"
    pfile.write_text(content)
    res = run_cli("score", "--predictions", pfile, "--references", DDLA / "gtfile.json")
    assert res.code == 1
    assert message in res.err and "Traceback" not in res.err
    assert len(res.err.strip().splitlines()) == 1


def test_missing_files_and_bad_subsets(run_cli, tmp_path):
    res = run_cli("score", "--predictions", tmp_path / "nope.json", "--references", DDLA / "gtfile.json")
    assert res.code == 1 and "no such file" in res.err
    sfile = tmp_path / "s.json"
    sfile.write_text(json.dumps({"x": ["no-such-pair"]}))
    res = run_cli("score", "--predictions", DDLA / "predfile.json", "--references", DDLA / "gtfile.json",
                  "--subsets", sfile)
    assert res.code == 1 and "no references" in res.err


# -- Java --------------------------------------------------------------------------------------
def test_parse_java_versions():
    assert parse_java_major('openjdk version "17.0.15" 2025-04-15') == 17
    assert parse_java_major('java version "1.8.0_292"') == 8
    assert parse_java_major('java version "1.6.0_45"') == 6
    assert parse_java_major('openjdk version "21" 2023-09-19') == 21
    assert parse_java_major("nonsense") is None


def _hide_java(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("OMNIDIFF_JAVA", raising=False)


@pytest.mark.timeout(60)
def test_java_missing_is_a_one_line_error_with_install_advice(run_cli, monkeypatch, tmp_path):
    _hide_java(monkeypatch, tmp_path)
    with pytest.raises(JavaError, match="not found"):
        find_java()
    res = run_cli("score", "--predictions", DDLA / "predfile.json", "--references", DDLA / "gtfile.json")
    assert res.code == 1
    assert "Java was not found" in res.err and "apt-get install" in res.err
    assert len(res.err.strip().splitlines()) == 1


def test_java_named_by_omnidiff_java_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("OMNIDIFF_JAVA", str(tmp_path / "no-java"))
    with pytest.raises(JavaError, match="OMNIDIFF_JAVA=.* is not an executable file"):
        find_java()


@pytest.mark.timeout(60)
def test_java_too_old_is_a_one_line_error(run_cli, monkeypatch, tmp_path):
    _hide_java(monkeypatch, tmp_path)
    old = tmp_path / "java"
    old.write_text('#!/bin/sh\necho \'java version "1.6.0_45"\' >&2\n')
    old.chmod(0o755)
    res = run_cli("score", "--predictions", DDLA / "predfile.json", "--references", DDLA / "gtfile.json")
    assert res.code == 1
    assert "Java 6" in res.err and "too old" in res.err and "install Java 8 or later" in res.err
    assert len(res.err.strip().splitlines()) == 1


# -- SPICE -------------------------------------------------------------------------------------
def test_spice_is_skipped_with_a_reason_when_corenlp_is_absent(monkeypatch, tmp_path):
    monkeypatch.setenv("OMNIDIFF_SPICE_JARS", str(tmp_path))
    reason = find_spice()
    assert isinstance(reason, str) and reason.startswith("skipped:") and str(tmp_path) in reason


def test_spice_jars_are_found_through_the_environment(monkeypatch, tmp_path):
    for name in CORENLP_JARS:
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setenv("OMNIDIFF_SPICE_JARS", str(tmp_path))
    setup = find_spice()
    assert isinstance(setup, SpiceSetup) and setup.corenlp_dir == tmp_path
    assert str(tmp_path / "*") in setup.classpath()
