"""Helpers of the scoring tests: a seeded caption generator and the stock pycocoevalcap route."""

from __future__ import annotations

import random

COLORS = ["red", "blue", "green", "yellow", "gray", "purple", "cyan", "brown"]
SHAPES = ["cube", "sphere", "cylinder"]
MATERIALS = ["rubber", "metal", "shiny", "matte"]
PLACES = ["left of the", "right of the", "behind the", "in front of the", "near the"]
TEMPLATES = {
    "color": ["the {c1} {s} changed to {c2}", "the {c1} {s} became {c2}", "someone painted the {c1} {s} {c2}"],
    "material": ["the {c1} {m} {s} became {m2}", "the {c1} {s} changed its material to {m2}"],
    "add": ["someone added a {c1} {s}", "a {c1} {m} {s} has been added {p} {c2} {s}"],
    "drop": ["the {c1} {s} has disappeared", "the {c1} {m} {s} {p} {c2} {s} is missing"],
    "move": ["the {c1} {s} moved", "the {c1} {s} changed its location to the {p} {c2} {s}"],
    "distractor": ["the scene is the same as before", "there is no difference", "nothing has changed"],
}
TYPES = list(TEMPLATES)


def caption(rng: random.Random, kind: str, words: int | None = None) -> str:
    text = rng.choice(TEMPLATES[kind]).format(
        c1=rng.choice(COLORS), c2=rng.choice(COLORS), s=rng.choice(SHAPES), m=rng.choice(MATERIALS),
        m2=rng.choice(MATERIALS), p=rng.choice(PLACES),
    )
    if words:
        extra = []
        while len(text.split()) + len(extra) < words:
            extra.append(rng.choice(COLORS + SHAPES + MATERIALS + ["and", "the", "then", "a", "."]))
        text = text + " , " + " ".join(extra)
    return text


def synthetic_corpus(n: int, seed: int, refs_per_pair: int = 3, words: int | None = None):
    """(predictions, references, kinds) for ``n`` CLEVR-Change-like pairs; ids '<k>.png' and '<k>.png_n'."""
    rng = random.Random(seed)
    preds: dict[str, str] = {}
    refs: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for i in range(n):
        kind = TYPES[i % len(TYPES)]
        pid = f"{i:06d}.png" + ("_n" if kind == "distractor" else "")
        kinds[pid] = kind
        refs[pid] = [caption(rng, kind, words) for _ in range(refs_per_pair)]
        guess = kind if rng.random() < 0.7 else rng.choice(TYPES)
        preds[pid] = caption(rng, guess, words)
    return preds, refs, kinds


def stock_scores(preds: dict[str, str], refs: dict[str, list[str]], ids: list[str], meteor=None) -> dict[str, float]:
    """What RobustChangeCaptioning's evaluate.py gets for ``ids``: a full pycocoevalcap run on them alone."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tok = PTBTokenizer()
    gts = tok.tokenize({i: [{"caption": c} for c in refs[i]] for i in ids})
    res = tok.tokenize({i: [{"caption": preds[i]}] for i in ids})
    out: dict[str, float] = {}
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    for k in range(4):
        out[f"Bleu_{k + 1}"] = bleu[k]
    own = meteor is None
    meteor = meteor or Meteor()
    try:
        out["METEOR"], _ = meteor.compute_score(gts, res)
    finally:
        if own:
            close_stock_meteor(meteor)
    out["ROUGE_L"], _ = Rouge().compute_score(gts, res)
    out["CIDEr"], _ = Cider().compute_score(gts, res)
    return {k: float(v) for k, v in out.items()}


def close_stock_meteor(meteor) -> None:
    """pycocoevalcap leaves its JVM to __del__; close it here so no test leaks a process."""
    meteor.meteor_p.stdin.close()
    meteor.meteor_p.kill()
    meteor.meteor_p.wait()
    meteor.meteor_p.stdout.close()
    meteor.meteor_p.stderr.close()
    meteor.meteor_p = _Closed()


class _Closed:
    """Stands in for the closed process so that pycocoevalcap's __del__ has nothing left to do."""

    class _Pipe:
        def close(self) -> None:
            pass

    stdin = _Pipe()

    def kill(self) -> None:
        pass

    def wait(self) -> int:
        return 0
