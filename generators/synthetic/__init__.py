"""Synthetic pairs rendered with Blender (bpy imported only by the renderer module)."""

GENERATOR_VERSION = "0.2.0"
