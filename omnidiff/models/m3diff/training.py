"""``omnidiff train m3diff``: the paper's single training stage.

LoRA (peft; rank 128, alpha 256) on the language model's attention and MLP projections; the vision
encoder, the projector, the image-newline embedding and the MDP module trained in full. The frozen
language model stays in the load dtype (bfloat16 by default); trainable weights are kept in float32 and
the forward pass runs under bfloat16 autocast, with gradient checkpointing. Loss only on the answer
(the reference caption and its end-of-turn token).

Determinism and resume: the sample order of epoch e is a permutation drawn from ``seed + e``; every
optimiser step seeds dropout from ``seed`` and the step number; a checkpoint holds the trainable weights,
the optimiser state and the step, so a resumed run continues exactly where the saved one stopped. The
schedule (linear warm-up, cosine decay) is a pure function of the step.
"""

from __future__ import annotations

import json
import math
import shutil
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from omnidiff.models.m3diff.checkpoint import (
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    read_state,
    save_checkpoint,
)
from omnidiff.models.m3diff.data import PairSamples, Sample
from omnidiff.models.m3diff.errors import M3DiffError
from omnidiff.models.m3diff.pipeline import M3DiffBundle, chat_texts, model_inputs, save_bundle
from omnidiff.models.m3diff.processing import IMAGE_TOKEN

DEFAULT_BASE = "llava-hf/llava-onevision-qwen2-7b-ov-hf"
LORA_TARGETS = r".*language_model\.layers\.\d+\.(self_attn\.(q_proj|k_proj|v_proj|o_proj)|mlp\.(gate_proj|up_proj|down_proj))"
IGNORE_INDEX = -100
CHECKPOINTS = "checkpoints"
FINAL = "final"
LOG = "train_log.jsonl"
# Settings that must not change between a run and its resumption.
RESUME_KEYS = (
    "data", "split", "base", "preset", "seed", "dtype", "epochs", "max_steps", "batch_size", "grad_accum", "lr",
    "vision_lr", "projector_lr", "mdp_lr", "lora_r", "lora_alpha", "lora_dropout", "warmup_ratio",
)


@dataclass(frozen=True)
class TrainConfig:
    data: tuple[str, ...]
    out: str
    base: str = DEFAULT_BASE
    preset: str = ""
    split: str = "train"
    device: str = "auto"
    dtype: str = "bfloat16"
    epochs: int = 1
    max_steps: int = 0  # 0: epochs decide
    batch_size: int = 1
    grad_accum: int = 8
    lr: float = 2e-4  # LoRA
    vision_lr: float = 2e-6
    projector_lr: float = 1e-5
    mdp_lr: float = 1e-4
    lora_r: int = 128
    lora_alpha: int = 256
    lora_dropout: float = 0.05
    warmup_ratio: float = 0.03
    max_grad_norm: float = 1.0
    save_every: int = 500
    keep_checkpoints: int = 2
    seed: int = 0
    gradient_checkpointing: bool = True
    resume: bool = False

    def check(self) -> None:
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "grad_accum": self.grad_accum,
                    "save_every": self.save_every, "lora_r": self.lora_r, "keep_checkpoints": self.keep_checkpoints}
        bad = [f"{k}={v}" for k, v in positive.items() if v < 1]
        if self.max_steps < 0:
            bad.append(f"max_steps={self.max_steps}")
        if any(x <= 0 for x in (self.lr, self.vision_lr, self.projector_lr, self.mdp_lr)):
            bad.append("learning rates must be > 0")
        if not 0 <= self.lora_dropout < 1 or not 0 <= self.warmup_ratio < 1:
            bad.append("lora_dropout and warmup_ratio must be in [0, 1)")
        if self.dtype not in ("bfloat16", "float32", "float16"):
            bad.append(f"dtype={self.dtype} (bfloat16, float16 or float32)")
        if bad:
            raise M3DiffError(f"train m3diff: bad settings: {', '.join(bad)}")

    def resume_view(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: list(data[k]) if isinstance(data[k], tuple) else data[k] for k in RESUME_KEYS}


@dataclass
class TrainResult:
    out: Path
    steps: int
    resumed_from: int
    losses: list[float] = field(default_factory=list)
    final: Path | None = None


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up to 1, then cosine decay to 0 at ``total`` (``step`` counts from 0)."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def sample_order(count: int, seed: int, epochs: int) -> list[int]:
    order: list[int] = []
    for epoch in range(epochs):
        generator = torch.Generator().manual_seed(seed + epoch)
        order.extend(torch.randperm(count, generator=generator).tolist())
    return order


