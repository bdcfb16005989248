"""Training checkpoints in safetensors + JSON only (no pickle): trainable weights, optimiser state, progress.

A checkpoint is written into a hidden temporary folder and renamed into place when complete, so a run
killed while saving leaves the previous checkpoint as the latest one.
"""

from __future__ import annotations

import json
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


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().to("cpu").contiguous() for name, p in model.named_parameters() if p.requires_grad}


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value.detach().to("cpu").contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def save_checkpoint(root: Path, step: int, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> Path:
    final = checkpoint_dir(root, step)
    tmp = staging_folder(final)
    try:
        save_file(trainable_state(model), str(tmp / TRAINABLE_FILE), metadata={"format": "pt"})
        tensors, groups = optimizer_tensors(optimizer)
        save_file(tensors, str(tmp / OPTIMIZER_TENSORS), metadata={"format": "pt"})
        (tmp / OPTIMIZER_GROUPS).write_text(json.dumps(groups, indent=1))
        (tmp / STATE_FILE).write_text(json.dumps(state, indent=1, sort_keys=True))
        replace_folder(tmp, final, replace_existing=True)  # a step being redone after a resume
    finally:
        if tmp.exists():
            discard_folder(tmp)
    return final


def read_state(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / STATE_FILE).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise M3DiffError(f"train m3diff: checkpoint {folder} is unreadable ({exc})") from None


def load_checkpoint(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Restore trainable weights (exact key check) and the optimiser; return the saved progress state."""
    try:
        weights = load_file(str(folder / TRAINABLE_FILE))
        tensors = load_file(str(folder / OPTIMIZER_TENSORS))
        groups = json.loads((folder / OPTIMIZER_GROUPS).read_text())
    except (OSError, json.JSONDecodeError, Exception) as exc:  # safetensors raises its own error type
        raise M3DiffError(f"train m3diff: checkpoint {folder} is unreadable ({type(exc).__name__}: {exc})") from None
    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    missing = sorted(set(params) - set(weights))
    unexpected = sorted(set(weights) - set(params))
    mismatched = sorted(k for k in set(params) & set(weights) if tuple(params[k].shape) != tuple(weights[k].shape))
    if missing or unexpected or mismatched:
        raise CheckpointKeyError(str(folder), missing, unexpected, mismatched)
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value.to(params[name].device, params[name].dtype))
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        index, _, name = key.partition(".")
        state.setdefault(int(index), {})[name] = value
    for index, scalars in groups.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(scalars)
    optimizer.load_state_dict({"state": state, "param_groups": groups["param_groups"]})
    return read_state(folder)


def prune_checkpoints(root: Path, keep: int) -> None:
    for old in list_checkpoints(root)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
