#!/usr/bin/env python
"""M3Diff throughput and memory with random weights: the real architecture in bf16 on CUDA, the tiny one on CPU.

For each batch size it times greedy generation of a fixed number of new tokens over synthetic pairs
(seeded noise images, two 384-px views per pair in the paper configuration) and reports, for the median of
``--repeats`` runs, pairs/s, peak
memory and the MDP module's share of the wall time (measured with hooks around the module, synchronised
on CUDA). The same measurement runs side by side on the baseline, plain LLaVA-OneVision of the same size
(one vision layer, no MDP), and the ratio is printed. Never builds the 7B model on a CPU.

    .venv/bin/python scripts/gpu_check.py                   # paper size on CUDA, tiny on CPU
    .venv/bin/python scripts/gpu_check.py --preset tiny --json out.json
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omnidiff.models.m3diff.config import M3DiffConfig, paper_config, tiny_config  # noqa: E402


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


def synthetic_inputs(config: M3DiffConfig, batch: int, device: torch.device, dtype: torch.dtype, seed: int) -> dict:
    """Prompt ids around two image placeholders per pair, and noise pixels (seeded)."""
    generator = torch.Generator().manual_seed(seed)
    per_image = config.image_tokens_per_image
    vocab = min(config.text_config.vocab_size, config.image_token_index)
    head = torch.randint(0, vocab, (batch, 16), generator=generator)
    tail = torch.randint(0, vocab, (batch, 24), generator=generator)
    images = torch.full((batch, 2 * per_image), config.image_token_index)
    input_ids = torch.cat([head, images, tail], dim=1)
    side = config.vision_config.image_size
    pixels = torch.randn(batch * 2, 1, 3, side, side, generator=generator)
    return {
        "input_ids": input_ids.to(device),
        "attention_mask": torch.ones_like(input_ids).to(device),
        "pixel_values": pixels.to(device=device, dtype=dtype),
        "image_sizes": torch.tensor([[side, side]] * (batch * 2)).to(device),
        "batch_num_images": torch.tensor([2] * batch).to(device),
    }


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


def measure(name: str, model: torch.nn.Module, config: M3DiffConfig, batch: int, new_tokens: int, repeats: int,
            device: torch.device, dtype: torch.dtype) -> Measurement:
    mdp = getattr(getattr(model.model, "multi_modal_projector", None), "mdp", None)
    timer = ModuleTimer(mdp, device)
    inputs = synthetic_inputs(config, batch, device, dtype, seed=batch)
    options = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, eos_token_id=None, pad_token_id=0)
    with torch.inference_mode():
        model.generate(**inputs, **options)  # warm-up (kernels, allocator)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
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


def tiny_check_config() -> M3DiffConfig:
    return tiny_config(vocab_size=261, image_token_index=259, video_token_index=260)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=("auto", "paper", "tiny"), default="auto")
    parser.add_argument("--batch-sizes", default="1,8")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-baseline", action="store_true", help="Skip plain LLaVA-OneVision.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args(argv)

    cuda = torch.cuda.is_available()
    preset = args.preset if args.preset != "auto" else ("paper" if cuda else "tiny")
    if preset == "paper" and not cuda:
        print("error: the paper-size check needs a CUDA GPU; on a CPU use --preset tiny", file=sys.stderr)
        return 1
    try:
        batches = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    except ValueError:
        print(f"error: --batch-sizes {args.batch_sizes!r}: expected comma-separated integers", file=sys.stderr)
        return 1
    if not batches or min(batches) < 1 or args.new_tokens < 1 or args.repeats < 1:
        print("error: batch sizes, --new-tokens and --repeats must be at least 1", file=sys.stderr)
        return 1
    device = torch.device("cuda" if cuda else "cpu")
    dtype = torch.bfloat16 if cuda else torch.float32
    config = paper_config() if preset == "paper" else tiny_check_config()
    device_name = torch.cuda.get_device_name(device) if cuda else f"CPU ({platform.machine()})"

    results: list[Measurement] = []
    for name, baseline in (("m3diff", False), ("llava-onevision", True)):
        if baseline and args.no_baseline:
            continue
        model = build(config, baseline, device, dtype, seed=0)
        for batch in batches:
            result = measure(name, model, config, batch, args.new_tokens, args.repeats, device, dtype)
            results.append(result)
            print(f"{name:16s} batch {batch:2d}: {result.pairs_per_s:8.3f} pairs/s  {result.seconds:7.3f} s/batch  "
                  f"peak {result.peak_memory_gib:6.2f} GiB  MDP {100 * result.mdp_share:5.1f}% of the time", flush=True)
        del model
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()

    ratios = {}
    for batch in batches:
        ours = [r for r in results if r.model == "m3diff" and r.batch_size == batch]
        base = [r for r in results if r.model == "llava-onevision" and r.batch_size == batch]
        if ours and base:
            ratios[batch] = ours[0].pairs_per_s / base[0].pairs_per_s
            print(f"batch {batch}: M3Diff / LLaVA-OneVision throughput ratio {ratios[batch]:.3f}")
    report = {
        "device": device_name, "preset": preset, "dtype": str(dtype).replace("torch.", ""),
        "torch": torch.__version__, "new_tokens": args.new_tokens, "repeats": args.repeats,
        "results": [asdict(r) for r in results], "throughput_ratio_vs_baseline": ratios,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
