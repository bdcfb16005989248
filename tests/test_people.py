"""People without Blender: the figure's poses, people in the kits, the pose change and the people's captions."""

from __future__ import annotations

import re

import pytest

from generators.synthetic import figure
from generators.synthetic.changes import Change, ChangeContext, Rejection, apply
from generators.synthetic.dry_run import dry_pairs
from generators.synthetic.families import FAMILIES, load_all, make_object
from generators.synthetic.kits import get_kit
from generators.synthetic.kits.people import limbs, root_world
from generators.synthetic.layout import interpenetrations, rests
from generators.synthetic.sampling import SamplingError
from generators.synthetic.seeding import stream
from tests.test_kits import scenes

ASPECT = 1.5
KITS = ("indoor", "outdoor")
ASKED = ("standing", "walking", "running", "sitting", "waving", "pointing", "arms_crossed", "hands_on_hips",
         "arms_raised", "crouching", "bending", "phone_to_ear")
BODIES = [  # height, shoulder width, hip width, girth: the ends of what the family samples
    {"height": 1.55, "shoulder_w": 0.88, "hip_w": 1.12, "girth": 1.15, "sex": "woman"},
    {"height": 1.92, "shoulder_w": 1.1, "hip_w": 0.92, "girth": 0.9, "sex": "man"},
    {"height": 1.74, "shoulder_w": 1.0, "hip_w": 1.0, "girth": 1.0, "sex": "man"},
]
FEET = {"foot_l", "foot_r"}


def variants(pose: str):
    """The named pose on every body, mirrored or not, plain and with the blends the family samples."""
    blends = [None, {"with": "standing", "t": 0.25}] if pose != "standing" else [None, {"with": "walking", "t": 0.25}]
    if figure.posture({"pose": pose}) == "sitting":
        blends = [None]
    seats = (0.4, 0.46, 0.55) if figure.posture({"pose": pose}) == "sitting" else (None,)
    for body in BODIES:
        for mirror in (False, True):
            for blend in blends:
                for seat in seats:
                    params = {**body, "pose": pose, "mirror": mirror, "blend": blend, "hair": "long", "bottom": "skirt"}
                    if seat is not None:
                        params["seat_h"] = seat
                    yield params


def test_the_pose_table_has_the_asked_poses_as_joint_angles():
    table = figure.poses()
    assert set(ASKED) <= set(table) and len(table) >= 12
    joints = {b.joint for b in figure.skeleton(figure.Proportions.of({"height": 1.7}))}
    for name, pose in table.items():
        assert pose["posture"] in ("standing", "sitting"), name
        assert set(pose["joints"]) <= joints, (name, set(pose["joints"]) - joints)
        assert all(set(angles) <= set(figure.ANGLES) for angles in pose["joints"].values()), name
        assert {"is", "now", "did"} <= set(pose["words"]), name
    a, b = table["standing"]["joints"], table["waving"]["joints"]
    assert figure.blend(a, b, 0.0)["shoulder_r"]["abduct"] == a["shoulder_r"]["abduct"]
    assert figure.blend(a, b, 1.0)["shoulder_r"]["abduct"] == b["shoulder_r"]["abduct"]
    half = figure.blend(a, b, 0.5)["elbow_r"]["flex"]
    assert half == pytest.approx((a["elbow_r"]["flex"] + b["elbow_r"]["flex"]) / 2)


@pytest.mark.parametrize("pose", sorted(figure.poses()))
def test_every_pose_stands_on_its_feet_or_sits_on_its_seat_without_limbs_through_body_or_floor(pose):
    for params in variants(pose):
        assert figure.floor_penetration(params) < 1e-4, params
        assert figure.self_intersections(params) == [], params
        low = figure.lowest_parts(params)
        if "seat_h" in params:
            assert figure.seat_contact(params) == pytest.approx(0.0, abs=1e-3), params  # the thighs rest on the seat
            assert set(low) <= FEET, (params, low)  # the soles reach the floor (nothing else does)
        else:
            assert low and set(low) <= FEET, (params, low)  # it stands on its feet


