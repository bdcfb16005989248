#!/usr/bin/env python
"""M3Diff on a GPU in one prepared command: the paper-size model with random weights, then real weights if given.

Sections (each one JSON object in the report printed on stdout; progress lines go to stderr):

- ``generation``: greedy generation of ``--new-tokens`` tokens over synthetic pairs (seeded noise, two 384-px
  views per pair) at each ``--batch-sizes``: pairs/s, peak memory and the MDP module's share of the wall time
  (hooks around the module, synchronised on CUDA), side by side with plain LLaVA-OneVision of the same size
  (one vision layer, no MDP), and the throughput ratio;
- ``train_step``: one LoRA training step of ``omnidiff train m3diff`` (the same step function, LoRA r=128,
  gradient checkpointing, bf16 autocast, AdamW) on ``--train-pairs`` pairs in micro-batches of
  ``--train-batch``: seconds for a first and a second step, peak memory;
- ``fsdp_step``: the same step under FSDP full shard on all the GPUs found (``torchrun``, NCCL), seconds and
  the peak memory of the fullest rank; on a CPU it runs with ``--fsdp-ranks`` gloo ranks;
- ``weights`` (with ``--weights PATH``): loading a real checkpoint (any layout ``omnidiff models inspect``
  accepts) and captioning a few synthetic pairs.

    .venv/bin/python scripts/gpu_check.py                   # paper size on CUDA (one H100/H200: about 6 min)
    .venv/bin/python scripts/gpu_check.py --weights /models/M3Diff --json gpu.json
    .venv/bin/python scripts/gpu_check.py --preset tiny     # the same sections, tiny, on a CPU (the tests)

Never builds the 7B model on a CPU.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from omnidiff.models.m3diff.config import M3DiffConfig, paper_config, tiny_config  # noqa: E402

SECTIONS = ("generation", "train_step", "fsdp_step", "weights")


@dataclass
class Measurement:
    model: str
    batch_size: int
    new_tokens: int
    seconds: float
    pairs_per_s: float
    peak_memory_gib: float
    mdp_seconds: float
    mdp_share: float


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def build(config: M3DiffConfig, baseline: bool, device: torch.device, dtype: torch.dtype, seed: int) -> torch.nn.Module:
    """Random weights drawn from ``seed`` directly on the device, in ``dtype``."""
    from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration

    from omnidiff.models.m3diff.modeling import M3DiffForConditionalGeneration

    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            if baseline:
                data = config.to_dict()
                for key in [k for k in data if k.startswith("mdp_")] + ["model_type", "vision_feature_layer"]:
                    data.pop(key, None)
                plain = LlavaOnevisionConfig(**data, vision_feature_layer=-1)
                plain._attn_implementation = "sdpa"
                model = LlavaOnevisionForConditionalGeneration(plain)
            else:
                config._attn_implementation = "sdpa"
                model = M3DiffForConditionalGeneration(config)
    finally:
        torch.set_default_dtype(previous)
    return model.to(device=device, dtype=dtype).eval()


def synthetic_inputs(config: M3DiffConfig, batch: int, device: torch.device, dtype: torch.dtype, seed: int,
                     answer: int = 0) -> dict:
    """Prompt ids around two image placeholders per pair, ``answer`` caption ids supervised, noise pixels."""
    generator = torch.Generator().manual_seed(seed)
    per_image = config.image_tokens_per_image
    vocab = min(config.text_config.vocab_size, config.image_token_index)
    head = torch.randint(0, vocab, (batch, 16), generator=generator)
    tail = torch.randint(0, vocab, (batch, 24 + answer), generator=generator)
    images = torch.full((batch, 2 * per_image), config.image_token_index)
    input_ids = torch.cat([head, images, tail], dim=1)
    side = config.vision_config.image_size
    pixels = torch.randn(batch * 2, 1, 3, side, side, generator=generator)
    inputs = {
        "input_ids": input_ids.to(device),
        "attention_mask": torch.ones_like(input_ids).to(device),
        "pixel_values": pixels.to(device=device, dtype=dtype),
        "image_sizes": torch.tensor([[side, side]] * (batch * 2)).to(device),
        "batch_num_images": torch.tensor([2] * batch).to(device),
    }
    if answer:
        labels = torch.full_like(input_ids, -100)
        labels[:, -answer:] = input_ids[:, -answer:]
        inputs["labels"] = labels.to(device)
    return inputs


class ModuleTimer:
    """Wall time inside one module (synchronised on CUDA so the kernels are counted)."""

    def __init__(self, module: torch.nn.Module | None, device: torch.device) -> None:
        self.seconds, self.device, self._start = 0.0, device, 0.0
        if module is not None:
            module.register_forward_pre_hook(self._enter)
            module.register_forward_hook(self._leave)

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def _enter(self, *_: object) -> None:
        self._sync()
        self._start = time.perf_counter()

    def _leave(self, *_: object) -> None:
        self._sync()
        self.seconds += time.perf_counter() - self._start


def peak_memory_gib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # process peak RSS (KiB on Linux)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def free(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def measure(name: str, model: torch.nn.Module, config: M3DiffConfig, batch: int, new_tokens: int, repeats: int,
            device: torch.device, dtype: torch.dtype) -> Measurement:
    mdp = getattr(getattr(model.model, "multi_modal_projector", None), "mdp", None)
    timer = ModuleTimer(mdp, device)
    inputs = synthetic_inputs(config, batch, device, dtype, seed=batch)
    options = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, eos_token_id=None, pad_token_id=0)
    with torch.inference_mode():
        model.generate(**inputs, **options)  # warm-up (kernels, allocator)
        reset_peak(device)
        runs: list[tuple[float, float]] = []  # (total, MDP) per repeat; the median run is reported
        for _ in range(repeats):
            timer.seconds = 0.0
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            model.generate(**inputs, **options)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            runs.append((time.perf_counter() - start, timer.seconds))
    seconds, mdp_seconds = sorted(runs)[len(runs) // 2]
    return Measurement(name, batch, new_tokens, seconds, batch / seconds, peak_memory_gib(device), mdp_seconds,
                       mdp_seconds / seconds if seconds else 0.0)


def generation(config: M3DiffConfig, args: argparse.Namespace, device: torch.device, dtype: torch.dtype) -> dict:
    results: list[Measurement] = []
    for name, baseline in (("m3diff", False), ("llava-onevision", True)):
        if baseline and args.no_baseline:
            continue
        model = build(config, baseline, device, dtype, seed=0)
        for batch in args.batches:
            result = measure(name, model, config, batch, args.new_tokens, args.repeats, device, dtype)
            results.append(result)
            say(f"{name:16s} batch {batch:2d}: {result.pairs_per_s:8.3f} pairs/s  {result.seconds:7.3f} s/batch  "
                f"peak {result.peak_memory_gib:6.2f} GiB  MDP {100 * result.mdp_share:5.1f}% of the time")
        del model
        free(device)
    ratios = {}
    for batch in args.batches:
        ours = [r for r in results if r.model == "m3diff" and r.batch_size == batch]
        base = [r for r in results if r.model == "llava-onevision" and r.batch_size == batch]
        if ours and base:
            ratios[str(batch)] = ours[0].pairs_per_s / base[0].pairs_per_s
            say(f"batch {batch}: M3Diff / LLaVA-OneVision throughput ratio {ratios[str(batch)]:.3f}")
    return {"new_tokens": args.new_tokens, "repeats": args.repeats, "results": [asdict(r) for r in results],
            "throughput_ratio_vs_baseline": ratios}


def training_setup(config: M3DiffConfig, args: argparse.Namespace, device: torch.device, dtype: torch.dtype,
                   parallel: str) -> tuple[Any, ...]:
    """The paper's LoRA setup on random weights, wrapped as ``train m3diff --parallel`` would wrap it."""
    from omnidiff.models.m3diff import distributed
    from omnidiff.models.m3diff.dropout import SampleSeeds, install
    from omnidiff.models.m3diff.training import TrainConfig, parameter_groups, prepare_for_training

    train = TrainConfig(data=(), out="", dtype=str(dtype).replace("torch.", ""), parallel=parallel)
    model = build(config, False, device, dtype, seed=0).train()
    torch.manual_seed(1)
    model = prepare_for_training(model, train)
    seeds = SampleSeeds()
    install(model, seeds)
    env = distributed.env_from_launcher()
    engine = distributed.wrap(model, env, parallel, device, dtype)
    optimizer = torch.optim.AdamW(parameter_groups(model, train), weight_decay=0.0, foreach=False)
    return train, model, engine, optimizer, seeds, env


