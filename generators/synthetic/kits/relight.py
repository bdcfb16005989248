"""Illumination changes of the rich kits: switch a lamp or the ceiling light, move the time of day,
warm or cool the light. Each edits the spec's physical parameters and says what it did, for the
captions (``{"variant", "before", "after", ...}``)."""

from __future__ import annotations

import math
import random
from dataclasses import asdict
from typing import Any

from generators.synthetic.kits.base import Context, visible
from generators.synthetic.lighting import daylight_kelvin, kelvin_to_rgb, period_of, sun_for
from generators.synthetic.spec import LightSpec, SceneSpec

LAMPS = ("table_lamp", "floor_lamp")


def _sun(scene: SceneSpec) -> LightSpec | None:
    return next((li for li in scene.lights if li.kind == "SUN"), None)


def set_hour(scene: SceneSpec, hour: float, sun_energy: float) -> None:
    """Move the sun and the sky to ``hour`` (the noon azimuth of the scene is kept)."""
    w = scene.world
    noon_azimuth = (w.sun_azimuth - (float(w.time_of_day or 13.0) - 13.0) * 15.0) % 360.0
    elevation, azimuth = sun_for(hour, noon_azimuth)
    w.time_of_day, w.sun_elevation, w.sun_azimuth = round(hour, 2), elevation, azimuth
    sun = _sun(scene)
    if sun is not None:
        sun.elevation, sun.azimuth = elevation, azimuth
        sun.on = elevation > 0
        sun.energy = round(sun_energy * max(0.0, math.sin(math.radians(elevation))) ** 0.5, 3)
        sun.rgb = kelvin_to_rgb(daylight_kelvin(elevation))


def _other_hour(rng: random.Random, hour: float, late: tuple[float, float]) -> float:
    for _ in range(40):
        new = round(rng.choice([rng.uniform(7.5, 11.0), rng.uniform(12.0, 16.5), rng.uniform(*late)]), 2)
        if abs(new - hour) >= 3.5:
            return new
    return round(7.5 if hour > 13 else late[0], 2)


def _artificial(scene: SceneSpec) -> tuple[list[LightSpec], list[Any]]:
    ceilings = [li for li in scene.lights if li.name.startswith("ceiling")]
    lamps = [o for o in scene.objects if o.family in LAMPS]
    return ceilings, lamps


def indoor_relight(scene: SceneSpec, rng: random.Random, ctx: Context) -> dict[str, Any] | None:
    ceilings, lamps = _artificial(scene)
    shown = [o for o in lamps if visible(ctx, o.uid)]
    hour = float(scene.world.time_of_day or 12.0)
    daylight = (_sun(scene) is not None and _sun(scene).on) or hour < 18.0
    lit = any(li.on for li in ceilings) or any(o.params.get("on") for o in lamps)
    options = ["daylight"]
    if shown:
        options += ["lamp", "lamp"]
    if ceilings and (daylight or any(o.params.get("on") for o in lamps) or not ceilings[0].on):
        options.append("ceiling")
    if lit:
        options.append("warmth")
    variant = rng.choice(options)
    if variant == "lamp":
        lamp = rng.choice(shown)
        before = bool(lamp.params.get("on"))
        if before and not daylight and not any(li.on for li in ceilings) and \
                not any(o.params.get("on") for o in lamps if o.uid != lamp.uid):
            return None  # switching off the last light of an evening room leaves a black image
        snapshot = asdict(lamp)  # as it is in the before image
        lamp.params["on"] = not before
        return {"variant": "lamp", "uid": lamp.uid, "object": snapshot, "before": "on" if before else "off",
                "after": "off" if before else "on"}
    if variant == "ceiling":
        before = ceilings[0].on
        for li in ceilings:
            li.on = not before
        return {"variant": "ceiling", "before": "on" if before else "off", "after": "off" if before else "on"}
    if variant == "warmth":
        kelvins = [li.rgb for li in ceilings]
        warm_now = all(o.params.get("kelvin", 3000) < 3600 for o in lamps) and all(rgb[2] < 200 for rgb in kelvins)
        kelvin = rng.choice([5000, 5600, 6500]) if warm_now else rng.choice([2400, 2700])
        for li in ceilings:
            li.rgb = kelvin_to_rgb(kelvin)
        for o in lamps:
            o.params["kelvin"] = kelvin
        return {"variant": "warmth", "before": "warm" if warm_now else "cool", "after": "cool" if warm_now else "warm",
                "kelvin": kelvin}
    new = _other_hour(rng, hour, (17.6, 19.4))
    was = scene.world.sun_elevation
    set_hour(scene, new, 4.0)
    return {"variant": "daylight", "before": period_of(hour), "after": period_of(new), "hour_before": hour,
            "hour_after": new, "elevation_before": was, "elevation_after": scene.world.sun_elevation}


def outdoor_relight(scene: SceneSpec, rng: random.Random, ctx: Context) -> dict[str, Any] | None:
    hour = float(scene.world.time_of_day or 12.0)
    lamps = [o for o in scene.objects if o.family == "street_lamp"]
    options = ["daylight", "daylight", "warmth"]
    variant = rng.choice(options)
    sun = _sun(scene)
    if variant == "warmth" and sun is not None and sun.on:
        warm_now = sun.rgb[2] < 200
        kelvin = rng.choice([5600, 6200]) if warm_now else rng.choice([3000, 3400])
        sun.rgb = kelvin_to_rgb(kelvin)
        scene.world.white_balance = 6000.0
        return {"variant": "warmth", "before": "warm" if warm_now else "cool", "after": "cool" if warm_now else "warm",
                "kelvin": kelvin}
    new = _other_hour(rng, hour, (18.9, 19.6))
    was = scene.world.sun_elevation
    set_hour(scene, new, 4.5)
    dusk = scene.world.sun_elevation < 6
    scene.world.sky_strength = 0.35 if dusk else 0.9
    scene.world.exposure = 2.8 if dusk else -0.2
    switched = []
    for o in lamps:
        if bool(o.params.get("on")) != dusk:
            o.params["on"] = dusk
            switched.append(o.uid)
    return {"variant": "daylight", "before": period_of(hour), "after": period_of(new), "hour_before": hour,
            "hour_after": new, "elevation_before": was, "elevation_after": scene.world.sun_elevation,
            "street_lamps": "on" if dusk else "off", "switched": switched}
