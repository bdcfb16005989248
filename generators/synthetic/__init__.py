"""Synthetic pairs rendered with Blender (bpy imported only by the renderer module)."""
