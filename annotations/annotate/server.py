"""The annotation web server: a small JSON API and one static page, on 127.0.0.1 only.

Why the standard library: the page is used by one or two people on one machine, and every save must
be acknowledged only after it is on disk. A save is a POST that appends one line to the store's
annotation log (fsync'd) before the response is sent; the page shows "saved" only on that response.
Two annotators (or two tabs) on one pair both land in the history; the later save wins on read and
the page that saved second is told that someone else saved in between.

Hardening, since any local process or web page may talk to the port: Host names other than the
loopback ones are refused (DNS rebinding); a save needs the session token the page gets from
``/api/meta`` (which a page of another origin cannot read) and, when the browser sends one, an
Origin of this server; the body must be exactly ``application/json``; every bad request gets a 4xx
with a JSON error; sockets time out and connections beyond a bound are turned away at once, so
half-sent requests cannot pile up threads.
"""

from __future__ import annotations

import hmac
import io
import json
import mimetypes
import secrets
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow.compute as pc

from annotations.annotation_log import AnnotationError, AnnotationLog
from annotations.errors import OmniDiffError
from annotations.schema import IMAGE_HASH_COLUMN
from annotations.store import Store
from annotations.taxonomy import TAXONOMY

STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = ("index.html", "app.js", "style.css")
HOST = "127.0.0.1"
MAX_BODY = 256 * 1024
MAX_CAPTION_CHARS = 5000
SESSION_HEADER = "X-OmniDiff-Session"
REQUEST_TIMEOUT_S = 20.0  # a socket silent this long is closed (idle keep-alive connections too)
MAX_CONNECTIONS = 32  # handler threads at most; a browser keeps about six connections per host
BUSY_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 46\r\n"
                 b"Connection: close\r\n\r\n" b'{"ok": false, "error": "too many connections"}')
GUIDELINES = (
    "Describe every semantic change: what object changed, where it is (left/right, near what) and how "
    "(colour, size, position, count, text, pose...).",
    "Ignore irrelevant changes: noise, compression, slight camera shake, small global lighting flicker.",
    "Aim for about 60 words in plain sentences; name objects precisely (a red mug, not a thing).",
    "Tick every change type that applies; tick none if nothing semantic changed.",
    "The red overlay is a machine proposal, not ground truth: check it against the images.",
)


class UnknownPair(OmniDiffError):
    """A request names a pair that is not in the store."""


def _is_text(value: Any) -> bool:
    """A string that can be written as UTF-8 (JSON may carry a lone surrogate such as ``\\ud800``)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _provenance(raw: str | None) -> dict[str, Any]:
    """A pair's provenance as an object; anything else (bad JSON, a list) reads as empty here."""
    try:
        value = json.loads(raw or "{}")
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


