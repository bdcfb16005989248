#!/usr/bin/env python
"""Per-GPU memory of ``omnidiff train m3diff`` at the paper's size, computed (no GPU needed), DDP beside FSDP.

Parameter counts are exact: the paper-size model and its LoRA are built on the meta device. Static memory:
frozen weights in bf16 (2 bytes), trainable weights as float32 masters (4), their gradients (4) and AdamW's two
moments (8). FSDP full shard divides all of it by the number of ranks and adds two gathered decoder layers
(the one computing and the one prefetched). Activations per micro-batch sample, with gradient checkpointing:
each checkpointed layer keeps its bf16 input (sequence x width x 2 bytes; 28 Qwen2 + 26 SigLIP layers), one
layer at a time is recomputed in full (its attention projections and the four MLP intermediates), the logits
of the whole sequence cost 10 bytes per entry (bf16 logits, float32 copy, float32 gradient), and the MDP is
not checkpointed (about 20 feature maps of both images per block). These are estimates: allocator slack,
CUDA context (~0.5-1 GiB) and NCCL buffers come on top; ``scripts/gpu_check.py`` measures the real figure.

    .venv/bin/python bench/train_memory.py [--sequence 1600] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GIB = 2**30
GPUS = {"24 GB (A10, L4, RTX 4090)": 24, "40 GB (A100-40GB)": 40, "48 GB (L40S, A6000)": 48, "80 GB (A100-80GB, H100)": 80,
        "141 GB (H200)": 141}


def parameter_counts() -> dict[str, int]:
    import torch

    from omnidiff.models.m3diff.config import paper_config
    from omnidiff.models.m3diff.modeling import M3DiffForConditionalGeneration
    from omnidiff.models.m3diff.training import TrainConfig, prepare_for_training

    with torch.device("meta"):
        model = prepare_for_training(M3DiffForConditionalGeneration(paper_config()), TrainConfig(data=(), out=""))
    counts = {"frozen": 0, "trainable": 0, "largest_layer": 0}
    for param in model.parameters():
        counts["trainable" if param.requires_grad else "frozen"] += param.numel()
    layers = [m for m in model.modules() if type(m).__name__ == "Qwen2DecoderLayer"]
    counts["largest_layer"] = max(sum(p.numel() for p in layer.parameters()) for layer in layers)
    return counts


def activations_per_sample(sequence: int) -> int:
    text_width, text_layers, intermediate, vocab = 3584, 28, 18944, 152128
    vision_width, vision_layers, vision_tokens, mdp_blocks = 1152, 26, 729, 4
    checkpoints = sequence * text_width * 2 * text_layers + 2 * vision_tokens * vision_width * 2 * vision_layers
    recompute = sequence * (6 * text_width + 4 * intermediate) * 2
    logits = sequence * vocab * 10
    mdp = mdp_blocks * 20 * 2 * vision_tokens * vision_width * 4
    return checkpoints + recompute + logits + mdp


def plan(sequence: int) -> dict:
    counts = parameter_counts()
    static = counts["frozen"] * 2 + counts["trainable"] * 16
    gathered = 2 * counts["largest_layer"] * 2
    per_sample = activations_per_sample(sequence)
    rows = []
    for ranks in (1, 2, 4, 8):
        for micro in (1, 2, 4, 8):
            ddp = (static + micro * per_sample) / GIB
            fsdp = (static / ranks + gathered + micro * per_sample) / GIB
            rows.append({"ranks": ranks, "micro_batch": micro, "ddp_gib": round(ddp, 1), "fsdp_gib": round(fsdp, 1),
                         "fsdp_over_ddp": round(fsdp / ddp, 2),
                         "accumulation_at_256": 256 // (ranks * micro)})
    return {"sequence": sequence, "parameters": counts, "static_gib": round(static / GIB, 1),
            "activations_gib_per_sample": round(per_sample / GIB, 2), "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequence", type=int, default=1600, help="Tokens per sample (2 x 730 image tokens + text).")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = plan(args.sequence)
    counts = result["parameters"]
    print(f"parameters: {counts['frozen'] / 1e9:.2f} B frozen, {counts['trainable'] / 1e6:.0f} M trainable; static "
          f"{result['static_gib']} GiB, activations {result['activations_gib_per_sample']} GiB per sample "
          f"({args.sequence} tokens)")
    print("| ranks | micro-batch | DDP GiB/GPU | FSDP GiB/GPU | FSDP / DDP | accumulation (global 256) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for row in result["rows"]:
        print(f"| {row['ranks']} | {row['micro_batch']} | {row['ddp_gib']} | {row['fsdp_gib']} | {row['fsdp_over_ddp']} | "
              f"{row['accumulation_at_256']} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
