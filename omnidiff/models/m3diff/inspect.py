"""``omnidiff models inspect PATH``: what a checkpoint folder holds and how it maps onto M3Diff.

Reads ``config.json``, the tokenizer (for a ``llava_qwen`` folder, whose image tokens are added) and the
safetensors headers; builds the model skeleton on the meta device for the expected shapes. No tensor is
loaded, so a 7B release is inspected in seconds on any machine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from omnidiff.models.m3diff.errors import M3DiffError
from omnidiff.models.m3diff.layout import MDP_TARGET, group_keys

GROUPS = (  # (name, model-key prefix), first match wins
    ("MDP", MDP_TARGET),
    ("projector", "model.multi_modal_projector."),
    ("vision tower", "model.vision_tower."),
    ("image newline", "model.image_newline"),
    ("language model", "model.language_model."),
    ("lm head", "lm_head."),
)


@dataclass
class ParameterGroup:
    name: str
    tensors: int
    parameters: int
    dtypes: list[str]
    keys: list[str]  # grouped checkpoint keys with shapes


@dataclass
class InspectReport:
    folder: str
    config_type: str
    summary: str
    files: int
    tensors: int
    parameters: int
    groups: list[ParameterGroup]
    mapping: list[dict[str, Any]]
    unexpected: list[str]
    missing: list[str]
    mismatched: list[str]
    notes: list[str] = field(default_factory=list)
    ok: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [f"checkpoint {self.folder}", f"config: {self.config_type}; {self.summary}",
               f"weights: {self.files} safetensors file(s), {self.tensors} tensors, {self.parameters / 1e6:.2f} M parameters"]
        out += [f"note: {note}" for note in self.notes]
        out.append("parameter groups (as stored):")
        for group in self.groups:
            out.append(f"  {group.name}: {group.tensors} tensors, {group.parameters / 1e6:.3f} M parameters "
                       f"({', '.join(group.dtypes)})")
            out += [f"    {line}" for line in group.keys]
        out.append("mapping:")
        out += [f"  {m['from'] or '(names as in the model)'} -> {m['to'] or '(same)'}   {m['tensors']} tensors [{m['layout']}]"
                for m in self.mapping]
        for label, keys in (("left over", self.unexpected), ("missing", self.missing), ("shape mismatches", self.mismatched)):
            out.append(f"{label}: {'none' if not keys else len(keys)}" + ("" if not keys else " group(s)"))
            out += [f"  {line}" for line in keys]
        return out


def _group_of(target: str) -> str:
    return next(name for name, prefix in GROUPS if target.startswith(prefix))


def _summary(config: Any) -> str:
    vision, text = config.vision_config, config.text_config
    return (f"SigLIP {vision.num_hidden_layers} layers x {vision.hidden_size} ({vision.num_attention_heads} heads, "
            f"{vision.image_size} px / {vision.patch_size}); Qwen2 {text.num_hidden_layers} layers x {text.hidden_size}, "
            f"vocabulary {text.vocab_size}; MDP at encoder layers {list(config.mdp_layers)} (gate {config.mdp_gate}, "
            f"layer weights {config.mdp_layer_weights}); <image> = {config.image_token_index}")


def inspect_checkpoint(path: str) -> InspectReport:
    """The report; ``ok`` is False when the folder would not load (left-over, missing or mis-shaped tensors)."""
    from omnidiff.models.m3diff.layout import expected_shapes, weight_files
    from omnidiff.models.m3diff.loading import open_checkpoint, resolve_checkpoint

    folder = resolve_checkpoint(path)
    checkpoint = open_checkpoint(folder)
    plan = checkpoint.plan()
    expected = expected_shapes(checkpoint.config)
    tensors = checkpoint.tensors
    by_group: dict[str, list[str]] = {}
    for key, target in plan.mapping.items():
        by_group.setdefault(_group_of(target), []).append(key)
    groups = [
        ParameterGroup(name, len(keys), sum(tensors[k].numel for k in keys), sorted({tensors[k].dtype for k in keys}),
                       group_keys({k: tensors[k].shape for k in keys}))
        for name, _ in GROUPS if (keys := by_group.get(name))
    ]
    notes = list(checkpoint.notes)
    if plan.mdp_absent:
        notes.append("no MDP weights: a plain LLaVA-OneVision checkpoint (a --base for `train m3diff`, which "
                     "initialises the MDP from its seed; eval needs MDP weights)")
    if plan.mdp_candidates:
        notes.append(f"the MDP tensors match under several prefixes: {', '.join(plan.mdp_candidates)}")
    missing = [k for k in plan.missing if not (plan.mdp_absent and k.startswith(MDP_TARGET))]
    report = InspectReport(
        folder=str(folder), config_type=checkpoint.kind, summary=_summary(checkpoint.config),
        files=len(weight_files(folder)), tensors=len(tensors), parameters=sum(t.numel for t in tensors.values()),
        groups=groups,
        mapping=[{"layout": layout, "from": source, "to": target, "tensors": count}
                 for (layout, source, target), count in plan.rules_used.items()],
        unexpected=group_keys({k: tensors[k].shape for k in plan.unexpected}),
        missing=group_keys({k: expected[k] for k in missing}),
        mismatched=[f"{key} {list(have)} (the model wants {list(want)})" for key, have, want in plan.mismatched],
        notes=notes,
    )
    report.ok = not (plan.unexpected or missing or plan.mismatched)
    return report


def failure(report: InspectReport) -> M3DiffError:
    parts = [f"{len(v)} {label} group(s)" for label, v in (("unmatched", report.unexpected), ("missing", report.missing),
                                                             ("shape-mismatched", report.mismatched)) if v]
    return M3DiffError(f"{report.folder} does not map onto M3Diff: {', '.join(parts)} (listed above); "
                       "extend omnidiff/models/m3diff/layout.py KEY_RULES for a new layout")

