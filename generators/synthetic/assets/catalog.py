"""The asset catalog: JSON or YAML, checked field by field, each file hashed for provenance.

```yaml
assets:
  - name: teapot            # the family name (letters, digits, _)
    file: models/teapot.glb # relative to the catalog's folder
    noun: teapot
    synonyms: [kettle]
    settings: [indoor]      # indoor, outdoor
    placement: surface      # floor (free-standing), surface, wall
    height: 0.18            # real height in metres: the importer scales the model to it
    recolour: [Body]        # material slots that may be recoloured
    text: [Label]           # text objects that may be rewritten
    words: [OPEN, SHUT]     # what a rewritten text may say
    license: CC0-1.0
```
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from annotations.errors import OmniDiffError

FORMATS = (".blend", ".glb", ".gltf", ".obj", ".fbx")
PLACEMENTS = ("floor", "surface", "wall")
SETTINGS = ("indoor", "outdoor")
FIELDS = {"name", "file", "noun", "synonyms", "settings", "placement", "height", "recolour", "text", "words", "license",
          "plural"}
REQUIRED = ("name", "file", "noun", "settings", "placement", "height")
TOP_FIELDS = {"assets"}
NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


class CatalogError(OmniDiffError):
    """A catalog the renderer cannot use: the message names the catalog, the asset and the field or file."""


@dataclass(frozen=True)
class AssetEntry:
    name: str
    file: str  # absolute path
    noun: str
    settings: tuple[str, ...]
    placement: str
    height: float
    synonyms: tuple[str, ...] = ()
    recolour: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    license: str = ""
    plural: str | None = None
    sha256: str = ""
    # what the renderer's probe found in the file (filled by ``probe``)
    size: tuple[float, float, float] = (0.0, 0.0, 0.0)  # width, depth, height of the model as stored
    slots: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    colour: tuple[int, ...] = ()  # sRGB of the material that covers most of the model (names an unrecoloured asset)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Catalog:
    path: str
    entries: tuple[AssetEntry, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps({"path": self.path, "entries": [e.to_dict() for e in self.entries]}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Catalog":
        data = json.loads(text)
        entries = tuple(AssetEntry(**{k: tuple(v) if isinstance(v, list) else v for k, v in e.items()}) for e in data["entries"])
        return cls(data["path"], entries)

    def provenance(self) -> list[dict[str, Any]]:
        return [{"name": e.name, "file": Path(e.file).name, "sha256": e.sha256, "license": e.license} for e in self.entries]


def read_catalog(path: Path) -> Catalog:
    """Parse and check a catalog file; every file it names must exist, be readable and not be empty."""
    path = Path(path)
    where = f"asset catalog {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{where}: cannot read it ({type(exc).__name__})") from None
    data = _parse(text, path)
    if not isinstance(data, dict):
        raise CatalogError(f"{where}: expected a mapping with an 'assets' list")
    unknown = sorted(set(data) - TOP_FIELDS)
    if unknown:
        raise CatalogError(f"{where}: unknown field {unknown[0]!r} (fields: assets)")
    items = data.get("assets")
    if not isinstance(items, list) or not items:
        raise CatalogError(f"{where}: 'assets' must be a non-empty list")
    entries, names = [], set()
    for i, item in enumerate(items):
        entry = _entry(item, i, path)
        if entry.name in names:
            raise CatalogError(f"{where}: asset {entry.name!r} is listed twice")
        names.add(entry.name)
        entries.append(entry)
    return Catalog(str(path.resolve()), tuple(entries))


def _parse(text: str, path: Path) -> Any:
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text)
        return json.loads(text)
    except Exception as exc:  # noqa: BLE001 - json and yaml raise their own error types
        line = getattr(exc, "lineno", None) or getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" near line {line}" if line else ""
        raise CatalogError(f"asset catalog {path}: not valid {'YAML' if path.suffix.lower() in ('.yaml', '.yml') else 'JSON'}{at}") from None


def _entry(item: Any, i: int, catalog: Path) -> AssetEntry:
    where = f"asset catalog {catalog}, asset {i + 1}"
    if not isinstance(item, dict):
        raise CatalogError(f"{where}: expected a mapping")
    if isinstance(item.get("name"), str):
        where = f"asset catalog {catalog}, asset {item['name']!r}"
    unknown = sorted(set(item) - FIELDS)
    if unknown:
        raise CatalogError(f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(FIELDS))})")
    missing = [k for k in REQUIRED if k not in item]
    if missing:
        raise CatalogError(f"{where}: missing field {missing[0]!r}")
    name = item["name"]
    if not isinstance(name, str) or not NAME.match(name):
        raise CatalogError(f"{where}: 'name' must be lower-case letters, digits and _ (got {name!r})")
    for key in ("noun", "file", "license", "plural"):
        if key in item and (not isinstance(item[key], str) or not item[key].strip()):
            raise CatalogError(f"{where}: {key!r} must be a non-empty string")
    lists = {}
    for key in ("synonyms", "settings", "recolour", "text", "words"):
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise CatalogError(f"{where}: {key!r} must be a list of strings")
        lists[key] = tuple(value)
    bad = [s for s in lists["settings"] if s not in SETTINGS]
    if bad or not lists["settings"]:
        raise CatalogError(f"{where}: 'settings' must list indoor and/or outdoor (got {bad or 'none'})")
    if item["placement"] not in PLACEMENTS:
        raise CatalogError(f"{where}: 'placement' must be floor, surface or wall (got {item['placement']!r})")
    height = item["height"]
    if isinstance(height, bool) or not isinstance(height, (int, float)) or not 0.01 <= float(height) <= 30.0:
        raise CatalogError(f"{where}: 'height' must be a number of metres between 0.01 and 30 (got {height!r})")
    if lists["text"] and not lists["words"]:
        raise CatalogError(f"{where}: 'text' objects need 'words' to rewrite them with")
    file = _asset_file(item["file"], catalog, where)
    return AssetEntry(name=name, file=str(file), noun=item["noun"].strip(), settings=lists["settings"],
                      placement=item["placement"], height=float(height), synonyms=lists["synonyms"],
                      recolour=lists["recolour"], text=lists["text"], words=lists["words"],
                      license=item.get("license", ""), plural=item.get("plural"), sha256=_sha256(file, where))


def _asset_file(value: str, catalog: Path, where: str) -> Path:
    file = Path(value)
    if not file.is_absolute():
        file = catalog.resolve().parent / file
    if file.suffix.lower() not in FORMATS:
        raise CatalogError(f"{where}: file {value!r} is not one of {', '.join(FORMATS)}")
    if not file.exists():
        raise CatalogError(f"{where}: file {value!r} does not exist")
    if not file.is_file():
        raise CatalogError(f"{where}: file {value!r} is not a regular file")
    try:
        size = file.stat().st_size
        with file.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise CatalogError(f"{where}: file {value!r} cannot be read ({exc.strerror or type(exc).__name__})") from None
    if size == 0:
        raise CatalogError(f"{where}: file {value!r} is empty")
    return file.resolve()


def _sha256(path: Path, where: str) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
