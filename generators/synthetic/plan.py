"""Which pairs a scene gets, per preset: pure, deterministic in (preset, seed, scene index)."""

from __future__ import annotations

from dataclasses import dataclass

from annotations import TAXONOMY
from annotations.benchmark_names import benchmark_key
from annotations.errors import OmniDiffError
from generators.synthetic.seeding import stream

PRESETS = ("omnidiff", "clevr_change", "clevr_dc")
SETTINGS = ("tabletop", "indoor", "outdoor")
DEFAULT_SETTINGS = {"omnidiff": ("indoor", "outdoor"), "clevr_change": ("tabletop",), "clevr_dc": ("tabletop",)}
# the CLEVR benchmarks' own labels, in their published order (annotations/taxonomy.json)
CLEVR_CHANGE_SEMANTIC = tuple(TAXONOMY.native_labels("clevr_change", distractors=False))
CLEVR_DC_ACTIONS = tuple(TAXONOMY.native_labels("clevr_dc"))
NATIVE_TO_CHANGE = {label: TAXONOMY.map_native(bench, label).change_types[0]
                    for bench in ("clevr_change", "clevr_dc") for label in TAXONOMY.native_labels(bench, distractors=False)}


@dataclass(frozen=True)
class PairPlan:
    key: str  # the pair-id suffix: "color", "color+size", "distractor"
    changes: tuple[str, ...]  # change-registry keys applied in order
    camera: str = "fixed"  # fixed, jitter (CLEVR-Change distractor) or ring (CLEVR-DC)
    native: str | None = None  # the CLEVR label
    distractor: bool = False

    @property
    def change_types(self) -> list[str]:
        if self.native is not None:
            return list(TAXONOMY.map_native(self.benchmark_for_native, self.native).change_types)
        return list(self.changes)

    benchmark_for_native: str = "clevr_change"


def normalise_preset(name: str) -> str:
    try:
        key = benchmark_key(name)  # presets are named after the benchmarks they imitate
    except OmniDiffError:
        key = None
    if key not in PRESETS:
        raise OmniDiffError(f"unknown preset {name!r}; choose omnidiff, clevr-change or clevr-dc")
    return key


def parse_settings(text: str | None, preset: str) -> tuple[str, ...]:
    """``--setting indoor,outdoor``: the settings scenes are drawn from (each in equal shares)."""
    if not text:
        return DEFAULT_SETTINGS[preset]
    names = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    unknown = [n for n in names if n not in SETTINGS]
    if unknown or not names:
        raise OmniDiffError(f"--setting {text!r}: choose from {', '.join(SETTINGS)} (comma-separated)")
    if preset != "omnidiff" and names != ("tabletop",):
        raise OmniDiffError(f"--setting {text!r}: the {preset.replace('_', '-')} preset renders tabletop scenes only")
    return names


def setting_for(settings: tuple[str, ...], seed: int, scene_index: int) -> str:
    """Equal shares in every block of len(settings) consecutive scenes, in a seeded order per block
    (so that ``--shard`` slices do not line up with the settings)."""
    if len(settings) == 1:
        return settings[0]
    block = scene_index // len(settings)
    order = list(settings)
    stream(seed, "setting-order", block).shuffle(order)
    return order[scene_index % len(settings)]


def plan_pairs(preset: str, seed: int, scene_index: int, pairs_per_scene: int | None,
               changes_per_pair: int = 1, setting: str = "tabletop") -> list[PairPlan]:
    if preset == "omnidiff":
        return _omnidiff(seed, scene_index, pairs_per_scene, changes_per_pair, setting)
    if preset == "clevr_change":
        rng = stream(seed, preset, scene_index, "semantic-order")
        order = list(CLEVR_CHANGE_SEMANTIC)
        rng.shuffle(order)
        plans = [PairPlan(order[0], (NATIVE_TO_CHANGE[order[0]],), native=order[0]),
                 PairPlan("distractor", ("viewpoint",), camera="jitter", native="distractor", distractor=True)]
        plans += [PairPlan(n, (NATIVE_TO_CHANGE[n],), native=n) for n in order[1:]]
        return plans[: pairs_per_scene or 2]
    if preset == "clevr_dc":
        rng = stream(seed, preset, scene_index, "action-order")
        order = list(CLEVR_DC_ACTIONS)
        rng.shuffle(order)
        plans = [PairPlan(n, () if n == "distractor" else (NATIVE_TO_CHANGE[n],), camera="ring", native=n,
                          distractor=n == "distractor", benchmark_for_native="clevr_dc") for n in order]
        return plans[: pairs_per_scene or 1]
    raise OmniDiffError(f"unknown preset {preset!r}")


def _omnidiff(seed: int, scene_index: int, pairs_per_scene: int | None, changes_per_pair: int,
              setting: str) -> list[PairPlan]:
    from generators.synthetic.kits import get_kit

    types = list(get_kit(setting).change_types)
    k = len(types) if pairs_per_scene is None else min(pairs_per_scene, len(types))
    start = (scene_index * k) % len(types)
    primaries = [types[(start + j) % len(types)] for j in range(k)]
    plans = []
    for primary in primaries:
        keys = [primary]
        if changes_per_pair > 1:
            rng = stream(seed, "omnidiff", scene_index, primary, "extra-changes") if setting == "tabletop" else \
                stream(seed, "omnidiff", setting, scene_index, primary, "extra-changes")
            # scene-wide changes are compatible with everything; object changes need distinct objects
            others = [t for t in types if t != primary]
            keys += rng.sample(others, min(changes_per_pair - 1, len(others)))
        plans.append(PairPlan("+".join(keys), tuple(keys)))
    return plans
