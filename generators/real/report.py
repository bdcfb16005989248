"""What an ingest run kept and dropped, and why: printed, and kept in the store's ``info``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_LISTED = 200  # dropped items listed one by one in the stored report; the counts cover all


@dataclass
class Dropped:
    item: str  # a file, a frame or a pair, as the user would name it
    reason: str  # short key: blurred, underexposed, near_duplicate, scene_cut, no_change, ...
    detail: str = ""


@dataclass
class IngestReport:
    command: str  # "pairs", "video", "timelapse"
    source: str
    seed: int
    kept: list[str] = field(default_factory=list)  # pair ids
    dropped: list[Dropped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def drop(self, item: str, reason: str, detail: str = "") -> None:
        self.dropped.append(Dropped(item, reason, detail))

    def reasons(self) -> dict[str, int]:
        return dict(sorted(Counter(d.reason for d in self.dropped).items()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "source": self.source,
            "seed": self.seed,
            "kept": len(self.kept),
            "kept_pair_ids": list(self.kept),
            "dropped": len(self.dropped),
            "dropped_by_reason": self.reasons(),
            "dropped_items": [vars(d) for d in self.dropped[:MAX_LISTED]],
            "notes": list(self.notes),
            "stats": dict(self.stats),
        }
