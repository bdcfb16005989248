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
    """This project's saved key -> the original LLaVA-NeXT training layout (layout.KEY_RULES)."""
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


# -- checkpoints in other projects' layouts ------------------------------------------------------------
QWEN_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
CORPUS = ["a red square appeared in the scene", "the cube moved to the left and the light changed",
          "what changed between the two images?", "the first image shows a scene before a change"]


def qwen2_style_tokenizer():
    """A small byte-level BPE tokenizer with Qwen2's pre-tokenizer and chat specials, trained here (nothing is
    downloaded), as a ``Qwen2Tokenizer``; like a LLaVA-NeXT checkpoint's tokenizer it has no image tokens."""
    import json as _json

    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    core = Tokenizer(models.BPE())
    core.normalizer = normalizers.NFC()
    core.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    trainer = trainers.BpeTrainer(vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    core.train_from_iterator(CORPUS * 4, trainer)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in _json.loads(core.to_str())["model"]["merges"]]
    tokenizer = Qwen2Tokenizer(vocab=core.get_vocab(), merges=merges, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                               unk_token=None)
    tokenizer.add_special_tokens({"additional_special_tokens": list(QWEN_SPECIALS[1:])})
    return tokenizer


def with_image_tokens(tokenizer):
    import copy

    from tokenizers import AddedToken

    extended = copy.deepcopy(tokenizer)
    extended.add_tokens([AddedToken(t, special=True, normalized=False) for t in ("<image>", "<video>")], special_tokens=True)
    return extended


def reference_bundle(tokenizer, rows: int, seed: int = 0, **mdp_options: str) -> M3DiffBundle:
    """A tiny M3Diff over ``tokenizer`` (with image tokens) whose embedding matrix has ``rows`` rows (Qwen2
    checkpoints carry padding rows beyond the tokenizer)."""
    from omnidiff.models.m3diff.config import tiny_config
    from omnidiff.models.m3diff.modeling import M3DiffForConditionalGeneration
    from omnidiff.models.m3diff.processing import build_processor

    config = tiny_config(vocab_size=rows, image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
                         video_token_index=tokenizer.convert_tokens_to_ids("<video>"), **mdp_options)
    config.text_config.bos_token_id = None
    config.text_config.eos_token_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    config._attn_implementation = "sdpa"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = M3DiffForConditionalGeneration(config).eval()
    vision = config.vision_config
    tokenizer.padding_side = "left"
    return M3DiffBundle(model, build_processor(tokenizer, vision.image_size, vision.patch_size), f"reference:{seed}")


def llava_qwen_config(bundle: M3DiffBundle, tower: str) -> dict:
    """The flat Qwen2 config plus mm_* fields that LLaVA-NeXT's training code writes (llava_qwen)."""
    config = bundle.model.config
    text, vision = config.text_config, config.vision_config
    return {
        "architectures": ["LlavaQwenForCausalLM"], "model_type": "llava_qwen", "attention_dropout": 0.0,
        "bos_token_id": text.bos_token_id, "eos_token_id": text.eos_token_id, "hidden_act": "silu",
        "hidden_size": text.hidden_size, "intermediate_size": text.intermediate_size, "initializer_range": 0.02,
        "max_position_embeddings": text.max_position_embeddings, "max_window_layers": text.max_window_layers,
        "num_attention_heads": text.num_attention_heads, "num_hidden_layers": text.num_hidden_layers,
        "num_key_value_heads": text.num_key_value_heads, "rms_norm_eps": text.rms_norm_eps, "rope_scaling": None,
        "rope_theta": text.rope_parameters["rope_theta"], "sliding_window": 1024, "tie_word_embeddings": False,
        "use_sliding_window": False, "vocab_size": text.vocab_size, "torch_dtype": "float32", "use_cache": True,
        "transformers_version": "4.40.0.dev0", "use_mm_proj": True, "tokenizer_model_max_length": 32768,
        "tokenizer_padding_side": "right", "image_aspect_ratio": "anyres_max_9",
        "image_grid_pinpoints": [[vision.image_size, vision.image_size]], "image_crop_resolution": None,
        "image_split_resolution": None, "vision_tower_pretrained": None,
        "mm_vision_tower": tower, "mm_hidden_size": vision.hidden_size, "mm_projector_type": "mlp2x_gelu",
        "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch", "mm_patch_merge_type": "spatial_unpad",
        "mm_newline_position": "one_token", "mm_spatial_pool_mode": "bilinear", "mm_spatial_pool_stride": 2,
        "mm_tunable_parts": "mm_vision_tower,mm_mlp_adapter,mm_language_model", "mm_projector_lr": None,
        "mm_vision_tower_lr": 2e-06, "mm_use_im_start_end": False, "mm_use_im_patch_token": False,
        "mm_resampler_type": None, "mdp_layers": list(config.mdp_layers), "mdp_num_heads": config.mdp_num_heads,
    }


def write_llava_next_checkpoint(bundle: M3DiffBundle, tokenizer, folder: Path, mdp_prefix: str = "model.diff_perception.",
                                shards: int = 2, rename_mdp=None) -> Path:
    """``bundle``'s weights as LLaVA-NeXT saves them: LLaVA-NeXT key names, the MDP under ``mdp_prefix``
    (``rename_mdp`` may rename its relative keys), sharded safetensors with an index, ``tokenizer`` (no image
    tokens), no preprocessor_config.json; the SigLIP tower named by a local folder holding its config."""
    folder.mkdir(parents=True)
    tower = folder / "siglip-tiny-patch8-32"
    tower.mkdir()
    vision = bundle.model.config.vision_config
    (tower / "config.json").write_text(json.dumps({"model_type": "siglip_vision_model", "hidden_size": vision.hidden_size,
                                                   "num_attention_heads": vision.num_attention_heads}))
    state = {k: v.detach().clone().contiguous() for k, v in bundle.model.state_dict().items()}
    renamed = {}
    for key, value in state.items():
        key = re.sub(r"^model\.language_model\.", "model.", key)
        key = re.sub(r"^model\.vision_tower\.", "model.vision_tower.vision_tower.vision_model.", key)
        key = re.sub(r"^model\.multi_modal_projector\.linear_1\.", "model.mm_projector.0.", key)
        key = re.sub(r"^model\.multi_modal_projector\.linear_2\.", "model.mm_projector.2.", key)
        if key.startswith("model.multi_modal_projector.mdp."):
            relative = key[len("model.multi_modal_projector.mdp."):]
            key = mdp_prefix + (rename_mdp(relative) if rename_mdp else relative)
        renamed[key] = value
    names = sorted(renamed)
    weight_map = {}
    for index in range(shards):
        part = names[index::shards]
        file = f"model-{index + 1:05d}-of-{shards:05d}.safetensors"
        save_file({k: renamed[k] for k in part}, str(folder / file), metadata={"format": "pt"})
        weight_map.update({k: file for k in part})
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    (folder / "config.json").write_text(json.dumps(llava_qwen_config(bundle, tower.name)))
    tokenizer.save_pretrained(str(folder))
    return folder
