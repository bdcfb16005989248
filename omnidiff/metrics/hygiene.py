"""Input checks and the documented caption normalisation of a scoring job.

Decisions (each is tested):

* Line breaks of any kind (``\\n``, ``\\r``, U+2028/2029, vertical tab, form feed) become one space.
  pycocoevalcap replaces only ``\\n``; the PTB tokenizer also splits lines on the others, which would
  shift every later caption by one. Captions with only ``\\n`` score exactly as pycocoevalcap scores them.
* ``|||`` is METEOR's field separator. The PTB tokenizer splits it into ``| | |`` and METEOR drops it
  from hypotheses as pycocoevalcap does; a ``|||`` that survived tokenization in a reference is removed.
* Empty captions are kept: an empty prediction scores (near) zero, empty reference sentences are
  counted as references, as the published Spot-the-Diff scores count them. Notes give their number.
* Non-ASCII text is passed through as UTF-8 (the JVMs run with ``-Dfile.encoding=UTF-8``).
* Captions are scored whole, as pycocoevalcap scores them: no length cut, so a runaway generation
  is not rewarded (a 5,000-word rambling prediction scores BLEU-1 about 0.02, as stock; cut to 400
  tokens it would score about 0.19). METEOR's aligner is super-polynomial on long repetitive text
  (a 2,000-word looping caption against a similar reference takes minutes in METEOR 1.5), so the
  progress line says when captions longer than ``LONG_CAPTION_TOKENS`` are being aligned. A cut is
  opt-in and named: ``max_tokens=N`` (``--max-tokens N`` on ``score`` and ``eval``) cuts every
  tokenized caption to its first N tokens for every metric, and ``notes["max_tokens"]`` says so.
* A reference pair without a prediction is an error unless ``allow_missing`` is set; then only the
  predicted pairs are scored (what pycocoevalcap's ``COCOEvalCap`` does) and a note says how many
  were left out. A prediction for a pair that has no references is always an error.
* A pair whose reference list is empty, a caption that is not a string: errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from annotations.errors import OmniDiffError

LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c]")
EXAMPLES = 3
LONG_CAPTION_TOKENS = 400  # beyond this METEOR gets slow; said in the progress, never cut unless asked


class ScoringInputError(OmniDiffError):
    """Predictions, references or subsets that cannot be scored as given."""


def normalize_caption(text: str) -> str:
    """One line: every line break becomes a space."""
    return LINE_BREAKS.sub(" ", text)


def _examples(ids: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in list(ids)[:EXAMPLES])
    return shown + (", ..." if len(ids) > EXAMPLES else "")


@dataclass
class CheckedInputs:
    """The pairs to score (reference order), their one-line captions, and what was noticed."""

    ids: list[str]
    predictions: dict[str, str]
    references: dict[str, list[str]]
    subsets: dict[str, list[str]]
    notes: dict[str, str] = field(default_factory=dict)


def check_inputs(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    subsets: Mapping[str, Sequence[str]] | None,
    allow_missing: bool,
) -> CheckedInputs:
    """Validate and normalise; raises :class:`ScoringInputError` with a one-line reason."""
    notes: dict[str, str] = {}
    unknown = [pid for pid in predictions if pid not in references]
    if unknown:
        raise ScoringInputError(
            f"{len(unknown)} prediction(s) for pairs that have no references: {_examples(unknown)}"
        )
    missing = [pid for pid in references if pid not in predictions]
    if missing and not allow_missing:
        raise ScoringInputError(
            f"{len(missing)} of {len(references)} reference pairs have no prediction: {_examples(missing)} "
            "(pass --allow-missing to score only the predicted pairs)"
        )
    if missing:
        notes["missing_predictions"] = f"{len(missing)} reference pairs without a prediction were not scored"
    ids = [pid for pid in references if pid in predictions]
    if not ids:
        raise ScoringInputError("nothing to score: no pair has both a prediction and references")

    changed = 0
    preds: dict[str, str] = {}
    refs: dict[str, list[str]] = {}
    empty_preds = empty_refs = 0
    for pid in ids:
        hyp = predictions[pid]
        if not isinstance(hyp, str):
            raise ScoringInputError(f"prediction of pair {pid!r} is not a string ({type(hyp).__name__})")
        ref_list = references[pid]
        if isinstance(ref_list, str) or not isinstance(ref_list, Sequence):
            raise ScoringInputError(f"references of pair {pid!r} must be a list of strings")
        if len(ref_list) == 0:
            raise ScoringInputError(f"pair {pid!r} has no reference captions")
        bad = [r for r in ref_list if not isinstance(r, str)]
        if bad:
            raise ScoringInputError(f"a reference of pair {pid!r} is not a string ({type(bad[0]).__name__})")
        clean_hyp = normalize_caption(hyp)
        clean_refs = [normalize_caption(r) for r in ref_list]
        changed += (clean_hyp != hyp) + sum(c != r for c, r in zip(clean_refs, ref_list))
        empty_preds += not clean_hyp.strip()
        empty_refs += sum(not r.strip() for r in clean_refs)
        preds[pid] = clean_hyp
        refs[pid] = clean_refs
    if changed:
        notes["line_breaks"] = f"{changed} caption(s) had line breaks, replaced by spaces"
    if empty_preds:
        notes["empty_predictions"] = f"{empty_preds} empty prediction(s) scored as empty"
    if empty_refs:
        notes["empty_references"] = f"{empty_refs} empty reference sentence(s) counted as references"

    scored = set(ids)
    checked_subsets: dict[str, list[str]] = {}
    for name, members in (subsets or {}).items():
        if isinstance(members, str) or not isinstance(members, Sequence):
            raise ScoringInputError(f"subset {name!r} must be a list of pair ids")
        members = [str(m) for m in members]
        if len(set(members)) != len(members):
            raise ScoringInputError(f"subset {name!r} lists a pair id twice")
        strangers = [m for m in members if m not in references]
        if strangers:
            raise ScoringInputError(
                f"subset {name!r} lists {len(strangers)} pair(s) that have no references: {_examples(strangers)}"
            )
        checked_subsets[name] = [m for m in members if m in scored]
    return CheckedInputs(ids, preds, refs, checked_subsets, notes)


def cap_tokens(tokenized: str, limit: int | None) -> tuple[str, bool]:
    """(caption cut to ``limit`` tokens, whether it was cut); ``None`` keeps every caption whole."""
    if limit is None:
        return tokenized, False
    tokens = tokenized.split(" ")
    if len(tokens) <= limit:
        return tokenized, False
    return " ".join(tokens[:limit]), True


def check_max_tokens(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ScoringInputError(f"--max-tokens {limit!r}: give a positive number of tokens, or leave it out")
    return limit
