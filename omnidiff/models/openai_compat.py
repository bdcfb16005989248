"""``openai``: any OpenAI-compatible chat-completions endpoint (a vLLM server, a hosted API).

Both images travel as base64 PNG data URLs in one user message. The key is read from the
environment only (``api_key_env`` names the variable), never logged or written, and never sent
anywhere but ``base_url``'s host: redirects are errors, not followed. ``timeout`` bounds each whole
request (connect to last byte). Requests run with bounded concurrency; 429 and 5xx answers and
timeouts are retried a bounded number of times with exponential backoff (a ``Retry-After`` header
is honoured, capped).
"""

from __future__ import annotations

import base64
import io
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from annotations.errors import OmniDiffError
from omnidiff.models import bounded_http
from omnidiff.models.base import CaptionModel, CaptionRequest, ModelParam

RETRYABLE = {429, 500, 502, 503, 504}
MAX_ANSWER_BYTES = 16 * 1024 * 1024  # a chat completion is a few kB; more is a misbehaving server


class EndpointError(OmniDiffError):
    """The endpoint refused or kept failing after the retries."""


def image_data_url(image) -> str:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def endpoint_url(base_url: str) -> str:
    """``base_url`` + ``/chat/completions``, refusing what would leak or cannot work.

    Credentials in the URL (``user:secret@host``) are refused: a URL is printed in errors and
    recorded in run.json, so the key belongs in the environment. No message echoes a refused URL.
    """
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise OmniDiffError("openai: base_url is not a valid URL") from None
    if "@" in parts.netloc:
        raise OmniDiffError(
            "openai: base_url must not hold credentials (user:password@host): URLs are printed and recorded; "
            "put the key in the environment variable named by api_key_env"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OmniDiffError("openai: base_url must start with http:// or https:// and name a host")
    if parts.query or parts.fragment:
        raise OmniDiffError("openai: base_url must be an endpoint root, without ?query or #fragment")
    return base_url.rstrip("/") + "/chat/completions"


def _retry_after(headers, fallback: float, cap: float) -> float:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return min(max(float(value), 0.0), cap) if value is not None else fallback
    except ValueError:
        return fallback


class OpenAICompatibleModel(CaptionModel):
    """Chat-completions client on the standard library (urllib), threads for concurrency."""

    version = "1"
    remote_api = True
    params = (
        ModelParam("base_url", str, "https://api.openai.com/v1", "endpoint root, e.g. http://127.0.0.1:8000/v1"),
        ModelParam("model", str, "gpt-4o-mini", "model name the endpoint serves"),
        ModelParam("api_key_env", str, "OPENAI_API_KEY", "environment variable holding the key", affects_output=False),
        ModelParam("concurrency", int, 4, "requests in flight at most", affects_output=False),
        ModelParam("timeout", float, 60.0, "seconds per whole request (connect to last byte)", affects_output=False),
        ModelParam("max_retries", int, 4, "retries on 429, 5xx and timeouts", affects_output=False),
        ModelParam("backoff", float, 1.0, "first backoff in seconds (doubles each retry)", affects_output=False),
        ModelParam("max_backoff", float, 30.0, "longest wait between retries, Retry-After included", affects_output=False),
        ModelParam("max_tokens", int, 256, "max_tokens of the request"),
        ModelParam("temperature", float, 0.0, "sampling temperature (0 = greedy)"),
    )

    def __init__(self, **options) -> None:
        super().__init__(**options)
        if options["concurrency"] < 1 or options["max_retries"] < 0 or options["timeout"] <= 0:
            raise OmniDiffError("openai: concurrency >= 1, max_retries >= 0 and timeout > 0 are required")
        env = options["api_key_env"]
        self._key = os.environ.get(env, "") if env else ""
        if env and not self._key:
            raise OmniDiffError(f"openai: the environment variable {env} is not set (the key is read from it only)")
        self._url = endpoint_url(options["base_url"])
        self.requests_sent = 0  # every HTTP attempt, for tests and reports
        self._count_lock = threading.Lock()

    def weights_identity(self) -> str:
        return f"{self.options['base_url'].rstrip('/')}#{self.options['model']}"

    def caption(self, batch: list[CaptionRequest]) -> list[str]:
        workers = min(self.options["concurrency"], max(1, len(batch)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openai") as pool:
            return list(pool.map(self._one, batch))

    def _body(self, req: CaptionRequest) -> bytes:
        content = [
            {"type": "text", "text": req.prompt},
            {"type": "image_url", "image_url": {"url": image_data_url(req.image_before)}},
            {"type": "image_url", "image_url": {"url": image_data_url(req.image_after)}},
        ]
        body = {
            "model": self.options["model"],
            "messages": [{"role": "user", "content": content}],
            "max_tokens": self.options["max_tokens"],
            "temperature": self.options["temperature"],
        }
        return json.dumps(body).encode()

    def _one(self, req: CaptionRequest) -> str:
        """One caption: bounded retries on 429, 5xx and timeouts; a redirect or another 4xx ends it."""
        body = self._body(req)
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        attempts = self.options["max_retries"] + 1
        last = "no attempt"
        for attempt in range(attempts):
            wait = min(self.options["backoff"] * (2**attempt), self.options["max_backoff"])
            try:
                with self._count_lock:
                    self.requests_sent += 1
                raw = bounded_http.post(self._url, body, headers, self.options["timeout"], MAX_ANSWER_BYTES)
                return self._parse(raw, req.pair_id)
            except bounded_http.Redirected as exc:
                raise EndpointError(
                    f"openai: {self._url} redirected (HTTP {exc.status}) to host {exc.target_host} for {req.pair_id}; "
                    "redirects are not followed (the key stays with its host): set base_url to the final address"
                ) from None
            except bounded_http.HTTPStatusError as exc:
                last = f"HTTP {exc.status}"
                if exc.status not in RETRYABLE:
                    raise EndpointError(f"openai: {self._url} answered HTTP {exc.status} for {req.pair_id}") from None
                wait = _retry_after(exc.headers, wait, self.options["max_backoff"])
            except bounded_http.AnswerTooLarge:
                raise EndpointError(f"openai: {self._url} answered more than {MAX_ANSWER_BYTES} bytes for {req.pair_id}") from None
            except bounded_http.RequestTimeout:
                last = f"no answer within {self.options['timeout']:g}s"
            except bounded_http.ConnectFailed as exc:
                last = f"connection failed ({exc})"
            if attempt + 1 < attempts:
                time.sleep(wait)
        raise EndpointError(f"openai: {self._url} failed for {req.pair_id} after {attempts} attempts ({last})")

    def _parse(self, raw: bytes, pair_id: str) -> str:
        try:
            data = json.loads(raw)
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise EndpointError(f"openai: {self._url} gave an answer without choices[0].message.content for {pair_id}") from None
        if isinstance(content, list):  # some servers return content parts
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        return (content or "").strip()

