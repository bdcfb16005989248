"""Scoring a set of predictions, and any subsets of it, exactly as pycocoevalcap 1.2 would.

Per-pair work is done once: one PTB tokenizer call for every caption, one METEOR JVM for the
segment statistics, BLEU n-gram counts and ROUGE-L scores per pair. Each subset is then scored
with pycocoevalcap's own corpus code over the cached per-pair data: ``BleuScorer`` (brevity
penalty over the subset), METEOR's ``EVAL`` over the subset's statistics, the mean of ROUGE-L,
and CIDEr recomputed with ``CiderScorer``'s arithmetic from the subset's references (CIDEr's
document frequencies are a property of the corpus being scored). The METEOR JVM starts first and
scores segments in the background while Python counts n-grams.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from pycocoevalcap.bleu.bleu_scorer import BleuScorer
from pycocoevalcap.bleu.bleu_scorer import cook_refs as bleu_cook_refs
from pycocoevalcap.bleu.bleu_scorer import cook_test as bleu_cook_test
from pycocoevalcap.rouge.rouge import Rouge

from omnidiff.metrics.cider import CiderCache
from omnidiff.metrics.hygiene import LONG_CAPTION_TOKENS, cap_tokens, check_inputs, check_max_tokens
from omnidiff.metrics.meteor import MeteorSession
from omnidiff.metrics.spice import SpiceSetup, find_spice, spice_item_scores
from omnidiff.metrics.tokenizer import ptb_tokenize

METRIC_NAMES = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr", "SPICE")
Progress = Callable[[str], None]


@dataclass
class ScoreResult:
    """Corpus metrics of all scored pairs, and of each subset (DESIGN.md result format)."""

    metrics: dict[str, float | None]
    n: int
    subsets: dict[str, dict] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "metrics": dict(self.metrics), "subsets": dict(self.subsets), "notes": dict(self.notes)}


@dataclass
class _ItemCache:
    """What each pair contributes, computed once per job."""

    bleu_refs: dict[str, Any]
    bleu_tests: dict[str, Any]
    rouge: dict[str, float]
    meteor_stats: dict[str, str]
    spice: dict[str, float] | None


def _tokenize_all(ids: list[str], preds: dict[str, str], refs: dict[str, list[str]],
                  max_tokens: int | None) -> tuple[dict, dict, int]:
    """One tokenizer run for all captions; returns (predictions, references, number of captions cut)."""
    flat: list[str] = []
    for pid in ids:
        flat.extend(refs[pid])
    for pid in ids:
        flat.append(preds[pid])
    capped = [cap_tokens(t, max_tokens) for t in ptb_tokenize(flat)]
    tokens = [t for t, _ in capped]
    cut = sum(was_cut for _, was_cut in capped)
    pos = 0
    tok_refs: dict[str, list[str]] = {}
    for pid in ids:
        k = len(refs[pid])
        # a '|||' the tokenizer left intact would be read by METEOR as a field separator
        tok_refs[pid] = [t.replace("|||", "").replace("  ", " ") for t in tokens[pos:pos + k]]
        pos += k
    tok_preds = {pid: tokens[pos + i] for i, pid in enumerate(ids)}
    return tok_preds, tok_refs, cut


def _score_subset(ids: Sequence[str], cache: _ItemCache, cider: CiderCache, meteor: MeteorSession) -> dict:
    if not ids:
        return {name: None for name in METRIC_NAMES}
    bleu = BleuScorer(n=4)
    bleu.crefs = [cache.bleu_refs[i] for i in ids]
    bleu.ctest = [cache.bleu_tests[i] for i in ids]
    bleu_scores, _ = bleu.compute_score(option="closest", verbose=0)
    meteor_score = meteor.corpus_score([cache.meteor_stats[i] for i in ids])
    metrics: dict[str, float | None] = {f"Bleu_{k + 1}": float(bleu_scores[k]) for k in range(4)}
    metrics["METEOR"] = float(meteor_score)
    metrics["ROUGE_L"] = float(np.mean(np.array([cache.rouge[i] for i in ids])))
    metrics["CIDEr"] = cider.corpus_score(ids)
    if cache.spice is None:
        metrics["SPICE"] = None
    else:
        value = float(np.mean(np.array([cache.spice.get(i, math.nan) for i in ids])))
        metrics["SPICE"] = None if math.isnan(value) else value
    return metrics


def score_captions(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    subsets: Mapping[str, Sequence[str]] | None = None,
    spice: bool = True,
    *,
    allow_missing: bool = False,
    progress: Progress | None = None,
    max_tokens: int | None = None,
    meteor: MeteorSession | None = None,
) -> ScoreResult:
    """Score ``predictions`` (pair id -> caption) against ``references`` (pair id -> captions).

    ``metrics`` is the corpus of every scored pair; ``subsets`` name -> pair ids are each scored as
    their own corpus. Captions are scored whole unless ``max_tokens`` asks for a cut (a named
    deviation from pycocoevalcap, recorded in ``notes``). Input rules: :mod:`omnidiff.metrics.hygiene`.
    ``meteor``: a running session to use (and leave open), so that a run scoring several benchmarks
    starts the METEOR JVM once.
    """
    say = progress or (lambda _msg: None)
    max_tokens = check_max_tokens(max_tokens)
    checked = check_inputs(predictions, references, subsets, allow_missing)
    ids = checked.ids
    notes = dict(checked.notes)

    with ExitStack() as stack:
        # the METEOR JVM loads its paraphrase table while Python tokenizes and counts n-grams
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        # closed (killed on error) before the pool waits, unless the caller owns it
        meteor = stack.enter_context(nullcontext(meteor) if meteor is not None else MeteorSession())
        say(f"tokenizing {len(ids)} predictions and {sum(len(checked.references[i]) for i in ids)} references")
        tok_preds, tok_refs, cut = _tokenize_all(ids, checked.predictions, checked.references, max_tokens)
        if max_tokens is not None:
            notes["max_tokens"] = (f"captions cut to their first {max_tokens} PTB tokens for every metric, as asked "
                                   f"(--max-tokens {max_tokens}); {cut} caption(s) were longer. Not stock pycocoevalcap.")
        items = [(tok_preds[pid], tok_refs[pid]) for pid in ids]
        longest = max(len(text.split(" ")) for hyp, refs in items for text in (hyp, *refs))
        long_items = sum(1 for hyp, refs in items if max(len(t.split(" ")) for t in (hyp, *refs)) > LONG_CAPTION_TOKENS)
        meteor_stats = pool.submit(meteor.segment_stats, items, longest)

        say("per-pair statistics (BLEU, ROUGE-L, CIDEr n-grams) while METEOR scores segments")
        rouge = Rouge()
        bleu_refs = {pid: bleu_cook_refs(tok_refs[pid]) for pid in ids}
        bleu_tests = {pid: bleu_cook_test(tok_preds[pid], bleu_refs[pid]) for pid in ids}
        rouge_scores = {pid: rouge.calc_score([tok_preds[pid]], tok_refs[pid]) for pid in ids}
        cider = CiderCache({pid: tok_preds[pid] for pid in ids}, {pid: tok_refs[pid] for pid in ids})

        spice_scores: dict[str, float] | None = None
        if spice:
            setup = find_spice()
            if isinstance(setup, SpiceSetup):
                say("SPICE")
                spice_scores = spice_item_scores(setup, [(pid, tok_preds[pid], tok_refs[pid]) for pid in ids])
            else:
                notes["SPICE"] = setup
        else:
            notes["SPICE"] = "skipped: not requested"

        if long_items:
            say(f"METEOR segment statistics: {long_items} pair(s) with captions over {LONG_CAPTION_TOKENS} tokens "
                f"(longest {longest}); METEOR aligns long text slowly, this may take minutes")
        else:
            say("METEOR segment statistics")
        stats = meteor_stats.result()
        cache = _ItemCache(bleu_refs, bleu_tests, rouge_scores, dict(zip(ids, stats)), spice_scores)
        say("corpus scores")
        memo: dict[tuple[str, ...], dict] = {}

        def scored(members: Sequence[str]) -> dict:
            key = tuple(members)
            if key not in memo:
                memo[key] = _score_subset(members, cache, cider, meteor)
            return memo[key]

        total = scored(ids)
        subset_results = {}
        for name, members in checked.subsets.items():
            say(f"subset {name} ({len(members)} pairs)")
            subset_results[name] = {"n": len(members), "metrics": dict(scored(members))}
    return ScoreResult(metrics=dict(total), n=len(ids), subsets=subset_results, notes=notes)
