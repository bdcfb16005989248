"""How different the references of one pair are: self-BLEU and distinct bigrams.

Self-BLEU-4 of a pair is the mean, over ordered pairs (i, j) of its references, of the BLEU-4 of
reference i scored against reference j alone, computed by pycocoevalcap's own ``BleuScorer``
(sentence level, its smoothing and brevity penalty). Low values mean the references differ in
wording and structure; one template with a swapped word scores near 1. Tokens are lowercased
words and numbers (PTB-like, without the Java tokenizer, so that the check runs anywhere).
"""

from __future__ import annotations

import re
from itertools import permutations

from pycocoevalcap.bleu.bleu_scorer import BleuScorer

WORD = re.compile(r"[a-z0-9%]+(?:'[a-z]+)?")


def tokens(text: str) -> list[str]:
    return WORD.findall(text.lower())


def self_bleu(groups: list[list[str]], n: int = 4) -> list[float]:
    """Self-BLEU-n of each group of references (one value per group; groups of one score 0)."""
    scorer = BleuScorer(n=n)
    owners: list[int] = []
    for g, refs in enumerate(groups):
        for i, j in permutations(range(len(refs)), 2):
            scorer += (" ".join(tokens(refs[i])), [" ".join(tokens(refs[j]))])
            owners.append(g)
    if not owners:
        return [0.0] * len(groups)
    _, per_item = scorer.compute_score(option="closest", verbose=0)
    totals, counts = [0.0] * len(groups), [0] * len(groups)
    for g, value in zip(owners, per_item[n - 1]):
        totals[g] += value
        counts[g] += 1
    return [t / c if c else 0.0 for t, c in zip(totals, counts)]


def distinct_bigrams_per_100_words(captions: list[str]) -> float:
    """Distinct word bigrams over the whole corpus, per 100 words of it."""
    words = 0
    seen: set[tuple[str, str]] = set()
    for caption in captions:
        toks = tokens(caption)
        words += len(toks)
        seen.update(zip(toks, toks[1:]))
    return 100.0 * len(seen) / words if words else 0.0
