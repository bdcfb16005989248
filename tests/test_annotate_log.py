"""The append-only annotation log: durability rules, torn lines, concurrent writers, agreement."""

from __future__ import annotations

import json
import multiprocessing as mp

import pytest

from annotations import Store
from annotations.annotation_log import AnnotationError, AnnotationLog, jaccard
from tests.conftest import make_record


def _entry(pid: str, who: str, types: list[str], caption: str = "") -> dict:
    return {"pair_id": pid, "annotator": who, "captions": [caption] if caption else [], "change_types": types}


def test_append_latest_history(tmp_path):
    log = AnnotationLog(tmp_path)
    first = log.append(_entry("p1", "alice", ["addition"], "a cup appeared"))
    second = log.append(_entry("p1", "alice", ["addition", "color"], "a red cup appeared"))
    log.append(_entry("p2", "bob", []))
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["time"].endswith("Z")
    assert log.latest()["p1"]["captions"] == ["a red cup appeared"]
    assert [e["seq"] for e in log.history("p1")] == [1, 2]
    assert log.latest()["p2"]["change_types"] == []
    assert (tmp_path / "annotations" / "log.jsonl").read_text().count("\n") == 3


def test_torn_last_line_is_skipped_and_repaired(tmp_path):
    log = AnnotationLog(tmp_path)
    log.append(_entry("p1", "alice", ["addition"], "kept"))
    with open(log.path, "ab") as fh:  # a writer killed mid-line
        fh.write(b'{"pair_id": "p1", "annotator": "alice", "capt')
    assert [e["captions"] for e in log.entries()] == [["kept"]]
    assert log.scan().torn_lines == 1
    entry = log.append(_entry("p1", "bob", ["color"], "after the crash"))
    assert entry["seq"] == 2
    assert log.latest()["p1"]["captions"] == ["after the crash"]
    lines = log.path.read_bytes().split(b"\n")
    assert json.loads(lines[-2])["annotator"] == "bob"  # own line, not glued to the torn one


@pytest.mark.parametrize(
    "bad",
    [
        {"pair_id": "p", "annotator": "a", "captions": []},
        {"pair_id": "p", "annotator": "", "captions": [], "change_types": []},
        {"pair_id": "p", "annotator": "a", "captions": "text", "change_types": []},
        {"pair_id": "p", "annotator": "a", "captions": [], "change_types": [1]},
    ],
)
def test_bad_entries_are_refused_and_nothing_written(tmp_path, bad):
    log = AnnotationLog(tmp_path)
    with pytest.raises(AnnotationError):
        log.append(bad)
    assert log.entries() == []


def _writer(root: str, who: str, n: int) -> None:
    log = AnnotationLog(root)
    for i in range(n):
        log.append(_entry(f"p{i % 3}", who, ["addition"], f"{who} {i} " + "x" * 3000))


def test_two_processes_appending_lose_nothing(tmp_path):
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), who, 40)) for who in ("alice", "bob")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    scan = AnnotationLog(tmp_path).scan()
    assert scan.torn_lines == 0
    assert len(scan.entries) == 80
    assert sorted(e["seq"] for e in scan.entries) == list(range(1, 81))
    assert {e["captions"][0].split()[1] for e in scan.entries if e["annotator"] == "bob"} == {str(i) for i in range(40)}


def test_progress_and_agreement(tmp_path):
    log = AnnotationLog(tmp_path)
    log.append(_entry("a", "alice", ["color"]))  # replaced by alice's later entry
    log.append(_entry("a", "alice", ["addition"]))
    log.append(_entry("a", "bob", ["addition", "color"]))
    log.append(_entry("b", "alice", ["color"]))
    log.append(_entry("b", "bob", ["color"]))
    log.append(_entry("c", "carol", ["text"]))
    log.append(_entry("zzz", "carol", ["text"]))  # not one of the pairs asked about
    prog = log.progress(["a", "b", "c", "d"])
    assert prog["pairs"] == 4 and prog["annotated"] == 3 and prog["unannotated"] == 1
    assert prog["with_two_or_more_annotators"] == 2
    assert prog["agreement"] == {"pairs": 2, "mean_jaccard": 0.75, "exact_match_rate": 0.5}
    assert prog["annotators"] == {"alice": 2, "bob": 2, "carol": 1}
    assert jaccard([], []) == 1.0 and jaccard(["a"], ["b"]) == 0.0


def test_store_records_apply_the_latest_annotation(tmp_path):
    store = Store.create(tmp_path / "s")
    store.append([make_record(i, captions=[], change_types=[]) for i in range(2)])
    log = AnnotationLog(store.root)
    log.append(_entry("pair-0000", "alice", ["addition"], "first"))
    log.append(_entry("pair-0000", "bob", ["color"], "second"))
    recs = {r.pair_id: r for r in Store.open(store.root).records()}
    assert recs["pair-0000"].captions == ["second"] and recs["pair-0000"].change_types == ["color"]
    assert recs["pair-0001"].captions == []