def test_the_skeleton_moves_the_limbs_a_pose_names():
    body = dict(BODIES[2])
    still = figure.pose_figure({**body, "pose": "standing"}).bones
    wave = figure.pose_figure({**body, "pose": "waving"}).bones
    left_wave = figure.pose_figure({**body, "pose": "waving", "mirror": True}).bones
    assert wave["hand_r"].tail[2] > still["head"].head[2]  # the right hand above the neck
    assert wave["hand_l"].tail == pytest.approx(still["hand_l"].tail, abs=0.02)
    assert left_wave["hand_l"].tail[2] > still["head"].head[2] and left_wave["hand_r"].tail[2] < still["hand_r"].tail[2] + 0.05
    point = figure.pose_figure({**body, "pose": "pointing"}).bones
    assert point["hand_r"].tail[1] < point["torso"].head[1] - 0.45  # reaches out in front (-y)
    up = figure.pose_figure({**body, "pose": "arms_raised"}).bones
    assert min(up["hand_l"].tail[2], up["hand_r"].tail[2]) > up["head"].tail[2]
    crouch = figure.pose_figure({**body, "pose": "crouching"})
    assert crouch.hi[2] < 0.7 * figure.pose_figure({**body, "pose": "standing"}).hi[2]
    assert figure.changed_joints({**body, "pose": "standing"}, {**body, "pose": "waving"}) == \
        ["elbow_r", "shoulder_r"] or set(figure.changed_joints({**body, "pose": "standing"}, {**body, "pose": "waving"})) >= {"elbow_r", "shoulder_r"}
    assert limbs(["elbow_r", "shoulder_r"]) == ["right arm"] and limbs(["knee_l", "knee_r", "torso"]) == ["legs", "upper body"]


def test_people_are_a_family_of_men_and_women_in_varied_clothes_that_no_substitution_touches():
    fam = load_all()["person"]
    assert fam.plural == "people" and {"man", "woman", "person"} <= set(fam.nouns)
    assert fam.changes == frozenset({"addition", "disappearance", "movement", "color", "pose"})
    people = [make_object("person", 1, stream(4, "person", k)) for k in range(24)]
    assert {p.noun for p in people} == {"man", "woman"}
    assert len({p.params["top"] for p in people}) >= 4 and len({p.params["bottom"] for p in people}) >= 3
    assert len({p.parts["skin"]["color"] for p in people}) >= 4 and len({p.params["pose"] for p in people}) >= 4
    assert fam.recolourable == ["top", "bottom"]
    for setting in KITS:  # a person is never swapped for a thing of similar height, nor a thing for a person
        kit = get_kit(setting)
        for scene in _scenes(setting, 3):
            assert all(o.family != "person" for o in kit.candidates(scene, "substitution", _ctx(kit)))
            for obj in kit.candidates(scene, "substitution", _ctx(kit))[:3]:
                trial = scene.copy()
                new = kit.substitute(trial, trial.by_uid(obj.uid), stream(1, obj.uid), _ctx(kit))
                assert new is None or new.family != "person"


def _ctx(kit) -> ChangeContext:
    return ChangeContext("omnidiff", ASPECT, kit)


def _scenes(setting: str, count: int, seed: int = 3):
    return scenes(setting, count, seed)


def test_people_walk_stand_sit_and_wait_at_counters_in_both_kits():
    seen: dict[str, set[str]] = {"indoor": set(), "outdoor": set()}
    counts = {"indoor": [], "outdoor": []}
    for setting in KITS:
        for scene in _scenes(setting, 12, seed=7):
            people = [o for o in scene.objects if o.family == "person"]
            counts[setting].append(len(people))
            assert interpenetrations(scene) == []
            for p in people:
                assert rests(scene, p) is None
                fig = figure.pose_figure(p.params)
                assert p.half_extents == fig.half_extents and p.z0 == get_kit(setting).ground_z(scene, p)
                seat = scene.get(p.support)
                if seat is not None:  # seated: the seat is under the pelvis at the figure's seat height
                    seen[setting].add(f"on {seat.family}")
                    assert figure.posture(p.params) == "sitting"
                    from generators.synthetic.layout import holder_surface
                    rect, z, _ = holder_surface(scene, p)
                    assert abs(z - p.z0 - p.params["seat_h"]) < 1e-3
                    from generators.synthetic.layout import Rect
                    assert rect.contains(Rect(*root_world(p), 0.01, 0.01))
                elif p.params.get("at") is not None:
                    seen[setting].add(f"at {scene.by_uid(p.params['at']).family}")
                else:
                    seen[setting].add(p.params["pose"] if p.params["pose"] == "walking" else "on foot")
    assert {"walking", "on foot"} <= seen["outdoor"] and "on bench" in seen["outdoor"]
    assert "on foot" in seen["indoor"] and seen["indoor"] & {"on chair", "on armchair", "on sofa"}
    assert any(s.startswith("at ") for s in seen["indoor"] | seen["outdoor"])
    assert sum(counts["outdoor"]) / len(counts["outdoor"]) >= 2.0  # several per street
    assert sum(n > 0 for n in counts["indoor"]) >= 10 and sum(counts["indoor"]) / 12 >= 1.5  # a crowded room may have none


