"""Models by name: a frozen manifest per model with a dotted import path, resolved only when used.

Bundled models are listed in ``MANIFESTS`` below (one line each). Third-party packages add models
through the entry point group ``omnidiff.models``: the entry point's name is the model name and its
value the class path, e.g. ``my-model = "my_pkg.model:MyModel"``; nothing is imported until the
model is asked for.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from annotations.errors import OmniDiffError

ENTRY_POINT_GROUP = "omnidiff.models"


class ModelError(OmniDiffError):
    """An unknown model, a bad ``--model-arg`` or a model that cannot be loaded."""


@dataclass(frozen=True)
class ModelManifest:
    """What the registry knows about a model without importing it."""

    name: str
    target: str  # "package.module:ClassName"
    description: str
    needs: tuple[str, ...] = ("CPU",)  # any of: CPU, GPU, weights, API key
    version: str = "1"
    source: str = "bundled"  # or the distribution that declared the entry point


# One line per bundled model; keep the list sorted by name.
MANIFESTS: tuple[ModelManifest, ...] = (
    ModelManifest(
        "hf-vlm", "omnidiff.models.hf_vlm:HFVisionLanguageModel",
        "any Hugging Face image-text-to-text / chat VLM, both images in one user message",
        needs=("CPU or GPU", "weights"),
    ),
    ModelManifest(
        "m3diff", "omnidiff.models.m3diff.captioner:M3DiffCaptioner",
        "the paper's reference: LLaVA-OneVision (SigLIP + Qwen2) with the MDP module; preset=tiny-random for CPU tests",
        needs=("GPU", "weights"),
    ),
    ModelManifest(
        "nn-caption", "omnidiff.models.nn_caption:NearestNeighbourCaptioner",
        "baseline: caption of the nearest train pair by a difference-image descriptor",
        needs=("CPU", "train split"),
    ),
    ModelManifest(
        "openai", "omnidiff.models.openai_compat:OpenAICompatibleModel",
        "any OpenAI-compatible chat-completions endpoint (vLLM, hosted APIs), images as data URLs",
        needs=("network endpoint", "API key"),
    ),
    ModelManifest(
        "pixel-diff", "omnidiff.models.pixel_diff:PixelDiffCaptioner",
        "baseline: register, threshold the difference, template a caption of the changed regions",
        needs=("CPU",),
    ),
)


def _entry_point_manifests() -> list[ModelManifest]:
    found = []
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        found.append(
            ModelManifest(
                ep.name, ep.value, f"third-party model from {dist.name if dist else 'an entry point'}",
                needs=("see its package",), source=dist.name if dist else "entry point",
            )
        )
    return found


def all_manifests() -> dict[str, ModelManifest]:
    """Bundled manifests first; an entry point cannot shadow a bundled name."""
    manifests = {m.name: m for m in MANIFESTS}
    for m in _entry_point_manifests():
        manifests.setdefault(m.name, m)
    return dict(sorted(manifests.items()))


def get_manifest(name: str) -> ModelManifest:
    manifests = all_manifests()
    if name not in manifests:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(manifests)}")
    return manifests[name]


def resolve_class(manifest: ModelManifest) -> type:
    """Import the model class named by a manifest (the only place a model module is imported)."""
    from omnidiff.models.base import CaptionModel

    module_name, _, attr = manifest.target.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, attr) if attr else module
    except (ImportError, AttributeError) as exc:
        raise ModelError(f"model {manifest.name!r}: cannot import {manifest.target} ({exc})") from None
    if not (isinstance(cls, type) and issubclass(cls, CaptionModel)):
        raise ModelError(f"model {manifest.name!r}: {manifest.target} is not a CaptionModel subclass")
    return cls


def _convert(value: str, kind: type, name: str) -> Any:
    if not isinstance(value, str):
        return value
    if kind is bool:
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ModelError(f"--model-arg {name}={value!r}: expected true or false")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ModelError(f"--model-arg {name}={value!r}: expected {kind.__name__}") from None


def parse_model_args(items: list[str] | None) -> dict[str, str]:
    """``["k=v", ...]`` into a dict; a missing ``=`` or a repeated key is an error."""
    parsed: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ModelError(f"--model-arg {item!r}: expected KEY=VALUE")
        if key in parsed:
            raise ModelError(f"--model-arg {key} given twice")
        parsed[key] = value
    return parsed


def check_options(cls: type, name: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Declared params with defaults, overridden by ``raw`` converted to each param's type."""
    declared = {p.name: p for p in cls.params}
    unknown = sorted(set(raw) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise ModelError(f"model {name!r} has no option {', '.join(unknown)}; known options: {known}")
    options = {p.name: p.default for p in cls.params}
    for key, value in raw.items():
        options[key] = _convert(value, declared[key].type, key)
    return options


@dataclass(frozen=True)
class LoadedModel:
    manifest: ModelManifest
    model: Any  # a CaptionModel
    options: dict[str, Any]

    def fingerprint(self) -> str:
        """Hash of name, version, weights identity and the options that change the output."""
        return model_fingerprint(self.manifest, self.model, self.options)


def model_fingerprint(manifest: ModelManifest, model: Any, options: dict[str, Any]) -> str:
    cls = type(model)
    affecting = {p.name for p in cls.params if getattr(p, "affects_output", True)}
    payload = {
        "name": manifest.name,
        "version": f"{manifest.version}/{getattr(cls, 'version', '1')}",
        "weights": model.weights_identity(),
        "options": {k: options[k] for k in sorted(options) if k in affecting},
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return f"{manifest.name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def load_model(name: str, raw_options: dict[str, Any] | None = None) -> LoadedModel:
    """Resolve, check the options against the declared params, and build the model."""
    manifest = get_manifest(name)
    cls = resolve_class(manifest)
    options = check_options(cls, name, dict(raw_options or {}))
    return LoadedModel(manifest, cls(**options), options)
