"""Deterministic random streams: one ``random.Random`` per (run seed, scene, purpose, attempt).

Python's ``hash`` of a string is salted per process, so streams are derived with SHA-256 and are
the same in every worker process and every run.
"""

from __future__ import annotations

import hashlib
import random


def derive_seed(*parts: object) -> int:
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def stream(*parts: object) -> random.Random:
    return random.Random(derive_seed(*parts))