def timed_steps(config: M3DiffConfig, args: argparse.Namespace, device: torch.device, dtype: torch.dtype,
                parallel: str) -> dict:
    """Two optimiser steps over this rank's share of ``--train-pairs`` (the first includes warm-up)."""
    from omnidiff.models.m3diff.loading import Placement
    from omnidiff.models.m3diff.training import training_step

    train, model, engine, optimizer, seeds, env = training_setup(config, args, device, dtype, parallel)
    pairs = args.train_pairs // env.world
    micro = [list(range(env.rank * pairs + i, env.rank * pairs + min(i + args.train_batch, pairs)))
             for i in range(0, pairs, args.train_batch)]
    batches = [synthetic_inputs(config, len(chunk), device, dtype, seed=chunk[0], answer=args.answer_tokens) for chunk in micro]
    placement = Placement(device, dtype, "sdpa")
    seconds, losses = [], []
    reset_peak(device)
    for step in range(2):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        loss, _ = training_step(engine, model, optimizer, batches, micro, seeds, run_seed=0, env=env, placement=placement,
                                parallel=parallel, max_grad_norm=train.max_grad_norm, step=step)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds.append(time.perf_counter() - start)
        losses.append(loss)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    result = {"pairs": args.train_pairs, "ranks": env.world, "micro_batch": args.train_batch,
              "answer_tokens": args.answer_tokens, "first_step_seconds": seconds[0], "step_seconds": seconds[1],
              "peak_memory_gib": peak_memory_gib(device), "losses": losses, "trainable_parameters": trainable,
              "parallel": parallel}
    del model, engine, optimizer
    free(device)
    return result


