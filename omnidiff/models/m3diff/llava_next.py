"""The original LLaVA-NeXT ``llava_qwen`` checkpoint (what the authors' training code writes) as an M3Diff config.

Facts from LLaVA-VL/LLaVA-NeXT (``llava/model/language_model/llava_qwen.py``, ``llava_arch.py``,
``multimodal_encoder/siglip_encoder.py``, ``multimodal_projector/builder.py``):

- ``config.json`` is a flat Qwen2 config plus ``mm_*`` fields; ``rope_scaling`` is forced to None at load;
- the vision tower is named (``mm_vision_tower``) and its own config is read from the hub at run time; its last
  encoder layer and head are deleted before training, so a saved tower has ``post_layernorm`` and no head, and
  ``hidden_states[-1]`` of the saved tower (``mm_vision_select_layer`` -2 of the full one) is what is used;
- ``mm_projector_type`` ``mlp2x_gelu`` is ``Linear, GELU (exact), Linear`` (keys ``mm_projector.0``/``.2``);
- with ``mm_patch_merge_type`` ``spatial_unpad`` every single-view image is its patch tokens plus
  ``image_newline``, which is what LLaVA-OneVision in transformers does for multi-image samples;
- ``image_grid_pinpoints`` are (width, height) pairs, or the string form ``"(1x1),...,(6x6)"`` in units of
  the tower's image size; transformers' are (height, width);
- the tokenizer has no ``<image>`` token: the image position is a sentinel id (-200) spliced in code.

A local folder must load without the hub, so the tower's sizes come from the tensor shapes and only its
attention heads (which shapes cannot tell) from :data:`KNOWN_VISION_TOWERS` or a local tower folder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omnidiff.models.m3diff.config import PAPER_MDP_LAYERS, M3DiffConfig
from omnidiff.models.m3diff.errors import M3DiffError
from omnidiff.models.m3diff.layout import TensorInfo

VISION_PREFIX = "model.vision_tower.vision_tower.vision_model."
# Published configurations of the SigLIP towers LLaVA-NeXT names: hidden size, attention heads.
KNOWN_VISION_TOWERS: dict[str, tuple[int, int]] = {
    "google/siglip-so400m-patch14-384": (1152, 16),
    "google/siglip-so400m-patch14-224": (1152, 16),
    "google/siglip-base-patch16-224": (768, 12),
    "google/siglip-base-patch16-256": (768, 12),
    "google/siglip-base-patch16-384": (768, 12),
    "google/siglip-base-patch16-512": (768, 12),
    "google/siglip-large-patch16-256": (1024, 16),
    "google/siglip-large-patch16-384": (1024, 16),
}
QWEN2_FIELDS = (
    "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
    "hidden_act", "max_position_embeddings", "initializer_range", "rms_norm_eps", "use_sliding_window",
    "sliding_window", "max_window_layers", "attention_dropout", "bos_token_id", "eos_token_id", "pad_token_id",
    "tie_word_embeddings",
)
# mm_* fields and the values this conversion supports (None: any value; they only concern video or training).
MM_FIELDS: dict[str, tuple[Any, ...] | None] = {
    "mm_vision_tower": None, "mm_hidden_size": None,
    "mm_projector_type": ("mlp2x_gelu",),
    "mm_vision_select_layer": (-2, -1),
    "mm_vision_select_feature": ("patch",),
    "mm_patch_merge_type": ("spatial_unpad", "spatial_unpad_nobase"),
    "mm_use_im_start_end": (False, None),
    "mm_use_im_patch_token": (False, None),
    "mm_resampler_type": (None,),
    "mm_newline_position": None, "mm_spatial_pool_mode": None, "mm_spatial_pool_stride": None,
    "mm_spatial_pool_out_channels": None, "mm_tunable_parts": None, "mm_projector_lr": None,
    "mm_vision_tower_lr": None,
}
MDP_FIELDS = ("mdp_layers", "mdp_num_heads", "mdp_fusion_mlp_ratio", "mdp_scale_mlp_ratio", "mdp_gate", "mdp_layer_weights")
GATE_PATTERN = re.compile(r"^(?P<prefix>.*?)blocks\.(?P<index>\d+)\.gate\.proj\.weight$")


@dataclass(frozen=True)
class VisionShapes:
    hidden_size: int
    intermediate_size: int
    num_layers: int
    patch_size: int
    image_size: int


def vision_shapes(tensors: dict[str, TensorInfo]) -> VisionShapes:
    def shape(name: str) -> tuple[int, ...]:
        info = tensors.get(VISION_PREFIX + name)
        if info is None:
            raise M3DiffError(f"m3diff: llava_qwen checkpoint has no {VISION_PREFIX + name} (is the vision tower saved?)")
        return info.shape

    hidden, _, patch, _ = shape("embeddings.patch_embedding.weight")
    positions = shape("embeddings.position_embedding.weight")[0]
    side = round(positions ** 0.5)
    if side * side != positions:
        raise M3DiffError(f"m3diff: the vision tower has {positions} position embeddings, not a square grid")
    layers = {int(m.group(1)) for k in tensors if (m := re.match(re.escape(VISION_PREFIX) + r"encoder\.layers\.(\d+)\.", k))}
    if not layers or layers != set(range(len(layers))):
        raise M3DiffError(f"m3diff: the vision tower's encoder layers are not numbered 0..N-1 ({sorted(layers)[:5]}...)")
    intermediate = shape("encoder.layers.0.mlp.fc1.weight")[0]
    return VisionShapes(hidden, intermediate, len(layers), patch, side * patch)


def vision_heads(tower: str, hidden: int, folder: Path) -> int:
    """Attention heads of the named tower: a local tower folder's config, else the published configuration."""
    for candidate in (Path(tower).expanduser(), folder / tower):
        config_file = candidate / "config.json"
        if candidate.is_dir() and config_file.is_file():
            try:
                data = json.loads(config_file.read_text())
                data = data.get("vision_config", data)
                return int(data["num_attention_heads"])
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                raise M3DiffError(f"m3diff: {config_file}: no num_attention_heads for the vision tower") from None
    if tower in KNOWN_VISION_TOWERS:
        known_hidden, heads = KNOWN_VISION_TOWERS[tower]
        if known_hidden != hidden:
            raise M3DiffError(f"m3diff: mm_vision_tower={tower} is {known_hidden} wide, but the saved tower is {hidden}")
        return heads
    raise M3DiffError(
        f"m3diff: mm_vision_tower={tower!r}: cannot tell its attention heads (not a known SigLIP tower: "
        f"{', '.join(sorted(KNOWN_VISION_TOWERS))}; nor a local tower folder with a config.json)"
    )


