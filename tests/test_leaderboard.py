"""``omnidiff leaderboard``: md, csv, latex and the self-contained HTML page (opened in headless Chromium)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from conftest import make_record

from annotations import Store

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
METRICS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr", "SPICE")


def metrics(base: float) -> dict:
    return {m: (None if m == "SPICE" else round(base * (1 + i / 10), 4)) for i, m in enumerate(METRICS)}


def write_result(results: Path, model: str, benchmark: str, base: float, store: Path, pair_ids: list[str],
                 types: dict[str, float] | None = None) -> None:
    folder = results / model / benchmark / "test"
    folder.mkdir(parents=True)
    subsets = {"total": {"n": len(pair_ids), "metrics": metrics(base)}}
    if benchmark == "omnidiff":
        subsets["domain/real"] = {"n": 2, "metrics": metrics(base / 2)}
        subsets["domain/render"] = {"n": len(pair_ids) - 2, "metrics": metrics(base * 1.5)}
    if benchmark == "clevr_change":
        subsets["semantic"] = {"n": 2, "metrics": metrics(base)}
        subsets["distractor"] = {"n": 1, "metrics": metrics(base / 5)}
    for name, value in (types or {}).items():
        subsets[f"change_type/{name}"] = {"n": 2, "metrics": metrics(value)}
    scores = {"model": model, "model_fingerprint": f"{model}-0", "benchmark": benchmark, "split": "test",
              "n": len(pair_ids), "metrics": metrics(base), "subsets": subsets,
              "notes": {"SPICE": "skipped: not requested"}, "omnidiff_version": "0.1.0", "created": "2026-11-26T00:00:00Z"}
    (folder / "scores.json").write_text(json.dumps(scores))
    (folder / "predictions.jsonl").write_text(
        "".join(json.dumps({"pair_id": p, "caption": f"{model} says <b>{p}</b> changed"}) + "\n" for p in pair_ids))
    (folder / "run.json").write_text(json.dumps({"store": str(store), "model": model}))


@pytest.fixture
def results(tmp_path):
    store = Store.create(tmp_path / "store", name="lb")
    store.append([make_record(i, captions=[f"reference {i} & more", "second <ref>"]) for i in range(5)])
    ids = store.pair_ids()
    root = tmp_path / "results"
    write_result(root, "pixel-diff", "omnidiff", 0.05, store.root, ids, {"addition": 0.1, "color": 0.3, "viewpoint": 0.02})
    write_result(root, "nn-caption", "omnidiff", 0.20, store.root, ids, {"addition": 0.4, "color": 0.05})
    write_result(root, "my_model", "clevr_change", 0.50, store.root, ids[:3])
    return root


def test_markdown_keeps_reported_rows_apart_with_citations(run_cli, results):
    res = run_cli("leaderboard", "--results", results)
    assert res.code == 0, res.err
    md = res.out
    real = md[md.index("### OmniDiff-Real (test)"):md.index("### OmniDiff-Render")]
    rows = [line for line in real.splitlines() if line.startswith("| ") and "model" not in line]
    assert rows[0] == "| nn-caption | reproduced | 2 | 13.0 | 14.0 | 15.0 | 16.0 | - |"  # sorted by CIDEr, x100
    assert rows[1].startswith("| pixel-diff | reproduced |")
    real_note = next(line for line in md.splitlines() if "protocol subset: domain/real)" in line)
    n = real_note[1:real_note.index("]")]
    assert rows[2] == f"| M3Diff (reported [{n}]) | reported |  | 14.3 | - | - | 31.3 | - |"
    assert real_note.startswith(f"[{n}] Liu, Hou, Hou, Du, Meng and Huang. OmniDiff") and "(primary source;" in real_note
    finer = next(line for line in md.splitlines() if "| FINER-MLLM (reported" in line and "137.2" in line)
    note = next(line for line in md.splitlines() if line.startswith(f"[{finer.split('[')[1].split(']')[0]}] "))
    assert "ProCap" in note and "Table 1" in note and "(secondary source; protocol subset: total)" in note
    assert "Differential-Perceptive and Retrieval-Augmented MLLM" in note
    assert "_headline subset: total (semantic and distractor pairs scored together" in md
    assert "### CLEVR-Change (test)" in md and "| my_model | reproduced | 3 |" in md
    assert "### CLEVR-Change, distractor pairs (test)" in md and "| my_model | reproduced | 1 | 13.0 |" in md
    without = run_cli("leaderboard", "--results", results, "--no-reported").out
    assert "reported" not in without.replace("Reported rows", "") and "### Spot-the-Diff" not in without


def test_csv_and_latex(run_cli, results, tmp_path):
    out = tmp_path / "board.csv"
    assert run_cli("leaderboard", "--results", results, "--format", "csv", "--out", out).code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    mine = [r for r in rows if r["model"] == "my_model" and r["benchmark"] == "clevr_change"]
    assert mine == [{"benchmark": "clevr_change", "split": "test", "model": "my_model", "kind": "reproduced", "n": "3",
                     "Bleu_4": "65.00", "METEOR": "70.00", "ROUGE_L": "75.00", "CIDEr": "80.00", "SPICE": "",
                     "citation": ""}]
    reported = [r for r in rows if r["kind"] == "reported"]
    assert len(reported) == 11 and all(r["citation"] for r in reported)
    assert [r["benchmark"] for r in rows if r["model"] == "my_model"] == ["clevr_change", "clevr_change/distractor", "clevr_change/semantic"]
    tex = run_cli("leaderboard", "--results", results, "--format", "latex").out
    assert tex.count("\\toprule") == tex.count("\\bottomrule") == tex.count("\\begin{tabular}") >= 6
    assert "my\\_model & 65.0 & 70.0 & 75.0 & 80.0 & - \\\\" in tex
    assert "\\textit{M3Diff} (reported [1])" in tex


@pytest.mark.parametrize("args, message", [
    (("--format", "pdf"), "unknown leaderboard format 'pdf'"),
    (("--results", "/nonexistent/results"), "no results folder"),
])
def test_bad_leaderboard_input(run_cli, results, args, message):
    res = run_cli("leaderboard", "--results", results, *args) if args[0] != "--results" else run_cli("leaderboard", *args)
    assert res.code == 1 and message in res.err


@pytest.mark.parametrize("fmt", ["md", "csv", "latex", "html"])
def test_a_corrupt_results_folder_is_skipped_with_a_warning(run_cli, results, fmt):
    (results / "pixel-diff" / "omnidiff" / "test" / "scores.json").write_text("{not json")
    scores = results / "my_model" / "clevr_change" / "test" / "scores.json"
    broken = json.loads(scores.read_text())
    broken["metrics"]["CIDEr"] = "high"
    scores.write_text(json.dumps(broken))
    (results / "nn-caption" / "omnidiff" / "test" / "predictions.jsonl").write_text('{"pair_id": 3}\n')
    res = run_cli("leaderboard", "--results", results, "--format", fmt, "--no-reported")
    assert res.code == 0, res.err
    warnings = [line for line in res.err.splitlines() if line.startswith("warning: ")]
    assert any("pixel-diff/omnidiff/test" in w and "unreadable" in w for w in warnings)
    assert any("my_model/clevr_change/test" in w and "not a number" in w for w in warnings)
    assert "nn-caption" in res.out and "pixel-diff" not in res.out and "my_model" not in res.out
    if fmt == "html":
        assert any("predictions.jsonl:1" in w and "no example captions for nn-caption" in w for w in warnings)
    (results / "nn-caption" / "omnidiff" / "test" / "run.json").write_text("[1, 2]")
    res = run_cli("leaderboard", "--results", results, "--format", fmt, "--no-reported")
    assert res.code == 1 and "no readable scores.json files" in res.err and "3 results folder(s) skipped" in res.err


def test_out_refuses_a_folder(run_cli, results, tmp_path):
    res = run_cli("leaderboard", "--results", results, "--format", "html", "--out", tmp_path)
    assert res.code == 1 and "is a folder" in res.err


def test_html_is_self_contained_escaped_and_has_charts_and_examples(run_cli, results, tmp_path):
    page = tmp_path / "board.html"
    assert run_cli("leaderboard", "--results", results, "--format", "html", "--out", page).code == 0
    html = page.read_text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    assert html.count("<svg") == 1 and "<title>nn-caption color: 8.0</title>" in html  # one chart (OmniDiff types)
    assert html.count('src="data:image/png;base64,') == 12  # 2 benchmarks x 3 example pairs x 2 images
    assert "&lt;b&gt;pair-0000&lt;/b&gt;" in html and "<b>pair-0000</b>" not in html  # captions are escaped
    assert "reference 0 &amp; more" in html


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
def test_html_opens_in_headless_chromium_and_sorts_on_click(run_cli, results, tmp_path):
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "board.html"
    assert run_cli("leaderboard", "--results", results, "--format", "html", "--out", page_file).code == 0
    errors, requests = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda req: requests.append(req.url))
            page.goto(page_file.as_uri())
            table = page.locator("#table-omnidiff-test")

            def models() -> list[str]:
                return table.locator("tbody.reproduced tr td:first-child").all_inner_texts()

            assert models() == ["nn-caption", "pixel-diff"]  # CIDEr, descending
            table.locator("thead th", has_text="CIDEr").click()
            assert models() == ["pixel-diff", "nn-caption"]
            assert table.locator("thead th", has_text="CIDEr").get_attribute("aria-sort") == "ascending"
            table.locator("thead th", has_text="CIDEr").click()
            assert models() == ["nn-caption", "pixel-diff"]
            table.locator("thead th", has_text="model").click()
            assert models() == ["nn-caption", "pixel-diff"]
            real = page.locator("#table-omnidiff-real-test")
            assert real.locator("tbody.reported tr").count() == 1  # reported rows stay in their own body
            real.locator("thead th", has_text="BLEU-4").click()
            assert real.locator("tbody.reported td:first-child").inner_text().startswith("M3Diff")
            assert page.locator("svg rect").count() == 5
            shot = tmp_path / "leaderboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            if os.environ.get("OMNIDIFF_SCREENSHOT"):
                Path(os.environ["OMNIDIFF_SCREENSHOT"]).write_bytes(shot.read_bytes())
        finally:
            browser.close()
    assert errors == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests


def test_chart_falls_back_to_meteor_when_cider_is_zero_on_every_type(run_cli, results):
    for model in ("pixel-diff", "nn-caption"):
        path = results / model / "omnidiff" / "test" / "scores.json"
        scores = json.loads(path.read_text())
        for name, sub in scores["subsets"].items():
            if name.startswith("change_type/"):
                sub["metrics"]["CIDEr"] = 0.0  # one pair per type: CIDEr's IDF makes it 0
        path.write_text(json.dumps(scores))
    html = run_cli("leaderboard", "--results", results, "--format", "html").out
    assert "METEOR (x100) per change type (CIDEr is 0 on every change-type subset" in html
    assert "<title>nn-caption color: 7.0</title>" in html  # METEOR of base 0.05 is 0.05 * 1.4
