"""One scene's work, run inside a worker: sample, check visibility, change, render, caption.

Everything random comes from streams keyed by (seed, preset, scene index, attempt, pair), so a
scene gives the same records in any worker, in any order, on any rerun. A scene whose objects do
not fit or are hidden is resampled with the next attempt's stream; a change whose object is not
visible enough is redrawn with the next change attempt; each rejection is recorded with its reason.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from annotations import Box, PairRecord
from annotations.splits import scene_split
from generators.synthetic import GENERATOR_VERSION
from generators.synthetic.changes import ChangeContext, Rejection, apply_many, ring_viewpoint, viewpoint
from generators.synthetic.kits import get_kit
from generators.synthetic.masks import box_of, mask_png, pixel_counts
from generators.synthetic.plan import PairPlan, plan_pairs
from generators.synthetic.profiles import RenderProfile
from generators.synthetic.sampling import SamplingError, recipe_for
from generators.synthetic.seeding import stream
from generators.synthetic.spec import SceneSpec

MAX_SCENE_ATTEMPTS = 12  # scenes rendered (their id pass at least) before the scene is given up
MAX_SAMPLES = 60  # scenes sampled, counting those the pure-Python feasibility check turns down unrendered
MIN_OBJECT_CHANGE = 10.0  # mean 8-bit change over the changed object's pixels (before or after mask)
MIN_SCENE_CHANGE = 0.25  # share of pixels that a viewpoint or lighting change must alter
MAX_CHANGE_ATTEMPTS = 8


class Session(Protocol):
    def render_ids(self, spec: SceneSpec) -> np.ndarray: ...
    def render_image(self, spec: SceneSpec) -> bytes: ...


@dataclass(frozen=True)
class SceneJob:
    preset: str
    seed: int
    scene_index: int
    profile: RenderProfile
    pairs_per_scene: int | None = None
    changes_per_pair: int = 1
    split: str | None = None  # forced split, else drawn from split_ratios
    split_ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    bpy_version: str = ""
    setting: str = "tabletop"

    @property
    def benchmark(self) -> str:
        return self.preset

    @property
    def scene_id(self) -> str:
        return scene_id_for(self.preset, self.seed, self.scene_index, self.setting)


def scene_id_for(preset: str, seed: int, scene_index: int, setting: str = "tabletop") -> str:
    """Tabletop scenes keep their historical ids; the kits name their setting (a store may mix them)."""
    if setting == "tabletop":
        return f"{preset}-s{seed}-{scene_index:06d}"
    return f"{preset}-{setting}-s{seed}-{scene_index:06d}"


@dataclass
class SceneOutcome:
    scene_index: int
    records: list[PairRecord] = field(default_factory=list)
    failed: str | None = None  # the reason, when the scene could not be made
    rejections: list[str] = field(default_factory=list)


def pick_split(job: SceneJob) -> str:
    """The forced split, else the scene's place in the seeded cut of its block (annotations/splits.py)."""
    if job.split is not None:
        return job.split
    return scene_split(job.seed, job.preset, job.scene_index, job.split_ratios)


def render_scene(job: SceneJob, session: Session) -> SceneOutcome:
    outcome = SceneOutcome(job.scene_index)
    profile = job.profile
    kit = get_kit(job.setting, job.preset)
    rendered = 0
    for attempt in range(MAX_SAMPLES):
        if rendered >= MAX_SCENE_ATTEMPTS:
            break
        rng = stream(job.seed, job.preset, job.setting, job.scene_index, "scene", attempt) if job.setting != "tabletop" \
            else stream(job.seed, job.preset, job.scene_index, "scene", attempt)
        plans = plan_pairs(job.preset, job.seed, job.scene_index, job.pairs_per_scene, job.changes_per_pair, job.setting)
        keys = sorted({k for plan in plans for k in plan.changes})
        try:
            scene = kit.sample_scene(rng, profile.aspect)
        except SamplingError as exc:
            outcome.rejections.append(f"scene attempt {attempt}: {exc}")
            continue
        why = kit.feasible(scene, keys, profile.aspect)
        if why:
            outcome.rejections.append(f"scene attempt {attempt}: {why}")
            continue
        rendered += 1
        ids_before = session.render_ids(scene)
        counts = pixel_counts(ids_before)
        why = kit.accept(scene, counts, profile.min_visible_pixels) or \
            kit.feasible(scene, keys, profile.aspect, counts, profile.min_visible_pixels)
        if why:
            outcome.rejections.append(f"scene attempt {attempt}: {why}")
            continue
        image_before = session.render_image(scene)
        records: list[PairRecord] = []
        for plan in plans:
            record = _render_pair(job, plan, attempt, scene, ids_before, counts, image_before, session, outcome)
            if record is None:
                break
            records.append(record)
        else:
            outcome.records = records
            return outcome
    outcome.failed = f"no valid scene after {attempt + 1} attempts ({rendered} rendered; {outcome.rejections[-1]})"
    return outcome


