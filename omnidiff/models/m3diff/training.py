"""``omnidiff train m3diff``: the paper's single training stage, on one process or many (torchrun).

LoRA (peft; rank 128, alpha 256) on the language model's attention and MLP projections; the vision
encoder, the projector, the image-newline embedding and the MDP module trained in full. The frozen
language model stays in the load dtype (bfloat16 by default); trainable weights are kept in float32 and
the forward pass runs under bfloat16 autocast, with gradient checkpointing. Loss only on the answer
(the reference caption and its end-of-turn token), averaged over the supervised tokens of the whole global
batch (all micro-batches of all ranks), so the step is the same whatever the split into ranks and
micro-batches.

Data parallel: ``--global-batch-size`` G (256, as the paper) samples per optimiser step, ``--batch-size`` b
per rank and micro-batch, so ``G / (b * ranks)`` accumulation steps; step ``s`` trains on positions
``[s*G, (s+1)*G)`` of the seeded sample order (:mod:`.sampling`), each rank its contiguous slice. DDP
averages the gradients, or FSDP shards the model (:mod:`.distributed`). LoRA dropout masks belong to the
samples (:mod:`.dropout`). Only rank 0 writes checkpoints, the log and the final model.

Determinism and resume: the order, the dropout masks and the schedule (linear warm-up, cosine decay) are pure
functions of the seed and the position or step; a checkpoint holds the trainable weights, the optimiser state
(by parameter name) and the step, so a resumed run continues exactly where the saved one stopped, on any
number of ranks.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

from annotations import jsonl
from annotations.durable import replace_folder
from omnidiff.models.m3diff import distributed
from omnidiff.models.m3diff.checkpoint import gather, list_checkpoints, load_checkpoint, prune_checkpoints, read_state, save_checkpoint
from omnidiff.models.m3diff.data import PairSamples, Sample
from omnidiff.models.m3diff.dropout import SampleSeeds, install, sample_seed
from omnidiff.models.m3diff.errors import M3DiffError
from omnidiff.models.m3diff.pipeline import M3DiffBundle, chat_texts, model_inputs, save_bundle
from omnidiff.models.m3diff.processing import IMAGE_TOKEN
from omnidiff.models.m3diff.sampling import SampleOrder, accumulation_steps, parse_sources, rank_positions

DEFAULT_BASE = "llava-hf/llava-onevision-qwen2-7b-ov-hf"
LORA_TARGETS = r".*language_model\.layers\.\d+\.(self_attn\.(q_proj|k_proj|v_proj|o_proj)|mlp\.(gate_proj|up_proj|down_proj))"
IGNORE_INDEX = -100
CHECKPOINTS = "checkpoints"
FINAL = "final"
LOG = "train_log.jsonl"
RUN_FILE = "run.json"
RUN_ENTRIES = (CHECKPOINTS, FINAL, LOG, RUN_FILE)
# Settings that must not change between a run and its resumption (the rank count and --batch-size may).
RESUME_KEYS = (
    "data", "split", "base", "preset", "seed", "dtype", "epochs", "max_steps", "global_batch_size", "lr",
    "vision_lr", "projector_lr", "mdp_lr", "lora_r", "lora_alpha", "lora_dropout", "warmup_ratio",
)


@dataclass(frozen=True)
class TrainConfig:
    data: tuple[str, ...]  # STORE or STORE:WEIGHT
    out: str
    base: str = DEFAULT_BASE
    preset: str = ""
    split: str = "train"
    device: str = "auto"
    dtype: str = "bfloat16"
    epochs: int = 1
    max_steps: int = 0  # 0: epochs decide
    batch_size: int = 1  # per rank and micro-batch
    global_batch_size: int = 256
    parallel: str = "ddp"
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
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "global_batch_size": self.global_batch_size,
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
        if self.parallel not in distributed.PARALLEL:
            bad.append(f"parallel={self.parallel} ({' or '.join(distributed.PARALLEL)})")
        if bad:
            raise M3DiffError(f"train m3diff: bad settings: {', '.join(bad)}")

    def resume_view(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: list(data[k]) if isinstance(data[k], tuple) else data[k] for k in RESUME_KEYS}


@dataclass(frozen=True)
class StepReport:
    """What rank 0 shows and logs after each optimiser step."""

    step: int
    total: int
    loss: float
    lr: float  # the LoRA group's learning rate this step
    samples: int  # samples trained on so far, over the whole run
    tokens: int  # supervised tokens of this step
    samples_per_s: float  # over the steps this process ran
    elapsed_s: float
    eta_s: float

    def to_json(self) -> str:
        return json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items() if k != "total"})


@dataclass
class TrainResult:
    out: Path
    steps: int
    resumed_from: int
    losses: list[float] = field(default_factory=list)
    final: Path | None = None
    global_batch: int = 0
    seconds: float = 0.0  # of the steps this invocation ran
    world: int = 1
    parallel: str = "ddp"

    @property
    def samples_per_s(self) -> float:
        trained = (self.steps - self.resumed_from) * self.global_batch
        return trained / self.seconds if self.seconds else 0.0

    def summary(self) -> list[str]:
        first = f"{self.losses[0]:.4f}" if self.losses else "-"
        last = f"{self.losses[-1]:.4f}" if self.losses else "-"
        return [
            f"trained {self.steps} steps (resumed at {self.resumed_from}) on {self.world} rank(s)"
            f"{', ' + self.parallel if self.world > 1 else ''}; "
            f"global batch {self.global_batch}, {self.steps * self.global_batch} samples in all",
            f"this run: {self.steps - self.resumed_from} steps in {self.seconds:.1f} s, {self.samples_per_s:.2f} samples/s; "
            f"loss {first} -> {last}",
            f"final model: {self.final}",
        ]


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up to 1, then cosine decay to 0 at ``total`` (``step`` counts from 0)."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def build_training_model(config: TrainConfig, placement: Any) -> M3DiffBundle:
    """Base weights (MDP initialised from the seed when the base has none), then :func:`prepare_for_training`."""
    from omnidiff.models.m3diff.pipeline import TINY_PRESET, build_tiny_random, load_bundle

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        if config.preset == TINY_PRESET:
            bundle = build_tiny_random(placement, seed=config.seed)
        elif config.preset:
            raise M3DiffError(f"train m3diff: preset={config.preset!r}: the only preset is {TINY_PRESET}")
        else:
            bundle = load_bundle(config.base, placement, allow_missing_mdp=True)
        bundle.model = prepare_for_training(bundle.model, config)
    bundle.processor.tokenizer.padding_side = "right"
    return bundle


def prepare_for_training(model: Any, config: TrainConfig) -> Any:
    """LoRA on the language model (initialised from the current generator), the vision tower, projector,
    image newline and MDP trainable in float32, gradient checkpointing; returns the peft model in train mode."""
    from peft import LoraConfig, get_peft_model

    model.config.use_cache = False
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=LORA_TARGETS, bias="none")
    with warnings.catch_warnings():  # peft reads transformers' deprecated is_gradient_checkpointing
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*is_gradient_checkpointing.*")
        peft_model = get_peft_model(model, lora)
    unused = unused_vision_parameters(peft_model, list(model.config.mdp_layers))
    for name, param in peft_model.named_parameters():
        fully_trained_part = any(part in name for part in (".vision_tower.", ".multi_modal_projector.", ".image_newline"))
        if fully_trained_part:
            param.requires_grad_(name not in unused)
        if param.requires_grad or fully_trained_part:  # the unused vision norm too: one dtype per module
            param.data = param.data.float()
    if config.gradient_checkpointing:
        peft_model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    return peft_model.train()


def unused_vision_parameters(model: torch.nn.Module, mdp_layers: list[int]) -> set[str]:
    """Vision parameters no loss can reach: the MDP reads ``hidden_states[k]``, so the post-layernorm and the
    encoder layers after the last tapped one never get a gradient. They stay frozen (DDP requires every
    trainable parameter to take part in every step)."""
    last = max(mdp_layers)
    unused = set()
    for name, _ in model.named_parameters():
        if ".vision_tower." not in name:
            continue
        layer = name.split(".encoder.layers.")[1].split(".")[0] if ".encoder.layers." in name else None
        if ".post_layernorm." in name or (layer is not None and int(layer) >= last):
            unused.add(name)
    return unused


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


def supervised_tokens(labels: torch.Tensor) -> int:
    return int((labels[:, 1:] != IGNORE_INDEX).sum())


def token_loss_sum(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Summed next-token cross-entropy over the supervised positions (float32)."""
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(), labels[:, 1:].reshape(-1),
                           ignore_index=IGNORE_INDEX, reduction="sum")


