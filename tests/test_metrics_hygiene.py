"""Bad and odd inputs to the scorer: each has a defined behaviour and none hangs (timeouts guard them).

One scoring job over a corpus holding every odd caption (newlines, carriage returns, '|||', empty
strings, non-ASCII text, a 2,000-word caption) is shared by the tests below; the well-defined part
of it is compared with pycocoevalcap's stock classes.
"""

from __future__ import annotations

import json
import random

import pytest

from omnidiff.metrics import ScoringInputError, score_captions
from omnidiff.metrics.hygiene import MAX_CAPTION_TOKENS, normalize_caption
from tests.metrics_helpers import stock_scores

STOCK_METRICS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")


def _long_caption(seed: int, words: int = 2000) -> str:
    """A looping, repetitive caption: the worst case for METEOR's aligner."""
    rng = random.Random(seed)
    vocab = ["the", "red", "cube", "moved", "left", "a", "sphere", "is", "gone", "blue", "metal", "near"]
    return " ".join(rng.choice(vocab) for _ in range(words))


ODD_PREDICTIONS = {
    "newline": "the red cube\nhas moved",
    "bars": "the cube ||| moved to the left",
    "empty_pred": "",
    "empty_ref": "the small cube moved",
    "unicode": "le cube rouge a bougé près du café",
    "long": _long_caption(1),
    "plain": "a blue sphere appeared",
    "cr": "the green cylinder\r\nchanged\u2028its colour",
}
ODD_REFERENCES = {
    "newline": ["the red cube has moved", "a red cube\nmoved away"],
    "bars": ["the cube|||moved left", "the cube moved to the left"],
    "empty_pred": ["the cube moved", "someone moved the cube"],
    "empty_ref": ["", "the small cube moved away"],
    "unicode": ["le cube rouge a bougé", "naïve café 東京 cube"],
    "long": [_long_caption(2)],
    "plain": ["a blue sphere has been added", "someone added a blue sphere"],
    "cr": ["the green cylinder changed its colour"],
}
STOCK_SAFE = [k for k in ODD_PREDICTIONS if k != "cr"]  # pycocoevalcap itself misaligns on '\r'


def _first_words(text: str, n: int) -> str:
    return " ".join(text.split()[:n])


@pytest.fixture(scope="module")
def odd_result():
    subsets = {"stock_safe": STOCK_SAFE, "cr": ["cr"], "unicode": ["unicode"], "long": ["long"]}
    return score_captions(ODD_PREDICTIONS, ODD_REFERENCES, subsets, spice=False)


@pytest.mark.timeout(600)
def test_odd_captions_score_as_pycocoevalcap_scores_them(odd_result):
    # the 2,000-word captions are scored as their first MAX_CAPTION_TOKENS tokens (documented)
    preds = {**ODD_PREDICTIONS, "long": _first_words(ODD_PREDICTIONS["long"], MAX_CAPTION_TOKENS)}
    refs = {**ODD_REFERENCES, "long": [_first_words(ODD_REFERENCES["long"][0], MAX_CAPTION_TOKENS)]}
    expected = stock_scores(preds, refs, STOCK_SAFE)
    got = odd_result.subsets["stock_safe"]["metrics"]
    for metric in STOCK_METRICS:
        assert got[metric] == pytest.approx(expected[metric], abs=1e-9, rel=0), metric


@pytest.mark.timeout(600)
def test_line_breaks_of_every_kind_become_spaces(odd_result):
    assert normalize_caption("a\r\nb\rc\nd\u2028e\u2029f\x0bg\x0ch") == "a b c d e f g h"
    cr = odd_result.subsets["cr"]["metrics"]
    # aligned with its own reference (not shifted onto another pair's caption): a perfect match
    assert cr["Bleu_1"] == pytest.approx(1.0, abs=1e-6) and cr["ROUGE_L"] == pytest.approx(1.0)
    assert "line_breaks" in odd_result.notes


@pytest.mark.timeout(600)
def test_empty_captions_are_kept_and_noted(odd_result):
    assert odd_result.notes["empty_predictions"].startswith("1 empty prediction")
    assert odd_result.notes["empty_references"].startswith("1 empty reference")
    assert odd_result.n == len(ODD_PREDICTIONS)


@pytest.mark.timeout(600)
def test_non_ascii_text_survives_tokenization(odd_result):
    from omnidiff.metrics.tokenizer import ptb_tokenize

    assert ptb_tokenize(["Le café, naïve!", "東京 タワー"]) == ["le café naïve", "東京 タワー"]
    unicode = odd_result.subsets["unicode"]["metrics"]
    assert unicode["Bleu_1"] > 0.5 and unicode["METEOR"] > 0.3


