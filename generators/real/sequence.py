"""Choosing before/after pairs from a frame sequence (video samples or a time-lapse).

A good pair comes from one shot (no scene cut between its frames), has two sharp, well exposed
frames, and, once the camera's global motion is compensated, differs only locally: the changed area
lies between ``min_area`` and ``max_area`` of the frame. Each shot's frames are registered to the
shot's first frame once, so comparing any two of them is a cheap difference. At most ``max_pairs``
are chosen, spread over time (one per time bin first, then the farthest from those chosen).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from generators.real.align import register
from generators.real.proposals import ProposalSettings, propose_change_mask
from generators.real.quality import Quality, QualityThresholds
from generators.real.report import IngestReport

SAMPLE_SIDE = 320


@dataclass(frozen=True)
class SequenceSettings:
    max_pairs: int = 5
    min_area: float = 0.005
    max_area: float = 0.25
    cut_threshold: float = 0.5  # Bhattacharyya distance of colour histograms between neighbours
    relative_blur: float = 0.35  # a frame this much less sharp than the sequence median is blurred
    min_overlap: float = 0.85  # share of the frame both images must cover after compensation
    quality: QualityThresholds = field(default_factory=QualityThresholds)


@dataclass
class FrameSample:
    index: int  # frame number in the video, or position in the time-lapse
    label: str  # "frame 30" or a file name
    small: np.ndarray  # RGB, longer side <= SAMPLE_SIDE
    quality: Quality
    time_s: float | None = None


@dataclass
class Candidate:
    before: FrameSample
    after: FrameSample
    fraction: float
    score: float

    @property
    def middle(self) -> float:
        return (self.before.index + self.after.index) / 2


def _histogram(rgb: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [12, 8, 8], [0, 180, 0, 256, 0, 256])
    return cv2.normalize(hist, hist).flatten()


def usable_frames(samples: list[FrameSample], settings: SequenceSettings, report: IngestReport) -> list[FrameSample]:
    """Drop blurred (absolutely or against the sequence's median) and badly exposed frames."""
    if not samples:
        return []
    median = float(np.median([s.quality.sharpness for s in samples]))
    kept = []
    for s in samples:
        problem = s.quality.problem(settings.quality)
        if problem is None and s.quality.sharpness < settings.relative_blur * median:
            problem = f"blurred (sharpness {s.quality.sharpness:.1f} < {settings.relative_blur:g} x median {median:.1f})"
        if problem is not None:
            report.drop(s.label, problem.split(" ")[0], problem)
        else:
            kept.append(s)
    return kept


def _cut_reason(previous: FrameSample, current: FrameSample, settings: SequenceSettings) -> str | None:
    """Why two neighbouring frames belong to different shots, or None when they are one shot."""
    distance = cv2.compareHist(_histogram(previous.small), _histogram(current.small), cv2.HISTCMP_BHATTACHARYYA)
    if distance > settings.cut_threshold:
        return f"colour histograms differ (distance {distance:.2f})"
    alignment = register(previous.small, current.small, refine=False, model="similarity")
    if not alignment.ok:
        return "the frames share no registrable features"
    h, w = previous.small.shape[:2]
    if alignment.corner_shift(w, h) > 0.25 * max(h, w):
        return "the camera moved too far between the frames"
    proposal = propose_change_mask(previous.small, current.small, alignment.matrix, ProposalSettings(blur_sigma=1.0))
    if proposal.fraction > 0.5:
        return f"{proposal.fraction:.0%} of the frame changed"
    return None


def split_shots(samples: list[FrameSample], settings: SequenceSettings, report: IngestReport) -> list[list[FrameSample]]:
    """Cut the sequence where neighbouring frames cannot be one static shot; no pair crosses a cut."""
    shots: list[list[FrameSample]] = []
    for s in samples:
        if shots:
            reason = _cut_reason(shots[-1][-1], s, settings)
            if reason is not None:
                report.drop(f"{shots[-1][-1].label} -> {s.label}", "scene_cut", f"no pairs across a scene cut: {reason}")
                shots.append([])
        else:
            shots.append([])
        shots[-1].append(s)
    return shots


def _compensated(shot: list[FrameSample], min_overlap: float) -> list[list[tuple[FrameSample, np.ndarray, np.ndarray]]]:
    """The shot's frames warped onto a common reference, with the pixels each covers.

    The reference is the segment's first frame; a frame that cannot be registered to it, or has
    drifted so far that too little overlaps (a slow pan), starts a new segment with itself as the
    reference. Frames are compared only within a segment.
    """
    segments: list[list[tuple[FrameSample, np.ndarray, np.ndarray]]] = []
    reference = None
    for s in shot:
        if reference is not None:
            h, w = reference.shape[:2]
            alignment = register(reference, s.small, refine=False, model="similarity")
            warped = cv2.warpPerspective(s.small, alignment.matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            cover = cv2.warpPerspective(np.ones(s.small.shape[:2], np.uint8), alignment.matrix, (w, h), flags=cv2.INTER_NEAREST)
            if alignment.ok and cover.mean() >= min_overlap:
                segments[-1].append((s, warped, cover))
                continue
        reference = s.small
        segments.append([(s, reference, np.ones(reference.shape[:2], np.uint8))])
    return segments


def _partners(i: int, n: int) -> list[int]:
    """Later frames to compare frame ``i`` with: geometric gaps, so the work grows as n log n."""
    gaps, g = [], 1
    while i + g < n:
        gaps.append(i + g)
        g *= 2
    if i + 1 < n and n - 1 not in gaps:
        gaps.append(n - 1)
    return gaps


def find_candidates(shots: list[list[FrameSample]], settings: SequenceSettings, report: IngestReport) -> list[Candidate]:
    """All frame pairs within shots whose compensated difference is local."""
    proposal_settings = ProposalSettings(blur_sigma=1.5)
    candidates: list[Candidate] = []
    too_small = too_large = misaligned = 0
    segments = [seg for shot in shots if len(shot) >= 2 for seg in _compensated(shot, settings.min_overlap)]
    for segment in segments:
        best_sharpness = max(1e-6, max(s.quality.sharpness for s, _, _ in segment))
        for i in range(len(segment)):
            for j in _partners(i, len(segment)):
                (si, wi, ci), (sj, wj, cj) = segment[i], segment[j]
                both = (ci > 0) & (cj > 0)
                if both.mean() < settings.min_overlap:
                    misaligned += 1
                    continue
                proposal = propose_change_mask(wi, wj, None, proposal_settings)
                changed = (proposal.mask > 0) & both
                fraction = float(changed.sum() / max(1, both.sum()))
                if fraction < settings.min_area:
                    too_small += 1
                    continue
                if fraction > settings.max_area:
                    too_large += 1
                    continue
                n_blobs = max(1, len(proposal.boxes))
                score = 1.0 / n_blobs + 0.1 * min(si.quality.sharpness, sj.quality.sharpness) / best_sharpness
                candidates.append(Candidate(si, sj, fraction, score))
    report.stats["frame_pairs_compared"] = report.stats.get("frame_pairs_compared", 0) + too_small + too_large + misaligned + len(candidates)
    report.stats["frame_pairs_without_change"] = too_small
    report.stats["frame_pairs_change_too_large"] = too_large
    report.stats["frame_pairs_misaligned"] = misaligned
    report.stats["candidates"] = len(candidates)
    report.stats["registration_segments"] = len(segments)
    return candidates


def ranked_candidates(candidates: list[Candidate], limit: int) -> list[Candidate]:
    """All candidates, ordered so that the first ``limit`` are spread over time: the best of each of
    ``limit`` equal time bins, then farthest-first from those chosen (replacements for duplicates)."""
    if not candidates or limit <= 0:
        return []
    ordered = sorted(candidates, key=lambda c: (-c.score, c.before.index, c.after.index))
    lo = min(c.before.index for c in candidates)
    hi = max(c.after.index for c in candidates)
    width = max(1e-9, (hi - lo) / limit)
    chosen: list[Candidate] = []
    taken_bins: set[int] = set()
    for c in ordered:
        b = min(limit - 1, int((c.middle - lo) / width))
        if b not in taken_bins:
            taken_bins.add(b)
            chosen.append(c)
    chosen_ids = {id(c) for c in chosen}
    rest = [c for c in ordered if id(c) not in chosen_ids]
    for _ in range(min(len(rest), 4 * limit)):  # farthest-first for the replacements that may be needed
        best = max(rest, key=lambda c: (min(abs(c.middle - k.middle) for k in chosen), c.score, -c.before.index))
        chosen.append(best)
        rest = [c for c in rest if c is not best]
    chosen.extend(rest)
    head = sorted(chosen[:limit], key=lambda c: (c.before.index, c.after.index))
    return head + chosen[limit:]
