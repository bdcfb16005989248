import json

from PIL import Image

from annotations import Store
from conftest import make_record


def test_stats_json(run_cli, small_store):
    Store.open(small_store.root).append([make_record(30, split="val", domain="real", change_types=["color", "size"],
                                                     captions=["one two three four five six seven eight"])])
    res = run_cli("stats", small_store.root, "--json")
    assert res.code == 0, res.err
    stats = json.loads(res.out)
    assert stats["pairs"] == 11
    assert stats["by_split_domain"]["val"]["real"] == {"pairs": 1, "color": 1, "size": 1}
    assert stats["by_split_domain"]["test"]["render"] == {"pairs": 6, "addition": 6}
    assert stats["by_change_type"] == {"addition": 10, "color": 1, "size": 1}
    assert stats["caption_words_primary"]["count"] == 11 and stats["caption_words_primary"]["max"] == 8
    assert stats["caption_words_all"]["count"] == 21
    assert stats["image_sizes"] == {"48x32": 11}
    assert stats["scenes"]["count"] == 6


def test_stats_table(run_cli, small_store):
    res = run_cli("stats", small_store.root)
    assert res.code == 0 and "Caption length" in res.out and "addition" in res.out


def test_stats_on_missing_store_is_one_line(run_cli, tmp_path):
    res = run_cli("stats", tmp_path)
    assert res.code == 1 and res.err.count("\n") == 1 and "not a store" in res.err


def test_show_writes_a_sheet(run_cli, small_store, tmp_path):
    out = tmp_path / "sheet.png"
    res = run_cli("show", small_store.root, "--out", out, "-n", "3", "--split", "test", "--seed", "2")
    assert res.code == 0, res.err
    sheet = Image.open(out)
    assert sheet.width > 3 * 240 and sheet.height > 3 * 160
    again = tmp_path / "again.png"
    run_cli("show", small_store.root, "--out", again, "-n", "3", "--split", "test", "--seed", "2")
    assert again.read_bytes() == out.read_bytes()


def test_show_filters_and_bad_filters(run_cli, small_store, tmp_path):
    res = run_cli("show", small_store.root, "--out", tmp_path / "s.png", "--change-type", "colour")
    assert res.code == 1 and "no pair matches" in res.err
    res = run_cli("show", small_store.root, "--out", tmp_path / "s.png", "--change-type", "explosion")
    assert res.code == 1 and "unknown change type 'explosion'" in res.err
    assert not (tmp_path / "s.png").exists()


def test_show_one_pair_per_change_type_of_one_setting(run_cli, small_store, tmp_path):
    """The docs' kit sheets: --setting keeps one kit, --one-per-type one row per change type in taxonomy order."""
    kinds = ["size", "color", "color", "removal", "addition"]
    Store.open(small_store.root).append([make_record(20 + i, setting="indoor", change_types=[k], captions=[f"{k} {i} here"])
                                         for i, k in enumerate(kinds)])
    res = run_cli("show", small_store.root, "--out", tmp_path / "s.png", "--setting", "indoor", "--one-per-type")
    assert res.code == 0, res.err
    assert "(4 pairs)" in " ".join(res.out.split())  # addition, removal, size, color: one each, the tabletop pairs left out
    res = run_cli("show", small_store.root, "--out", tmp_path / "t.png", "--setting", "indoor", "--one-per-type", "-n", "2")
    assert res.code == 0 and "(2 pairs)" in " ".join(res.out.split())
    res = run_cli("show", small_store.root, "--out", tmp_path / "u.png", "--setting", "outdoor")
    assert res.code == 1 and "no pair matches" in res.err and "setting=outdoor" in res.err