def _apply_plan(job: SceneJob, plan: PairPlan, scene: SceneSpec, rng, ctx: ChangeContext):
    diffs: list[dict[str, Any]] = []
    current = scene
    if plan.camera in ("jitter", "ring"):
        moved = viewpoint(scene.copy(), rng, ctx, small=True) if plan.camera == "jitter" else ring_viewpoint(scene.copy(), rng, ctx)
        if isinstance(moved, Rejection):
            return moved
        current = moved.scene
        diffs.append(moved.diff)
    keys = [k for k in plan.changes if not (plan.camera == "jitter" and k == "viewpoint")]
    if keys:
        result = apply_many(keys, current, rng, ctx)
        if isinstance(result, Rejection):
            return result
        current, more = result
        diffs += more
    return current, diffs


def _render_pair(job: SceneJob, plan: PairPlan, attempt: int, scene: SceneSpec, ids_before: np.ndarray,
                 counts: dict[int, int], image_before: bytes, session: Session, outcome: SceneOutcome) -> PairRecord | None:
    profile = job.profile
    for c_attempt in range(MAX_CHANGE_ATTEMPTS):
        rng = stream(job.seed, job.preset, job.scene_index, attempt, plan.key, c_attempt)
        ctx = ChangeContext(job.preset, profile.aspect, get_kit(job.setting, job.preset), counts=counts,
                            min_pixels=profile.min_visible_pixels)
        result = _apply_plan(job, plan, scene, rng, ctx)
        if isinstance(result, Rejection):
            outcome.rejections.append(f"{plan.key} attempt {c_attempt}: {result.reason}")
            continue
        after, diffs = result
        ids_after = session.render_ids(after)
        before_uids = sorted({u for d in diffs for u in d["mask_before"]})
        after_uids = sorted({u for d in diffs for u in d["mask_after"]})
        cb, ca = pixel_counts(ids_before), pixel_counts(ids_after)
        hidden = [f"{u} before" for u in before_uids if cb.get(u, 0) < profile.min_pixels_of(u)]
        hidden += [f"{u} after" for u in after_uids if ca.get(u, 0) < profile.min_pixels_of(u)]
        if hidden:
            outcome.rejections.append(f"{plan.key} attempt {c_attempt}: changed object hidden ({', '.join(hidden)})")
            continue
        image_after = session.render_image(after)
        why = _unseen(job, diffs, image_before, image_after, ids_before, ids_after, before_uids, after_uids)
        if why:
            outcome.rejections.append(f"{plan.key} attempt {c_attempt}: {why}")
            continue
        return _record(job, plan, attempt, c_attempt, scene, after, diffs, ids_before, ids_after,
                       image_before, image_after, before_uids, after_uids, list(outcome.rejections))
    outcome.rejections.append(f"{plan.key}: no visible change after {MAX_CHANGE_ATTEMPTS} attempts; resampling the scene")
    return None