@pytest.mark.parametrize("setting", KITS)
def test_the_pose_change_records_joints_and_pose_names_and_masks_the_whole_figure(setting):
    kit = get_kit(setting)
    assert "pose" in kit.change_types
    kinds = set()
    for scene in _scenes(setting, 6, seed=11):
        for attempt in range(6):
            result = apply("pose", scene, stream(2, setting, attempt), _ctx(kit))
            if isinstance(result, Rejection):
                continue
            diff, after = result.diff, result.scene
            before_p, after_p = scene.by_uid(diff["uid"]), after.by_uid(diff["uid"])
            assert before_p.family == "person" and diff["type"] == "pose" and diff["attribute"] == "pose"
            assert diff["before"] == before_p.params["pose"] and diff["after"] == after_p.params["pose"]
            assert diff["before"] != diff["after"] and diff["joints"] and diff["limbs"]
            assert set(diff["joints"]) == set(figure.changed_joints(before_p.params, after_p.params))
            assert diff["mask_before"] == diff["mask_after"] == [diff["uid"]]  # every part carries the person's id
            assert interpenetrations(after) == [] and all(rests(after, o) is None for o in after.objects)
            others = [o for o in after.objects if o.uid != diff["uid"]]
            assert [o.signature() for o in others] == [o.signature() for o in scene.objects if o.uid != diff["uid"]]
            if not diff["stood_up"]:
                assert root_world(after_p) == pytest.approx(root_world(before_p), abs=1e-3)  # on the same spot
            else:
                assert diff["posture_before"] == "sitting" and after_p.support is None
            kinds.add("stood up" if diff["stood_up"] else diff["posture_before"])
            caps = kit.captions([diff], scene, after, stream(3, attempt), ASPECT)
            noun = r"\b(man|woman|person|guy|lady)\b"
            for caption in caps:
                low = caption.lower()
                assert re.search(noun, low), caption
                words = [w for w in (diff["limbs"] + [figure.poses()[diff["after"]]["words"]["now"],
                                                      figure.poses()[diff["after"]]["words"]["did"], "stood up"])]
                assert any(w.split(" ")[-1] in low for w in words), caption  # the limb or the posture that changed
            break
    assert "standing" in kinds


def test_a_seated_person_may_stand_up_and_the_caption_says_so():
    kit = get_kit("outdoor")
    for scene in _scenes("outdoor", 12, seed=7):
        seated = [o for o in scene.objects if o.family == "person" and o.support is not None]
        if not seated:
            continue
        for attempt in range(30):
            ctx = _ctx(kit)
            ctx.locked = {o.uid for o in scene.objects if o.family == "person" and o.uid != seated[0].uid}
            result = apply("pose", scene, stream(5, attempt), ctx)
            if isinstance(result, Change) and result.diff["stood_up"]:
                caps = kit.captions([result.diff], scene, result.scene, stream(5, "c"), ASPECT)
                assert sum("stood up" in c for c in caps) >= 2, caps
                assert any("bench" in c for c in caps), caps
                return
    pytest.fail("no seated person stood up")


@pytest.mark.parametrize("setting", KITS)
def test_people_appear_leave_walk_and_change_shirts_and_the_captions_say_who(setting):
    kit = get_kit(setting)
    found = set()
    for scene in _scenes(setting, 8, seed=13):
        ctx = _ctx(kit)
        for key in ("disappearance", "movement", "color", "addition"):
            if key in found:
                continue
            ctx.locked = {o.uid for o in scene.objects if o.family != "person"} if key != "addition" else set()
            for attempt in range(8 if key != "addition" else 30):
                result = apply(key, scene, stream(9, key, attempt), ctx)
                if not isinstance(result, Change):
                    continue
                obj = result.diff["object_before"] or result.diff["object_after"]
                if obj["family"] != "person":
                    continue
                caps = kit.captions([result.diff], scene, result.scene, stream(9, "c", key), ASPECT)
                assert all(re.search(r"\b(man|woman|person|guy|lady)\b", c.lower()) for c in caps), caps
                assert not any(re.search(r"\b(someone (put|shifted|removed)|repainted|swivelled)\b", c) for c in caps), caps
                if key == "color":
                    assert result.diff["part"] in ("top", "bottom")
                    assert all(result.diff["after"] in c for c in caps)
                found.add(key)
                break
    assert found == {"disappearance", "movement", "color", "addition"}, found


def test_captions_of_people_are_varied_and_name_them():
    pairs = [p for p in dry_pairs("outdoor", 28, seed=4) if p.change_type == "pose"]
    assert pairs
    for pair in pairs:
        assert len(set(pair.captions)) == len(pair.captions) >= 3


def test_the_tabletop_has_no_figure_to_pose():
    kit = get_kit("tabletop")
    scene = next(s for s in (_try(kit, k) for k in range(10)) if s is not None)
    result = apply("pose", scene, stream(1), ChangeContext("omnidiff", ASPECT, kit))
    assert isinstance(result, Rejection) and "articulated figure" in result.reason
    assert "person" in FAMILIES


def _try(kit, k: int):
    try:
        return kit.sample_scene(stream(1, "t", k), ASPECT)
    except SamplingError:
        return None
