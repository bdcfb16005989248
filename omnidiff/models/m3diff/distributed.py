"""torch.distributed for ``omnidiff train m3diff``: the process group, the parallel wrappers, small collectives.

Launch with ``torchrun`` (or ``accelerate launch``): they set ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT``, which is all this module reads. NCCL on CUDA, gloo on CPU (the tests).
Without those variables the run is one process and nothing here touches a process group.

Two ways to spread the work:

- ``ddp`` (default): every rank holds the whole model; DistributedDataParallel averages the gradients.
- ``fsdp``: FSDP2 ``fully_shard`` (full shard) on every language-model and vision-encoder layer and the root,
  with bf16 parameters and float32 gradient reduction when the run is bf16: the frozen 7B weights, the
  trainable ones and their AdamW state are split across ranks, for GPUs that cannot hold a full replica.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
import torch
import torch.distributed as dist

from omnidiff.models.m3diff.errors import M3DiffError

PARALLEL = ("ddp", "fsdp")


@dataclass(frozen=True)
class DistEnv:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def env_from_launcher() -> DistEnv:
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise M3DiffError("train m3diff: WORLD_SIZE, RANK and LOCAL_RANK must be integers (set by torchrun)") from None
    if world < 1 or not 0 <= rank < world:
        raise M3DiffError(f"train m3diff: RANK {rank} outside WORLD_SIZE {world}")
    return DistEnv(rank, world, local)


def device_for(env: DistEnv, device: str) -> str:
    """Each rank its own GPU: ``cuda`` becomes ``cuda:LOCAL_RANK`` under a launcher."""
    wanted = (device or "auto").strip().lower()
    if env.distributed and wanted in ("auto", "cuda"):
        return f"cuda:{env.local_rank}"
    return device


def init(env: DistEnv, device: torch.device) -> None:
    if not env.distributed or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend, rank=env.rank, world_size=env.world,
                            device_id=device if device.type == "cuda" else None)


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier(env: DistEnv) -> None:
    if env.distributed:
        dist.barrier()


def sum_scalar(env: DistEnv, value: float, device: torch.device) -> float:
    """The sum of ``value`` over ranks (float64 so token counts stay exact)."""
    if not env.distributed:
        return float(value)
    tensor = torch.tensor([value], dtype=torch.float64, device=device if device.type == "cuda" else "cpu")
    dist.all_reduce(tensor)
    return float(tensor.item())


def decoder_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The repeated blocks FSDP shards one by one: Qwen2 decoder layers and SigLIP encoder layers."""
    names = ("Qwen2DecoderLayer", "SiglipEncoderLayer")
    return [m for m in model.modules() if type(m).__name__ in names]


def wrap(model: torch.nn.Module, env: DistEnv, parallel: str, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """The model as the chosen engine wants it; without a process group it comes back unchanged."""
    if parallel not in PARALLEL:
        raise M3DiffError(f"train m3diff: --parallel {parallel}: expected one of {', '.join(PARALLEL)}")
    if not dist.is_initialized():
        return model
    if parallel == "ddp":
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        # gradients live in DDP's buckets (no second copy of 0.8 B float32 gradients at the paper's size)
        return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=False, gradient_as_bucket_view=True)
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    policy = MixedPrecisionPolicy(param_dtype=dtype if dtype != torch.float32 else None, reduce_dtype=torch.float32)
    for layer in decoder_layers(model):
        fully_shard(layer, mp_policy=policy)
    fully_shard(model, mp_policy=policy)
    return model


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if hasattr(model, "module") and type(model).__name__ == "DistributedDataParallel" else model
