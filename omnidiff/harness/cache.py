"""The prediction cache: one SQLite file, a row written (and committed) as each batch arrives.

The key is (model fingerprint, benchmark, pair id, the content hash of both images, prompt hash,
generation-settings hash), so a changed prompt or option never serves a stale caption, nor does
another store whose pairs happen to share ids (a re-render at another profile, replaced images); a
killed run loses at most the batch that was being computed. Rows of the first cache table, which had no
image key, are never served.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any, Mapping

from annotations.errors import OmniDiffError

SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions_v2 (
    fingerprint TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    pair_id TEXT NOT NULL,
    images_sha TEXT NOT NULL,
    prompt_sha TEXT NOT NULL,
    settings_sha TEXT NOT NULL,
    caption TEXT NOT NULL,
    PRIMARY KEY (fingerprint, benchmark, pair_id, images_sha, prompt_sha, settings_sha)
)
"""


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def settings_sha(settings: dict[str, Any]) -> str:
    return text_sha(json.dumps(settings, sort_keys=True, default=str))


def images_key(before_sha256: str | None, after_sha256: str | None) -> str:
    """The content key of a pair: what the model is shown, whatever the pair is called."""
    return text_sha(f"{before_sha256}:{after_sha256}")


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
                 contents: Mapping[str, str]) -> dict[str, str]:
        """Cached captions of the pairs in ``contents`` (pair id -> ``images_key``) whose images match."""
        rows = self._db.execute(
            "SELECT pair_id, images_sha, caption FROM predictions_v2 "
            "WHERE fingerprint=? AND benchmark=? AND prompt_sha=? AND settings_sha=?",
            (fingerprint, benchmark, text_sha(prompt), settings_sha(settings)),
        )
        return {pid: caption for pid, images, caption in rows if contents.get(pid) == images}

    def put_many(self, fingerprint: str, benchmark: str, prompt: str, settings: dict[str, Any],
                 captions: dict[str, str], contents: Mapping[str, str]) -> None:
        p_sha, s_sha = text_sha(prompt), settings_sha(settings)
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO predictions_v2 VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(fingerprint, benchmark, pid, contents[pid], p_sha, s_sha, cap) for pid, cap in captions.items()],
            )

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM predictions_v2").fetchone()[0])

    def close(self) -> None:
        self._db.close()
