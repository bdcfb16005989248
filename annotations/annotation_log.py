"""Human annotations as an append-only JSON-lines log beside the shards (``<store>/annotations/log.jsonl``).

Why a log and not a rewrite of the Parquet shards: every keystroke an annotator saves must survive a
crash, a closed tab or a second annotator saving the same pair, and nothing may be overwritten
silently. Each save is one line, appended with ``O_APPEND`` under an exclusive ``flock`` and fsync'd
before it is acknowledged. Readers take the latest entry of a pair (by sequence number); the full
history stays in the file. A writer killed mid-line leaves a torn last line, which readers skip and the
next writer terminates before appending its own line.

An entry must be well formed to be written (``check_entry``: a safe pair id, an annotator, a list of
caption strings, a list of taxonomy change types). The same check runs on read: a line that parses but
fails it (written by hand or by another tool) is never applied, and ``validate`` reports it.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path
from typing import Any, Iterable

from annotations import jsonl
from annotations.errors import OmniDiffError, UnknownChangeType
from annotations.schema import pair_id_problem
from annotations.taxonomy import TAXONOMY

LOG_RELPATH = Path("annotations") / "log.jsonl"
REQUIRED_KEYS = ("pair_id", "annotator", "captions", "change_types")
_TAIL_BYTES = 1 << 16


class AnnotationError(OmniDiffError):
    """An annotation entry that cannot be recorded as given."""


@dataclass
class LogScan:
    """What a full read of the log found: good entries, unreadable (torn) lines, and malformed entries
    (line number, reason) that parse as JSON but are not valid annotations."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    torn_lines: int = 0
    malformed: list[tuple[int, str]] = field(default_factory=list)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
        return True
    except UnicodeEncodeError:  # a lone surrogate, which JSON allows and UTF-8 does not
        return False


def check_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """Validate the contract fields; returns a shallow copy with lists normalised (change-type aliases
    resolved to taxonomy keys). Raises AnnotationError naming the defect."""
    if not isinstance(entry, dict):
        raise AnnotationError("an annotation entry must be a JSON object")
    missing = [k for k in REQUIRED_KEYS if k not in entry]
    if missing:
        raise AnnotationError(f"annotation entry lacks {', '.join(missing)}")
    out = dict(entry)
    for key in ("pair_id", "annotator"):
        if not isinstance(out[key], str) or not out[key].strip() or not _is_text(out[key]):
            raise AnnotationError(f"annotation entry: {key} must be a non-empty string")
    problem = pair_id_problem(out["pair_id"])
    if problem:
        raise AnnotationError(f"annotation entry: {problem}")
    for key in ("captions", "change_types"):
        value = out[key]
        if not isinstance(value, list) or not all(isinstance(v, str) and _is_text(v) for v in value):
            raise AnnotationError(f"annotation entry: {key} must be a list of strings")
        out[key] = list(value)
    try:
        out["change_types"] = list(dict.fromkeys(TAXONOMY.resolve_all(out["change_types"])))
    except UnknownChangeType as exc:
        raise AnnotationError(f"annotation entry: {exc}") from None
    if "seq" in out and (not isinstance(out["seq"], int) or isinstance(out["seq"], bool)):
        raise AnnotationError("annotation entry: seq must be an integer")
    return out


