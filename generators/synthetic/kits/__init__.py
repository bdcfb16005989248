"""Scene kits, one module per setting: ``tabletop`` (CLEVR-like primitives), ``indoor`` (rooms),
``outdoor`` (streets, plazas, parks, parking lots). A kit samples a scene spec from a seeded stream and
provides the setting-specific steps of the kit-agnostic change registry (see ``kits/base.py``)."""

from __future__ import annotations

from functools import lru_cache

from annotations.errors import OmniDiffError
from generators.synthetic.kits.base import Kit

SETTINGS = ("tabletop", "indoor", "outdoor")


@lru_cache(maxsize=None)
def get_kit(setting: str, preset: str = "omnidiff") -> Kit:
    """The kit of ``setting``; the tabletop kit follows the preset's recipe (CLEVR shapes or all)."""
    if setting == "tabletop":
        from generators.synthetic.kits.tabletop import TabletopKit

        return TabletopKit(preset)
    if setting == "indoor":
        from generators.synthetic.kits.indoor import IndoorKit

        return IndoorKit()
    if setting == "outdoor":
        from generators.synthetic.kits.outdoor import OutdoorKit

        return OutdoorKit()
    raise OmniDiffError(f"unknown setting {setting!r}; choose from {', '.join(SETTINGS)}")
