"""Captions holding line ends other than ``\\n`` (U+2028, U+0085, ...) through eval, score and every
leaderboard format: JSON Lines are split on ``\\n`` only (annotations/jsonl.py)."""

from __future__ import annotations

import json

import pytest

from conftest import make_record
from harness_helpers import TESTS_DIR, install_test_models

from annotations import Store

# every line end str.splitlines knows, apart from \n and \r
# in-process `omnidiff score`/`eval` runs borrow one warm METEOR JVM (tests/metrics_helpers.py)
pytestmark = pytest.mark.usefixtures("shared_meteor")

ODD_LINE_ENDS = "\u2028\x85\u2029\x0b\x0c\x1c\x1d\x1e"


@pytest.fixture
def test_models(tmp_path, monkeypatch):
    folder = install_test_models(tmp_path / "site")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.syspath_prepend(str(TESTS_DIR))


def test_odd_line_ends_go_through_eval_score_and_leaderboard(run_cli, tmp_path, test_models):
    store = Store.create(tmp_path / "store", name="ends")
    store.append([make_record(i, captions=[f"a red square\u2028appeared\x85in pair {i}.", "something red was added."])
                  for i in range(4)])
    template = "a red" + "".join(f"{ch}word{k}" for k, ch in enumerate(ODD_LINE_ENDS)) + " square in pair {n}."
    results = tmp_path / "results"
    res = run_cli("eval", "--model", "counting", "--model-arg", f"template={template}", "--data", store.root,
                  "--results", results, "--no-spice", "--no-progress")
    assert res.code == 0, res.err
    folder = results / "counting" / "omnidiff" / "test"
    raw = (folder / "predictions.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in raw.split("\n") if line]
    assert [r["caption"] for r in rows] == [template.format(n=i) for i in range(4)]

    scored = run_cli("score", "--predictions", folder / "predictions.jsonl", "--references", store.root,
                     "--benchmark", "omnidiff", "--split", "test", "--no-spice")
    assert scored.code == 0, scored.err
    assert json.loads(scored.out)["metrics"] == json.loads((folder / "scores.json").read_text())["metrics"]

    refs = tmp_path / "refs.jsonl"  # JSONL references with the odd line ends written raw
    refs.write_text("".join(json.dumps({"pair_id": r.pair_id, "captions": r.captions}, ensure_ascii=False) + "\n"
                            for r in store.records(columns=["pair_id", "captions"])), encoding="utf-8")
    assert "\u2028" in refs.read_text(encoding="utf-8")
    again = run_cli("score", "--predictions", folder / "predictions.jsonl", "--references", refs, "--no-spice")
    assert again.code == 0, again.err
    assert json.loads(again.out)["metrics"] == json.loads(scored.out)["metrics"]

    for fmt in ("md", "csv", "latex", "html"):
        board = run_cli("leaderboard", "--results", results, "--format", fmt, "--no-reported")
        assert board.code == 0 and "counting" in board.out, (fmt, board.err)
        assert "warning" not in board.err
    html = run_cli("leaderboard", "--results", results, "--format", "html", "--no-reported", "--examples", "2").out
    assert "word0" in html and "word7" in html  # the example captions made it onto the page whole
