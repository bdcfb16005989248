"""The prompt each benchmark's pairs are captioned with: the one place they are written down.

CLEVR-Change, CLEVR-DC, Spot-the-Diff and IEdit references are one short sentence, so their prompts
ask for one; OmniDiff references average about 60 words over every change, so its prompt asks for
a detailed description of each change type it may contain.
"""

from __future__ import annotations

from annotations.errors import OmniDiffError

SHORT_CLEVR = (
    "The first image shows a scene before a change and the second the same scene after it. "
    "In one short sentence, say what changed (an object's colour or material, an object added, "
    "removed or moved), or say that nothing has changed."
)

PROMPTS: dict[str, str] = {
    "clevr_change": SHORT_CLEVR,
    "clevr_dc": SHORT_CLEVR + " The camera may have moved between the two images; ignore that.",
    "spot_the_diff": (
        "These are two frames of the same street scene taken at different times. "
        "In one short sentence, describe a difference between them."
    ),
    "iedit": (
        "The second image is an edited version of the first. "
        "In one short sentence, describe the edit that was made."
    ),
    "birds_to_words": (
        "The first image shows one bird and the second image another. Describe in a few sentences how the "
        "second bird differs from the first in its colours, markings, shape and size."
    ),
    "omnidiff": (
        "The first image shows a scene before a change and the second the same scene after it. "
        "Describe in detail, in about 60 words, every difference between them: objects that appeared, "
        "disappeared, were removed, replaced, moved, turned, resized or recoloured, changes of pose, "
        "written text, the number of objects, the lighting and the camera viewpoint. Say where in the "
        "scene each change is."
    ),
}


def prompt_for(benchmark: str) -> str:
    key = benchmark.replace("-", "_")
    if key not in PROMPTS:
        raise OmniDiffError(f"no prompt for benchmark {benchmark!r}; known: {', '.join(sorted(PROMPTS))}")
    return PROMPTS[key]