@pytest.mark.timeout(600)
def test_two_thousand_word_captions_are_cut_and_noted(odd_result):
    long = odd_result.subsets["long"]["metrics"]
    assert all(long[m] is not None for m in STOCK_METRICS)
    assert 0 < long["Bleu_1"] < 1
    assert odd_result.notes["long_captions"].startswith(f"2 caption(s) longer than {MAX_CAPTION_TOKENS} tokens")


@pytest.mark.timeout(120)
def test_triple_bars_cannot_break_the_meteor_protocol():
    from omnidiff.metrics.meteor import score_line
    from omnidiff.metrics.tokenizer import ptb_tokenize

    assert "|||" not in " ".join(ptb_tokenize(["a|||b", "x ||| y", "|||"]))
    assert score_line("a ||| b", ["c"]) == "SCORE ||| c ||| a b"


@pytest.mark.timeout(30)
def test_pair_without_prediction_is_an_error_unless_allowed():
    refs = {"a": ["x y"], "b": ["y z"], "c": ["z"]}
    with pytest.raises(ScoringInputError, match=r"1 of 3 reference pairs have no prediction: 'c'.*--allow-missing"):
        score_captions({"a": "x", "b": "y"}, refs)


@pytest.mark.timeout(300)
def test_allow_missing_scores_the_predicted_pairs_only():
    refs = {"a": ["the red cube moved"], "b": ["a sphere appeared"], "c": ["nothing changed"]}
    result = score_captions({"a": "the red cube moved", "b": "a sphere appeared"}, refs,
                            {"all": ["a", "b", "c"]}, spice=False, allow_missing=True)
    assert result.n == 2 and result.subsets["all"]["n"] == 2
    assert "1 reference pairs without a prediction" in result.notes["missing_predictions"]
    assert result.metrics["Bleu_1"] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.timeout(30)
def test_prediction_for_an_unknown_pair_is_an_error():
    with pytest.raises(ScoringInputError, match="1 prediction\\(s\\) for pairs that have no references: 'zzz'"):
        score_captions({"a": "x", "zzz": "y"}, {"a": ["x"]}, allow_missing=True)


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "preds, refs, subsets, message",
    [
        ({"a": 3}, {"a": ["x"]}, None, "prediction of pair 'a' is not a string"),
        ({"a": "x"}, {"a": []}, None, "pair 'a' has no reference captions"),
        ({"a": "x"}, {"a": "x"}, None, "must be a list of strings"),
        ({"a": "x"}, {"a": ["x", None]}, None, "is not a string"),
        ({"a": "x"}, {"a": ["x"]}, {"s": ["a", "a"]}, "lists a pair id twice"),
        ({"a": "x"}, {"a": ["x"]}, {"s": ["b"]}, "have no references: 'b'"),
        ({}, {"a": ["x"]}, None, "no prediction"),
    ],
)
def test_malformed_inputs_are_clear_errors(preds, refs, subsets, message):
    with pytest.raises(ScoringInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        score_captions(preds, refs, subsets, allow_missing=False)


@pytest.mark.timeout(60)
def test_cli_reports_missing_and_unknown_pairs_in_one_line(run_cli, tmp_path):
    refs = tmp_path / "r.jsonl"
    refs.write_text(json.dumps({"pair_id": "a", "captions": ["x"]}) + "\n" + json.dumps({"pair_id": "b", "captions": ["y"]}))
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"pair_id": "a", "caption": "x"}) + "\n")
    res = run_cli("score", "--predictions", preds, "--references", refs)
    assert res.code == 1 and "1 of 2 reference pairs have no prediction: 'b'" in res.err
    assert len(res.err.strip().splitlines()) == 1
    preds.write_text(json.dumps({"pair_id": "q", "caption": "x"}) + "\n")
    res = run_cli("score", "--predictions", preds, "--references", refs, "--allow-missing")
    assert res.code == 1 and "have no references: 'q'" in res.err


@pytest.mark.timeout(120)
def test_a_meteor_that_stops_answering_is_stopped_not_waited_for(monkeypatch):
    import omnidiff.metrics.meteor as meteor_module
    from omnidiff.metrics import JavaError

    monkeypatch.setattr(meteor_module, "STARTUP_ALLOWANCE_S", 0.5)
    monkeypatch.setattr(meteor_module, "SECONDS_PER_REPLY", 0.0)
    with meteor_module.MeteorSession() as session:
        # the JVM is still loading its paraphrase table: no answer within 0.5 s
        with pytest.raises(JavaError, match="did not answer 1 line\\(s\\) within 0.5 s and was stopped"):
            session.segment_stats([("a cat", ["a cat sat"])])