class PairIndex:
    """The pairs' stored labels (the page shows them beside the annotation history), in store order;
    images come from ``Store.images``, which reads one pair's row group, not the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        cols = ["pair_id", "scene_id", "split", "setting", "captions", "change_types", "provenance"]
        hashed = IMAGE_HASH_COLUMN in store.columns  # says which images exist without reading them
        table = store.table(cols + [IMAGE_HASH_COLUMN if hashed else "mask_after"], annotated=False)
        if hashed:
            has_mask = pc.is_valid(pc.struct_field(table.column(IMAGE_HASH_COLUMN), "mask_after")).to_pylist()
        else:
            has_mask = table.column("mask_after").is_valid().to_pylist()
        self.meta: dict[str, dict[str, Any]] = {}
        for values, masked in zip(table.select(cols).to_pylist(), has_mask):
            values["has_mask"] = bool(masked)
            self.meta[values["pair_id"]] = values
        self.order: list[str] = list(self.meta)

    def image(self, pair_id: str, column: str) -> bytes | None:
        if pair_id not in self.meta:
            raise KeyError(pair_id)
        return self.store.images([pair_id], [column])[pair_id][column]


def mask_overlay(mask_png: bytes) -> bytes:
    """The proposed mask as a translucent red PNG to lay over the after image."""
    from PIL import Image

    with Image.open(io.BytesIO(mask_png)) as img:
        alpha = img.convert("L").point(lambda v: 150 if v > 0 else 0)
    overlay = Image.new("RGBA", alpha.size, (255, 30, 30, 0))
    overlay.putalpha(alpha)
    buf = io.BytesIO()
    overlay.save(buf, format="PNG")
    return buf.getvalue()


def image_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    return "application/octet-stream"


class AnnotateService:
    """The logic behind the API, separate from HTTP so that it reads plainly."""

    def __init__(self, root: Path, annotator: str | None = None) -> None:
        self.store = Store.open(root)
        self.log = AnnotationLog(self.store.root)
        self.pairs = PairIndex(self.store)
        self.default_annotator = annotator or ""
        self._overlays: dict[str, bytes] = {}
        self.session = secrets.token_urlsafe(32)  # sent with every save; only a same-origin page can read it

    def meta(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "store": self.store.name,
            "pairs": len(self.pairs.order),
            "annotator": self.default_annotator,
            "change_types": [
                {"key": k, "definition": TAXONOMY[k].definition, "verbs": list(TAXONOMY[k].verbs)} for k in TAXONOMY.core_keys
            ],
            "guidelines": list(GUIDELINES),
        }

    def queue(self) -> dict[str, Any]:
        by_pair: dict[str, set[str]] = {}
        for entry in self.log.entries():
            by_pair.setdefault(entry["pair_id"], set()).add(entry["annotator"])
        items = []
        for pid in self.pairs.order:
            meta = self.pairs.meta[pid]
            items.append({"pair_id": pid, "scene_id": meta["scene_id"], "split": meta["split"],
                          "annotated": pid in by_pair, "annotators": sorted(by_pair.get(pid, ()))})
        items.sort(key=lambda i: i["annotated"])  # stable: unannotated first, store order within
        return {"pairs": items, "progress": self.log.progress(self.pairs.order)}

    def pair(self, pair_id: str) -> dict[str, Any]:
        meta = self.pairs.meta[pair_id]
        history = self.log.history(pair_id)
        latest = max(history, key=lambda e: e.get("seq", -1)) if history else None
        provenance = _provenance(meta["provenance"])
        return {
            "pair_id": pair_id,
            "scene_id": meta["scene_id"],
            "split": meta["split"],
            "setting": meta["setting"],
            "captions": list(latest["captions"]) if latest else list(meta["captions"] or []),
            "change_types": list(latest["change_types"]) if latest else list(meta["change_types"] or []),
            "stored": {"captions": meta["captions"] or [], "change_types": meta["change_types"] or []},
            "latest_seq": latest.get("seq") if latest else None,
            "history": history,
            "has_mask": meta["has_mask"],
            "mask_is_proposed": provenance.get("mask") == "proposed",
            "transform": provenance.get("transform"),
        }

    def image(self, pair_id: str, which: str) -> bytes | None:
        if which == "mask":
            if pair_id not in self._overlays:
                data = self.pairs.image(pair_id, "mask_after")
                if data is None:
                    return None
                self._overlays[pair_id] = mask_overlay(data)
            return self._overlays[pair_id]
        return self.pairs.image(pair_id, {"before": "image_before", "after": "image_after"}[which])

    def save(self, body: dict[str, Any]) -> dict[str, Any]:
        """Validate and append one annotation; returns it (with seq) and any save made in between."""
        if not isinstance(body, dict):
            raise AnnotationError("the request body must be a JSON object")
        pair_id = body.get("pair_id")
        if not isinstance(pair_id, str):
            raise AnnotationError("pair_id must be a string")
        if pair_id not in self.pairs.meta:
            raise UnknownPair(f"no pair {pair_id!r} in this store")
        types = body.get("change_types")
        if not isinstance(types, list) or not all(_is_text(t) for t in types):
            raise AnnotationError("change_types must be a list of strings")
        keys = sorted(set(TAXONOMY.resolve_all(types)), key=TAXONOMY.keys.index)
        captions = body.get("captions")
        if not isinstance(captions, list) or not all(isinstance(c, str) for c in captions):
            raise AnnotationError("captions must be a list of strings")
        if not all(_is_text(c) for c in captions):
            raise AnnotationError("a caption is not valid Unicode text (it holds a lone surrogate)")
        captions = [c.strip() for c in captions if c.strip()]
        if any(len(c) > MAX_CAPTION_CHARS for c in captions):
            raise AnnotationError(f"a caption is longer than {MAX_CAPTION_CHARS} characters")
        annotator = body.get("annotator")
        if not _is_text(annotator) or not annotator.strip():
            raise AnnotationError("enter your annotator name before saving (valid text)")
        based_on = body.get("based_on_seq")
        based_on = based_on if isinstance(based_on, int) and not isinstance(based_on, bool) else None
        client = body.get("client_id") or ""
        if not _is_text(client):
            raise AnnotationError("client_id must be a string")
        client = client[:64]
        entry = self.log.append({
            "pair_id": pair_id, "annotator": annotator.strip()[:64], "captions": captions, "change_types": keys,
            "client_id": client, "based_on_seq": based_on, "tool": "omnidiff annotate",
        })
        floor = based_on if based_on is not None else 0
        between = [
            e for e in self.log.history(pair_id)
            if floor < e.get("seq", -1) < entry["seq"] and e.get("client_id") != client
        ]
        return {"ok": True, "entry": entry, "saved_by_others_since_load": between}


def _media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def make_handler(service: AnnotateService, port_ref: list[int], timeout: float = REQUEST_TIMEOUT_S) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "omnidiff-annotate"
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            self.timeout = timeout  # StreamRequestHandler applies it to the socket
            super().setup()

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the terminal shows the URL only
            return

        def _origins(self) -> set[str]:
            return {f"127.0.0.1:{port_ref[0]}", f"localhost:{port_ref[0]}"}

        def _host_ok(self) -> bool:
            """Refuse other Host names (DNS rebinding): only the loopback address and localhost."""
            return (self.headers.get("Host") or "").lower() in self._origins()

        def _same_origin(self) -> bool:
            """A browser names the page that sends a request: it must be this server's."""
            origin = self.headers.get("Origin")
            if origin is not None and origin.lower() not in {f"http://{o}" for o in self._origins()}:
                return False
            return self.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")

        def _session_ok(self) -> bool:
            token = self.headers.get(SESSION_HEADER) or ""
            return hmac.compare_digest(token.encode("utf-8", "replace"), service.session.encode())

        def _send(self, status: int, body: bytes, ctype: str, cache: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: Any) -> None:
            self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

        def _error(self, status: int, message: str) -> None:
            self._json(status, {"ok": False, "error": message})

        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            try:
                self._get()
            except Exception:  # a bug must still answer (and keep the server up), not drop the connection
                self.close_connection = True
                self._error(500, "internal error")

        def do_POST(self) -> None:  # noqa: N802
            try:
                self._post()
            except Exception:
                self.close_connection = True
                self._error(500, "internal error")

        def _get(self) -> None:
            if not self._host_ok():
                return self._error(HTTPStatus.FORBIDDEN, "bad Host header")
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            try:
                if url.path in ("/", "/index.html"):
                    return self._send(200, (STATIC / "index.html").read_bytes(), "text/html; charset=utf-8")
                if url.path == "/favicon.ico":
                    return self._send(204, b"", "image/x-icon")
                if url.path.startswith("/static/"):
                    name = url.path[len("/static/"):]
                    if name not in STATIC_FILES:
                        return self._error(404, "no such file")
                    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
                    return self._send(200, (STATIC / name).read_bytes(), f"{ctype}; charset=utf-8")
                if url.path == "/api/meta":
                    return self._json(200, service.meta())
                if url.path == "/api/queue":
                    return self._json(200, service.queue())
                if url.path == "/api/pair":
                    return self._json(200, service.pair(query.get("id", "")))
                if url.path == "/api/image":
                    which = query.get("which", "")
                    if which not in ("before", "after", "mask"):
                        return self._error(400, "which must be before, after or mask")
                    data = service.image(query.get("id", ""), which)
                    if data is None:
                        return self._error(404, "this pair has no mask")
                    return self._send(200, data, image_type(data), cache=True)
                return self._error(404, "no such page")
            except KeyError:
                return self._error(404, f"no pair {query.get('id', '')!r} in this store")

        def _post(self) -> None:
            keep_alive = self.close_connection is False
            self.close_connection = True  # until the body is read: an unread body must not pass for a request
            if not self._host_ok():
                return self._error(HTTPStatus.FORBIDDEN, "bad Host header")
            if not self._same_origin():
                return self._error(HTTPStatus.FORBIDDEN, "cross-origin request refused")
            if urlsplit(self.path).path != "/api/annotations":
                return self._error(404, "no such endpoint")
            if _media_type(self.headers.get("Content-Type")) != "application/json":
                return self._error(415, "send JSON (Content-Type: application/json)")
            if not self._session_ok():
                return self._error(HTTPStatus.FORBIDDEN, f"missing or wrong {SESSION_HEADER} (reload the page)")
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                return self._error(400, "bad Content-Length")
            if length <= 0 or length > MAX_BODY:
                return self._error(413, f"body must be 1..{MAX_BODY} bytes")
            raw = self.rfile.read(length)
            self.close_connection = not keep_alive
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
                return self._error(400, "body is not valid JSON")
            try:
                result = service.save(body)
            except UnknownPair as exc:
                return self._error(404, str(exc))
            except OmniDiffError as exc:
                return self._error(400, str(exc))
            except OSError as exc:  # disk full, permissions: the save did not happen, say so
                return self._error(500, f"not saved: {exc.strerror or exc}")
            return self._json(200, result)

    return Handler


