"""Appends in batches: a producer of many small record sets (a render finishes a scene every few seconds)
gets one shard per ~256 MiB of images or per minute, whichever comes first, instead of one per scene.

What a kill costs: the records added since the last flush, which were never acknowledged as stored; a
rerun of the producer finds them missing and makes them again. A timer thread flushes on time even while
the producer waits for its next records; an error of that flush is raised to the producer at its next call.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from annotations.schema import PairRecord
from annotations.store import Store

FLUSH_BYTES = 256 << 20
FLUSH_SECONDS = 60.0


def _image_bytes(records: list[PairRecord]) -> int:
    return sum(len(v) for r in records for v in (r.image_before, r.image_after, r.mask_before, r.mask_after)
               if isinstance(v, (bytes, bytearray)))


class BufferedAppender:
    """``add`` records (and the manifest ``info`` to commit with them); ``close`` flushes the rest."""

    def __init__(self, store: Store, max_bytes: int = FLUSH_BYTES, max_seconds: float = FLUSH_SECONDS) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.flushes = 0
        self._records: list[PairRecord] = []
        self._bytes = 0
        self._info: dict[str, Any] | None = None
        self._since: float | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer = threading.Thread(target=self._tick, name="omnidiff-append-timer", daemon=True)
        self._timer.start()

    def add(self, records: list[PairRecord], info: dict[str, Any] | None = None) -> None:
        self._raise_error()
        with self._lock:
            self._records.extend(records)
            self._bytes += _image_bytes(records)
            if info is not None:
                self._info = info
            if self._since is None:
                self._since = time.monotonic()
            if self._bytes >= self.max_bytes:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()
        self._raise_error()

    def close(self) -> None:
        self._stop.set()
        self._timer.join()
        self.flush()

    def __enter__(self) -> "BufferedAppender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # the buffered records are complete: commit them even when the producer failed

    def _flush_locked(self) -> None:
        if not self._records and self._info is None:
            return
        # in id order, not in the order workers finished: the same batch gives the same shards, byte for byte
        records, info = sorted(self._records, key=lambda r: r.pair_id), self._info
        self.store.append(records, info=info)
        self.flushes += 1
        self._records, self._bytes, self._info, self._since = [], 0, None, None

    def _tick(self) -> None:
        step = min(1.0, self.max_seconds / 4)
        while not self._stop.wait(step):
            with self._lock:
                if self._since is None or time.monotonic() - self._since < self.max_seconds:
                    continue
                try:
                    self._flush_locked()
                except BaseException as exc:  # raised to the producer at its next call
                    self._error = exc
                    return

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