def fsdp_step(args: argparse.Namespace, cuda: bool) -> dict:
    """The FSDP step in a ``torchrun`` child (one rank per GPU, or ``--fsdp-ranks`` gloo ranks on a CPU)."""
    ranks = torch.cuda.device_count() if cuda else args.fsdp_ranks
    with tempfile.TemporaryDirectory(prefix="gpu-check-fsdp-") as scratch:
        out = Path(scratch) / "fsdp.json"
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(ranks),
                   str(Path(__file__).resolve()), "--fsdp-worker", str(out), "--preset", args.preset_used,
                   "--train-pairs", str(args.train_pairs), "--train-batch", str(args.train_batch),
                   "--answer-tokens", str(args.answer_tokens)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        if not cuda:
            env["OMP_NUM_THREADS"] = "1"
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=args.fsdp_timeout)
        if done.returncode != 0 or not out.is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return {"ranks": ranks, "error": f"exit {done.returncode}: {tail[0]}"}
        return json.loads(out.read_text())


def fsdp_worker(args: argparse.Namespace) -> int:
    """Inside torchrun: one FSDP rank; rank 0 writes the result (peak memory: the fullest rank)."""
    import torch.distributed as dist

    cuda = torch.cuda.is_available()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo")
    try:
        config = paper_config() if args.preset == "paper" else tiny_check_config()
        dtype = torch.bfloat16 if cuda else torch.float32
        result = timed_steps(config, args, device, dtype, "fsdp")
        peak = torch.tensor([result["peak_memory_gib"]], dtype=torch.float64, device=device if cuda else "cpu")
        dist.all_reduce(peak, op=dist.ReduceOp.MAX)
        result["peak_memory_gib"] = float(peak.item())
        if dist.get_rank() == 0:
            Path(args.fsdp_worker).write_text(json.dumps(result))
    finally:
        dist.destroy_process_group()
    return 0


def real_weights(path: str, args: argparse.Namespace, device: torch.device, dtype: torch.dtype) -> dict:
    """Load a real checkpoint and caption a few synthetic pairs with the OmniDiff prompt."""
    from PIL import Image, ImageDraw

    from omnidiff.harness.prompts import prompt_for
    from omnidiff.models.m3diff.loading import resolve_placement
    from omnidiff.models.m3diff.pipeline import generate_captions, load_bundle

    placement = resolve_placement(str(device), str(dtype).replace("torch.", ""))
    reset_peak(device)
    start = time.perf_counter()
    bundle = load_bundle(path, placement)
    loaded = time.perf_counter() - start
    pairs = []
    for index in range(args.captions):
        before = Image.new("RGB", (640, 480), (40 + 30 * index, 120, 200))
        after = before.copy()
        ImageDraw.Draw(after).rectangle((100 + 40 * index, 120, 220 + 40 * index, 260), fill=(220, 30, 30))
        pairs.append((before, after))
    start = time.perf_counter()
    captions = generate_captions(bundle, pairs, [prompt_for("omnidiff")] * len(pairs), args.caption_tokens)
    seconds = time.perf_counter() - start
    result = {"path": path, "load_seconds": loaded, "caption_seconds": seconds, "pairs_per_s": len(pairs) / seconds,
              "peak_memory_gib": peak_memory_gib(device), "captions": captions, "identity": bundle.identity}
    del bundle
    free(device)
    return result


