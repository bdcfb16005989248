"""The bpy version without importing bpy in the parent process (it is slow and heavy)."""

from __future__ import annotations

from importlib import metadata


def installed_bpy_version() -> str:
    try:
        return metadata.version("bpy")
    except metadata.PackageNotFoundError:
        from annotations.errors import OmniDiffError

        raise OmniDiffError("Blender's Python module is not installed: pip install 'omnidiff[render]' (bpy 5.0.1)") from None
