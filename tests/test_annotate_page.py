"""The annotation page in headless Debian Chromium against a real server process on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from annotations import Store
from annotations.annotation_log import AnnotationLog
from tests.conftest import REPO, make_record

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SAVED = "#save-status[data-state='saved'][data-pending='0']"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium")


class Server:
    """``omnidiff annotate`` as a child process; its URL is read from its first line of output."""

    def __init__(self, store: Path, annotator: str = "alice") -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "annotate", str(store), "--port", "0", "--annotator", annotator],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        line = self.proc.stdout.readline()
        if "http://127.0.0.1:" not in line:
            self.proc.kill()
            raise AssertionError(f"server did not start: {line!r} {self.proc.stderr.read()!r}")
        self.url = line[line.index("http://"):].split()[0]
        self.port = int(self.url.rstrip("/").rsplit(":", 1)[1])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def store(tmp_path) -> Path:
    s = Store.create(tmp_path / "store", name="page-test")
    s.append([make_record(i, split="test", captions=[], change_types=[], provenance={"mask": "proposed"}) for i in range(3)])
    return s.root


@pytest.fixture
def server(store):
    srv = Server(store)
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser, url: str, annotator: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    page.fill("#annotator", annotator)
    page.press("#annotator", "Escape")  # leaves the field (the page's Esc), which commits the name
    return context, page


def test_tick_type_reload_finds_it_saved(browser, server, store, tmp_path):
    context, page = open_page(browser, server.url, "alice")
    first = page.inner_text("#pair-id")
    assert page.locator("#types input").count() == 12
    page.keyboard.press("3")  # shortcut for the third core type: addition
    page.check("#type-color")
    caption = "A small red square appeared in the lower left corner of the grey table, next to the wall."
    page.click("#caption")
    page.keyboard.type(caption)
    assert page.get_attribute("#word-count", "data-words") == str(len(caption.split()))
    page.wait_for_selector(SAVED)
    page.check("#show-mask")
    page.screenshot(path=str(tmp_path / "annotate.png"))
    page.keyboard.press("f")  # flicker view alternates before and after in one frame
    assert page.is_visible("#view-flicker") and not page.is_visible("#view-side")
    page.wait_for_function("document.getElementById('flicker-label').textContent === 'after'")
    page.keyboard.press("s")  # slider view: the after image is revealed from the handle rightwards
    assert page.is_visible("#view-slider") and not page.is_visible("#view-flicker")
    page.fill("#slider", "20")
    assert "20%" in page.get_attribute("#slider-clip", "style")
    page.keyboard.press("b")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.inner_text("#pair-id") == first
    assert page.input_value("#caption") == caption
    assert page.is_checked("#type-addition") and page.is_checked("#type-color")
    assert not page.is_checked("#type-text")
    latest = AnnotationLog(store).latest()[first]
    assert latest["change_types"] == ["addition", "color"] and latest["captions"] == [caption]
    assert latest["annotator"] == "alice"
    # The queue moves on to an unannotated pair and the store read applies the annotation.
    page.keyboard.press("n")
    page.wait_for_function(f"document.getElementById('pair-id').textContent !== {json.dumps(first)}")
    assert Store.open(store).get(first).captions == [caption]
    context.close()


def test_two_pages_on_one_pair_keep_both_entries(browser, server, store):
    ctx_a, page_a = open_page(browser, server.url, "alice")
    ctx_b, page_b = open_page(browser, server.url, "bob")
    pair = page_a.inner_text("#pair-id")
    assert page_b.inner_text("#pair-id") == pair
    page_a.check("#type-addition")
    page_a.wait_for_selector(SAVED)
    page_b.check("#type-disappearance")
    page_b.wait_for_selector(SAVED)
    history = AnnotationLog(store).history(pair)
    assert [(e["annotator"], e["change_types"]) for e in history] == [("alice", ["addition"]), ("bob", ["disappearance"])]
    assert page_b.is_visible("#conflict") and "alice" in page_b.inner_text("#conflict")
    assert not page_a.is_visible("#conflict")
    assert "bob" in page_b.inner_text("#history")
    ctx_a.close()
    ctx_b.close()
    # Reading the store gives the later save; the history keeps both.
    assert Store.open(store).get(pair).change_types == ["disappearance"]


def test_killed_server_loses_nothing_acknowledged(browser, store):
    server = Server(store)
    context, page = open_page(browser, server.url, "carol")
    pair = page.inner_text("#pair-id")
    acknowledged: list[int] = []
    for word in ("one", "two", "three"):
        page.click("#caption")
        page.keyboard.type(f" {word}")
        page.click("#save-btn")
        page.wait_for_selector(SAVED)
        acknowledged.append(int(page.get_attribute("#save-status", "data-seq")))
    page.check("#type-counting")
    page.wait_for_selector(SAVED)
    acknowledged.append(int(page.get_attribute("#save-status", "data-seq")))
    server.kill()  # SIGKILL: no chance to flush or clean up
    page.click("#caption")
    page.keyboard.type(" four")  # typed while the server is gone: must not be reported as saved
    page.click("#save-btn")
    page.wait_for_function("document.getElementById('save-status').textContent.includes('NOT saved') || "
                           "document.getElementById('save-status').textContent.includes('retrying')")
    assert page.get_attribute("#save-status", "data-state") != "saved"
    entries = {e["seq"]: e for e in AnnotationLog(store).entries()}
    assert set(acknowledged) <= set(entries)
    assert entries[acknowledged[-1]]["captions"] == ["one two three"]
    assert entries[acknowledged[-1]]["change_types"] == ["counting"]
    context.close()
    restarted = Server(store)
    try:
        ctx2, page2 = open_page(browser, restarted.url, "carol")
        page2.click(f"#queue li[data-pair-id='{pair}']")
        page2.wait_for_function(f"document.getElementById('pair-id').textContent === {json.dumps(pair)}")
        assert page2.input_value("#caption") == "one two three"
        assert page2.is_checked("#type-counting")
        ctx2.close()
    finally:
        restarted.kill()


def _request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    res = conn.getresponse()
    data = res.read()
    conn.close()
    return res.status, data


def test_api_refuses_bad_requests_and_writes_nothing(server, store):
    good = {"pair_id": "pair-0000", "annotator": "dan", "captions": ["x"], "change_types": ["addition"]}
    session = json.loads(_request(server.port, "GET", "/api/meta", headers={"Host": f"127.0.0.1:{server.port}"})[1])["session"]
    json_ct = {"Content-Type": "application/json", "X-OmniDiff-Session": session}
    status, _ = _request(server.port, "POST", "/api/annotations", json.dumps(good).encode(), {"Content-Type": "text/plain"})
    assert status == 415
    status, _ = _request(server.port, "GET", "/api/meta", headers={"Host": "evil.example:80"})
    assert status == 403
    status, data = _request(server.port, "POST", "/api/annotations", json.dumps(dict(good, change_types=["teleport"])).encode(), json_ct)
    assert status == 400 and b"teleport" in data
    status, _ = _request(server.port, "POST", "/api/annotations", json.dumps(dict(good, pair_id="nope")).encode(), json_ct)
    assert status == 404
    status, _ = _request(server.port, "POST", "/api/annotations", b"{not json", json_ct)
    assert status == 400
    status, _ = _request(server.port, "GET", "/api/image?id=pair-0000&which=secret")
    assert status == 400
    status, _ = _request(server.port, "GET", "/static/../server.py")
    assert status == 404
    assert AnnotationLog(store).entries() == []
    status, data = _request(server.port, "POST", "/api/annotations", json.dumps(dict(good, change_types=["appear"])).encode(), json_ct)
    assert status == 200 and json.loads(data)["entry"]["change_types"] == ["addition"]  # alias resolved to the key
    status, data = _request(server.port, "GET", "/api/image?id=pair-0001&which=mask")
    assert status == 200 and data.startswith(b"\x89PNG")


def test_annotate_cli_refuses_a_missing_store(run_cli, tmp_path):
    res = run_cli("annotate", tmp_path / "nothing-here", "--port", "0")
    assert res.code == 1
    assert "no such store" in res.err and "Traceback" not in res.err


def test_server_binds_loopback_only_and_a_busy_port_is_one_line(run_cli, store):
    from annotations.annotate.server import make_server

    srv = make_server(store, 0)
    try:
        assert srv.server_address[0] == "127.0.0.1"
        res = run_cli("annotate", store, "--port", str(srv.server_address[1]))
        assert res.code == 1 and "cannot listen on 127.0.0.1" in res.err and "Traceback" not in res.err
    finally:
        srv.server_close()