def grid_pinpoints(value: Any, image_size: int) -> list[list[int]]:
    """LLaVA-NeXT's (width, height) pinpoints, or ``"(1x1),...,(6x6)"``, as transformers' [height, width] list."""
    if value is None:
        return [[image_size, image_size]]
    if isinstance(value, str):
        found = [tuple(int(n) for n in pair) for pair in re.findall(r"\((\d+)x(\d+)\)", value)]
        if len(found) != 2:
            raise M3DiffError(f"m3diff: image_grid_pinpoints={value!r}: expected a list or '(AxB),...,(CxD)'")
        (w0, h0), (w1, h1) = found
        value = [[w * image_size, h * image_size] for w in range(w0, w1 + 1) for h in range(h0, h1 + 1)]
    try:
        return [[int(h), int(w)] for w, h in value]
    except (TypeError, ValueError):
        raise M3DiffError(f"m3diff: image_grid_pinpoints={value!r}: expected (width, height) pairs") from None


@dataclass(frozen=True)
class MDPShapes:
    prefix: str
    blocks: int
    gate: str
    layer_weights: str
    fusion_mlp_ratio: float
    scale_mlp_ratio: float


def _ratio(inner: int, width: int) -> float:
    """A ratio r with ``int(width * r) == inner`` (how the MDP sizes its hidden layers)."""
    ratio = inner / width
    return ratio if int(width * ratio) == inner else (inner + 0.5) / width


