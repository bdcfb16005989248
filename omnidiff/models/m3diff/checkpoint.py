"""Training checkpoints in safetensors + JSON only (no pickle): trainable weights, optimiser state, progress.

Everything is keyed by parameter name (``torch.distributed.checkpoint.state_dict`` full state dicts), never
by a rank's shard or a parameter's index, so a checkpoint written by N ranks under DDP or FSDP resumes on any
number of ranks under either. Gathering is collective (every rank calls :func:`gather`); only rank 0 writes.
A checkpoint is written into a hidden temporary folder and renamed into place when complete, so a run
killed while saving leaves the previous checkpoint as the latest one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from annotations.durable import discard_folder, replace_folder, staging_folder
from omnidiff.models.m3diff.errors import CheckpointKeyError, M3DiffError

TRAINABLE_FILE = "trainable.safetensors"
OPTIMIZER_TENSORS = "optimizer.safetensors"
OPTIMIZER_GROUPS = "optimizer.json"
STATE_FILE = "state.json"
PREFIX = "step-"


def checkpoint_dir(root: Path, step: int) -> Path:
    return root / f"{PREFIX}{step:07d}"


def list_checkpoints(root: Path) -> list[Path]:
    """Complete checkpoints (they have a state file), oldest first."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and (p / STATE_FILE).is_file()]
    return sorted(found, key=lambda p: p.name)


FORMAT = 2
SEPARATOR = "|"


def gather(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Full (unsharded) trainable weights and optimiser state on CPU; complete on rank 0 (collective)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict, get_optimizer_state_dict

    weights = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True,
                                                                    ignore_frozen_params=True))
    optim = get_optimizer_state_dict(model, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    return weights, optim


def save_checkpoint(root: Path, step: int, weights: dict[str, torch.Tensor], optim: dict[str, Any],
                    state: dict[str, Any]) -> Path:
    final = checkpoint_dir(root, step)
    tmp = staging_folder(final)
    try:
        save_file({k: v.detach().contiguous() for k, v in weights.items()}, str(tmp / TRAINABLE_FILE), metadata={"format": "pt"})
        tensors: dict[str, torch.Tensor] = {}
        scalars: dict[str, dict[str, Any]] = {}
        for name, entry in optim["state"].items():
            for key, value in entry.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"{name}{SEPARATOR}{key}"] = value.detach().contiguous()
                else:
                    scalars.setdefault(name, {})[key] = value
        save_file(tensors, str(tmp / OPTIMIZER_TENSORS), metadata={"format": "pt"})
        (tmp / OPTIMIZER_GROUPS).write_text(json.dumps({"param_groups": optim["param_groups"], "scalars": scalars}, indent=1))
        (tmp / STATE_FILE).write_text(json.dumps({**state, "format": FORMAT}, indent=1, sort_keys=True))
        replace_folder(tmp, final, replace_existing=True)  # a step being redone after a resume
    finally:
        if tmp.exists():
            discard_folder(tmp)
    return final


def read_state(folder: Path) -> dict[str, Any]:
    try:
        state = json.loads((folder / STATE_FILE).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise M3DiffError(f"train m3diff: checkpoint {folder} is unreadable ({exc})") from None
    if state.get("format") != FORMAT:
        raise M3DiffError(f"train m3diff: checkpoint {folder} was written by an older omnidiff (format "
                          f"{state.get('format', 1)}, this one reads {FORMAT}); start a new run")
    return state


def load_checkpoint(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    trainable: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    """Restore trainable weights (exact name and shape check against ``trainable``) and the optimiser on this
    rank, whatever the number of ranks that wrote the checkpoint; return the saved progress state."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict, set_optimizer_state_dict

    state = read_state(folder)
    try:
        weights = load_file(str(folder / TRAINABLE_FILE))
        tensors = load_file(str(folder / OPTIMIZER_TENSORS))
        groups = json.loads((folder / OPTIMIZER_GROUPS).read_text())
    except (OSError, json.JSONDecodeError, Exception) as exc:  # safetensors raises its own error type
        raise M3DiffError(f"train m3diff: checkpoint {folder} is unreadable ({type(exc).__name__}: {exc})") from None
    missing = sorted(set(trainable) - set(weights))
    unexpected = sorted(set(weights) - set(trainable))
    mismatched = sorted(k for k in set(trainable) & set(weights) if tuple(weights[k].shape) != trainable[k])
    if missing or unexpected or mismatched:
        raise CheckpointKeyError(str(folder), missing, unexpected, mismatched)
    optim_state: dict[str, dict[str, Any]] = {}
    for key, value in tensors.items():
        name, _, field = key.rpartition(SEPARATOR)
        optim_state.setdefault(name, {})[field] = value
    for name, scalars in groups.get("scalars", {}).items():
        optim_state.setdefault(name, {}).update(scalars)
    options = StateDictOptions(full_state_dict=True, strict=False)
    set_model_state_dict(model, weights, options=options)
    set_optimizer_state_dict(model, optimizer, {"state": optim_state, "param_groups": groups["param_groups"]},
                             options=StateDictOptions(full_state_dict=True))
    return state


def prune_checkpoints(root: Path, keep: int) -> None:
    for old in list_checkpoints(root)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
