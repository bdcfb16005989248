"""Where M3Diff's weights come from: a local folder or a hub id, safetensors only, keys checked exactly.

Three kinds of ``config.json`` are read (:func:`open_checkpoint`): this project's ``m3diff``, Hugging Face's
``llava_onevision`` (MDP fields default; plain LLaVA-OneVision weights have no MDP) and the original
LLaVA-NeXT ``llava_qwen`` (converted by :mod:`.llava_next`; its tokenizer gains the ``<image>``/``<video>``
tokens the transformers processor needs). Which tensor goes where is planned from the safetensors headers by
:mod:`.layout` (the same plan ``omnidiff models inspect`` prints); anything missing, left over or of the wrong
shape is an error listing the keys grouped, before any tensor is read. The one exception is
``allow_missing_mdp`` (training M3Diff from a plain LLaVA-OneVision checkpoint: the MDP weights do not exist
yet and are initialised from the recorded seed). The model is then built without initialisation in the
target dtype on the target device and the planned tensors are copied in, file by file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch

from omnidiff.models.m3diff.config import M3DiffConfig
from omnidiff.models.m3diff.errors import CheckpointKeyError, M3DiffError
from omnidiff.models.m3diff.layout import KeyPlan, TensorInfo, expected_shapes, plan_keys, read_headers

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
    if sorted(folder.glob("*.safetensors")) or (folder / "model.safetensors.index.json").is_file():
        return
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise M3DiffError(f"m3diff: {folder} holds only pickle weights ({', '.join(pickles)}); safetensors required")
    raise M3DiffError(f"m3diff: {folder} holds no *.safetensors weights")


CONFIG_KINDS = ("m3diff", "llava_onevision", "llava_qwen")
EMBEDDING_KEYS = ("model.embed_tokens.weight", "model.language_model.model.embed_tokens.weight",
                  "language_model.model.embed_tokens.weight", "model.language_model.embed_tokens.weight")


@dataclass
class Checkpoint:
    """A checkpoint folder read as far as possible without its tensors."""

    folder: Path
    kind: str  # one of CONFIG_KINDS
    config: M3DiffConfig  # vocabulary as stored; ``extra_rows`` are added after loading
    tensors: dict[str, TensorInfo]
    tokenizer: Any = None  # llava_qwen: the folder's tokenizer with the image tokens added
    extra_rows: int = 0
    notes: tuple[str, ...] = ()

    def plan(self) -> KeyPlan:
        return plan_keys(self.tensors, expected_shapes(self.config), tied_lm_head=bool(self.config.tie_word_embeddings))


def read_config_json(folder: Path) -> dict[str, Any]:
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise M3DiffError(f"m3diff: {folder} has no config.json")
    try:
        data = json.loads(config_file.read_text())
    except json.JSONDecodeError as exc:
        raise M3DiffError(f"m3diff: {config_file}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise M3DiffError(f"m3diff: {config_file}: not a JSON object")
    if data.get("model_type") not in CONFIG_KINDS:
        raise M3DiffError(f"m3diff: {config_file}: model_type {data.get('model_type')!r} is none of {', '.join(CONFIG_KINDS)}")
    return data


def hf_config(data: dict[str, Any], folder: Path) -> M3DiffConfig:
    """An M3Diff config as is; a LLaVA-OneVision config gets the MDP fields' defaults."""
    fields = {k: v for k, v in data.items() if k not in ("model_type", "architectures", "transformers_version")}
    if data["model_type"] == "llava_onevision":
        fields.pop("vision_feature_layer", None)
    try:
        return M3DiffConfig(**fields)
    except (TypeError, ValueError) as exc:
        raise M3DiffError(f"m3diff: {folder / 'config.json'}: {exc}") from None


def add_image_tokens(tokenizer: Any, rows: int) -> tuple[int, int, int]:
    """``<image>``/``<video>`` appended as special tokens (text ids unchanged); returns their ids and how many
    embedding rows must be added (none while the new ids fall into the matrix's padding rows)."""
    from tokenizers import AddedToken

    from omnidiff.models.m3diff.processing import IMAGE_TOKEN, VIDEO_TOKEN

    if len(tokenizer) > rows:
        raise M3DiffError(f"m3diff: the tokenizer has {len(tokenizer)} tokens but the embedding matrix only {rows} rows")
    vocab = tokenizer.get_vocab()
    absent = [t for t in (IMAGE_TOKEN, VIDEO_TOKEN) if t not in vocab]
    if absent:
        tokenizer.add_tokens([AddedToken(t, special=True, normalized=False) for t in absent], special_tokens=True)
    ids = tokenizer.convert_tokens_to_ids([IMAGE_TOKEN, VIDEO_TOKEN])
    return ids[0], ids[1], max(0, max(len(tokenizer), max(ids) + 1) - rows)


