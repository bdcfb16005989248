"""Light colour and daylight in pure Python: colour temperature to RGB, time of day to sun and sky.

The kits describe light by physical parameters (kelvin, hour of the day); the renderer and the
captions read the same numbers, so "the light became warmer" is true of the pixels.
"""

from __future__ import annotations

import math


def kelvin_to_rgb(kelvin: float) -> tuple[int, int, int]:
    """Display sRGB (0-255) of a black body at ``kelvin`` (a fit of the CIE curve, 1,000-40,000 K)."""
    t = max(1000.0, min(40000.0, kelvin)) / 100.0
    if t <= 66:
        r = 255.0
        g = 99.4708025861 * math.log(t) - 161.1195681661
        b = 0.0 if t <= 19 else 138.5177312231 * math.log(t - 10) - 305.0447927307
    else:
        r = 329.698727446 * (t - 60) ** -0.1332047592
        g = 288.1221695283 * (t - 60) ** -0.0755148492
        b = 255.0
    return tuple(int(round(max(0.0, min(255.0, c)))) for c in (r, g, b))  # type: ignore[return-value]


def warmth_word(kelvin: float) -> str:
    if kelvin < 3200:
        return "warm"
    if kelvin < 5000:
        return "neutral"
    return "cool"


def period_of(hour: float) -> str:
    """What the captions call an hour of the day."""
    if hour < 5.5 or hour >= 20.5:
        return "night"
    if hour < 7.5:
        return "dawn"
    if hour < 11.0:
        return "morning"
    if hour < 14.5:
        return "midday"
    if hour < 17.5:
        return "afternoon"
    if hour < 19.3:
        return "evening"
    return "dusk"


def sun_for(hour: float, azimuth_noon: float = 200.0) -> tuple[float, float]:
    """(elevation, azimuth) in degrees of a mid-latitude summer sun at ``hour`` (a smooth model, not ephemeris)."""
    elevation = 62.0 * math.sin(math.pi * (hour - 6.0) / 14.0) - 4.0
    azimuth = azimuth_noon + (hour - 13.0) * 15.0
    return round(elevation, 3), round(azimuth % 360.0, 3)


def daylight_kelvin(elevation: float) -> float:
    """Direct sunlight is orange near the horizon and white high up."""
    if elevation <= 0:
        return 2000.0
    return round(min(5800.0, 2000.0 + 3800.0 * math.sin(math.radians(min(elevation, 40.0)) * 2.2) ** 0.8), 1)
