"""An M3Diff model with its processor: built tiny and random, or loaded from a checkpoint; saved; run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from omnidiff.models.m3diff.config import tiny_config
from omnidiff.models.m3diff.errors import M3DiffError
from omnidiff.models.m3diff.loading import (
    Placement,
    load_model,
    open_checkpoint,
    quiet_transformers,
    resolve_checkpoint,
    weights_fingerprint,
)
from omnidiff.models.m3diff.modeling import M3DiffForConditionalGeneration
from omnidiff.models.m3diff.processing import (
    IMAGE_TOKEN,
    VIDEO_TOKEN,
    M3DiffProcessor,
    build_byte_tokenizer,
    build_processor,
    load_processor,
    pair_conversation,
)

TINY_PRESET = "tiny-random"


@dataclass
class M3DiffBundle:
    model: M3DiffForConditionalGeneration
    processor: M3DiffProcessor
    identity: str  # what identifies the weights (cache key)

    @property
    def tokenizer(self) -> Any:
        return self.processor.tokenizer


def build_tiny_random(placement: Placement, seed: int = 0, mdp_layers: list[int] | None = None,
                      **mdp_options: str) -> M3DiffBundle:
    """The tiny configuration with random weights drawn from ``seed`` (same seed, same bytes)."""
    tokenizer = build_byte_tokenizer()
    config = tiny_config(
        vocab_size=len(tokenizer),
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        video_token_index=tokenizer.convert_tokens_to_ids(VIDEO_TOKEN),
        mdp_layers=mdp_layers,
        **mdp_options,
    )
    config._attn_implementation = placement.attn_implementation
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = M3DiffForConditionalGeneration(config)
    model = model.to(device=placement.device, dtype=placement.dtype).eval()
    vision = config.vision_config
    processor = build_processor(tokenizer, vision.image_size, vision.patch_size)
    layers = "-".join(str(k) for k in config.mdp_layers)
    variants = "".join(f":{k}={v}" for k, v in sorted(mdp_options.items()))
    return M3DiffBundle(model, processor, f"{TINY_PRESET}:seed={seed}:layers={layers}{variants}")


def load_bundle(path: str, placement: Placement, allow_missing_mdp: bool = False) -> M3DiffBundle:
    folder = resolve_checkpoint(path)
    checkpoint = open_checkpoint(folder)
    model = load_model(folder, placement, allow_missing_mdp=allow_missing_mdp, checkpoint=checkpoint)
    vision = model.config.vision_config
    with quiet_transformers():
        processor = load_processor(folder, vision.image_size, vision.patch_size, tokenizer=checkpoint.tokenizer)
    return M3DiffBundle(model, processor, f"{path}:{weights_fingerprint(folder)}")


def save_bundle(bundle: M3DiffBundle, folder: Path) -> None:
    """A folder that ``load_bundle`` (and so ``--model-arg path=``) reads back: config, safetensors, tokenizer."""
    folder.mkdir(parents=True, exist_ok=True)
    with quiet_transformers():
        bundle.model.save_pretrained(str(folder))
        bundle.processor.tokenizer.save_pretrained(str(folder))
        bundle.processor.image_processor.save_pretrained(str(folder))


def chat_texts(tokenizer: Any, prompts: list[str]) -> list[str]:
    """The generation prompt of each pair; ``prompts`` come from the prompt registry (one per benchmark)."""
    if not all(isinstance(p, str) and p.strip() for p in prompts):
        raise M3DiffError("m3diff: every pair needs a non-empty prompt (omnidiff.harness.prompts.prompt_for)")
    return [tokenizer.apply_chat_template(pair_conversation(p), tokenize=False, add_generation_prompt=True) for p in prompts]


def model_inputs(bundle: M3DiffBundle, pairs: list[tuple[Image.Image, Image.Image]], texts: list[str]) -> dict[str, Any]:
    """Processor output moved to the model's device; pixels in the model's dtype."""
    inputs = bundle.processor.pair_inputs(pairs, texts)
    device, dtype = bundle.model.device, bundle.model.dtype
    moved = {}
    for key, value in inputs.items():
        if isinstance(value, torch.Tensor):
            value = value.to(device=device, dtype=dtype) if value.is_floating_point() else value.to(device)
        moved[key] = value
    return moved


@torch.inference_mode()
def generate_captions(
    bundle: M3DiffBundle, pairs: list[tuple[Image.Image, Image.Image]], prompts: list[str], max_new_tokens: int
) -> list[str]:
    """Greedy batched generation; one caption per pair (new tokens only, specials dropped)."""
    tokenizer = bundle.tokenizer
    inputs = model_inputs(bundle, pairs, chat_texts(tokenizer, prompts))
    output = bundle.model.generate(
        **inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    new_tokens = output[:, inputs["input_ids"].shape[1]:]
    return [text.strip() for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