def tiny_check_config() -> M3DiffConfig:
    return tiny_config(vocab_size=261, image_token_index=259, video_token_index=260)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=("auto", "paper", "tiny"), default="auto")
    parser.add_argument("--batch-sizes", default="1,8")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true", help="Skip plain LLaVA-OneVision.")
    parser.add_argument("--train-pairs", type=int, default=8)
    parser.add_argument("--train-batch", type=int, default=1, help="Micro-batch of the training steps.")
    parser.add_argument("--answer-tokens", type=int, default=80, help="Supervised caption tokens per pair (~60 words).")
    parser.add_argument("--fsdp-ranks", type=int, default=2, help="gloo ranks for the FSDP step on a CPU.")
    parser.add_argument("--fsdp-timeout", type=int, default=300)
    parser.add_argument("--weights", help="A local checkpoint folder to load and caption with.")
    parser.add_argument("--captions", type=int, default=3)
    parser.add_argument("--caption-tokens", type=int, default=64)
    parser.add_argument("--skip", default="", help=f"Comma-separated sections to skip: {', '.join(SECTIONS)}.")
    parser.add_argument("--json", type=Path, help="Also write the report here.")
    parser.add_argument("--fsdp-worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.fsdp_worker:
        return fsdp_worker(args)
    cuda = torch.cuda.is_available()
    args.preset_used = args.preset if args.preset != "auto" else ("paper" if cuda else "tiny")
    if args.preset_used == "paper" and not cuda:
        print("error: the paper-size check needs a CUDA GPU; on a CPU use --preset tiny", file=sys.stderr)
        return 1
    try:
        args.batches = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    except ValueError:
        print(f"error: --batch-sizes {args.batch_sizes!r}: expected comma-separated integers", file=sys.stderr)
        return 1
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    counts = (args.new_tokens, args.repeats, args.train_pairs, args.train_batch, args.fsdp_ranks, args.captions)
    if not args.batches or min(args.batches) < 1 or min(counts) < 1 or skip - set(SECTIONS):
        print("error: batch sizes and counts must be at least 1, --skip takes " + ", ".join(SECTIONS), file=sys.stderr)
        return 1
    ranks = torch.cuda.device_count() if cuda else args.fsdp_ranks
    if args.train_pairs % ranks or (args.train_pairs // ranks) % args.train_batch:
        print(f"error: --train-pairs {args.train_pairs} does not split into {ranks} rank(s) x --train-batch "
              f"{args.train_batch}", file=sys.stderr)
        return 1
    if args.weights and not Path(args.weights).is_dir():
        print(f"error: --weights {args.weights}: no such folder", file=sys.stderr)
        return 1
    device = torch.device("cuda" if cuda else "cpu")
    dtype = torch.bfloat16 if cuda else torch.float32
    config = paper_config() if args.preset_used == "paper" else tiny_check_config()
    began = time.perf_counter()
    import transformers

    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name(device) if cuda else f"CPU ({platform.machine()})",
        "devices": torch.cuda.device_count() if cuda else 1, "preset": args.preset_used,
        "dtype": str(dtype).replace("torch.", ""), "torch": torch.__version__, "transformers": transformers.__version__,
    }
    if "generation" not in skip:
        say("generation ...")
        report["generation"] = generation(config, args, device, dtype)
    if "train_step" not in skip:
        say("LoRA training step ...")
        report["train_step"] = timed_steps(config, args, device, dtype, "ddp")
        say(f"train step: {report['train_step']['step_seconds']:.2f} s, peak {report['train_step']['peak_memory_gib']:.2f} GiB")
    if "fsdp_step" not in skip:
        say(f"FSDP training step on {ranks} rank(s) ...")
        report["fsdp_step"] = fsdp_step(args, cuda)
        say(f"FSDP step: {report['fsdp_step']}")
    if args.weights and "weights" not in skip:
        say(f"real weights {args.weights} ...")
        report["weights"] = real_weights(args.weights, args, device, dtype)
    report["wall_seconds"] = time.perf_counter() - began
    text = json.dumps(report, indent=2)
    print(text, flush=True)
    if args.json:
        args.json.write_text(text + "\n")
    failed = "error" in report.get("fsdp_step", {})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
