"""The annotation server's request handling against hostile clients: an in-process server on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest

from annotations import Store
from annotations.annotate.server import make_server
from annotations.annotation_log import AnnotationLog
from tests.conftest import make_record


@pytest.fixture
def store(tmp_path):
    s = Store.create(tmp_path / "store", name="server-test")
    s.append([make_record(0), make_record(1, provenance=[1, 2, 3]), make_record(2, provenance="just text")])
    return s.root


def start(store, **kw):
    server = make_server(store, 0, **kw)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, server.server_address[1]


@pytest.fixture
def served(store):
    server, port = start(store)
    yield port
    server.shutdown()
    server.server_close()


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return res.status, res.getheader("Content-Type"), res.read()
    finally:
        conn.close()


def session(port: int) -> str:
    return json.loads(request(port, "GET", "/api/meta")[2]).get("session", "")


def post(port: int, body: bytes, **headers) -> tuple[int, dict]:
    base = {"Content-Type": "application/json", "X-OmniDiff-Session": session(port)}
    base.update({k.replace("_", "-"): v for k, v in headers.items() if v is not None})
    for k in [k for k, v in headers.items() if v is None]:
        base.pop(k.replace("_", "-"), None)
    status, ctype, data = request(port, "POST", "/api/annotations", body, base)
    assert ctype.startswith("application/json"), (status, ctype, data)
    return status, json.loads(data)


GOOD = {"pair_id": "pair-0000", "annotator": "dan", "captions": ["a red square appeared."], "change_types": ["addition"]}


@pytest.mark.parametrize("body, status", [
    (json.dumps(dict(GOOD, pair_id=["pair-0000"])).encode(), 400),
    (json.dumps(dict(GOOD, pair_id={"a": 1})).encode(), 400),
    (b"[" * 100_000 + b"]" * 100_000, 400),
    (b'{"pair_id": "pair-0000", "annotator": "dan", "change_types": [], "captions": ["bad \\ud800 text"]}', 400),
    (b'{"pair_id": "pair-0000", "annotator": "\\udfff", "change_types": [], "captions": []}', 400),
    (b'{"pair_id": "pair-0000", "annotator": "dan", "change_types": ["\\ud800"], "captions": []}', 400),
    (json.dumps(dict(GOOD, client_id=["x"])).encode(), 400),
    (b'"just a string"', 400),
    (b"\xff\xfe not utf-8", 400),
])
def test_every_bad_body_gets_a_4xx_json_error_and_nothing_is_written(served, store, body, status):
    code, data = post(served, body)
    assert code == status and data["ok"] is False and data["error"]
    assert AnnotationLog(store).entries() == []
    assert request(served, "GET", "/api/meta")[0] == 200  # the server is still up


def test_a_pair_whose_provenance_is_not_an_object_still_opens(served):
    for pid in ("pair-0001", "pair-0002"):
        status, _, data = request(served, "GET", f"/api/pair?id={pid}")
        assert status == 200 and json.loads(data)["mask_is_proposed"] is False


@pytest.mark.parametrize("ctype", ["application/jsonfoo", "application/json-patch+json", "text/json", "", "text/plain"])
def test_content_type_must_be_exactly_json(served, store, ctype):
    status, data = post(served, json.dumps(GOOD).encode(), Content_Type=ctype)
    assert status == 415 and not data["ok"]
    assert AnnotationLog(store).entries() == []


def test_json_with_a_charset_is_json(served, store):
    status, data = post(served, json.dumps(GOOD).encode(), Content_Type="application/json; charset=utf-8")
    assert status == 200 and data["entry"]["seq"] == 1


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"}, {"Origin": "http://127.0.0.1:1"}, {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
    {"X-OmniDiff-Session": None}, {"X-OmniDiff-Session": "guessed"},
])
def test_cross_origin_and_token_less_posts_are_refused(served, store, headers):
    status, data = post(served, json.dumps(GOOD).encode(), **{k.replace("-", "_"): v for k, v in headers.items()})
    assert status == 403 and not data["ok"]
    assert AnnotationLog(store).entries() == []


def test_a_same_origin_post_with_the_token_is_saved(served, store):
    status, data = post(served, json.dumps(GOOD).encode(), Origin=f"http://127.0.0.1:{served}", Sec_Fetch_Site="same-origin")
    assert status == 200 and data["ok"]
    assert [e["pair_id"] for e in AnnotationLog(store).entries()] == ["pair-0000"]


def test_half_sent_requests_do_not_pile_up_threads(store):
    server, port = start(store, timeout=0.5, max_connections=8)
    socks: list[socket.socket] = []
    try:
        baseline = threading.active_count()
        for _ in range(300):  # each sends part of its headers and then nothing
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"POST /api/annotations HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Len" % port)
            socks.append(s)
        time.sleep(0.2)
        assert threading.active_count() <= baseline + 8
        deadline = time.monotonic() + 5
        closed = 0
        for s in socks:  # the server hangs up on every one: turned away at once or timed out
            s.settimeout(max(0.1, deadline - time.monotonic()))
            data = b""
            try:
                while chunk := s.recv(4096):
                    data += chunk
            except (TimeoutError, ConnectionResetError):
                continue
            closed += 1
            assert data == b"" or data.startswith(b"HTTP/1.1 503")
        assert closed == 300
        settle = time.monotonic() + 3  # a handler thread ends just after it hangs up
        while threading.active_count() > baseline and time.monotonic() < settle:
            time.sleep(0.05)
        assert threading.active_count() <= baseline
        status, _, _ = request(port, "GET", "/api/meta")  # and it still serves
        assert status == 200
    finally:
        for s in socks:
            s.close()
        server.shutdown()
        server.server_close()
