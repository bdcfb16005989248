"""Reading predictions, references and subsets for ``omnidiff score``.

Predictions: a COCO caption results file (JSON list of ``{"image_id", "caption"}``) or JSONL with
``{"pair_id", "caption"}`` per line. References: COCO caption ground truth (``images`` and
``annotations``; every annotation of an image is one reference), JSONL with
``{"pair_id", "captions": [...]}`` per line, or a store folder (its ``captions`` column).
Subsets: a JSON object, name -> list of pair ids. Ids are compared as strings (COCO ids are often ints).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from annotations import jsonl
from omnidiff.metrics.hygiene import ScoringInputError


def _read_text(path: Path) -> str:
    return jsonl.read_text(path, ScoringInputError)


def _json_or_jsonl(path: Path) -> tuple[str, Any]:
    """('json', value) when the whole file is one JSON document, else ('jsonl', list of lines)."""
    text = _read_text(path)
    if not text.strip():
        raise ScoringInputError(f"{path}: the file is empty")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        pass
    else:
        if isinstance(value, dict) and "pair_id" in value:  # JSON lines with a single line
            return "jsonl", [(1, value)]
        return "json", value
    return "jsonl", list(jsonl.parse_lines(text, str(path), ScoringInputError))


def _field(row: Any, where: str, *names: str) -> Any:
    if not isinstance(row, dict):
        raise ScoringInputError(f"{where}: expected a JSON object, got {type(row).__name__}")
    for name in names:
        if name in row:
            return row[name]
    raise ScoringInputError(f"{where}: missing {' or '.join(repr(n) for n in names)}")


def _pair_id(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ScoringInputError(f"{where}: a pair id must be a string or an integer")
    return str(value)


def _caption(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ScoringInputError(f"{where}: a caption must be a string, got {type(value).__name__}")
    return value


def _rows(path: Path, kind: str, value: Any) -> Iterator[tuple[str, Any]]:
    if kind == "json":
        if not isinstance(value, list):
            raise ScoringInputError(f"{path}: expected a JSON list or JSON lines")
        for i, row in enumerate(value):
            yield f"{path}: entry {i}", row
    else:
        for lineno, row in value:
            yield f"{path}: line {lineno}", row


def load_predictions(path: Path) -> dict[str, str]:
    """Pair id -> caption; a pair predicted twice is an error."""
    path = Path(path)
    kind, value = _json_or_jsonl(path)
    preds: dict[str, str] = {}
    for where, row in _rows(path, kind, value):
        pid = _pair_id(_field(row, where, "pair_id", "image_id"), where)
        caption = _caption(_field(row, where, "caption"), where)
        if pid in preds:
            raise ScoringInputError(f"{where}: pair {pid!r} has a second prediction")
        preds[pid] = caption
    if not preds:
        raise ScoringInputError(f"{path}: no predictions")
    return preds


def _coco_references(path: Path, gt: dict) -> dict[str, list[str]]:
    annotations = gt.get("annotations")
    if not isinstance(annotations, list):
        raise ScoringInputError(f"{path}: COCO ground truth needs an 'annotations' list")
    refs: dict[str, list[str]] = {}
    for image in gt.get("images") or []:
        where = f"{path}: images"
        refs.setdefault(_pair_id(_field(image, where, "id"), where), [])
    for i, ann in enumerate(annotations):
        where = f"{path}: annotation {i}"
        pid = _pair_id(_field(ann, where, "image_id"), where)
        refs.setdefault(pid, []).append(_caption(_field(ann, where, "caption"), where))
    empty = [pid for pid, caps in refs.items() if not caps]
    if empty:
        raise ScoringInputError(f"{path}: image {empty[0]!r} has no annotation")
    return refs


def _store_references(path: Path, split: str | None) -> dict[str, list[str]]:
    from annotations import Store

    store = Store.open(path)
    table = store.table(columns=["pair_id", "captions"], split=split)
    refs = {pid: list(caps or []) for pid, caps in zip(table["pair_id"].to_pylist(), table["captions"].to_pylist())}
    if not refs:
        raise ScoringInputError(f"{path}: the store has no pairs" + (f" in split {split!r}" if split else ""))
    return refs


def load_references(path: Path, split: str | None = None) -> dict[str, list[str]]:
    """Pair id -> reference captions, from COCO ground truth, JSONL or a store folder."""
    path = Path(path)
    if path.is_dir():
        return _store_references(path, split)
    if split is not None:
        raise ScoringInputError("--split applies only when the references are a store folder")
    kind, value = _json_or_jsonl(path)
    if kind == "json" and isinstance(value, dict):
        return _coco_references(path, value)
    refs: dict[str, list[str]] = {}
    for where, row in _rows(path, kind, value):
        pid = _pair_id(_field(row, where, "pair_id"), where)
        captions = _field(row, where, "captions")
        if not isinstance(captions, list):
            raise ScoringInputError(f"{where}: 'captions' must be a list of strings")
        if pid in refs:
            raise ScoringInputError(f"{where}: pair {pid!r} appears twice")
        refs[pid] = [_caption(c, where) for c in captions]
    if not refs:
        raise ScoringInputError(f"{path}: no references")
    return refs


def load_subsets(path: Path) -> dict[str, list[str]]:
    """Subset name -> pair ids, from a JSON object."""
    path = Path(path)
    text = _read_text(path)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScoringInputError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(value, dict):
        raise ScoringInputError(f"{path}: expected a JSON object of subset name -> list of pair ids")
    subsets: dict[str, list[str]] = {}
    for name, members in value.items():
        where = f"{path}: subset {name!r}"
        if not isinstance(members, list):
            raise ScoringInputError(f"{where}: expected a list of pair ids")
        subsets[name] = [_pair_id(m, where) for m in members]
    return subsets
