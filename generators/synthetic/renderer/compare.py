"""Helpers for bench/render.py: other sample counts, .blend files, and clevr-dataset-gen's way of rendering."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np

from generators.synthetic.renderer.session import BlenderSession
from generators.synthetic.spec import SceneSpec


def render_with(session: BlenderSession, spec: SceneSpec, samples: int, denoise: bool, seed: int = 0) -> tuple[bytes, float]:
    """The image of ``spec`` at another sample count or noise seed (a 1,024-sample reference); (PNG, seconds)."""
    cy = session.scene.cycles
    old = (cy.samples, cy.use_denoising, cy.seed)
    cy.samples, cy.use_denoising, cy.seed = samples, denoise, seed
    start = time.perf_counter()
    try:
        return session.render_image(spec), time.perf_counter() - start
    finally:
        cy.samples, cy.use_denoising, cy.seed = old


def save_blend(session: BlenderSession, spec: SceneSpec, path: Path) -> None:
    """Write the synced scene as a .blend file (the file the CLEVR-style baseline re-opens)."""
    session.sync(spec)
    session.bpy.ops.wm.save_as_mainfile(filepath=str(path), check_existing=False, compress=False)


def render_clevr_style(blend: Path, workdir: Path, samples: int = 512) -> tuple[bytes, float]:
    """clevr-dataset-gen's way, for comparison: re-open the .blend, render the image (no denoiser),
    then a separate flat-colour visibility render. Returns (PNG bytes, seconds for both)."""
    import bpy  # noqa: PLC0415
    from PIL import Image  # noqa: PLC0415

    start = time.perf_counter()
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.samples = samples
    scene.cycles.use_denoising = False
    scene.cycles.use_adaptive_sampling = False
    scene.view_settings.view_transform = "AgX"
    scene.render.filepath = str(workdir / "clevr-image.png")
    bpy.ops.render.render(write_still=True)
    with Image.open(workdir / "clevr-image.png") as img:
        arr = np.asarray(img.convert("RGB")).copy()
    bpy.ops.wm.open_mainfile(filepath=str(blend))  # the visibility pass re-opens the file as well
    scene = bpy.context.scene
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.view_settings.view_transform = "Standard"
    scene.render.filepath = str(workdir / "clevr-ids.png")
    bpy.ops.render.render(write_still=True)
    seconds = time.perf_counter() - start
    buf = io.BytesIO()
    Image.fromarray(arr, mode="RGB").save(buf, format="PNG")
    return buf.getvalue(), seconds