def build_training_model(config: TrainConfig, placement: Any) -> M3DiffBundle:
    """Base weights (MDP initialised from the seed when the base has none), LoRA, trainable parts in float32."""
    from peft import LoraConfig, get_peft_model

    from omnidiff.models.m3diff.pipeline import TINY_PRESET, build_tiny_random, load_bundle

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        if config.preset == TINY_PRESET:
            bundle = build_tiny_random(placement, seed=config.seed)
        elif config.preset:
            raise M3DiffError(f"train m3diff: preset={config.preset!r}: the only preset is {TINY_PRESET}")
        else:
            bundle = load_bundle(config.base, placement, allow_missing_mdp=True)
        model = bundle.model
        model.config.use_cache = False
        lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                          target_modules=LORA_TARGETS, bias="none")
        with warnings.catch_warnings():  # peft reads transformers' deprecated is_gradient_checkpointing
            warnings.filterwarnings("ignore", category=FutureWarning, message=".*is_gradient_checkpointing.*")
            peft_model = get_peft_model(model, lora)
    for name, param in peft_model.named_parameters():
        if any(part in name for part in (".vision_tower.", ".multi_modal_projector.", ".image_newline")):
            param.requires_grad_(True)
        if param.requires_grad:
            param.data = param.data.float()
    if config.gradient_checkpointing:
        peft_model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    peft_model.train()
    bundle.model = peft_model
    bundle.processor.tokenizer.padding_side = "right"
    return bundle


def parameter_groups(model: torch.nn.Module, config: TrainConfig) -> list[dict[str, Any]]:
    groups: dict[str, list[torch.nn.Parameter]] = {"lora": [], "vision": [], "mdp": [], "projector": []}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if "lora_" in name:
            groups["lora"].append(param)
        elif ".vision_tower." in name:
            groups["vision"].append(param)
        elif ".mdp." in name:
            groups["mdp"].append(param)
        else:
            groups["projector"].append(param)
    rates = {"lora": config.lr, "vision": config.vision_lr, "mdp": config.mdp_lr, "projector": config.projector_lr}
    return [{"params": params, "lr": rates[name], "name": name} for name, params in groups.items() if params]


def collate(bundle: M3DiffBundle, samples: PairSamples, chosen: list[Sample]) -> dict[str, Any]:
    """Inputs with labels: the prompt (its benchmark's, from the prompt registry) and padding masked, the
    caption and its end token supervised."""
    from omnidiff.harness.prompts import prompt_for

    tokenizer = bundle.tokenizer
    prompts = chat_texts(tokenizer, [prompt_for(s.benchmark) for s in chosen])
    end = tokenizer.eos_token or ""
    texts = [p + s.caption + end for p, s in zip(prompts, chosen)]
    pairs = [samples.images(s) for s in chosen]
    inputs = model_inputs(bundle, pairs, texts)
    per_image = bundle.model.config.image_tokens_per_image
    labels = inputs["input_ids"].clone()
    labels[inputs["attention_mask"] == 0] = IGNORE_INDEX
    for row, text in enumerate(prompts):
        expanded = text.replace(IMAGE_TOKEN, IMAGE_TOKEN * per_image)
        prompt_ids = tokenizer(expanded, add_special_tokens=False)["input_ids"]
        if inputs["input_ids"][row, : len(prompt_ids)].tolist() != prompt_ids:
            raise M3DiffError("train m3diff: the tokenised prompt is not a prefix of the tokenised sample")
        labels[row, : len(prompt_ids)] = IGNORE_INDEX
    inputs["labels"] = labels
    return inputs


