"""The change taxonomy, loaded from ``taxonomy.json`` so that it is corrected in one place."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Iterable

from annotations.benchmark_names import benchmark_key
from annotations.errors import UnknownChangeType


@dataclass(frozen=True)
class ChangeType:
    key: str
    core: bool
    definition: str
    verbs: tuple[str, ...]
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class NativeLabel:
    """How a source benchmark's own label maps onto the taxonomy.

    ``change_types`` is what a pair rendered with this label holds; ``possible`` is every type an
    imported pair of this label may hold when its release does not say which (defaults to
    ``change_types``); ``wording`` are regular expressions its captions use (layout checks).
    """

    change_types: tuple[str, ...]
    distractor: bool
    possible: tuple[str, ...] = ()
    wording: tuple[str, ...] = ()

    @property
    def imported_change_types(self) -> list[str]:
        """What ``prepare`` records for a pair of this label from a native download."""
        return list(self.possible or self.change_types)


def _normalise(label: str) -> str:
    return " ".join(label.strip().lower().replace("-", "_").replace(" ", "_").split("_"))


class Taxonomy:
    """The 12 OmniDiff change types plus the CLEVR extensions, with alias resolution."""

    def __init__(self, data: dict) -> None:
        self.version: int = data["version"]
        self.types: dict[str, ChangeType] = {
            t["key"]: ChangeType(t["key"], bool(t["core"]), t["definition"], tuple(t["verbs"]), tuple(t["aliases"]))
            for t in data["types"]
        }
        self.mappings: dict[str, dict[str, NativeLabel]] = {
            bench: {label: NativeLabel(tuple(m["change_types"]), bool(m["distractor"]), tuple(m.get("possible", ())),
                                       tuple(m.get("wording", ()))) for label, m in table.items()}
            for bench, table in data["mappings"].items()
        }

    @cached_property
    def _lookup(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for ct in self.types.values():
            for name in (ct.key, *ct.aliases):
                table.setdefault(_normalise(name), ct.key)
        return table

    @property
    def keys(self) -> list[str]:
        return list(self.types)

    @property
    def core_keys(self) -> list[str]:
        return [k for k, t in self.types.items() if t.core]

    @property
    def extension_keys(self) -> list[str]:
        return [k for k, t in self.types.items() if not t.core]

    def __contains__(self, key: object) -> bool:
        return key in self.types

    def __iter__(self):
        return iter(self.types.values())

    def __len__(self) -> int:
        return len(self.types)

    def __getitem__(self, key: str) -> ChangeType:
        return self.types[self.resolve(key)]

    def resolve(self, label: str) -> str:
        """Return the taxonomy key for a key or alias (case, spaces and hyphens ignored)."""
        if not isinstance(label, str) or not label.strip():
            raise UnknownChangeType(f"unknown change type {label!r}: expected one of {', '.join(self.keys)}")
        key = self._lookup.get(_normalise(label))
        if key is None:
            raise UnknownChangeType(f"unknown change type {label!r}: expected one of {', '.join(self.keys)}")
        return key

    def resolve_all(self, labels: Iterable[str]) -> list[str]:
        out: list[str] = []
        for label in labels:
            key = self.resolve(label)
            if key not in out:
                out.append(key)
        return out

    def _native_table(self, benchmark: str) -> dict[str, NativeLabel]:
        table = self.mappings.get(benchmark_key(benchmark))
        if table is None:
            raise UnknownChangeType(f"no label mapping for benchmark {benchmark!r}; known: {', '.join(self.mappings)}")
        return table

    def native_labels(self, benchmark: str, *, distractors: bool = True) -> list[str]:
        """A source benchmark's own labels in their published order (``distractors=False``: semantic ones only)."""
        return [label for label, m in self._native_table(benchmark).items() if distractors or not m.distractor]

    def map_native(self, benchmark: str, label: str) -> NativeLabel:
        """Map a source benchmark's label (CLEVR-Change ``drop``, CLEVR-DC ``remove``...)."""
        table = self._native_table(benchmark)
        if not isinstance(label, str):
            raise UnknownChangeType(f"{benchmark} label {label!r} is not text: expected one of {', '.join(table)}")
        try:
            return table[label.strip().lower()]
        except KeyError:
            raise UnknownChangeType(
                f"unknown {benchmark} label {label!r}: expected one of {', '.join(table)}"
            ) from None


def load_taxonomy() -> Taxonomy:
    text = resources.files("annotations").joinpath("taxonomy.json").read_text(encoding="utf-8")
    return Taxonomy(json.loads(text))


TAXONOMY = load_taxonomy()
