"""Where a checkpoint's tensors go in M3Diff, decided from safetensors headers alone (nothing is loaded).

The same plan serves ``omnidiff models inspect`` (what maps where, what is left over) and the loader (which
then reads exactly the planned tensors), so the report and the load can never disagree.

Accepted layouts, as :data:`KEY_RULES` (first matching rule wins; a key no rule matches is taken as is,
which is how the in-memory names of this project map onto themselves):

- this project's save (``save_pretrained`` writes the language model as ``model.language_model.model.*``);
- the Hugging Face LLaVA-OneVision hub layout (``llava-hf/llava-onevision-*``: top-level sub-models);
- the original LLaVA-NeXT training layout (``llava_qwen``: ``model.vision_tower.vision_tower.vision_model``,
  ``model.mm_projector.{0,2}``, ``model.{embed_tokens,layers,norm}``, ``model.image_newline``, ``lm_head``).

The MDP weights of the authors' release sit under a prefix nobody outside has seen. They are found by name
relative to a prefix: a prefix ``P`` matches when, for every MDP tensor ``mdp.X`` of the model, the checkpoint
holds ``P + X`` with the shape the configuration implies, and nothing else under ``P`` is left over. One such
prefix maps; none or several is an error listing the unmatched keys grouped.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omnidiff.models.m3diff.errors import M3DiffError

MDP_TARGET = "model.multi_modal_projector.mdp."
INDEX_FILE = "model.safetensors.index.json"
MAX_HEADER_BYTES = 256 * 2**20
NUMBER = re.compile(r"(?<![0-9])\d+(?=\.|$)")  # a number ending a name segment: blocks.3, stage3, fc1


@dataclass(frozen=True)
class KeyRule:
    layout: str
    pattern: str
    target: str

    def apply(self, key: str) -> str | None:
        renamed, count = re.subn(self.pattern, self.target, key, count=1)
        return renamed if count else None


KEY_RULES: tuple[KeyRule, ...] = (
    KeyRule("omnidiff save", r"^model\.language_model\.model\.", "model.language_model."),
    KeyRule("llava-hf", r"^language_model\.lm_head\.", "lm_head."),
    KeyRule("llava-hf", r"^language_model\.model\.", "model.language_model."),
    KeyRule("llava-hf", r"^vision_tower\.vision_model\.", "model.vision_tower."),
    KeyRule("llava-hf", r"^multi_modal_projector\.", "model.multi_modal_projector."),
    KeyRule("llava-hf", r"^image_newline$", "model.image_newline"),
    KeyRule("llava-next", r"^model\.vision_tower\.vision_tower\.vision_model\.", "model.vision_tower."),
    KeyRule("llava-next", r"^model\.mm_projector\.0\.", "model.multi_modal_projector.linear_1."),
    KeyRule("llava-next", r"^model\.mm_projector\.2\.", "model.multi_modal_projector.linear_2."),
    KeyRule("llava-next", r"^model\.mdp\.", MDP_TARGET),
    KeyRule("llava-next", r"^model\.(embed_tokens|layers|norm)\.", r"model.language_model.\1."),
)


@dataclass(frozen=True)
class TensorInfo:
    shape: tuple[int, ...]
    dtype: str
    file: str

    @property
    def numel(self) -> int:
        count = 1
        for size in self.shape:
            count *= size
        return count


def weight_files(folder: Path) -> list[Path]:
    """The safetensors files of a checkpoint: those its index names, else every ``*.safetensors``."""
    index = folder / INDEX_FILE
    if index.is_file():
        try:
            names = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise M3DiffError(f"m3diff: {index}: unreadable index ({type(exc).__name__})") from None
        files = [folder / name for name in names]
        absent = [f.name for f in files if not f.is_file() or Path(f.name).name != f.name]
        if absent:
            raise M3DiffError(f"m3diff: {index} names weight files that are not in {folder}: {', '.join(absent)}")
        return files
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise M3DiffError(f"m3diff: {folder} holds no *.safetensors weights")
    return files


def read_header(file: Path) -> dict[str, TensorInfo]:
    """Names, shapes and dtypes from one safetensors header (its first 8 + N bytes; no tensor data is read)."""
    try:
        with open(file, "rb") as handle:
            head = handle.read(8)
            size = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
            if not 0 < size <= min(MAX_HEADER_BYTES, file.stat().st_size - 8):
                raise ValueError("bad header length")
            header = json.loads(handle.read(size))
        if not isinstance(header, dict):
            raise ValueError("header is not an object")
        return {
            name: TensorInfo(tuple(int(n) for n in entry["shape"]), str(entry["dtype"]), file.name)
            for name, entry in header.items() if name != "__metadata__"
        }
    except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
        raise M3DiffError(f"m3diff: {file}: not a safetensors file ({exc})") from None


def read_headers(folder: Path) -> dict[str, TensorInfo]:
    tensors: dict[str, TensorInfo] = {}
    for file in weight_files(folder):
        for name, info in read_header(file).items():
            if name in tensors:
                raise M3DiffError(f"m3diff: tensor {name} is in both {tensors[name].file} and {file.name}")
            tensors[name] = info
    return tensors


def expected_shapes(config: Any) -> dict[str, tuple[int, ...]]:
    """The model's persistent tensors and their shapes, from a skeleton on the meta device (no memory)."""
    import torch

    from omnidiff.models.m3diff.modeling import M3DiffForConditionalGeneration

    with torch.device("meta"):
        model = M3DiffForConditionalGeneration(config)
    return {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}


