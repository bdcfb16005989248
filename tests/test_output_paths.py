"""Every command that writes says in one line why an output path cannot be used (a regular file
where a folder must be, a folder where a file must be), instead of ``error: NotADirectoryError``;
``show`` writes the format its suffix names; ``score`` refuses what is not a regular file."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from annotations import Store
from tests.benchmarks_helpers import write_image
from tests.conftest import make_record


@pytest.fixture
def paths(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me")
    store = Store.create(tmp_path / "store", name="out")
    store.append([make_record(0, scene_id="s0", benchmark="clevr_change", native_change_type="color"),
                  make_record(1, scene_id="s0", benchmark="clevr_change", native_change_type="distractor",
                              distractor=True, change_types=[])])
    iedit = tmp_path / "iedit"
    write_image(iedit / "images" / "a.png", 1)
    write_image(iedit / "images" / "b.png", 2)
    (iedit / "test.json").write_text(json.dumps([{"img0": "a.png", "img1": "b.png", "sents": ["x", "y", "z"], "uid": "u"}]))
    return {"blocker": blocker, "store": store.root, "iedit": iedit, "tmp": tmp_path}


def _commands(p: dict) -> dict[str, list]:
    under = p["blocker"] / "sub"
    cmds = {
        "ingest pairs": ["ingest", "pairs", p["store"], "--out", under],
        "ingest video": ["ingest", "video", p["tmp"] / "clip.mp4", "--out", under],
        "ingest timelapse": ["ingest", "timelapse", p["tmp"], "--out", under],
        "export": ["export", p["store"], "--format", "clevr-change", "--out", under],
        "benchmarks prepare": ["benchmarks", "prepare", "iedit", "--source", p["iedit"], "--out", under, "--split", "test"],
        "eval": ["eval", "--model", "pixel-diff", "--data", p["store"], "--benchmark", "clevr-change", "--results", under,
                 "--no-spice", "--no-progress"],
        "leaderboard": ["leaderboard", "--results", p["tmp"], "--out", under / "board.md"],
        "show": ["show", p["store"], "--out", under / "sheet.png"],
        "publish": ["publish", p["store"], "--repo", "org/name", "--dry-run", under],
        "train m3diff": ["train", "m3diff", "--data", p["store"], "--preset", "tiny-random", "--split", "test",
                         "--device", "cpu", "--max-steps", "1", "--out", under],
    }
    if importlib.util.find_spec("bpy") is not None:
        cmds["render"] = ["render", "--scenes", "1", "--profile", "test", "--out", under]
    return cmds


COMMANDS = ["render", "ingest pairs", "ingest video", "ingest timelapse", "export", "benchmarks prepare", "eval",
            "leaderboard", "show", "publish", "train m3diff"]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_output_under_a_regular_file_is_one_clear_line(run_cli, paths, command):
    cmds = _commands(paths)
    if command not in cmds:
        pytest.skip("bpy is not installed")
    if command == "leaderboard":
        from tests.test_leaderboard import write_result

        write_result(paths["tmp"], "m", "omnidiff", 0.1, paths["store"], ["pair-0000"])
    res = run_cli(*cmds[command])
    lines = [line for line in res.err.strip().splitlines() if line.strip()]
    assert res.code == 1 and len(lines) == 1, res.err
    assert f"{paths['blocker']} is a file, not a folder" in lines[0] or "it is a file" in lines[0], lines[0]
    assert "Error:" not in lines[0] and "Errno" not in lines[0]
    assert paths["blocker"].read_text() == "keep me"


@pytest.mark.parametrize("command", ["show", "leaderboard"])
def test_a_folder_where_a_file_must_be_is_one_clear_line(run_cli, paths, command):
    folder = paths["tmp"] / "taken.png"
    folder.mkdir()
    (folder / "inside").write_text("mine")
    if command == "show":
        res = run_cli("show", paths["store"], "--out", folder)
    else:
        from tests.test_leaderboard import write_result

        write_result(paths["tmp"] / "results", "m", "omnidiff", 0.1, paths["store"], ["pair-0000"])
        res = run_cli("leaderboard", "--results", paths["tmp"] / "results", "--out", folder)
    assert res.code == 1 and "is a folder" in res.err and len(res.err.strip().splitlines()) == 1, res.err
    assert (folder / "inside").read_text() == "mine"


def test_show_writes_the_format_its_suffix_names(run_cli, paths):
    from PIL import Image

    for name, fmt in (("sheet.jpg", "JPEG"), ("sheet.JPEG", "JPEG"), ("sheet.png", "PNG")):
        res = run_cli("show", paths["store"], "--out", paths["tmp"] / name)
        assert res.code == 0, res.err
        with Image.open(paths["tmp"] / name) as img:
            assert img.format == fmt
    res = run_cli("show", paths["store"], "--out", paths["tmp"] / "sheet.gif")
    assert res.code == 1 and ".png, .jpg or .jpeg" in res.err and not (paths["tmp"] / "sheet.gif").exists()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("which", ["--predictions", "--references", "--subsets"])
def test_score_refuses_a_fifo_instead_of_blocking(run_cli, tmp_path, which):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    files = {"--predictions": tmp_path / "p.jsonl", "--references": tmp_path / "r.jsonl", "--subsets": tmp_path / "s.json"}
    files["--predictions"].write_text(json.dumps({"pair_id": "a", "caption": "x"}) + "\n")
    files["--references"].write_text(json.dumps({"pair_id": "a", "captions": ["x"]}) + "\n")
    files["--subsets"].write_text(json.dumps({"all": ["a"]}))
    files[which] = fifo
    args = [a for k, v in files.items() for a in (k, v)]
    res = run_cli("score", *args, "--no-spice")
    assert res.code == 1 and f"{fifo}: is not a regular file" in res.err
