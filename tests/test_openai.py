"""The ``openai`` adapter against a real HTTP server on 127.0.0.1 that answers, rate-limits, fails and stalls."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from conftest import make_record

from annotations import OmniDiffError, Store
from omnidiff.models.base import CaptionRequest
from omnidiff.models.registry import load_model

# in-process `omnidiff score`/`eval` runs borrow one warm METEOR JVM (tests/metrics_helpers.py)
pytestmark = pytest.mark.usefixtures("shared_meteor")

KEY = "sk-test-7f3a9c1e-never-print-me"


class FakeEndpoint:
    """A chat-completions server whose next answers follow ``plan`` ("ok", "429", "500", "401", "stall",
    "302"/"307": a redirect to ``redirect_to``); it also records GETs (where a followed 302 would land)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.plan: list[str] = []
        self.redirect_to = ""
        self.log: list[dict] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.ok_delay = 0.0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                with endpoint.lock:
                    endpoint.log.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": None,
                                         "action": "GET", "t": time.monotonic()})
                raw = json.dumps({"choices": [{"message": {"content": "caption from a GET"}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with endpoint.lock:
                    action = endpoint.plan.pop(0) if endpoint.plan else "ok"
                    endpoint.log.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                         "body": body, "action": action, "t": time.monotonic()})
                    endpoint.in_flight += 1
                    endpoint.max_in_flight = max(endpoint.max_in_flight, endpoint.in_flight)
                try:
                    self._answer(action, body)
                finally:
                    with endpoint.lock:
                        endpoint.in_flight -= 1

            def _answer(self, action, body):
                if action == "stall":
                    time.sleep(2.0)
                    return
                if action in ("302", "307"):
                    self.send_response(int(action))
                    self.send_header("Location", endpoint.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if action in ("429", "500", "401"):
                    self.send_response(int(action))
                    if action == "429":
                        self.send_header("Retry-After", "0.3")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                    return
                time.sleep(endpoint.ok_delay)
                content = body["messages"][0]["content"]
                sizes = []
                for part in content:
                    if part["type"] == "image_url":
                        data = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
                        sizes.append("%dx%d" % Image.open(io.BytesIO(data)).size)
                text = next(p["text"] for p in content if p["type"] == "text")
                answer = {"choices": [{"message": {"role": "assistant", "content": f"{text} | {' '.join(sizes)}"}}]}
                raw = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://{host}:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    server = FakeEndpoint()
    yield server
    server.close()


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return KEY


def requests(n: int) -> list[CaptionRequest]:
    return [CaptionRequest(f"p{i}", Image.new("RGB", (20 + i, 10), (i, 0, 0)), Image.new("RGB", (20 + i, 10), (0, i, 0)),
                           f"prompt {i}") for i in range(n)]


def model(endpoint, **extra):
    args = {"base_url": endpoint.base_url, "model": "tiny", "backoff": "0.05", "timeout": "0.5", **extra}
    return load_model("openai", args).model


def test_answers_in_order_with_both_images_and_bounded_concurrency(endpoint, key):
    endpoint.ok_delay = 0.15
    captions = model(endpoint, concurrency="2").caption(requests(6))
    assert captions == [f"prompt {i} | {20 + i}x10 {20 + i}x10" for i in range(6)]
    assert len(endpoint.log) == 6 and endpoint.max_in_flight == 2
    first = endpoint.log[0]
    assert first["path"] == "/v1/chat/completions" and first["auth"] == f"Bearer {KEY}"
    assert first["body"]["model"] == "tiny" and first["body"]["temperature"] == 0.0


def test_429_then_500_then_success_is_retried_honouring_retry_after(endpoint, key):
    endpoint.plan = ["429", "500", "ok"]
    m = model(endpoint)
    assert m.caption(requests(1)) == ["prompt 0 | 20x10 20x10"]
    assert [e["action"] for e in endpoint.log] == ["429", "500", "ok"] and m.requests_sent == 3
    assert endpoint.log[1]["t"] - endpoint.log[0]["t"] >= 0.25  # waited the Retry-After of 0.3 s, not the 0.05 backoff


def test_a_stalled_request_times_out_and_is_retried(endpoint, key):
    endpoint.plan = ["stall", "ok"]
    assert model(endpoint, timeout="0.4").caption(requests(1)) == ["prompt 0 | 20x10 20x10"]
    assert [e["action"] for e in endpoint.log] == ["stall", "ok"]


def test_retries_are_bounded(endpoint, key):
    endpoint.plan = ["stall"] * 5
    with pytest.raises(OmniDiffError, match=r"after 2 attempts \(no answer within 0.3s\)"):
        model(endpoint, timeout="0.3", max_retries="1").caption(requests(1))
    assert len(endpoint.log) == 2
    endpoint.log.clear()
    endpoint.plan = ["500"] * 5
    with pytest.raises(OmniDiffError, match=r"after 3 attempts \(HTTP 500\)"):
        model(endpoint, max_retries="2").caption(requests(1))
    assert len(endpoint.log) == 3


def test_401_is_not_retried(endpoint, key):
    endpoint.plan = ["401"]
    with pytest.raises(OmniDiffError, match="HTTP 401") as info:
        model(endpoint).caption(requests(1))
    assert len(endpoint.log) == 1 and KEY not in str(info.value)


def test_the_key_comes_from_the_environment_only(endpoint, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(OmniDiffError, match="OPENAI_API_KEY is not set"):
        model(endpoint)
    monkeypatch.setenv("OTHER_KEY", "abc")
    model(endpoint, api_key_env="OTHER_KEY").caption(requests(1))
    assert endpoint.log[-1]["auth"] == "Bearer abc"


def test_eval_through_the_endpoint_never_writes_or_prints_the_key(run_cli, endpoint, key, tmp_path):
    store = Store.create(tmp_path / "s", name="o")
    store.append([make_record(i) for i in range(4)])
    endpoint.plan = ["429", "ok", "500"]
    results = tmp_path / "results"
    res = run_cli("eval", "--model", "openai", "--model-arg", f"base_url={endpoint.base_url}", "--model-arg", "model=tiny",
                  "--model-arg", "backoff=0.05", "--model-arg", "concurrency=2", "--data", store.root,
                  "--results", results, "--no-spice", "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out)[0]["n"] == 4
    endpoint.plan = ["401"]
    failed = run_cli("eval", "--model", "openai", "--model-arg", f"base_url={endpoint.base_url}", "--model-arg", "model=other",
                     "--data", store.root, "--results", results, "--no-spice")
    assert failed.code == 1 and "HTTP 401" in failed.err
    for text in (res.out, res.err, failed.out, failed.err):
        assert KEY not in text
    files = [p for p in results.rglob("*") if p.is_file()]
    assert any(p.name == "predictions.sqlite" for p in files) and any(p.name == "run.json" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("status", ["302", "307"])
def test_a_redirect_to_another_host_is_an_error_and_the_key_never_follows(endpoint, key, status):
    other = FakeEndpoint(host="localhost")  # the same machine under another host name
    try:
        endpoint.plan = [status]
        endpoint.redirect_to = other.base_url + "/chat/completions"
        with pytest.raises(OmniDiffError) as info:
            model(endpoint).caption(requests(1))
        message = str(info.value)
        assert f"HTTP {status}" in message and "localhost" in message and "\n" not in message
        assert KEY not in message
        assert other.log == []  # nothing reached the redirect's host: no key, no GET answer taken as a caption
        assert len(endpoint.log) == 1  # and a redirect is not retried
    finally:
        other.close()


class TrickleServer:
    """Answers every request one byte at a time, ``interval`` seconds apart, either in the status line
    (``phase="headers"``) or in the body after complete headers (``phase="body"``). It stops by itself
    after ``limit`` bytes or when the client hangs up, and records how long each connection lasted."""

    def __init__(self, phase: str, interval: float = 0.1, limit: int = 60) -> None:
        self.phase, self.interval, self.limit = phase, interval, limit
        self.durations: list[float] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.thread = threading.Thread(target=self._serve_one, daemon=True)
        self.thread.start()

    def _serve_one(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        start = time.monotonic()
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            if self.phase == "body":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n")
            payload = (b"HTTP/1.1 200 OK\r\n" if self.phase == "headers" else b"") + b" " * self.limit
            for byte in payload[: self.limit]:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    break
                time.sleep(self.interval)
        self.durations.append(time.monotonic() - start)

    def close(self) -> None:
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_timeout_bounds_the_whole_request_against_a_trickling_server(key, phase):
    server = TrickleServer(phase)  # a byte every 0.1 s: each read succeeds well within the 0.6 s timeout
    try:
        m = load_model("openai", {"base_url": server.base_url, "model": "tiny", "timeout": "0.6", "max_retries": "0"}).model
        start = time.monotonic()
        with pytest.raises(OmniDiffError, match=r"after 1 attempts \(no answer within 0.6s\)") as info:
            m.caption(requests(1))
        elapsed = time.monotonic() - start
        assert "\n" not in str(info.value)
    finally:
        server.close()
    assert elapsed < 2.5, elapsed  # the 6-second trickle was cut at the deadline
    assert server.durations and server.durations[0] < 2.5  # the client hung up, the server's loop ended


@pytest.mark.parametrize("base_url", [
    "http://user:{secret}@127.0.0.1:9/v1", "https://{secret}@api.example.org/v1", "ftp://user:{secret}@host/v1",
    "user:{secret}@host/v1", "http://127.0.0.1:9/v1?key={secret}",
])
def test_a_secret_in_base_url_is_refused_and_never_printed(run_cli, key, tmp_path, base_url):
    secret = "SECRET-in-url-4b1d"
    url = base_url.format(secret=secret)
    with pytest.raises(OmniDiffError) as info:
        load_model("openai", {"base_url": url})
    assert secret not in str(info.value)
    store = Store.create(tmp_path / "s", name="o")
    store.append([make_record(0)])
    results = tmp_path / "results"
    res = run_cli("eval", "--model", "openai", "--model-arg", f"base_url={url}", "--data", store.root,
                  "--results", results, "--no-spice")
    assert res.code == 1 and res.err.startswith("error: openai: base_url")
    assert secret not in res.out + res.err
    for path in (p for p in results.rglob("*") if p.is_file()) if results.exists() else ():
        assert secret.encode() not in path.read_bytes(), path
