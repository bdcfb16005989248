"""One view of a store: every reader sees the annotation log applied; validate reads the stored bytes."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from annotations import Store
from annotations.annotation_log import AnnotationLog
from annotations.stats import compute_stats
from conftest import make_record
from store_helpers import write_raw_shard

FIRST = "the blue ball that stood near the left edge of the table has rolled away out of the picture"
SECOND = "the camera moved a little to the right and now looks at the table from a lower angle"


def flat(text: str) -> str:
    """Console output without the line breaks rich adds at the terminal width."""
    return " ".join(text.split())


def annotate(store: Store, pair_id: str, captions: list[str], change_types: list[str]) -> None:
    AnnotationLog(store.root).append({"pair_id": pair_id, "annotator": "ann", "captions": captions,
                                      "change_types": change_types})


@pytest.fixture
def annotated(small_store):
    """small_store (10 'addition' pairs) with pair-0001 and pair-0002 relabelled through the log."""
    annotate(small_store, "pair-0001", [FIRST], ["disappearance", "color"])
    annotate(small_store, "pair-0002", ["a first try"], ["color"])
    annotate(small_store, "pair-0002", [SECOND], ["viewpoint"])  # the latest entry wins
    return Store.open(small_store.root)


ANNOTATED_COUNTS = {"addition": 8, "color": 1, "disappearance": 1, "viewpoint": 1}


def test_records_table_get_and_counts_see_the_log(annotated):
    recs = {r.pair_id: r for r in annotated.records()}
    assert recs["pair-0001"].captions == [FIRST] and recs["pair-0001"].change_types == ["disappearance", "color"]
    assert recs["pair-0002"].captions == [SECOND] and recs["pair-0002"].change_types == ["viewpoint"]
    assert recs["pair-0003"].change_types == ["addition"]
    stored = {r.pair_id: r for r in annotated.records(annotated=False)}
    assert stored["pair-0001"].captions == ["a red square appeared in pair 1.", "something red was added."]

    table = annotated.table()
    rows = {r["pair_id"]: r for r in table.to_pylist()}
    assert rows["pair-0002"]["captions"] == [SECOND] and rows["pair-0002"]["change_types"] == ["viewpoint"]
    only_captions = annotated.table(["captions"], split="test").column("captions").to_pylist()
    assert only_captions[2] == [SECOND] and annotated.table(["captions"]).column_names == ["captions"]
    raw = {r["pair_id"]: r for r in annotated.table(annotated=False).to_pylist()}
    assert raw["pair-0002"]["change_types"] == ["addition"]

    assert annotated.get("pair-0001").captions == [FIRST]
    assert annotated.counts()["change_type"] == ANNOTATED_COUNTS
    assert annotated.counts(annotated=False)["change_type"] == {"addition": 10}
    assert annotated.manifest["counts"]["change_type"] == {"addition": 10}  # the manifest describes the shards
    assert annotated.annotation_changes() == 2


def test_stats_and_show_see_the_log(annotated, run_cli, tmp_path):
    assert compute_stats(annotated.root)["by_change_type"] == ANNOTATED_COUNTS
    res = run_cli("show", annotated.root, "--out", tmp_path / "d.png", "--change-type", "disappearance")
    assert res.code == 0 and "(1 pairs)" in flat(res.out)
    res = run_cli("show", annotated.root, "--out", tmp_path / "v.png", "--change-type", "viewpoint")
    assert res.code == 0 and "(1 pairs)" in flat(res.out)
    res = run_cli("show", annotated.root, "--out", tmp_path / "a.png", "--change-type", "addition", "-n", "20")
    assert res.code == 0 and "(8 pairs)" in flat(res.out)


def test_eval_and_score_use_the_annotated_references(annotated, run_cli, tmp_path):
    from omnidiff.benchmarks import store_protocol
    from omnidiff.metrics.formats import load_references

    refs = load_references(annotated.root, split="test")  # what `omnidiff score --references STORE` scores against
    assert refs["pair-0001"] == [FIRST] and refs["pair-0002"] == [SECOND]
    refs, subsets = store_protocol(annotated.root, "omnidiff", "test")  # `score --benchmark` and eval's protocol
    assert refs["pair-0001"] == [FIRST] and subsets["change_type/viewpoint"] == ["pair-0002"]

    results = tmp_path / "results"
    res = run_cli("eval", "--model", "pixel-diff", "--benchmark", "omnidiff", "--data", annotated.root,
                  "--results", results, "--no-spice", "--no-progress")
    assert res.code == 0, res.err
    folder = results / "pixel-diff" / "omnidiff" / "test"
    scores = json.loads((folder / "scores.json").read_text())
    assert scores["subsets"]["change_type/disappearance"]["n"] == 1
    assert scores["subsets"]["change_type/viewpoint"]["n"] == 1
    assert scores["subsets"]["change_type/addition"]["n"] == 4
    scored = run_cli("score", "--predictions", folder / "predictions.jsonl", "--references", annotated.root,
                     "--benchmark", "omnidiff", "--split", "test", "--no-spice")
    assert scored.code == 0, scored.err
    assert json.loads(scored.out)["metrics"] == scores["metrics"]


def test_publish_writes_the_annotated_values_and_says_so(annotated, run_cli, tmp_path):
    out = tmp_path / "hub"
    res = run_cli("publish", annotated.root, "--repo", "org/demo", "--dry-run", out)
    assert res.code == 0, res.err
    assert "the annotation log changed 2 of them" in flat(res.out)
    rows = {r["pair_id"]: r for path in out.rglob("*.parquet") for r in pq.read_table(path).to_pylist()}
    assert rows["pair-0001"]["captions"] == [FIRST] and rows["pair-0002"]["change_types"] == ["viewpoint"]
    assert "| viewpoint | 1 |" in (out / "README.md").read_text()


def test_validate_checks_the_stored_bytes_not_the_view(small_store, run_cli):
    write_raw_shard(small_store, [make_record(30, change_types=["explosion"])])
    annotate(small_store, "pair-0030", ["a red square appeared."], ["addition"])
    res = run_cli("validate", small_store.root)
    assert res.code == 1 and "pair pair-0030: unknown change type 'explosion'" in res.out


def test_malformed_log_entries_are_refused_flagged_and_never_applied(small_store, run_cli):
    from annotations.annotation_log import AnnotationError

    log = AnnotationLog(small_store.root)
    for bad in ({"captions": "notalist"}, {"change_types": ["explosion"]}, {"pair_id": "../x"}):
        with pytest.raises(AnnotationError):
            log.append({"pair_id": "pair-0001", "annotator": "ann", "captions": ["ok"], "change_types": [], **bad})
    log.path.parent.mkdir(parents=True, exist_ok=True)
    with open(log.path, "a", encoding="utf-8") as fh:  # written by hand or by another tool
        fh.write(json.dumps({"pair_id": "pair-0001", "annotator": "x", "captions": "notalist", "change_types": [],
                             "seq": 7}) + "\n")
        fh.write(json.dumps({"pair_id": "pair-0002", "annotator": "x", "captions": ["ok"],
                             "change_types": ["explosion"], "seq": 8}) + "\n")
    store = Store.open(small_store.root)
    assert store.get("pair-0001").captions == ["a red square appeared in pair 1.", "something red was added."]
    assert store.get("pair-0002").change_types == ["addition"]
    res = run_cli("validate", small_store.root)
    assert res.code == 1
    flagged = [line for line in res.out.splitlines() if "malformed entry, never applied" in line]
    assert len(flagged) == 2 and flagged[0].startswith("annotations/log.jsonl: line ")


def test_export_writes_the_annotated_captions_and_says_so(tmp_path, run_cli):
    store = Store.create(tmp_path / "cc")
    store.append([make_record(0, benchmark="clevr_change", native_change_type="color", change_types=["color"]),
                  make_record(1, benchmark="clevr_change", native_change_type=None, distractor=True,
                              change_types=["viewpoint"], scene_id="scene-000")])
    annotate(store, "pair-0000", [FIRST], ["color"])
    res = run_cli("export", store.root, "--format", "clevr-change", "--out", tmp_path / "out")
    assert res.code == 0, res.err
    assert "the annotation log changed 1 pairs" in flat(res.out)
    captions = json.loads((tmp_path / "out" / "change_captions.json").read_text())
    assert list(captions.values()) == [[FIRST]]


@pytest.mark.parametrize("target", ["omnidiff.json", "data/sheet.png", "annotations/board.md"])
def test_show_and_leaderboard_refuse_to_write_into_a_store(small_store, run_cli, tmp_path, target):
    from store_helpers import snapshot

    before = snapshot(small_store.root)
    out = small_store.root / target
    (tmp_path / "results").mkdir()
    for args in (("show", small_store.root, "--out", out.with_suffix(".png")),
                 ("leaderboard", "--results", tmp_path / "results", "--out", out)):
        res = run_cli(*args)
        assert res.code == 1 and "is inside the store" in " ".join(res.err.split()), res.err
        assert len(res.err.strip().splitlines()) == 1
    assert snapshot(small_store.root) == before