def training_step(engine: torch.nn.Module, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                  batches: list[dict[str, Any]], positions: list[list[int]], seeds: SampleSeeds, *, run_seed: int,
                  env: distributed.DistEnv, placement: Any, parallel: str, max_grad_norm: float, step: int = 0
                  ) -> tuple[float, int]:
    """One optimiser step over this rank's micro-batches (inputs with ``labels``); ``positions`` are their samples'
    run positions (the dropout seeds). Returns the global mean token loss and the global supervised tokens."""
    tokens = distributed.sum_scalar(env, sum(supervised_tokens(b["labels"]) for b in batches), placement.device)
    if tokens == 0:
        raise M3DiffError(f"train m3diff: step {step + 1} has no supervised tokens")
    autocast = placement.dtype != torch.float32
    local_sum = 0.0
    for index, (chunk, inputs) in enumerate(zip(positions, batches)):
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        seeds.set([sample_seed(run_seed, p) for p in chunk], inputs["attention_mask"].sum(dim=1).tolist())
        defer_sync = parallel == "ddp" and env.distributed and index < len(batches) - 1
        with engine.no_sync() if defer_sync else contextlib.nullcontext():
            with torch.autocast(placement.device.type, dtype=placement.dtype, enabled=autocast):
                logits = engine(**inputs).logits
            loss_sum = token_loss_sum(logits, labels)
            if not torch.isfinite(loss_sum):
                raise M3DiffError(f"train m3diff: the loss is {loss_sum.item()} at step {step + 1}; lower the learning rates")
            (loss_sum * (env.world / tokens)).backward()
        local_sum += float(loss_sum.detach())
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return distributed.sum_scalar(env, local_sum, placement.device) / tokens, int(tokens)


