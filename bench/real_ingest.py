"""Video candidate search: the shipped search against brute force, side by side in one run.

The shipped search registers each frame of a shot once to the shot's first frame and compares
frames at geometric gaps (n log n pairs); brute force registers (features + ECC) and compares
every pair of frames. Both run on the same drawn video (tests/real_helpers.write_video); the
script prints both times, their ratio, and the best proposed-mask IoU each finds for every
planted state change, so a speed-up that loses changes shows.

    .venv/bin/python bench/real_ingest.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generators.real.align import register  # noqa: E402
from generators.real.ingest import _video_samples  # noqa: E402
from generators.real.pipeline import no_progress  # noqa: E402
from generators.real.proposals import propose_change_mask, mask_iou  # noqa: E402
from generators.real.report import IngestReport  # noqa: E402
from generators.real.sequence import SequenceSettings, find_candidates, split_shots, usable_frames  # noqa: E402
from tests.real_helpers import box_mask, write_video  # noqa: E402


def brute_force(samples, settings):
    found = []
    for a, b in combinations(samples, 2):
        alignment = register(a.small, b.small)
        if not alignment.ok:
            continue
        proposal = propose_change_mask(a.small, b.small, alignment.matrix)
        if settings.min_area <= proposal.fraction <= settings.max_area:
            found.append((a.index, b.index, proposal.mask))
    return found


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.avi"
        truth = write_video(path)
        samples, _, _ = _video_samples(path, 2, no_progress)
    settings = SequenceSettings()
    report = IngestReport("video", "bench", 0)

    t0 = time.perf_counter()
    usable = usable_frames(samples, settings, report)
    shots = split_shots(usable, settings, report)
    shipped = find_candidates(shots, settings, report)
    t_shipped = time.perf_counter() - t0

    t0 = time.perf_counter()
    brute = brute_force(usable, settings)
    t_brute = time.perf_counter() - t0

    def state(i):
        return truth.boxes[i]

    def best_iou(pairs):
        best = {}
        for i, j, mask in pairs:
            key = (state(i), state(j))
            if key[0] == key[1]:
                continue
            planted = box_mask([state(i), state(j)], mask.shape[:2])
            best[key] = max(best.get(key, 0.0), mask_iou(mask, planted))
        return best

    shipped_masks = []
    for c in shipped:
        alignment = register(c.before.small, c.after.small)
        shipped_masks.append((c.before.index, c.after.index, propose_change_mask(c.before.small, c.after.small, alignment.matrix).mask))
    iou_shipped, iou_brute = best_iou(shipped_masks), best_iou(brute)
    print(f"samples {len(samples)} (usable {len(usable)}, shots {len(shots)})")
    print(f"shipped search : {t_shipped:6.2f} s, {report.stats['frame_pairs_compared']} pairs compared, {len(shipped)} candidates")
    print(f"brute force    : {t_brute:6.2f} s, {len(usable) * (len(usable) - 1) // 2} pairs compared, {len(brute)} candidates")
    print(f"speed-up (brute / shipped): {t_brute / t_shipped:.1f}x")
    print(f"distinct state changes found: shipped {len(iou_shipped)}, brute force {len(iou_brute)}")
    print(f"mean best IoU: shipped {sum(iou_shipped.values()) / max(1, len(iou_shipped)):.3f}, "
          f"brute force {sum(iou_brute.values()) / max(1, len(iou_brute)):.3f}")


if __name__ == "__main__":
    main()