def mdp_shapes(tensors: dict[str, TensorInfo], width: int) -> MDPShapes | None:
    """The MDP's variant and sizes from its tensor shapes, when its gate weights can be found (under any prefix)."""
    prefixes: dict[str, set[int]] = {}
    for key in tensors:
        if (match := GATE_PATTERN.match(key)) and not key.startswith("model.vision_tower."):
            prefixes.setdefault(match.group("prefix"), set()).add(int(match.group("index")))
    if len(prefixes) != 1:
        return None
    prefix, indices = next(iter(prefixes.items()))
    gate_out, gate_in = tensors[f"{prefix}blocks.0.gate.proj.weight"].shape
    if gate_in != 2 * width or gate_out not in (width, 2 * width):
        raise M3DiffError(f"m3diff: MDP gate {prefix}blocks.0.gate.proj.weight {[gate_out, gate_in]} does not fit "
                          f"the vision width {width}")
    fusion = tensors.get(f"{prefix}blocks.0.fusion.mlp.0.weight")
    scale_in, scale_out = tensors.get(f"{prefix}scale.mlp.0.weight"), tensors.get(f"{prefix}scale.mlp.2.weight")
    scores = scale_out.shape[0] if scale_out else 1
    return MDPShapes(
        prefix=prefix, blocks=len(indices), gate="per_image" if gate_out == 2 * width else "shared",
        layer_weights="per_channel" if scores == width and width > 1 else "scalar",
        fusion_mlp_ratio=_ratio(fusion.shape[0], width) if fusion else 0.0,
        scale_mlp_ratio=_ratio(scale_in.shape[0], width) if scale_in else 0.25,
    )


def check_mm_fields(data: dict[str, Any]) -> None:
    for key, value in sorted(data.items()):
        if not key.startswith("mm_"):
            continue
        if key not in MM_FIELDS:
            raise M3DiffError(f"m3diff: config.json field {key}={value!r} is unknown to the llava_qwen conversion")
        allowed = MM_FIELDS[key]
        if allowed is not None and value not in allowed:
            raise M3DiffError(f"m3diff: config.json field {key}={value!r} is not supported "
                              f"(supported: {', '.join(map(repr, allowed))})")


def mdp_fields(data: dict[str, Any], found: MDPShapes | None, depth: int, width: int) -> dict[str, Any]:
    """The MDP settings: what the shapes say, then config.json's ``mdp_*`` fields, then the paper's choices."""
    fields = {k: data[k] for k in MDP_FIELDS if data.get(k) is not None}
    if found is not None:
        shaped = {"mdp_gate": found.gate, "mdp_layer_weights": found.layer_weights,
                  "mdp_fusion_mlp_ratio": found.fusion_mlp_ratio, "mdp_scale_mlp_ratio": found.scale_mlp_ratio}
        for key, value in shaped.items():
            if key in fields and fields[key] != value and not isinstance(value, float):
                raise M3DiffError(f"m3diff: config.json says {key}={fields[key]!r} but the MDP's shapes say {value!r}")
        fields.update(shaped)
    blocks = found.blocks if found else len(fields.get("mdp_layers") or PAPER_MDP_LAYERS)
    if "mdp_layers" not in fields:
        if blocks != len(PAPER_MDP_LAYERS) or depth != PAPER_MDP_LAYERS[-1]:
            raise M3DiffError(f"m3diff: config.json does not say which of the {depth} encoder layers the {blocks} MDP "
                              f"blocks read; add mdp_layers (1-based, e.g. {list(PAPER_MDP_LAYERS)} for SigLIP-SO400M)")
        fields["mdp_layers"] = list(PAPER_MDP_LAYERS)
    elif len(fields["mdp_layers"]) != blocks:
        raise M3DiffError(f"m3diff: mdp_layers {fields['mdp_layers']} names {len(fields['mdp_layers'])} layers but the "
                          f"checkpoint has {blocks} MDP blocks")
    heads = int(fields.get("mdp_num_heads", 16))
    if width % heads:
        raise M3DiffError(f"m3diff: the MDP's {heads} attention heads do not divide the width {width}; add mdp_num_heads")
    fields["mdp_num_heads"] = heads
    return fields


