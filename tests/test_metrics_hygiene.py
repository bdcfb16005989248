"""Bad and odd inputs to the scorer: each has a defined behaviour and none hangs (timeouts guard them).

One scoring job over a corpus holding every odd caption (newlines, carriage returns, '|||', empty
strings, non-ASCII text, a 2,000-word looping caption) is shared by the tests below; the well-defined
part of it is compared with pycocoevalcap's stock classes. That job asks for the opt-in cut
(``max_tokens=400``): uncut, METEOR would spend minutes aligning the looping captions. Whole long
captions, the default, are tested on their own below.
"""

from __future__ import annotations

import json
import random

import pytest

from omnidiff.metrics import ScoringInputError, score_captions
from omnidiff.metrics.hygiene import normalize_caption
from tests.metrics_helpers import caption, stock_scores

STOCK_METRICS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")
CUT = 400  # the opt-in cut the shared job asks for


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
def odd_result(_warm_meteors):
    subsets = {"stock_safe": STOCK_SAFE, "cr": ["cr"], "unicode": ["unicode"], "long": ["long"]}
    return score_captions(ODD_PREDICTIONS, ODD_REFERENCES, subsets, spice=False, max_tokens=CUT,
                          meteor=_warm_meteors.session())


@pytest.mark.timeout(600)
def test_odd_captions_score_as_pycocoevalcap_scores_them(odd_result, stock_meteor):
    # with the cut asked for, the 2,000-word captions are scored as their first CUT tokens
    preds = {**ODD_PREDICTIONS, "long": _first_words(ODD_PREDICTIONS["long"], CUT)}
    refs = {**ODD_REFERENCES, "long": [_first_words(ODD_REFERENCES["long"][0], CUT)]}
    expected = stock_scores(preds, refs, STOCK_SAFE, meteor=stock_meteor)
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
def test_the_asked_for_cut_applies_and_is_noted(odd_result):
    long = odd_result.subsets["long"]["metrics"]
    assert all(long[m] is not None for m in STOCK_METRICS)
    assert 0 < long["Bleu_1"] < 1
    assert odd_result.notes["max_tokens"].startswith(f"captions cut to their first {CUT} PTB tokens")
    assert "2 caption(s) were longer" in odd_result.notes["max_tokens"]


RAMBLE = ("the image shows there is some also we can see that in of picture appears seems like it very really "
          "scene red blue").split()


def _rambling(words: int, seed: int) -> str:
    """A runaway generation: one fitting sentence, then filler (no punctuation, so that its first N
    words are its first N PTB tokens)."""
    rng = random.Random(seed)
    text = caption(rng, "color").split()
    return " ".join(text + [rng.choice(RAMBLE) for _ in range(words - len(text))])


@pytest.fixture(scope="module")
def long_corpus():
    rng = random.Random(7)
    preds = {"rambling": _rambling(5000, 1), "medium": _rambling(600, 2)}
    refs = {"rambling": [caption(rng, "color", 60) for _ in range(3)], "medium": [caption(rng, "color", 60) for _ in range(3)]}
    for i in range(4):
        preds[f"p{i}"] = caption(rng, "color")
        refs[f"p{i}"] = [caption(rng, "color") for _ in range(3)]
    return preds, refs


