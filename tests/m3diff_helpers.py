"""Shared pieces of the M3Diff tests: tiny bundles, a pair batch, checkpoint folder surgery."""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from PIL import Image, ImageDraw
from safetensors.torch import load_file, save_file

from omnidiff.models.m3diff.loading import resolve_placement
from omnidiff.models.m3diff.pipeline import M3DiffBundle, build_tiny_random, chat_texts, model_inputs

CPU32 = resolve_placement("cpu", "float32")


def tiny_bundle(seed: int = 0, mdp_layers: list[int] | None = None, **mdp_options: str) -> M3DiffBundle:
    return build_tiny_random(CPU32, seed=seed, mdp_layers=mdp_layers, **mdp_options)


def pair_images(count: int) -> list[tuple[Image.Image, Image.Image]]:
    """Deterministic (before, after) pairs of different sizes, one square moved/added per pair."""
    pairs = []
    for i in range(count):
        size = (40 + 8 * i, 30 + 4 * i)
        before = Image.new("RGB", size, (20 * i, 120, 200 - 10 * i))
        after = before.copy()
        ImageDraw.Draw(after).rectangle((5 + i, 5, 15 + i, 15), fill=(255, 0, 0))
        pairs.append((before, after))
    return pairs


def batch_inputs(bundle: M3DiffBundle, count: int = 2, captions: list[str] | None = None) -> dict:
    texts = chat_texts(bundle.tokenizer, ["what changed?"] * count)
    if captions is not None:
        texts = [t + c + bundle.tokenizer.eos_token for t, c in zip(texts, captions)]
    return model_inputs(bundle, pair_images(count), texts)


def rewrite_weights(folder: Path, edit) -> None:
    """Apply ``edit(dict) -> dict`` to a saved single-file checkpoint."""
    weights = load_file(str(folder / "model.safetensors"))
    save_file(edit(dict(weights)), str(folder / "model.safetensors"), metadata={"format": "pt"})


def to_llava_next_layout(key: str) -> str:
    """This project's saved key -> the original LLaVA-NeXT training layout that KEY_MAPPING accepts."""
    for pattern, target in (
        (r"^model\.vision_tower\.", "model.vision_tower.vision_tower.vision_model."),
        (r"^model\.multi_modal_projector\.linear_1\.", "model.mm_projector.0."),
        (r"^model\.multi_modal_projector\.linear_2\.", "model.mm_projector.2."),
        (r"^model\.multi_modal_projector\.mdp\.", "model.mdp."),
        (r"^model\.language_model\.model\.", "model."),
    ):
        key = re.sub(pattern, target, key)
    return key


def to_llava_hf_layout(key: str) -> str:
    """This project's saved key -> the llava-hf hub layout (top-level language_model/vision_tower/...)."""
    for pattern, target in (
        (r"^model\.language_model\.model\.", "language_model.model."),
        (r"^lm_head\.", "language_model.lm_head."),
        (r"^model\.vision_tower\.", "vision_tower.vision_model."),
        (r"^model\.multi_modal_projector\.", "multi_modal_projector."),
        (r"^model\.image_newline$", "image_newline"),
    ):
        key = re.sub(pattern, target, key)
    return key


def set_model_type(folder: Path, model_type: str) -> None:
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = model_type
    (folder / "config.json").write_text(json.dumps(config))


@torch.no_grad()
def logits(bundle: M3DiffBundle, inputs: dict) -> torch.Tensor:
    return bundle.model(**inputs).logits


def single_thread():
    """Generator for a module fixture: one intra-op thread (tiny tensors; OpenMP spinning on a shared machine
    made these tests ~15x slower), restored afterwards so other test modules keep their setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