class Trainer:
    """One run: set up (fresh or resumed), step, checkpoint, merge and save the final model."""

    def __init__(self, config: TrainConfig, progress: Callable[[int, int, float], None] | None = None) -> None:
        from omnidiff.models.m3diff.loading import resolve_placement

        config.check()
        self.config = config
        self.out = Path(config.out)
        self.progress = progress
        self.placement = resolve_placement(config.device, config.dtype)
        self.checkpoints = self.out / CHECKPOINTS
        existing = list_checkpoints(self.checkpoints)
        if (self.out / FINAL).exists():
            raise M3DiffError(f"train m3diff: {self.out} already holds a finished run ({FINAL}/); choose another --out")
        if existing and not config.resume:
            raise M3DiffError(f"train m3diff: {self.out} holds checkpoints; pass --resume to continue, or another --out")
        if existing:
            saved = read_state(existing[-1]).get("config", {})
            changed = sorted(k for k in RESUME_KEYS if saved.get(k) != config.resume_view()[k])
            if changed:
                raise M3DiffError(f"train m3diff: cannot resume {self.out}: settings changed: {', '.join(changed)}")
        self.resume_from = existing[-1] if existing else None
        self.samples = PairSamples([Path(p) for p in config.data], config.split)

    @property
    def per_step(self) -> int:
        return self.config.batch_size * self.config.grad_accum

    def total_steps(self) -> int:
        per_epoch = math.ceil(len(self.samples) / self.per_step)
        return self.config.max_steps or per_epoch * self.config.epochs

    def run(self) -> TrainResult:
        config = self.config
        total = self.total_steps()
        epochs_needed = max(config.epochs, math.ceil(total * self.per_step / len(self.samples)))
        order = sample_order(len(self.samples), config.seed, epochs_needed)
        bundle = build_training_model(config, self.placement)
        model = bundle.model
        optimizer = torch.optim.AdamW(parameter_groups(model, config), weight_decay=0.0, foreach=False)
        base_rates = [group["lr"] for group in optimizer.param_groups]
        warmup = int(round(config.warmup_ratio * total))
        start, losses = 0, []
        if self.resume_from is not None:
            state = load_checkpoint(self.resume_from, model, optimizer)
            start, losses = int(state["step"]), list(state.get("losses", []))
        self.out.mkdir(parents=True, exist_ok=True)
        self._trim_log(start)
        autocast = self.placement.dtype != torch.float32
        for step in range(start, total):
            factor = lr_factor(step, total, warmup)
            for group, rate in zip(optimizer.param_groups, base_rates):
                group["lr"] = rate * factor
            torch.manual_seed(config.seed * 1_000_003 + step)
            optimizer.zero_grad(set_to_none=True)
            step_loss = 0.0
            for micro in range(config.grad_accum):
                first = step * self.per_step + micro * config.batch_size
                chosen = [self.samples.samples[i] for i in order[first:first + config.batch_size]]
                inputs = collate(bundle, self.samples, chosen)
                with torch.autocast(self.placement.device.type, dtype=self.placement.dtype, enabled=autocast):
                    loss = model(**inputs).loss / config.grad_accum
                if not torch.isfinite(loss):
                    raise M3DiffError(f"train m3diff: the loss is {loss.item()} at step {step + 1}; lower the learning rates")
                loss.backward()
                step_loss += float(loss.detach())
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], config.max_grad_norm)
            optimizer.step()
            losses.append(step_loss)
            with open(self.out / LOG, "a") as log:
                log.write(json.dumps({"step": step + 1, "loss": step_loss, "lr_factor": factor}) + "\n")
            if self.progress:
                self.progress(step + 1, total, step_loss)
            if (step + 1) % config.save_every == 0 or step + 1 == total:
                state = {"step": step + 1, "total_steps": total, "losses": losses, "config": config.resume_view()}
                save_checkpoint(self.checkpoints, step + 1, model, optimizer, state)
                prune_checkpoints(self.checkpoints, config.keep_checkpoints)
        final = self._save_final(bundle) if total > start or self.resume_from is not None else None
        return TrainResult(self.out, total, start, losses, final)

    def _trim_log(self, step: int) -> None:
        """Drop log lines of steps after the checkpoint being resumed (they will be run again)."""
        log = self.out / LOG
        if not log.is_file():
            return
        kept = [line for line in log.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step]
        log.write_text("".join(line + "\n" for line in kept))

    def _save_final(self, bundle: M3DiffBundle) -> Path:
        """LoRA merged into the language model; written in the run's dtype as an ``m3diff`` folder."""
        merged = bundle.model.merge_and_unload()
        merged.config.use_cache = True
        if self.config.gradient_checkpointing:
            merged.activation_checkpointing_disable()
        merged = merged.to(self.placement.dtype).eval()
        bundle.model = merged
        bundle.processor.tokenizer.padding_side = "left"
        tmp = self.out / f".{FINAL}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        save_bundle(bundle, tmp)
        tmp.rename(self.out / FINAL)
        return self.out / FINAL
