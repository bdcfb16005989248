"""The prediction cache: one SQLite file, a row written (and committed) as each batch arrives.

The key is (model fingerprint, benchmark, pair id, prompt hash, generation-settings hash), so a
changed prompt or option never serves a stale caption, and a killed run loses at most the batch
that was being computed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any, Iterable

from annotations.errors import OmniDiffError

SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    fingerprint TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    pair_id TEXT NOT NULL,
    prompt_sha TEXT NOT NULL,
    settings_sha TEXT NOT NULL,
    caption TEXT NOT NULL,
    PRIMARY KEY (fingerprint, benchmark, pair_id, prompt_sha, settings_sha)
)
"""


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def settings_sha(settings: dict[str, Any]) -> str:
    return text_sha(json.dumps(settings, sort_keys=True, default=str))


class PredictionCache:
    """Captions by key; ``put_many`` commits before returning."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SCHEMA)
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise OmniDiffError(f"prediction cache {self.path}: {exc}") from None

    def get_many(self, fingerprint: str, benchmark: str, prompt: str, settings: dict[str, Any],
                 pair_ids: Iterable[str]) -> dict[str, str]:
        wanted = set(pair_ids)
        rows = self._db.execute(
            "SELECT pair_id, caption FROM predictions WHERE fingerprint=? AND benchmark=? AND prompt_sha=? AND settings_sha=?",
            (fingerprint, benchmark, text_sha(prompt), settings_sha(settings)),
        )
        return {pid: caption for pid, caption in rows if pid in wanted}

    def put_many(self, fingerprint: str, benchmark: str, prompt: str, settings: dict[str, Any],
                 captions: dict[str, str]) -> None:
        p_sha, s_sha = text_sha(prompt), settings_sha(settings)
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO predictions VALUES (?, ?, ?, ?, ?, ?)",
                [(fingerprint, benchmark, pid, p_sha, s_sha, cap) for pid, cap in captions.items()],
            )

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0])

    def close(self) -> None:
        self._db.close()
