"""Where each pair lives: pair id -> (shard file, row), in SQLite beside the manifest.

Why SQLite: an append must check its new ids against every id already stored and ``Store.images`` must
find 8 pairs among 100,000 without reading 100,000 ids; a B-tree does both in time that does not grow
with the store, and the standard library has it.

The index is derived data; the manifest stays the truth. Each shard is indexed under its identity (its
SHA-256 from the manifest, or its size and mtime for version-1 shards); a listed shard whose identity the
index lacks is (re)indexed from its pair-id column, rows of shards the manifest no longer lists are
ignored by readers and purged by the next writer, and an unreadable index file is rebuilt. A store on a
read-only disk gets an index in memory. Rows are written with ``synchronous=NORMAL``: a power cut may
lose the last indexing, which the identity check then redoes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from annotations.layout import INDEX, ShardInfo

_SCHEMA = """
CREATE TABLE IF NOT EXISTS shards (file TEXT PRIMARY KEY, identity TEXT NOT NULL, rows INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pairs (
    pair_id TEXT NOT NULL, file TEXT NOT NULL, row INTEGER NOT NULL, PRIMARY KEY (pair_id, file)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pairs_by_file ON pairs (file);
"""
_CHUNK = 500  # host parameters per query (SQLite allows 999 in old builds)

IdsOfShard = Callable[[ShardInfo], list[str]]


class PairIndex:
    """Lookups and updates of one store's index; safe to share between threads."""

    def __init__(self, root: Path, ids_of_shard: IdsOfShard, identity_of: Callable[[ShardInfo], str]) -> None:
        self.path = Path(root) / INDEX
        self._ids_of_shard = ids_of_shard
        self._identity_of = identity_of
        self._lock = threading.RLock()
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            db.execute("SELECT COUNT(*) FROM shards").fetchone()
            return db
        except sqlite3.OperationalError:  # read-only folder: an index in memory for this process
            db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        except sqlite3.DatabaseError:  # not a database any more (a torn or foreign file): start afresh
            self.path.unlink(missing_ok=True)
            db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- keeping it in step with the manifest ---------------------------------------------------
    def sync(self, shards: Sequence[ShardInfo]) -> None:
        """Index every listed shard the index does not hold under its current identity."""
        with self._lock:
            try:
                self._sync(shards)
            except sqlite3.OperationalError:  # the file cannot be written (a read-only store): keep it in memory
                self._db.close()
                self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
                self._db.executescript(_SCHEMA)
                self._sync(shards)

    def _sync(self, shards: Sequence[ShardInfo]) -> None:
        known = dict(self._db.execute("SELECT file, identity FROM shards"))
        for shard in shards:
            identity = self._identity_of(shard)
            if known.get(shard.file) != identity:
                self.add(shard, self._ids_of_shard(shard), identity)

    def add(self, shard: ShardInfo, pair_ids: list[str], identity: str | None = None) -> None:
        identity = identity or self._identity_of(shard)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM pairs WHERE file = ?", (shard.file,))
                self._db.executemany("INSERT OR REPLACE INTO pairs VALUES (?, ?, ?)",
                                     ((pid, shard.file, row) for row, pid in enumerate(pair_ids)))
                self._db.execute("INSERT OR REPLACE INTO shards VALUES (?, ?, ?)", (shard.file, identity, len(pair_ids)))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def purge(self, listed: Iterable[str]) -> None:
        """Forget shards the manifest does not list (writers, under the store lock)."""
        keep = set(listed)
        with self._lock:
            gone = [f for (f,) in self._db.execute("SELECT file FROM shards") if f not in keep]
            gone += [f for (f,) in self._db.execute("SELECT DISTINCT file FROM pairs") if f not in keep and f not in gone]
            if not gone:
                return
            self._db.execute("BEGIN IMMEDIATE")
            for file in gone:
                self._db.execute("DELETE FROM pairs WHERE file = ?", (file,))
                self._db.execute("DELETE FROM shards WHERE file = ?", (file,))
            self._db.execute("COMMIT")

    def forget(self, file: str) -> None:
        """Drop one shard's entries, so that the next ``sync`` reads them again (after a stale lookup)."""
        with self._lock:
            self._db.execute("DELETE FROM shards WHERE file = ?", (file,))

    # -- lookups ---------------------------------------------------------------------------------
    def locate(self, pair_ids: Iterable[str], listed: Sequence[str]) -> dict[str, tuple[str, int]]:
        """pair id -> (shard file, row) for the ids found in the listed shards (earliest shard first)."""
        order = {f: i for i, f in enumerate(listed)}
        found: dict[str, tuple[str, int]] = {}
        wanted = list(dict.fromkeys(pair_ids))
        with self._lock:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT pair_id, file, row FROM pairs WHERE pair_id IN ({marks})", chunk)
                for pid, file, row in rows:
                    if file in order and (pid not in found or order[file] < order[found[pid][0]]):
                        found[pid] = (file, row)
        return found