def _parse_line(line: bytes) -> dict[str, Any] | None:
    """The JSON object of a line, or None when the line is not one (a torn write)."""
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def entry_line(entry: dict[str, Any]) -> bytes:
    """One entry as the log stores it: a JSON object on one line."""
    return json.dumps(entry, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _last_seq(fd: int) -> int:
    """The sequence number of the last complete entry (0 when none); reads only the file's tail."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0
    start = max(0, size - _TAIL_BYTES)
    tail = os.pread(fd, size - start, start)
    for line in reversed(tail.split(b"\n")):
        entry = _parse_line(line) if line.strip() else None
        if entry is not None and isinstance(entry.get("seq"), int) and not isinstance(entry["seq"], bool):
            return entry["seq"]
    if start > 0:  # unusually long lines: fall back to a full scan
        return max((e.get("seq", 0) for e in AnnotationLog._scan_bytes(os.pread(fd, size, 0)).entries), default=0)
    return 0


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


class AnnotationLog:
    """The append-only annotation log of one store."""

    def __init__(self, store_root: str | os.PathLike) -> None:
        self.root = Path(store_root)
        self.path = self.root / LOG_RELPATH

    # -- writing -------------------------------------------------------------------------------
    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Record one entry durably; returns it as stored (with ``seq`` and ``time``).

        Returns only after the line is fsync'd, so an acknowledgement means the entry survives a crash.
        """
        rec = check_entry(entry)
        rec.setdefault("time", utc_now())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                rfd = os.open(self.path, os.O_RDONLY)
                try:
                    size = os.fstat(rfd).st_size
                    needs_newline = size > 0 and os.pread(rfd, 1, size - 1) != b"\n"
                    rec["seq"] = _last_seq(rfd) + 1
                finally:
                    os.close(rfd)
                line = entry_line(rec)
                _write_all(fd, (b"\n" if needs_newline else b"") + line)
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return rec

    # -- reading -------------------------------------------------------------------------------
    @staticmethod
    def _scan_bytes(data: bytes) -> LogScan:
        scan = LogScan()
        for number, line in jsonl.split_lines(data):
            obj = _parse_line(line)
            if obj is None:
                scan.torn_lines += 1
                continue
            try:
                scan.entries.append(check_entry(obj))
            except AnnotationError as exc:
                scan.malformed.append((number, str(exc)))
        return scan

    def scan(self) -> LogScan:
        if not self.path.is_file():
            return LogScan()
        return self._scan_bytes(self.path.read_bytes())

    def entries(self) -> list[dict[str, Any]]:
        """All valid entries in file order; a torn (partly written) line or a malformed entry is skipped."""
        return self.scan().entries

    def latest(self) -> dict[str, dict[str, Any]]:
        """The current annotation of each pair: the entry with the highest sequence number wins."""
        best: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
        for line_no, entry in enumerate(self.entries()):
            seq = entry.get("seq")
            key = (seq if isinstance(seq, int) else -1, line_no)
            pid = entry["pair_id"]
            if pid not in best or key > best[pid][0]:
                best[pid] = (key, entry)
        return {pid: entry for pid, (_, entry) in best.items()}

    def history(self, pair_id: str) -> list[dict[str, Any]]:
        """Every entry of one pair, oldest first."""
        return [e for e in self.entries() if e["pair_id"] == pair_id]

    def progress(self, pair_ids: Iterable[str]) -> dict[str, Any]:
        """Annotation progress over the given pairs and agreement where two or more annotators labelled a pair.

        Agreement compares each annotator's latest change-type set on a pair: mean pairwise Jaccard
        (two empty sets agree fully) and the share of pairs on which all annotators gave the same set.
        """
        wanted = list(dict.fromkeys(pair_ids))
        wanted_set = set(wanted)
        per_pair: dict[str, dict[str, dict[str, Any]]] = {}
        annotators: Counter[str] = Counter()
        scan = self.scan()
        for entry in scan.entries:
            pid = entry["pair_id"]
            if pid not in wanted_set:
                continue
            per_pair.setdefault(pid, {})[entry["annotator"]] = entry  # later lines replace earlier ones
        for by_annotator in per_pair.values():
            annotators.update(by_annotator.keys())
        multi = {pid: v for pid, v in per_pair.items() if len(v) >= 2}
        jaccards: list[float] = []
        exact = 0
        for by_annotator in multi.values():
            sets = [set(e["change_types"]) for e in by_annotator.values()]
            pair_scores = [jaccard(a, b) for a, b in combinations(sets, 2)]
            jaccards.append(sum(pair_scores) / len(pair_scores))
            exact += all(s == sets[0] for s in sets)
        annotated = len(per_pair)
        return {
            "pairs": len(wanted),
            "annotated": annotated,
            "unannotated": len(wanted) - annotated,
            "with_two_or_more_annotators": len(multi),
            "annotators": dict(sorted(annotators.items())),
            "agreement": {
                "pairs": len(multi),
                "mean_jaccard": round(sum(jaccards) / len(jaccards), 4) if jaccards else None,
                "exact_match_rate": round(exact / len(multi), 4) if multi else None,
            },
            "torn_lines": scan.torn_lines,
        }
