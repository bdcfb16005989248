"""One HTTP POST whose timeout bounds the whole request and that never follows a redirect.

Why not plain ``urllib.request.urlopen``: its ``timeout`` applies to each socket operation, so a
server that trickles a byte now and then keeps a request alive for ever; and it follows redirects,
carrying the ``Authorization`` header to whatever host the redirect names. Here a watchdog shuts
the request's socket down at the deadline, whatever phase the request is in (connect, TLS
handshake, headers, body), and any 3xx answer is an error naming the status and the target host.
Proxies from the environment (``HTTPS_PROXY`` ...) are honoured as urllib does.
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.error
import urllib.request
from urllib.parse import urljoin, urlsplit


class HTTPStatusError(Exception):
    """A non-2xx, non-3xx answer (the caller decides what is retried)."""

    def __init__(self, status: int, headers) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers  # email.message.Message-like, for Retry-After


class RequestTimeout(Exception):
    """No complete answer before the deadline."""


class Redirected(Exception):
    """The server answered 3xx; nothing was followed."""

    def __init__(self, status: int, target_host: str) -> None:
        super().__init__(f"HTTP {status} to {target_host}")
        self.status = status
        self.target_host = target_host


class ConnectFailed(Exception):
    """The connection could not be made or broke before an answer came."""


class AnswerTooLarge(Exception):
    """The answer's body is larger than the caller allows."""


class _Watchdog:
    """Shuts down every socket of one request when its deadline passes.

    It keeps a duplicate of each socket's descriptor: ``shutdown`` acts on the connection, so it
    interrupts a blocked read even after TLS has wrapped (and detached) the original socket object.
    """

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._duplicates: list[socket.socket] = []
        self.expired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def create_connection(self, address, timeout=None, source_address=None):
        sock = socket.create_connection(address, timeout, source_address)
        with self._lock:
            if self.expired:
                sock.close()
                raise RequestTimeout()
            self._duplicates.append(sock.dup())
        return sock

    def _fire(self) -> None:
        with self._lock:
            self.expired = True
            for dup in self._duplicates:
                try:
                    dup.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for dup in self._duplicates:
                dup.close()
            self._duplicates.clear()


def _watched(connection_class: type, watchdog: _Watchdog):
    def make(host, **kwargs):
        conn = connection_class(host, **kwargs)
        conn._create_connection = watchdog.create_connection  # http.client's hook for opening the socket
        return conn

    return make


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self._watchdog = watchdog

    def http_open(self, req):
        return self.do_open(_watched(http.client.HTTPConnection, self._watchdog), req)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self._watchdog = watchdog

    def https_open(self, req):
        return self.do_open(_watched(http.client.HTTPSConnection, self._watchdog), req,
                            context=self._context)


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        fp.close()
        raise Redirected(code, _host_of(urljoin(req.full_url, newurl)))


def _host_of(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname or "(no host)"
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "(unparsable location)"


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, max_bytes: int) -> bytes:
    """POST ``body`` and return the 2xx answer's body, all within ``timeout`` seconds.

    Raises ``HTTPStatusError``, ``Redirected``, ``RequestTimeout``, ``ConnectFailed`` or
    ``AnswerTooLarge``; never anything that holds the request's headers.
    """
    watchdog = _Watchdog(timeout)
    opener = urllib.request.build_opener(_RefuseRedirects(), _WatchedHTTPHandler(watchdog), _WatchedHTTPSHandler(watchdog))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    watchdog.start()
    try:
        with opener.open(request, timeout=timeout) as resp:
            raw = resp.read(max_bytes + 1)
        if watchdog.expired:  # a body cut short by the watchdog can look complete to read()
            raise RequestTimeout()
        if len(raw) > max_bytes:
            raise AnswerTooLarge()
        return raw
    except urllib.error.HTTPError as exc:
        exc.close()
        if 300 <= exc.code < 400:
            raise Redirected(exc.code, _host_of(urljoin(url, exc.headers.get("Location") or url))) from None
        raise HTTPStatusError(exc.code, exc.headers) from None
    except (OSError, http.client.HTTPException, RequestTimeout) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if watchdog.expired or isinstance(reason, (TimeoutError, socket.timeout, RequestTimeout)):
            raise RequestTimeout() from None
        raise ConnectFailed(str(reason) or type(reason).__name__) from None
    finally:
        watchdog.close()
