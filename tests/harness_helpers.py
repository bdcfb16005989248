"""Test models for the harness tests, registered through a real ``omnidiff.models`` entry point.

``install_test_models(folder)`` writes a minimal ``*.dist-info`` with an ``entry_points.txt`` into
``folder``; with ``folder`` on ``sys.path`` (or ``PYTHONPATH`` for a subprocess) importlib.metadata
finds the entry points exactly as it finds those of an installed package.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from omnidiff.models.base import CaptionModel, CaptionRequest, ModelParam

TESTS_DIR = Path(__file__).resolve().parent


def install_test_models(folder: Path) -> Path:
    dist = Path(folder) / "omnidiff_test_models-0.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: omnidiff-test-models\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text(
        "[omnidiff.models]\n"
        "counting = harness_helpers:CountingModel\n"
        "instant = harness_helpers:InstantModel\n"
        "not-a-model = harness_helpers:install_test_models\n"
        "missing-module = no_such_module_xyz:Model\n"
    )
    return Path(folder)


class CountingModel(CaptionModel):
    """Appends one line per captioned pair to ``log`` (opened per call, flushed), sleeps ``delay``.

    Captions are a pure function of the pair id; ids listed in ``empty_for`` get an empty caption.
    """

    params = (
        ModelParam("log", str, "", "file that receives one pair id per caption", affects_output=False),
        ModelParam("delay", float, 0.0, "seconds to sleep per call", affects_output=False),
        ModelParam("empty_for", str, "", "comma-separated pair ids answered with ''"),
        ModelParam("wrong_count", bool, False, "return one caption too few"),
        ModelParam("template", str, "", "caption template with {n}, the pair's number (default: a fixed sentence)"),
    )

    def caption(self, batch: list[CaptionRequest]) -> list[str]:
        if self.options["delay"]:
            time.sleep(self.options["delay"])
        if self.options["log"]:
            with open(self.options["log"], "a", encoding="utf-8") as fh:
                fh.write("".join(r.pair_id + "\n" for r in batch))
                fh.flush()
                os.fsync(fh.fileno())
        empty = set(filter(None, self.options["empty_for"].split(",")))
        template = self.options["template"] or "a red square appeared in pair {n}."
        captions = ["" if r.pair_id in empty else template.format(n=int(r.pair_id.split('-')[-1])) for r in batch]
        return captions[:-1] if self.options["wrong_count"] else captions


class InstantModel(CaptionModel):
    """Returns at once (for measuring the harness itself)."""

    def caption(self, batch: list[CaptionRequest]) -> list[str]:
        return ["something changed."] * len(batch)