def open_checkpoint(folder: Path) -> Checkpoint:
    check_safetensors_only(folder)
    data = read_config_json(folder)
    tensors = read_headers(folder)
    if data["model_type"] != "llava_qwen":
        return Checkpoint(folder, data["model_type"], hf_config(data, folder), tensors)
    from transformers import AutoTokenizer

    from omnidiff.models.m3diff.llava_next import convert_config

    embedding = next((tensors[k] for k in EMBEDDING_KEYS if k in tensors), None)
    if embedding is None:
        raise M3DiffError(f"m3diff: {folder}: no model.embed_tokens.weight among the llava_qwen tensors")
    try:
        with quiet_transformers(), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # transformers on LLaVA-NeXT's legacy config fields
            tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError, TypeError) as exc:
        raise M3DiffError(f"m3diff: {folder}: cannot read the tokenizer ({str(exc).splitlines()[0]})") from None
    rows = embedding.shape[0]
    image_id, video_id, extra = add_image_tokens(tokenizer, rows)
    config, mdp = convert_config(data, tensors, folder, image_id, video_id, rows)
    notes = [f"converted from llava_qwen: <image>={image_id}, <video>={video_id} added to the tokenizer",
             f"embedding rows {rows}" + (f" + {extra} for the image tokens" if extra else " (the image tokens fit its padding rows)")]
    if mdp is not None:
        notes.append(f"MDP: {mdp.blocks} blocks under {mdp.prefix!r}, gate {mdp.gate}, layer weights {mdp.layer_weights}")
    return Checkpoint(folder, "llava_qwen", config, tensors, tokenizer, extra, tuple(notes))


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


def build_empty(config: M3DiffConfig, placement: Placement) -> Any:
    """The model's modules in the target dtype on the target device, weights left uninitialised (they are
    loaded next; what is not loaded is initialised explicitly)."""
    from transformers.initialization import no_init_weights

    from omnidiff.models.m3diff.modeling import M3DiffForConditionalGeneration

    config._attn_implementation = placement.attn_implementation
    previous = torch.get_default_dtype()
    torch.set_default_dtype(placement.dtype)
    try:
        with no_init_weights(), torch.device(placement.device):
            return M3DiffForConditionalGeneration(config)
    finally:
        torch.set_default_dtype(previous)


@torch.no_grad()
def copy_tensors(model: Any, checkpoint: Checkpoint, plan: KeyPlan, device: torch.device) -> None:
    from safetensors import safe_open

    state = model.state_dict()
    by_file: dict[str, list[str]] = {}
    for key in plan.mapping:
        by_file.setdefault(checkpoint.tensors[key].file, []).append(key)
    for name, keys in sorted(by_file.items()):
        with safe_open(str(checkpoint.folder / name), framework="pt", device=str(device)) as handle:
            for key in keys:
                state[plan.mapping[key]].copy_(handle.get_tensor(key))


@torch.no_grad()
def add_embedding_rows(model: Any, extra: int) -> None:
    """New rows (for tokens the checkpoint's tokenizer lacked) set to the mean of the existing ones."""
    rows = model.get_input_embeddings().weight.shape[0]
    model.resize_token_embeddings(rows + extra, mean_resizing=False)
    for embedding in {id(m.weight): m.weight for m in (model.get_input_embeddings(), model.get_output_embeddings())}.values():
        embedding[rows:] = embedding[:rows].mean(dim=0, keepdim=True)


def load_model(folder: Path, placement: Placement, allow_missing_mdp: bool = False,
               checkpoint: Checkpoint | None = None) -> Any:
    """The planned tensors into an uninitialised model; MDP from the current seed when allowed and absent."""
    checkpoint = checkpoint or open_checkpoint(folder)
    plan = checkpoint.plan()
    missing, unexpected, mismatched = plan.problems(allow_missing_mdp)
    if missing or unexpected or mismatched:
        shapes = {**expected_shapes(checkpoint.config), **{k: t.shape for k, t in checkpoint.tensors.items()}}
        hint = "; run `omnidiff models inspect` on the folder for the whole mapping" if unexpected else ""
        raise CheckpointKeyError(str(folder), missing, unexpected, mismatched, shapes=shapes, hint=hint)
    model = build_empty(checkpoint.config, placement)
    copy_tensors(model, checkpoint, plan, placement.device)
    if plan.mdp_absent:
        model.mdp.reset_parameters()
    if checkpoint.config.tie_word_embeddings:
        model.tie_weights()
    if checkpoint.extra_rows:
        add_embedding_rows(model, checkpoint.extra_rows)
    return model.eval()


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
