"""``omnidiff export --format lmms-eval``: lmms-eval itself runs the task folder offline, with its ``openai``
model against a server on 127.0.0.1 that answers fixed captions, and its metrics equal ``omnidiff eval``'s
with the ``openai`` model against the same server."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from annotations import Store
from omnidiff.benchmarks import get_benchmark

# in-process `omnidiff score`/`eval` runs borrow one warm METEOR JVM (tests/metrics_helpers.py)
pytestmark = pytest.mark.usefixtures("shared_meteor")

HAS_LMMS = importlib.util.find_spec("lmms_eval") is not None
HAS_BPY = importlib.util.find_spec("bpy") is not None
NEEDS_LMMS_AND_BPY = [
    pytest.mark.blender, pytest.mark.slow,
    pytest.mark.skipif(not HAS_BPY, reason="bpy is not installed"),
    # the set-up installs lmms-eval, so CI always runs this; a hand-made environment may lack it
    pytest.mark.skipif(not HAS_LMMS and not os.environ.get("CI"), reason="lmms-eval is not installed (make setup)"),
]


def needs_lmms_and_bpy(fn):
    for mark in reversed(NEEDS_LMMS_AND_BPY):
        fn = mark(fn)
    return fn
METRICS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")


def pixel_key(data_url: str) -> str:
    data = base64.b64decode(data_url.split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as img:
        return hashlib.sha256(img.convert("RGB").tobytes()).hexdigest()


class FixedCaptionServer:
    """A chat-completions endpoint that knows the pairs by their pixels and answers each with its fixed caption."""

    def __init__(self, answers: dict[frozenset, str]) -> None:
        self.answers = answers
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                parts = body["messages"][0]["content"]
                images = frozenset(pixel_key(p["image_url"]["url"]) for p in parts if p["type"] == "image_url")
                text = [p["text"] for p in parts if p["type"] == "text"]
                server.requests.append({"images": images, "text": text, "auth": self.headers.get("Authorization")})
                caption = server.answers.get(images)
                if caption is None:
                    self.send_response(400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                raw = json.dumps({"id": "fixed", "object": "chat.completion", "created": 0, "model": body["model"],
                                  "choices": [{"index": 0, "finish_reason": "stop",
                                               "message": {"role": "assistant", "content": caption}}],
                                  "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def fixed_answers(store_path) -> dict[frozenset, str]:
    """Per pair a caption that scores neither 0 nor 1: its reference, half of it, or another pair's."""
    records = list(Store.open(store_path).records())
    answers = {}
    for i, rec in enumerate(records):
        key = frozenset(hashlib.sha256(Image.open(io.BytesIO(b)).convert("RGB").tobytes()).hexdigest()
                        for b in (rec.image_before, rec.image_after))
        words = rec.captions[0].split()
        answers[key] = (rec.captions[0], " ".join(words[: max(3, len(words) // 2)]),
                        records[(i + 1) % len(records)].captions[0])[i % 3]
    return answers


@pytest.fixture
def rendered(rendered_six):
    return rendered_six  # one scene, six pairs (tests/conftest.py)


@needs_lmms_and_bpy
@pytest.mark.timeout(900)
def test_lmms_eval_runs_the_export_and_agrees_with_omnidiff_eval(rendered, run_cli, tmp_path, monkeypatch):
    task = tmp_path / "task"
    res = run_cli("export", rendered, "--format", "lmms-eval", "--out", task)
    assert res.code == 0, res.err
    assert sorted(p.name for p in task.iterdir()) == ["README.md", "omnidiff_test.yaml", "protocol.json",
                                                       "test.parquet", "utils.py"]
    bench = get_benchmark("omnidiff")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fixed-captions")
    with FixedCaptionServer(fixed_answers(rendered)) as server:
        env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
               "OPENAI_API_KEY": "sk-fixed-captions", "LMMS_EVAL_DATASETS_CACHE": str(tmp_path / "hf-datasets")}
        run = subprocess.run(
            [sys.executable, "-m", "lmms_eval", "--include_path", str(task), "--tasks", "omnidiff_test",
             "--model", "openai", "--model_args", f"model=fixed,base_url={server.url}", "--batch_size", "1",
             "--output_path", str(tmp_path / "lmms-out")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=800)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        lmms_requests = list(server.requests)
        res = run_cli("eval", "--model", "openai", "--data", rendered, "--model-arg", f"base_url={server.url}",
                      "--model-arg", "model=fixed", "--results", tmp_path / "results", "--no-spice", "--no-progress")
        assert res.code == 0, res.err
    assert len(lmms_requests) == 6 and len(server.requests) == 12  # every pair once from each harness
    assert {r["images"] for r in lmms_requests} == {r["images"] for r in server.requests[6:]} == set(fixed_answers(rendered))
    assert all(r["text"] == [bench.prompt] for r in server.requests)  # the same prompt in both

    found = list((tmp_path / "lmms-out").rglob("*_results.json"))
    assert len(found) == 1, found
    theirs = json.loads(found[0].read_text())["results"]["omnidiff_test"]
    ours = json.loads((tmp_path / "results" / "openai" / "omnidiff" / "test" / "scores.json").read_text())
    protocol = json.loads((task / "protocol.json").read_text())["metric_keys"]
    subsets = {subset for subset, _ in protocol.values()}
    assert subsets == {name for name, sub in ours["subsets"].items() if sub["n"]}
    assert {"total", "domain/render", "change_type/viewpoint"} <= subsets
    compared = 0
    for key, (subset, metric) in protocol.items():
        mine = ours["subsets"][subset]["metrics"][metric]
        assert theirs[f"{key},none"] == pytest.approx(mine, abs=1e-6), (key, theirs[f"{key},none"], mine)
        compared += 1
    assert compared == len(subsets) * len(METRICS)
    assert 0.05 < ours["metrics"]["CIDEr"] and ours["metrics"]["Bleu_4"] < 0.999  # the captions are neither all right nor all wrong


def test_lmms_eval_export_refuses_what_it_cannot_write(run_cli, tmp_path, small_store):
    res = run_cli("export", small_store.root, "--format", "lmms-eval", "--out", tmp_path / "t", "--benchmark", "iedit")
    assert res.code == 1 and "no iedit pairs" in res.err and not (tmp_path / "t").exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("keep")
    res = run_cli("export", small_store.root, "--format", "lmms-eval", "--out", busy)
    assert res.code == 1 and "not an empty folder" in res.err and (busy / "x").read_text() == "keep"
