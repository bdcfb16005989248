"""Caption diversity bench: self-BLEU-4 and distinct bigrams of each setting's references.

Run: ``.venv/bin/python bench/captions.py [--pairs 100] [--seed 0]``. Pairs come from the dry run
(``generators/synthetic/dry_run.py``: the kits, the change registry and the caption writers without
pixels), cycling through every change type; prints a markdown section for RESULTS.md.

* self-BLEU-4: per pair, the mean BLEU-4 of each reference against each other one (pycocoevalcap's
  BleuScorer); reported as the mean and the 95th percentile over pairs. Lower is more varied.
* distinct bigrams per 100 words, over all references of a setting.
* words per reference, and how many pairs have two equal references (must be 0).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generators.synthetic.dry_run import dry_pairs  # noqa: E402
from omnidiff.metrics.diversity import distinct_bigrams_per_100_words, self_bleu  # noqa: E402


def measure(setting: str, n: int, seed: int) -> dict:
    start = time.perf_counter()
    pairs = dry_pairs(setting, n, seed)
    seconds = time.perf_counter() - start
    groups = [p.captions for p in pairs]
    scores = self_bleu(groups)
    by_type: dict[str, list[float]] = defaultdict(list)
    for pair, score in zip(pairs, scores):
        by_type[pair.change_type].append(score)
    words = [len(c.split()) for g in groups for c in g]
    ordered = sorted(scores)
    return {"setting": setting, "pairs": len(pairs), "self_bleu": statistics.mean(scores),
            "self_bleu_p95": ordered[int(0.95 * (len(ordered) - 1))], "worst_type": max(by_type, key=lambda k: statistics.mean(by_type[k])),
            "worst_type_bleu": max(statistics.mean(v) for v in by_type.values()),
            "distinct_bigrams_per_100_words": distinct_bigrams_per_100_words([c for g in groups for c in g]),
            "words": statistics.mean(words), "equal_refs": sum(len(set(g)) < len(g) for g in groups), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100, help="pairs per setting")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = [measure(s, args.pairs, args.seed) for s in ("tabletop", "indoor", "outdoor")]
    print(f"## Caption diversity (bench/captions.py), {time.strftime('%Y-%m-%d')}, 2-core CPU\n")
    print(f"`bench/captions.py --pairs {args.pairs} --seed {args.seed}`: references of dry-run pairs (every change type in turn).\n")
    print("| setting | pairs | self-BLEU-4 mean | p95 | highest change type | distinct bigrams / 100 words | words / reference | pairs with equal references |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['setting']} | {r['pairs']} | {r['self_bleu']:.3f} | {r['self_bleu_p95']:.3f} | {r['worst_type']} ({r['worst_type_bleu']:.2f}) "
              f"| {r['distinct_bigrams_per_100_words']:.1f} | {r['words']:.1f} | {r['equal_refs']} |")


if __name__ == "__main__":
    main()
