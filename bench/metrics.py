"""Scoring speed: omnidiff.metrics against the stock route of RobustChangeCaptioning's evaluate.py.

The CLEVR-Change protocol (total, semantic, distractor and the five change types) is scored on
synthetic captions from a seeded generator, twice: once by ``score_captions`` (one tokenizer call,
one METEOR JVM, cached per-pair statistics) and once the stock way, a full pycocoevalcap
tokenize-and-score run per subset (PTBTokenizer, Bleu, a new Meteor, Rouge, Cider). SPICE is off in
both. Prints both times, their ratio and the largest difference between the numbers.

    .venv/bin/python bench/metrics.py            # 8,000 x ~10 words and 2,000 x ~60 words
    .venv/bin/python bench/metrics.py --quick    # 800 x ~10 and 200 x ~60, a smoke run
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402

from annotations import TAXONOMY, PairRecord  # noqa: E402
from omnidiff.benchmarks import get_benchmark  # noqa: E402
from omnidiff.metrics import score_captions  # noqa: E402

STOCK_METRICS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")
KINDS = ("color", "material", "add", "drop", "move", "distractor")
COLORS = ("red", "blue", "green", "yellow", "gray", "purple", "cyan", "brown")
SHAPES = ("cube", "sphere", "cylinder", "object", "thing")
MATERIALS = ("rubber", "metal", "shiny", "matte")
RELATIONS = ("left of the", "right of the", "behind the", "in front of the", "next to the")
PHRASES = {
    "color": ("the {c} {s} changed its color to {c2}", "the {c} {s} became {c2}"),
    "material": ("the {c} {m} {s} became {m2}", "the {c} {s} changed its material"),
    "add": ("a {c} {m} {s} has been added {r} {c2} {s2}", "someone added a {c} {s}"),
    "drop": ("the {c} {s} {r} {c2} {s2} has disappeared", "the {c} {m} {s} is missing"),
    "move": ("the {c} {s} moved {r} {c2} {s2}", "the {c} {s} changed its location"),
    "distractor": ("the scene is the same as before", "there is no difference", "nothing has changed"),
}
FILLER = ("the", "scene", "shows", "a", "small", "large", "and", "then", "while", "also", "object", "near")


@dataclass
class Workload:
    name: str
    pairs: int
    words: int
    refs: int


def sentence(rng: random.Random, kind: str, words: int) -> str:
    """A caption of about ``words`` words: change phrases joined until long enough."""
    parts: list[str] = []
    count = 0
    while count < words - 2:
        phrase = rng.choice(PHRASES[kind]).format(
            c=rng.choice(COLORS), c2=rng.choice(COLORS), s=rng.choice(SHAPES), s2=rng.choice(SHAPES),
            m=rng.choice(MATERIALS), m2=rng.choice(MATERIALS), r=rng.choice(RELATIONS))
        parts.append(phrase)
        count += len(phrase.split())
        if count < words - 2:
            filler = " ".join(rng.choice(FILLER) for _ in range(rng.randint(1, 3)))
            parts.append(filler)
            count += len(filler.split())
    return " , ".join(parts) + " ."


def corpus(work: Workload, seed: int):
    rng = random.Random(seed)
    preds, refs, records = {}, {}, []
    for i in range(work.pairs):
        # as in CLEVR-Change, every scene gives a semantic pair '<n>.png' and a distractor '<n>.png_n'
        kind = "distractor" if i % 2 else KINDS[(i // 2) % (len(KINDS) - 1)]
        pid = f"{i // 2:06d}.png" + ("_n" if kind == "distractor" else "")
        refs[pid] = [sentence(rng, kind, work.words) for _ in range(work.refs)]
        preds[pid] = sentence(rng, kind if rng.random() < 0.7 else rng.choice(KINDS), work.words)
        mapped = TAXONOMY.map_native("clevr_change", kind)
        records.append(PairRecord(pair_id=pid, scene_id=pid, benchmark="clevr_change", split="test",
                                  domain="render", image_before=None, image_after=None,
                                  change_types=list(mapped.change_types), distractor=mapped.distractor))
    return preds, refs, get_benchmark("clevr-change").subsets(records)


def stock_route(preds, refs, subsets, progress: Progress) -> dict[str, dict[str, float]]:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    task = progress.add_task("stock route (per subset)", total=len(subsets))
    out: dict[str, dict[str, float]] = {}
    for name, ids in subsets.items():
        tok = PTBTokenizer()
        gts = tok.tokenize({i: [{"caption": c} for c in refs[i]] for i in ids})
        res = tok.tokenize({i: [{"caption": preds[i]}] for i in ids})
        scores: dict[str, float] = {}
        bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
        scores.update({f"Bleu_{k + 1}": float(bleu[k]) for k in range(4)})
        meteor = Meteor()
        scores["METEOR"] = float(meteor.compute_score(gts, res)[0])
        meteor.meteor_p.stdin.close()
        meteor.meteor_p.kill()
        meteor.meteor_p.wait()
        scores["ROUGE_L"] = float(Rouge().compute_score(gts, res)[0])
        scores["CIDEr"] = float(Cider().compute_score(gts, res)[0])
        out[name] = scores
        progress.advance(task)
    return out


def run(work: Workload, seed: int, console: Console) -> dict:
    preds, refs, subsets = corpus(work, seed)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"omnidiff.metrics ({work.name})", total=None)
        start = time.perf_counter()
        ours = score_captions(preds, refs, subsets, spice=False,
                              progress=lambda message: progress.update(task, description=message))
        ours_s = time.perf_counter() - start
        progress.remove_task(task)
        start = time.perf_counter()
        stock = stock_route(preds, refs, subsets, progress)
        stock_s = time.perf_counter() - start
    diff = max(abs(ours.subsets[name]["metrics"][m] - stock[name][m]) for name in subsets for m in STOCK_METRICS)
    return {"workload": work, "ours_s": ours_s, "stock_s": stock_s, "max_diff": diff,
            "subset_pairs": sum(len(v) for v in subsets.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    workloads = [Workload("short", 8000 // scale, 10, 5), Workload("long", 2000 // scale, 60, 3)]
    console = Console(stderr=True)
    print(f"machine: {platform.machine()}, python {platform.python_version()}, seed {args.seed}")
    print("| workload | pairs | words | refs/pair | pairs over 8 subsets | omnidiff.metrics s | stock route s | speed-up | max abs diff |")
    print("|---|---|---|---|---|---|---|---|---|")
    for work in workloads:
        r = run(work, args.seed, console)
        print(f"| {work.name} | {work.pairs} | ~{work.words} | {work.refs} | {r['subset_pairs']} | {r['ours_s']:.1f} | "
              f"{r['stock_s']:.1f} | {r['stock_s'] / r['ours_s']:.1f}x | {r['max_diff']:.1e} |", flush=True)


if __name__ == "__main__":
    main()
