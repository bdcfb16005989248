"""Where M3Diff's weights come from: a local folder or a hub id, safetensors only, keys checked exactly.

The authors' release (``IVC-liuyuan/M3Diff``) cannot be inspected from here, so the accepted layouts are
written out in :data:`KEY_MAPPING` (regex -> replacement, applied by ``from_pretrained``): this project's
own layout (what ``save_pretrained`` writes), the Hugging Face LLaVA-OneVision layout (transformers'
built-in conversions), and the original LLaVA-NeXT training layout (``model.mm_projector.0``,
``model.vision_tower.vision_tower.vision_model``, ``model.layers``, MDP under ``model.mdp``). Whatever is
still missing, unexpected or of the wrong shape after the mapping is an error listing the keys; the one
exception is ``allow_missing_mdp`` (training M3Diff from a plain LLaVA-OneVision checkpoint, where the MDP
weights do not exist yet and are initialised from the recorded seed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch

from omnidiff.models.m3diff.config import M3DiffConfig
from omnidiff.models.m3diff.errors import CheckpointKeyError, M3DiffError

KEY_MAPPING: dict[str, str] = {
    # Hugging Face LLaVA-OneVision hub layout (llava-hf/llava-onevision-*): top-level sub-models.
    r"^language_model\.lm_head\.": "lm_head.",
    r"^language_model\.model\.": "model.language_model.",
    r"^vision_tower\.": "model.vision_tower.",
    r"^multi_modal_projector\.": "model.multi_modal_projector.",
    r"^image_newline$": "model.image_newline",
    # Original LLaVA-NeXT / LLaVA-OneVision training code layout (what the authors' code base writes).
    r"^model\.vision_tower\.vision_tower\.vision_model\.": "model.vision_tower.vision_model.",
    r"^model\.mm_projector\.0\.": "model.multi_modal_projector.linear_1.",
    r"^model\.mm_projector\.2\.": "model.multi_modal_projector.linear_2.",
    r"^model\.mdp\.": "model.multi_modal_projector.mdp.",
    r"^model\.(embed_tokens|layers|norm)\.": r"model.language_model.\1.",
}
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
HUB_FILE_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model", "*.tiktoken"]
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class Placement:
    """Device, dtype and attention kernel, decided once from the options and the machine."""

    device: torch.device
    dtype: torch.dtype
    attn_implementation: str


def resolve_placement(device: str, dtype: str) -> Placement:
    """``device`` auto/cuda/cuda:N/cpu; without CUDA only an explicit ``cpu`` is accepted."""
    wanted = (device or "auto").strip().lower()
    if wanted == "cpu":
        target = torch.device("cpu")
    elif wanted == "auto" or wanted == "cuda" or wanted.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise M3DiffError(
                "m3diff needs a CUDA GPU and none is available here; pass --model-arg device=cpu to run it on the CPU "
                "(only practical with --model-arg preset=tiny-random)"
            )
        target = torch.device("cuda" if wanted == "auto" else wanted)
    else:
        raise M3DiffError(f"m3diff: device={device!r}: expected auto, cuda, cuda:N or cpu")
    name = (dtype or "auto").strip().lower()
    if name == "auto":
        torch_dtype = torch.bfloat16 if target.type == "cuda" else torch.float32
    elif name in DTYPES:
        torch_dtype = DTYPES[name]
    else:
        raise M3DiffError(f"m3diff: dtype={dtype!r}: expected auto, {', '.join(DTYPES)}")
    attention = "sdpa"
    if target.type == "cuda" and torch_dtype in (torch.bfloat16, torch.float16):
        with contextlib.suppress(ImportError):
            import flash_attn  # noqa: F401

            attention = "flash_attention_2"
    return Placement(target, torch_dtype, attention)


def looks_like_hub_id(text: str) -> bool:
    parts = text.split("/")
    return len(parts) == 2 and all(parts) and not text.startswith((".", "~")) and os.sep not in text.replace("/", "")


def resolve_checkpoint(path: str) -> Path:
    """A local folder as is; a hub id through the ordinary cache (offline when HF_HUB_OFFLINE is set)."""
    local = Path(path).expanduser()
    if local.exists():
        if not local.is_dir():
            raise M3DiffError(f"m3diff: path={path}: not a folder")
        return local
    if not looks_like_hub_id(path):
        raise M3DiffError(f"m3diff: path={path}: no such folder")
    from huggingface_hub import snapshot_download

    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    try:
        return Path(snapshot_download(path, allow_patterns=HUB_FILE_PATTERNS, local_files_only=offline))
    except Exception as exc:  # hub errors are many; each one means the same thing here
        raise M3DiffError(
            f"m3diff: weights {path!r} are neither a local folder nor available from the hub cache "
            f"({type(exc).__name__}); download them or pass --model-arg path=FOLDER"
        ) from None


def check_safetensors_only(folder: Path) -> None:
    safetensors = sorted(folder.glob("*.safetensors"))
    if safetensors:
        return
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise M3DiffError(f"m3diff: {folder} holds only pickle weights ({', '.join(pickles)}); safetensors required")
    raise M3DiffError(f"m3diff: {folder} holds no *.safetensors weights")


def load_config(folder: Path) -> M3DiffConfig:
    """An M3Diff config as is; a LLaVA-OneVision config gets the MDP fields' defaults."""
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise M3DiffError(f"m3diff: {folder} has no config.json")
    try:
        data = json.loads(config_file.read_text())
    except json.JSONDecodeError as exc:
        raise M3DiffError(f"m3diff: {config_file}: not JSON ({exc.msg} at line {exc.lineno})") from None
    model_type = data.get("model_type")
    if model_type not in ("m3diff", "llava_onevision"):
        raise M3DiffError(f"m3diff: {config_file}: model_type {model_type!r} is neither m3diff nor llava_onevision")
    data = {k: v for k, v in data.items() if k not in ("model_type", "architectures", "transformers_version")}
    if model_type == "llava_onevision":
        data.pop("vision_feature_layer", None)
    try:
        return M3DiffConfig(**data)
    except (TypeError, ValueError) as exc:
        raise M3DiffError(f"m3diff: {config_file}: {exc}") from None


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """transformers prints its own load report; ours is the error below."""
    from transformers.utils import logging

    previous = logging.get_verbosity()
    bars = logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(previous)
        if bars:
            logging.enable_progress_bar()