class Trainer:
    """One run on this rank: set up (fresh or resumed), step, checkpoint, merge and save the final model."""

    def __init__(self, config: TrainConfig, progress: Callable[[StepReport], None] | None = None) -> None:
        from omnidiff.models.m3diff.loading import resolve_placement

        config.check()
        self.config = config
        self.out = Path(config.out)
        self.progress = progress
        self.env = distributed.env_from_launcher()
        self.placement = resolve_placement(distributed.device_for(self.env, config.device), config.dtype)
        self.sources = parse_sources(list(config.data))
        self.accumulation = accumulation_steps(config.global_batch_size, config.batch_size, self.env.world)
        self.checkpoints = self.out / CHECKPOINTS
        self.resume_from = self._check_out()
        self.samples = PairSamples([s.path for s in self.sources], config.split)
        sizes = [sum(1 for s in self.samples.samples if s.store_index == i) for i in range(len(self.sources))]
        weights = [s.weight for s in self.sources] if self.sources[0].weight is not None else None
        self.order = SampleOrder(sizes, config.seed, weights)
        distributed.init(self.env, self.placement.device)
        distributed.barrier(self.env)  # every rank has checked --out before rank 0 writes into it

    @property
    def is_main(self) -> bool:
        return self.env.main

    def _check_out(self) -> Path | None:
        """What ``--out`` may be: new, empty, or a run of this command (its files only). Read-only."""
        out, config = self.out, self.config
        if out.exists() and not out.is_dir():
            raise M3DiffError(f"train m3diff: --out {out} is a file; give a folder")
        if out.is_dir():
            foreign = sorted(p.name for p in out.iterdir() if p.name not in RUN_ENTRIES and not p.name.startswith(f".{FINAL}"))
            if foreign:
                raise M3DiffError(f"train m3diff: --out {out} is not empty and not a training run ({', '.join(foreign[:3])}"
                                  f"{' ...' if len(foreign) > 3 else ''}); choose a new or empty folder")
        if (out / FINAL).exists():
            raise M3DiffError(f"train m3diff: {out} already holds a finished run ({FINAL}/); choose another --out")
        existing = list_checkpoints(self.checkpoints)
        if existing and not config.resume:
            raise M3DiffError(f"train m3diff: {out} holds checkpoints; pass --resume to continue, or another --out")
        if not existing:
            return None
        saved = read_state(existing[-1]).get("config", {})
        changed = sorted(k for k in RESUME_KEYS if saved.get(k) != config.resume_view()[k])
        if changed:
            raise M3DiffError(f"train m3diff: cannot resume {out}: settings changed: {', '.join(changed)}")
        return existing[-1]

    def total_steps(self) -> int:
        per_epoch = math.ceil(self.order.epoch_size / self.config.global_batch_size)
        return self.config.max_steps or per_epoch * self.config.epochs

    def run(self) -> TrainResult:
        try:
            return self._run()
        finally:
            distributed.shutdown()

    def _run(self) -> TrainResult:
        config, env = self.config, self.env
        total = self.total_steps()
        bundle = build_training_model(config, self.placement)
        model = bundle.model
        seeds = SampleSeeds()
        install(model, seeds)
        trainable = {n: tuple(p.shape) for n, p in model.named_parameters() if p.requires_grad}
        engine = distributed.wrap(model, env, config.parallel, self.placement.device, self.placement.dtype)
        optimizer = torch.optim.AdamW(parameter_groups(model, config), weight_decay=0.0, foreach=False)
        base_rates = [group["lr"] for group in optimizer.param_groups]
        warmup = int(round(config.warmup_ratio * total))
        state_owner = distributed.unwrap(engine)
        start, losses = 0, []
        if self.resume_from is not None:
            state = load_checkpoint(self.resume_from, state_owner, optimizer, trainable)
            start, losses = int(state["step"]), list(state.get("losses", []))
        if self.is_main:
            self._start_files(start, total)
        began = time.monotonic()
        for step in range(start, total):
            factor = lr_factor(step, total, warmup)
            for group, rate in zip(optimizer.param_groups, base_rates):
                group["lr"] = rate * factor
            torch.manual_seed(config.seed * 1_000_003 + step)
            positions = list(rank_positions(step, config.global_batch_size, env.world, env.rank))
            micro = [positions[i:i + config.batch_size] for i in range(0, len(positions), config.batch_size)]
            batches = [collate(bundle, self.samples, [self.samples.samples[self.order[p]] for p in chunk]) for chunk in micro]
            step_loss, tokens = training_step(engine, model, optimizer, batches, micro, seeds, run_seed=config.seed,
                                              env=env, placement=self.placement, parallel=config.parallel,
                                              max_grad_norm=config.max_grad_norm, step=step)
            losses.append(step_loss)
            elapsed = time.monotonic() - began
            done = step + 1 - start
            report = StepReport(step + 1, total, step_loss, base_rates[0] * factor, (step + 1) * config.global_batch_size,
                                int(tokens), done * config.global_batch_size / elapsed if elapsed else 0.0, elapsed,
                                elapsed / done * (total - step - 1))
            if self.is_main:
                with open(self.out / LOG, "a") as log:
                    log.write(report.to_json() + "\n")
                if self.progress:
                    self.progress(report)
            if (step + 1) % config.save_every == 0 or step + 1 == total:
                self._checkpoint(step + 1, total, losses, state_owner, optimizer)
        seconds = time.monotonic() - began
        final = self._save_final(bundle, state_owner, optimizer) if total > start or self.resume_from is not None else None
        return TrainResult(self.out, total, start, losses, final, config.global_batch_size, seconds, env.world,
                           config.parallel)

    def _start_files(self, step: int, total: int) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / RUN_FILE).write_text(json.dumps({"command": "train m3diff", "config": asdict(self.config),
                                                     "ranks": self.env.world, "total_steps": total}, indent=1))
        self._trim_log(step)

    def _checkpoint(self, step: int, total: int, losses: list[float], owner: torch.nn.Module,
                    optimizer: torch.optim.Optimizer) -> None:
        weights, optim = gather(owner, optimizer)  # collective
        if self.is_main:
            state = {"step": step, "total_steps": total, "samples": step * self.config.global_batch_size,
                     "losses": losses, "config": self.config.resume_view(), "ranks": self.env.world}
            save_checkpoint(self.checkpoints, step, weights, optim, state)
            prune_checkpoints(self.checkpoints, self.config.keep_checkpoints)
        distributed.barrier(self.env)

    def _trim_log(self, step: int) -> None:
        """Drop log lines of steps after the checkpoint being resumed (they will be run again)."""
        log = self.out / LOG
        if not log.is_file():
            return
        kept = [line for _, line in jsonl.split_lines(log.read_text(encoding="utf-8")) if json.loads(line)["step"] <= step]
        log.write_text("".join(line + "\n" for line in kept))

    def _save_final(self, bundle: M3DiffBundle, owner: torch.nn.Module, optimizer: torch.optim.Optimizer) -> Path | None:
        """LoRA merged into the language model; written in the run's dtype as an ``m3diff`` folder by rank 0.
        Under FSDP rank 0 holds only a shard, so it rebuilds the model on the CPU and loads the gathered
        trainable weights (the frozen ones are the base's own) before merging."""
        if self.config.parallel == "fsdp" and self.env.distributed:
            weights, _ = gather(owner, optimizer)
            if not self.is_main:
                return None
            from omnidiff.models.m3diff.loading import resolve_placement

            bundle = build_training_model(self.config, resolve_placement("cpu", self.config.dtype))
            result = bundle.model.load_state_dict(weights, strict=False)
            if result.unexpected_keys:
                raise M3DiffError(f"train m3diff: gathered weights the model does not have: {result.unexpected_keys[:3]}")
        elif not self.is_main:
            return None
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
        replace_folder(tmp, self.out / FINAL)
        return self.out / FINAL