def convert_config(data: dict[str, Any], tensors: dict[str, TensorInfo], folder: Path,
                   image_token_index: int, video_token_index: int, vocab_rows: int) -> tuple[M3DiffConfig, MDPShapes | None]:
    """An M3Diff config equal to the one this project would write for the same model."""
    check_mm_fields(data)
    vision = vision_shapes(tensors)
    tower = data.get("mm_vision_tower")
    if not isinstance(tower, str) or "siglip" not in tower.lower():
        raise M3DiffError(f"m3diff: mm_vision_tower={tower!r}: only SigLIP towers are supported")
    if data.get("mm_hidden_size") not in (None, vision.hidden_size):
        raise M3DiffError(f"m3diff: mm_hidden_size={data['mm_hidden_size']} but the saved vision tower is {vision.hidden_size} wide")
    projector = tensors.get("model.mm_projector.0.weight")
    if projector is None or "model.mm_projector.2.weight" not in tensors:
        raise M3DiffError("m3diff: llava_qwen checkpoint without model.mm_projector.{0,2}.weight (mlp2x_gelu)")
    if projector.shape != (data.get("hidden_size"), vision.hidden_size):
        raise M3DiffError(f"m3diff: mm_projector.0 is {list(projector.shape)}, expected "
                          f"[{data.get('hidden_size')}, {vision.hidden_size}] (hidden_size, mm_hidden_size)")
    if data.get("vocab_size") not in (None, vocab_rows):
        raise M3DiffError(f"m3diff: vocab_size={data['vocab_size']} but model.embed_tokens.weight has {vocab_rows} rows")
    text = {k: data[k] for k in QWEN2_FIELDS if k in data}
    text.update(model_type="qwen2", vocab_size=vocab_rows,
                rope_parameters={"rope_type": "default", "rope_theta": float(data.get("rope_theta", 1000000.0))})
    aspect = str(data.get("image_aspect_ratio") or "anyres_max_9")
    found = mdp_shapes(tensors, vision.hidden_size)
    try:
        config = M3DiffConfig(
            vision_config=dict(
                model_type="siglip_vision_model", hidden_size=vision.hidden_size, intermediate_size=vision.intermediate_size,
                num_hidden_layers=vision.num_layers, num_attention_heads=vision_heads(tower, vision.hidden_size, folder),
                patch_size=vision.patch_size, image_size=vision.image_size, vision_use_head=False,
                hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6,
            ),
            text_config=text,
            image_token_index=image_token_index,
            video_token_index=video_token_index,
            projector_hidden_act="gelu",
            multimodal_projector_bias="model.mm_projector.0.bias" in tensors,
            image_grid_pinpoints=grid_pinpoints(data.get("image_grid_pinpoints"), vision.image_size),
            vision_aspect_ratio=aspect if re.fullmatch(r"anyres_max_\d+", aspect) else "anyres_max_9",
            tie_word_embeddings=bool(data.get("tie_word_embeddings", False)),
            **mdp_fields(data, found, vision.num_layers, vision.hidden_size),
        )
    except (TypeError, ValueError) as exc:
        raise M3DiffError(f"m3diff: {folder / 'config.json'}: {exc}") from None
    return config, found
