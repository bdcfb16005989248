"""CIDEr-D as pycocoevalcap 1.2's ``CiderScorer`` computes it, re-run cheaply for many subsets.

CIDEr's document frequencies and its ``log(N)`` are taken over the references of the corpus being
scored, so every subset is recomputed. What does not depend on the corpus is indexed once: every
caption's n-gram counts (as integer ids), each pair's set of reference n-grams, and for each
(pair, reference, n) the n-grams the hypothesis shares with that reference. A subset then costs a
few NumPy reductions. The arithmetic is ``CiderScorer.compute_cider``'s: with the idf weight ``w``
(never negative, since a document frequency never exceeds the corpus size) the clipped product
``min(tf_h w, tf_r w) * tf_r w`` equals ``w**2 * min(tf_h, tf_r) * tf_r``; its quirks are kept (the
length of the Gaussian penalty counts bigrams; an n-gram absent from the references gets df 1).
Tests compare with ``CiderScorer`` to 1e-9.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from pycocoevalcap.cider.cider_scorer import precook

N = 4
SIGMA = 6.0


class CiderCache:
    """Per-pair n-gram index of hypotheses and references, scored per subset on demand."""

    def __init__(self, hypotheses: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> None:
        self.ids = list(hypotheses)
        self.index = {pid: k for k, pid in enumerate(self.ids)}
        vocab: dict[tuple, int] = {}
        order_of: list[int] = []

        def gid(ngram: tuple) -> int:
            g = vocab.get(ngram)
            if g is None:
                g = vocab[ngram] = len(order_of)
                order_of.append(len(ngram) - 1)
            return g

        hyp_pair, hyp_gram, hyp_tf = [], [], []          # hypothesis entries
        ref_slot, ref_gram, ref_tf = [], [], []          # reference entries (slot = one reference)
        slot_pair, slot_len = [], []                     # per reference slot
        doc_pair, doc_gram = [], []                      # unique reference n-grams per pair
        com_slot, com_gram, com_weight = [], [], []      # shared n-grams: min(tf_h, tf_r) * tf_r
        hyp_len = np.zeros(len(self.ids))
        n_refs = np.zeros(len(self.ids))
        for k, pid in enumerate(self.ids):
            hyp = {gid(g): tf for g, tf in precook(hypotheses[pid], N).items()}
            for g, tf in hyp.items():
                hyp_pair.append(k); hyp_gram.append(g); hyp_tf.append(tf)
            hyp_len[k] = sum(tf for g, tf in hyp.items() if order_of[g] == 1)
            seen: set[int] = set()
            refs = references[pid]
            n_refs[k] = len(refs)
            for ref in refs:
                slot = len(slot_pair)
                slot_pair.append(k)
                counts = {gid(g): tf for g, tf in precook(ref, N).items()}
                slot_len.append(sum(tf for g, tf in counts.items() if order_of[g] == 1))
                for g, tf in counts.items():
                    ref_slot.append(slot); ref_gram.append(g); ref_tf.append(tf)
                    h = hyp.get(g)
                    if h is not None:
                        com_slot.append(slot); com_gram.append(g); com_weight.append(min(h, tf) * tf)
                seen.update(counts)
            doc_pair.extend([k] * len(seen)); doc_gram.extend(seen)

        self._order = np.array(order_of, dtype=np.int64)
        self._vocab_size = len(order_of)
        as_int = lambda xs: np.array(xs, dtype=np.int64)  # noqa: E731
        self._hyp_pair, self._hyp_gram, self._hyp_tf = as_int(hyp_pair), as_int(hyp_gram), np.array(hyp_tf, float)
        self._ref_slot, self._ref_gram, self._ref_tf = as_int(ref_slot), as_int(ref_gram), np.array(ref_tf, float)
        self._slot_pair, self._slot_len = as_int(slot_pair), np.array(slot_len, float)
        self._doc_pair, self._doc_gram = as_int(doc_pair), as_int(doc_gram)
        self._com_slot, self._com_gram = as_int(com_slot), as_int(com_gram)
        self._com_weight = np.array(com_weight, float)
        self._hyp_len, self._n_refs = hyp_len, n_refs

    def item_scores(self, ids: Sequence[str]) -> list[float]:
        """Per-pair CIDEr of ``ids`` with the document frequencies of exactly these pairs."""
        rows = np.array([self.index[pid] for pid in ids], dtype=np.int64)
        member = np.zeros(len(self.ids), dtype=bool)
        member[rows] = True
        df = np.bincount(self._doc_gram[member[self._doc_pair]], minlength=self._vocab_size).astype(float)
        # np.log on both sides, as CiderScorer: an n-gram in every document must weigh exactly 0
        weight = np.log(float(len(ids))) - np.log(np.maximum(1.0, df))

        def norms(owner: np.ndarray, gram: np.ndarray, tf: np.ndarray, owners: int) -> np.ndarray:
            key = owner * N + self._order[gram]
            return np.sqrt(np.bincount(key, weights=(tf * weight[gram]) ** 2, minlength=owners * N))

        n_slots = len(self._slot_pair)
        hyp_norm = norms(self._hyp_pair, self._hyp_gram, self._hyp_tf, len(self.ids)).reshape(-1, N)
        ref_norm = norms(self._ref_slot, self._ref_gram, self._ref_tf, n_slots).reshape(-1, N)
        common = np.bincount(self._com_slot * N + self._order[self._com_gram],
                             weights=weight[self._com_gram] ** 2 * self._com_weight,
                             minlength=n_slots * N).reshape(-1, N)
        denom = hyp_norm[self._slot_pair] * ref_norm
        val = np.where(denom != 0, common / np.where(denom != 0, denom, 1.0), common)
        delta = self._hyp_len[self._slot_pair] - self._slot_len
        penalty = np.e ** (-(delta ** 2) / (2 * SIGMA ** 2))
        per_slot = (val * penalty[:, None]).sum(axis=1)
        per_pair = np.bincount(self._slot_pair, weights=per_slot, minlength=len(self.ids))
        scores = per_pair / N / self._n_refs * 10.0
        return [float(s) for s in scores[rows]]

    def corpus_score(self, ids: Sequence[str]) -> float:
        return float(np.mean(np.array(self.item_scores(ids))))