def _unseen(job: SceneJob, diffs: list[dict[str, Any]], image_before: bytes, image_after: bytes, ids_before: np.ndarray,
            ids_after: np.ndarray, before_uids: list[int], after_uids: list[int]) -> str | None:
    """Why the change does not show in the photographs (None when it does). A visible object whose change
    barely alters its pixels (a grey metal post repainted grey) would make a pair nobody can describe."""
    if job.setting == "tabletop":
        return None  # CLEVR's rules: every tabletop change is large by construction
    from PIL import Image  # noqa: PLC0415

    a = np.asarray(Image.open(io.BytesIO(image_before)).convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(io.BytesIO(image_after)).convert("RGB"), dtype=np.int16)
    diff = np.abs(a - b).max(axis=2)
    if all(d["type"] in ("viewpoint", "illumination") for d in diffs):
        share = float((diff > 8).mean())
        return None if share >= MIN_SCENE_CHANGE else f"the lighting or view change moves only {share:.0%} of the pixels"
    region = np.isin(ids_before, before_uids) | np.isin(ids_after, after_uids)
    mean = float(diff[region].mean()) if region.any() else 0.0
    return None if mean >= MIN_OBJECT_CHANGE else f"the change alters its pixels by {mean:.1f} levels on average"


def _record(job: SceneJob, plan: PairPlan, attempt: int, c_attempt: int, before: SceneSpec, after: SceneSpec,
            diffs: list[dict[str, Any]], ids_before: np.ndarray, ids_after: np.ndarray, image_before: bytes,
            image_after: bytes, before_uids: list[int], after_uids: list[int], rejections: list[str]) -> PairRecord:
    aspect = job.profile.aspect
    crng = stream(job.seed, job.preset, job.scene_index, plan.key, "captions")
    semantic = [d for d in diffs if not (plan.camera != "fixed" and d["type"] == "viewpoint")]
    kit = get_kit(job.setting, job.preset)
    minimum = job.profile.min_visible_pixels
    visible = {u for ids in (ids_before, ids_after) for u, c in pixel_counts(ids).items() if c >= minimum}
    del minimum
    if job.preset == "omnidiff":
        captions = kit.captions(diffs, before, after, crng, aspect, visible=visible)
    else:
        captions = kit.captions([semantic[0] if semantic else diffs[0]], before, after, crng, aspect, clevr=True,
                                distractor=plan.distractor)
    boxes = []
    for image, ids, uids in (("before", ids_before, before_uids), ("after", ids_after, after_uids)):
        for uid in uids:
            b = box_of(ids, uid)
            if b is not None:
                label = next(d["type"] for d in diffs if uid in d[f"mask_{image}"])
                boxes.append(Box(image, label, *b))
    base_azimuth = recipe_for(job.preset).base_azimuth if job.setting == "tabletop" else 0.0
    provenance = {
        "generator": "omnidiff.generators.synthetic", "generator_version": GENERATOR_VERSION,
        "bpy_version": job.bpy_version, "seed": job.seed, "preset": job.preset, "scene_index": job.scene_index,
        "setting": job.setting, "scene_kind": before.shell.params.get("type", "table"),
        "time_of_day": before.world.time_of_day,
        "profile": job.profile.to_dict(), "scene_attempt": attempt, "change_attempt": c_attempt,
        "camera_jitter": {"azimuth": round(before.camera.azimuth - base_azimuth, 4),
                          "elevation": before.camera.elevation, "distance": before.camera.distance},
        "camera_after": asdict(after.camera),
        "lights": [asdict(li) for li in before.lights],
        "rejections": {"count": len(rejections), "reasons": rejections},
    }
    scene_diff = {"changes": diffs, "pair": plan.key, "scene_before": before.to_dict(), "scene_after": after.to_dict()}
    return PairRecord(
        pair_id=f"{job.scene_id}-{plan.key}", scene_id=job.scene_id, benchmark=job.benchmark, split=pick_split(job),
        domain="render", setting=job.setting, image_before=image_before, image_after=image_after,
        captions=captions, change_types=plan.change_types, native_change_type=plan.native,
        distractor=plan.distractor, mask_before=mask_png(ids_before, before_uids),
        mask_after=mask_png(ids_after, after_uids), boxes=boxes, scene_diff=json.dumps(scene_diff, sort_keys=True),
        provenance=json.dumps(provenance, sort_keys=True), license="CC-BY-4.0",
        source=f"omnidiff render --preset {job.preset} --setting {job.setting} --seed {job.seed} --profile {job.profile.name}",
    )