class BoundedHTTPServer(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` of them; more are answered 503 and closed."""

    daemon_threads = True
    # the listen backlog (socketserver's default is 5): connections past it wait a second or more for the
    # kernel's SYN retry instead of being answered 503 at once by ``process_request``
    request_queue_size = 128

    def __init__(self, address, handler, max_connections: int = MAX_CONNECTIONS) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            try:
                request.setblocking(False)
                request.send(BUSY_RESPONSE)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: give the slot back
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def make_server(root: Path, port: int = 0, annotator: str | None = None, *, timeout: float = REQUEST_TIMEOUT_S,
                max_connections: int = MAX_CONNECTIONS) -> BoundedHTTPServer:
    """A server bound to 127.0.0.1 (``port=0`` picks a free port; read it from ``server.server_address``)."""
    service = AnnotateService(Path(root), annotator)
    port_ref = [port]
    try:
        server = BoundedHTTPServer((HOST, port), make_handler(service, port_ref, timeout), max_connections)
    except OSError as exc:
        raise OmniDiffError(f"cannot listen on {HOST}:{port} ({exc.strerror or exc}); choose another --port") from None
    port_ref[0] = server.server_address[1]
    return server


def serve(root: Path, port: int = 8765, annotator: str | None = None, announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted."""
    server = make_server(root, port, annotator)
    announce(f"http://{HOST}:{server.server_address[1]}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
