"""The ``utils.py`` of an OmniDiff task folder for lmms-eval (copied there by ``omnidiff export --format lmms-eval``).

It runs inside lmms-eval and imports nothing of this toolkit: only pycocoevalcap (stock, as lmms-eval's
own caption tasks use it) and the task folder's ``protocol.json``, which names the protocol subsets of
the exported split and the metric keys of the task YAML (``<subset>_<metric>``, e.g. ``total_CIDEr``).

Scoring follows the COCO caption evaluation: every prediction and reference is tokenised once (one PTB
tokenizer run for the whole split), then BLEU-1..4, METEOR (one JVM for every subset), ROUGE-L and CIDEr
are computed per protocol subset, each subset its own corpus (CIDEr's document frequencies and BLEU's
brevity penalty are corpus statistics). lmms-eval calls the aggregation once per metric key and loads
this file anew for every ``!function``, so the scores of a run are kept in ``sys.modules`` under one name
and computed once per set of predictions.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import types
from pathlib import Path

PROTOCOL = json.loads((Path(__file__).resolve().parent / "protocol.json").read_text(encoding="utf-8"))
METRICS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")
_STATE = sys.modules.setdefault("omnidiff_lmms_eval_scores", types.ModuleType("omnidiff_lmms_eval_scores"))
if not hasattr(_STATE, "scores"):
    _STATE.scores = {}


def doc_to_visual(doc):
    """The before and the after image, in that order."""
    return [doc["image_before"].convert("RGB"), doc["image_after"].convert("RGB")]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    return doc["prompt"]


def doc_to_target(doc):
    return doc["references"][0] if doc["references"] else ""


def process_results(doc, results):
    """One entry per metric key; each carries what the corpus scoring needs and which key it is for."""
    pred = results[0] if results else ""
    item = {"pair_id": doc["pair_id"], "pred": pred if isinstance(pred, str) else str(pred),
            "references": list(doc["references"]), "subsets": list(doc["subsets"])}
    return {key: {**item, "metric": key} for key in PROTOCOL["metric_keys"]}


def aggregate(items):
    """The value of one ``<subset>_<metric>`` key over the run's items."""
    key = items[0]["metric"]
    subset, metric = PROTOCOL["metric_keys"][key]
    return _scores(items).get(subset, {}).get(metric, math.nan)


def _scores(items) -> dict:
    digest = hashlib.sha256(json.dumps(sorted((i["pair_id"], i["pred"]) for i in items)).encode()).hexdigest()
    if digest not in _STATE.scores:
        _STATE.scores[digest] = _score_every_subset(items)
    return _STATE.scores[digest]


def _score_every_subset(items) -> dict:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    by_id = {i["pair_id"]: i for i in items}
    captions = {}
    for pid, item in by_id.items():
        captions[("ref", pid)] = [{"caption": r} for r in item["references"]]
        captions[("pred", pid)] = [{"caption": item["pred"]}]
    tokens = PTBTokenizer().tokenize(captions)  # once, for every caption of the split
    members = {}
    for pid, item in by_id.items():
        for subset in item["subsets"]:
            members.setdefault(subset, []).append(pid)
    meteor = Meteor()
    try:
        out = {}
        for subset, ids in members.items():
            gts = {pid: tokens[("ref", pid)] for pid in ids}
            res = {pid: tokens[("pred", pid)] for pid in ids}
            bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
            scores = {f"Bleu_{n + 1}": float(bleu[n]) for n in range(4)}
            scores["METEOR"] = float(meteor.compute_score(gts, res)[0])
            scores["ROUGE_L"] = float(Rouge().compute_score(gts, res)[0])
            scores["CIDEr"] = float(Cider().compute_score(gts, res)[0])
            out[subset] = scores
        return out
    finally:
        close = getattr(meteor, "close", None)
        if callable(close):
            close()
