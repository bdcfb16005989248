"""Helpers of the scoring tests: a seeded caption generator, the stock pycocoevalcap route, and one warm
METEOR JVM per test process for the tests that score in-process (fixtures in ``conftest.py``).

A METEOR 1.5 JVM spends about 15 CPU seconds loading its paraphrase table before its first answer, and
its ``-stdio`` protocol keeps no state between requests (pycocoevalcap reuses one JVM for every
``compute_score``; ``score_captions(..., meteor=session)`` does the same for several jobs). Tests whose
subject is the numbers, not the JVM's start, borrow one running JVM instead of starting their own."""

from __future__ import annotations

import random

# bound now: the ``shared_meteor`` fixture replaces the module's name with the borrowing factory
from omnidiff.metrics.meteor import MeteorSession

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


def stock_tokenize(preds: dict[str, str], refs: dict[str, list[str]], ids: list[str]) -> tuple[dict, dict]:
    """pycocoevalcap's PTBTokenizer over ``ids``: (references, predictions) as ``compute_score`` takes them."""
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tok = PTBTokenizer()
    gts = tok.tokenize({i: [{"caption": c} for c in refs[i]] for i in ids})
    res = tok.tokenize({i: [{"caption": preds[i]}] for i in ids})
    return gts, res


def stock_tokenize_once(preds: dict[str, str], refs: dict[str, list[str]], ids: list[str]) -> tuple[dict, dict]:
    """:func:`stock_tokenize` of a whole corpus, to be sliced per subset (``tokenized=`` of :func:`stock_scores`).

    The tokenizer runs with ``-preserveLines``: each caption is one line, tokenized on its own, so a subset's
    slice equals a tokenizer run on the subset alone, for captions free of the line ends that the jar
    splits on and Python does not (checked here; pycocoevalcap itself misaligns on those)."""
    odd = [i for i in ids for text in (preds[i], *refs[i]) if len(text.replace("\n", " ").splitlines()) > 1]
    assert not odd, f"captions with line ends cannot be tokenized once and sliced: {odd[:3]}"
    return stock_tokenize(preds, refs, ids)


def stock_scores(preds: dict[str, str], refs: dict[str, list[str]], ids: list[str], meteor=None,
                 tokenized: tuple[dict, dict] | None = None) -> dict[str, float]:
    """What RobustChangeCaptioning's evaluate.py gets for ``ids``: a full pycocoevalcap run on them alone.

    ``tokenized``: :func:`stock_tokenize_once` of a corpus holding ``ids`` (saves a tokenizer JVM per subset)."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge

    if tokenized is None:
        gts, res = stock_tokenize(preds, refs, ids)
    else:
        gts, res = ({i: tokenized[0][i] for i in ids}, {i: tokenized[1][i] for i in ids})
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


class WarmMeteors:
    """The METEOR JVMs of a test process, each started on first use and started again if a test left it dead
    (a watchdog kill, a failed job) or, for pycocoevalcap's, locked: ``session()`` is this package's
    ``MeteorSession``, ``stock()`` pycocoevalcap's own ``Meteor`` (a JVM of its own, for the comparisons)."""

    def __init__(self) -> None:
        self._session = None
        self._stock = None

    def session(self):
        if self._session is None or self._session._proc.poll() is not None:
            self._session = MeteorSession()
        return self._session

    def borrow(self):
        """What ``MeteorSession()`` gives when a test borrows the warm JVM: the Java checks run as for a new
        session (so a missing or old Java is the same error), then the running session, closed by nobody
        but killed, like a session of its own, when the job using it fails."""
        from omnidiff.metrics.java import find_java

        find_java()
        return BorrowedMeteor(self.session())

    def stock(self):
        from pycocoevalcap.meteor.meteor import Meteor

        if self._stock is not None and (self._stock.meteor_p.poll() is not None or self._stock.lock.locked()):
            close_stock_meteor(self._stock)
            self._stock = None
        if self._stock is None:
            self._stock = Meteor()
        return self._stock

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._stock is not None:
            close_stock_meteor(self._stock)
            self._stock = None


class BorrowedMeteor:
    """A running session lent to code that would start (and close) its own."""

    def __init__(self, session) -> None:
        self._session = session

    def __enter__(self):
        return self._session

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        if exc_type is not None:  # as MeteorSession: a failed job may leave queued answers; WarmMeteors restarts it
            self._session.__exit__(exc_type, *exc_info)

    def __getattr__(self, name: str):
        return getattr(self._session, name)

    def close(self) -> None:
        pass