@dataclass
class KeyPlan:
    """Checkpoint key -> model key for everything that maps, and what does not."""

    mapping: dict[str, str]
    rules_used: dict[tuple[str, str, str], int]  # (layout, from, to) -> tensors
    missing: list[str]
    unexpected: list[str]
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]]  # (checkpoint key, its shape, expected)
    mdp_prefix: str | None
    mdp_candidates: list[str] = field(default_factory=list)

    @property
    def mdp_absent(self) -> bool:
        """A plain LLaVA-OneVision checkpoint: all MDP tensors missing, nothing else missing or left over."""
        return bool(self.missing) and not self.unexpected and all(k.startswith(MDP_TARGET) for k in self.missing) and not any(
            target.startswith(MDP_TARGET) for target in self.mapping.values())

    def problems(self, allow_missing_mdp: bool = False) -> tuple[list[str], list[str], list[str]]:
        missing = [k for k in self.missing if not (allow_missing_mdp and self.mdp_absent and k.startswith(MDP_TARGET))]
        return missing, self.unexpected, [k for k, _, _ in self.mismatched]


def rename(key: str) -> tuple[str, KeyRule | None]:
    for rule in KEY_RULES:
        renamed = rule.apply(key)
        if renamed is not None:
            return renamed, rule
    return key, None


def find_mdp_prefixes(leftover: dict[str, tuple[int, ...]], mdp: dict[str, tuple[int, ...]]) -> list[str]:
    """Prefixes under which the leftover keys are exactly the MDP's tensors (relative names and shapes)."""
    candidates = sorted({key[: -len(rel)] for key in leftover for rel in mdp
                         if key.endswith(rel) and (len(key) == len(rel) or key[-len(rel) - 1] == ".")})
    found = []
    for prefix in candidates:
        under = {key[len(prefix):]: shape for key, shape in leftover.items() if key.startswith(prefix)}
        if under == mdp:
            found.append(prefix)
    return found


def plan_keys(tensors: dict[str, TensorInfo], expected: dict[str, tuple[int, ...]], tied_lm_head: bool = False) -> KeyPlan:
    mapping: dict[str, str] = {}
    rules_used: dict[tuple[str, str, str], int] = {}
    leftover: dict[str, tuple[int, ...]] = {}
    claimed: dict[str, str] = {}
    for key in sorted(tensors):
        target, rule = rename(key)
        if target in expected and target not in claimed:
            mapping[key] = target
            claimed[target] = key
            label = _rule_label(rule) if rule else ("as is", "", "")
            rules_used[label] = rules_used.get(label, 0) + 1
        else:
            leftover[key] = tensors[key].shape
    mdp_expected = {k[len(MDP_TARGET):]: s for k, s in expected.items() if k.startswith(MDP_TARGET) and k not in claimed}
    prefixes = find_mdp_prefixes(leftover, mdp_expected) if mdp_expected and leftover else []
    mdp_prefix = prefixes[0] if len(prefixes) == 1 else None
    if mdp_prefix is not None:
        for rel in sorted(mdp_expected):
            key = mdp_prefix + rel
            mapping[key] = claimed[MDP_TARGET + rel] = MDP_TARGET + rel
            del leftover[key]
        rules_used[("MDP by prefix", mdp_prefix + "*", MDP_TARGET + "*")] = len(mdp_expected)
    else:
        mdp_keys = [(k, t) for k, t in mapping.items() if t.startswith(MDP_TARGET)]
        if mdp_keys:
            key, target = mdp_keys[0]
            mdp_prefix = key[: len(key) - len(target) + len(MDP_TARGET)]
    missing = sorted(k for k in expected if k not in claimed and not (tied_lm_head and k == "lm_head.weight"))
    mismatched = sorted((key, tensors[key].shape, expected[target]) for key, target in mapping.items()
                        if tensors[key].shape != expected[target])
    return KeyPlan(mapping, rules_used, missing, sorted(leftover), mismatched, mdp_prefix, prefixes if len(prefixes) > 1 else [])


def _rule_label(rule: KeyRule) -> tuple[str, str, str]:
    exact = rule.pattern.endswith("$")
    group = re.search(r"\([^()]*\)", rule.pattern)
    target = rule.target.replace("\\1", group.group(0)) if group else rule.target
    return rule.layout, _readable(rule.pattern, exact), _readable(target, exact)


def _readable(pattern: str, exact: bool = False) -> str:
    """``^model\\.mm_projector\\.0\\.`` -> ``model.mm_projector.0.*`` for the report."""
    text = pattern.lstrip("^").replace("\\.", ".").replace("$", "")
    text = re.sub(r"\((?:[^()|]+\|)+[^()]+\)", lambda m: "{" + m.group(0)[1:-1].replace("|", ",") + "}", text)
    return text + ("" if exact else "*")


def group_keys(shapes: dict[str, tuple[int, ...]]) -> list[str]:
    """``a.blocks.0.w [4, 8]``, ``a.blocks.1.w [4, 8]`` -> ``a.blocks.{0-1}.w [4, 8] x2``: one line per pattern."""
    groups: dict[tuple[str, tuple[int, ...]], list[tuple[int, ...]]] = {}
    for key, shape in sorted(shapes.items()):
        numbers = tuple(int(n) for n in NUMBER.findall(key))
        pattern = NUMBER.sub("#", key)
        groups.setdefault((pattern, tuple(shape)), []).append(numbers)
    lines = []
    for (pattern, shape), members in groups.items():
        text = pattern
        for position in range(pattern.count("#")):
            values = sorted({m[position] for m in members})
            text = text.replace("#", _span(values), 1)
        count = f" x{len(members)}" if len(members) > 1 else ""
        lines.append(f"{text} {list(shape)}{count}")
    return lines


def _span(values: list[int]) -> str:
    if len(values) == 1:
        return str(values[0])
    if values == list(range(values[0], values[-1] + 1)):
        return f"{{{values[0]}-{values[-1]}}}"
    return "{" + ",".join(map(str, values)) + "}"
