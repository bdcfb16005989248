"""The Blender renderer: the only package that imports ``bpy``, and only inside a worker process.

``session`` keeps one live scene per worker and renders the two passes; ``realise`` turns the
builders' geometry (pure Python, ``generators/synthetic/builders``) into Blender objects;
``materials`` holds the procedural shaders; ``compare`` serves ``bench/render.py``.
"""

from generators.synthetic.renderer.compare import render_clevr_style, render_with, save_blend
from generators.synthetic.renderer.session import BlenderSession, bpy_version

__all__ = ["BlenderSession", "bpy_version", "render_clevr_style", "render_with", "save_blend"]