@pytest.mark.timeout(900)
def test_long_captions_score_as_stock_by_default_and_are_cut_only_when_asked(long_corpus, meteor_session,
                                                                           stock_meteor):
    preds, refs = long_corpus
    ids = list(refs)
    shorter = [i for i in ids if i != "rambling"]  # METEOR is compared on these (stock METEOR is slow on 5,000 words)
    messages: list[str] = []
    whole = score_captions(preds, refs, {"shorter": shorter, "rambling": ["rambling"]}, spice=False,
                           progress=messages.append, meteor=meteor_session)
    assert "max_tokens" not in whole.notes
    assert any("over 400 tokens" in m and "may take minutes" in m for m in messages)  # the slow part is announced

    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    def stock_without_meteor(members):
        tok = PTBTokenizer()
        gts = tok.tokenize({i: [{"caption": c} for c in refs[i]] for i in members})
        res = tok.tokenize({i: [{"caption": preds[i]}] for i in members})
        out = {f"Bleu_{k + 1}": v for k, v in enumerate(Bleu(4).compute_score(gts, res, verbose=0)[0])}
        out["ROUGE_L"] = Rouge().compute_score(gts, res)[0]
        out["CIDEr"] = Cider().compute_score(gts, res)[0]
        return out

    for members, got in ((ids, whole.metrics), (["rambling"], whole.subsets["rambling"]["metrics"])):
        for metric, value in stock_without_meteor(members).items():
            assert got[metric] == pytest.approx(float(value), abs=1e-9, rel=0), (members, metric)
    rambling = whole.subsets["rambling"]["metrics"]["Bleu_1"]
    assert rambling < 0.05  # the runaway generation is not rewarded

    cut = score_captions(preds, refs, {"rambling": ["rambling"]}, spice=False, max_tokens=400, meteor=meteor_session)
    assert "--max-tokens 400" in cut.notes["max_tokens"] and "2 caption(s) were longer" in cut.notes["max_tokens"]
    cut_preds = {**preds, "rambling": _first_words(preds["rambling"], 400), "medium": _first_words(preds["medium"], 400)}
    expected_whole = stock_scores(preds, refs, shorter, meteor=stock_meteor)  # 600 words, uncut
    expected_cut = stock_scores(cut_preds, refs, ["rambling"], meteor=stock_meteor)
    for metric in STOCK_METRICS:
        assert whole.subsets["shorter"]["metrics"][metric] == pytest.approx(expected_whole[metric], abs=1e-9, rel=0), metric
        assert cut.subsets["rambling"]["metrics"][metric] == pytest.approx(expected_cut[metric], abs=1e-9, rel=0), metric
    assert cut.subsets["rambling"]["metrics"]["Bleu_1"] > 3 * rambling


@pytest.mark.timeout(30)
@pytest.mark.parametrize("bad", [0, -3, True, 2.5])
def test_max_tokens_must_be_a_positive_count(bad):
    with pytest.raises(ScoringInputError, match="--max-tokens"):
        score_captions({"a": "x"}, {"a": ["x"]}, spice=False, max_tokens=bad)


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
def test_allow_missing_scores_the_predicted_pairs_only(meteor_session):
    refs = {"a": ["the red cube moved"], "b": ["a sphere appeared"], "c": ["nothing changed"]}
    result = score_captions({"a": "the red cube moved", "b": "a sphere appeared"}, refs,
                            {"all": ["a", "b", "c"]}, spice=False, allow_missing=True, meteor=meteor_session)
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


@pytest.mark.timeout(300)
@pytest.mark.usefixtures("shared_meteor")
def test_the_cut_is_asked_by_name_on_the_command_line_and_recorded(run_cli, tmp_path):
    from annotations import Store
    from tests.conftest import make_record

    store = Store.create(tmp_path / "store", name="cut")
    store.append([make_record(i) for i in range(3)])
    results = tmp_path / "results"
    res = run_cli("eval", "--model", "pixel-diff", "--data", store.root, "--results", results, "--no-spice",
                  "--no-progress", "--max-tokens", "3")
    assert res.code == 0, res.err
    folder = results / "pixel-diff" / "omnidiff" / "test"
    scores = json.loads((folder / "scores.json").read_text())
    assert "--max-tokens 3" in scores["notes"]["max_tokens"]
    assert json.loads((folder / "run.json").read_text())["max_tokens"] == 3
    scored = run_cli("score", "--predictions", folder / "predictions.jsonl", "--references", store.root,
                     "--benchmark", "omnidiff", "--no-spice", "--max-tokens", "3")
    assert scored.code == 0, scored.err
    assert json.loads(scored.out)["metrics"] == scores["metrics"]
    bad = run_cli("score", "--predictions", folder / "predictions.jsonl", "--references", store.root, "--max-tokens", "0")
    assert bad.code == 1 and "--max-tokens 0" in bad.err