def load_model(folder: Path, placement: Placement, allow_missing_mdp: bool = False) -> Any:
    """``from_pretrained`` with the explicit key mapping, then the exact key check."""
    from omnidiff.models.m3diff.modeling import M3DiffForConditionalGeneration

    check_safetensors_only(folder)
    config = load_config(folder)
    with quiet_transformers():
        try:
            model, info = M3DiffForConditionalGeneration.from_pretrained(
                str(folder), config=config, key_mapping=KEY_MAPPING, use_safetensors=True,
                output_loading_info=True, ignore_mismatched_sizes=True,  # mismatches are reported below
                dtype=placement.dtype, attn_implementation=placement.attn_implementation,
                device_map=str(placement.device) if placement.device.type == "cuda" else None,
            )
        except (OSError, ValueError, RuntimeError) as exc:
            raise M3DiffError(f"m3diff: cannot load {folder}: {str(exc).splitlines()[0]}") from None
    missing = sorted(info.get("missing_keys") or [])
    if allow_missing_mdp:
        missing = [k for k in missing if ".mdp." not in k]
    unexpected = sorted(info.get("unexpected_keys") or [])
    mismatched = sorted(str(k[0]) if isinstance(k, tuple) else str(k) for k in info.get("mismatched_keys") or [])
    if missing or unexpected or mismatched:
        raise CheckpointKeyError(str(folder), missing, unexpected, mismatched)
    return model.to(placement.device).eval()


def weights_fingerprint(folder: Path) -> str:
    """Cheap identity of a checkpoint: config plus the names and sizes of its weight files."""
    digest = hashlib.sha256()
    for name in ["config.json", *sorted(p.name for p in folder.glob("*.safetensors*"))]:
        file = folder / name
        if file.is_file():
            digest.update(name.encode())
            digest.update(str(file.stat().st_size).encode())
            if name.endswith(".json"):
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]
