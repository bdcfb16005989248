"""Pairs without pixels: sample scenes, apply changes and write captions in pure Python.

For caption statistics (``bench/captions.py``) and tests: the same kits, change registry and caption
writers as a render, with visibility judged from the camera's frame instead of an id pass. Streams
are keyed like a render's, so the text is what a render of the same seed would get for scenes the
render accepts too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generators.synthetic.changes import Change, ChangeContext, apply
from generators.synthetic.kits import get_kit
from generators.synthetic.sampling import SamplingError
from generators.synthetic.seeding import stream
from generators.synthetic.spec import SceneSpec

ASPECT = 1.5


@dataclass
class DryPair:
    setting: str
    change_type: str
    before: SceneSpec
    after: SceneSpec
    diff: dict[str, Any]
    captions: list[str]


def dry_pairs(setting: str, n: int, seed: int = 0, preset: str = "omnidiff") -> list[DryPair]:
    """``n`` pairs of ``setting``, cycling through its change types, one scene per change type round."""
    kit = get_kit(setting, preset)
    keys = list(kit.change_types)
    out: list[DryPair] = []
    scene_index = 0
    while len(out) < n and scene_index < 10 * n + 20:
        scene = None
        for attempt in range(40):
            try:
                candidate = kit.sample_scene(stream(seed, preset, setting, scene_index, "scene", attempt), ASPECT)
            except SamplingError:
                continue
            if kit.feasible(candidate, keys, ASPECT) is None:
                scene = candidate
                break
        scene_index += 1
        if scene is None:
            continue
        for key in keys:
            if len(out) >= n:
                break
            for c_attempt in range(8):
                rng = stream(seed, preset, scene_index, key, c_attempt)
                result = apply(key, scene, rng, ChangeContext(preset, ASPECT, kit))
                if isinstance(result, Change):
                    crng = stream(seed, preset, scene_index, key, "captions")
                    captions = kit.captions([result.diff], scene, result.scene, crng, ASPECT)
                    out.append(DryPair(setting, key, scene, result.scene, result.diff, captions))
                    break
    return out
