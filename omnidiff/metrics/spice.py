"""SPICE through pycocoevalcap's ``spice-1.0.jar``, only where the Stanford CoreNLP 3.6.0 jars exist.

The CoreNLP jars are looked up in ``$OMNIDIFF_SPICE_JARS`` and then in pycocoevalcap's own
``spice/lib``; nothing is ever downloaded (pycocoevalcap's ``Spice`` class would download them).
SPICE's ``-cache`` layer (LMDB through reflection) fails on Java 16 and later, so it is not used.
A subset's SPICE is the mean of its pairs' ``All`` F-scores, as pycocoevalcap averages them.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pycocoevalcap.spice import spice as _stock

from omnidiff.metrics.java import JavaError, find_java

SPICE_DIR = Path(_stock.__file__).resolve().parent
SPICE_JAR = SPICE_DIR / _stock.SPICE_JAR
CORENLP_JARS = ("stanford-corenlp-3.6.0.jar", "stanford-corenlp-3.6.0-models.jar")
SPICE_MAIN = "edu.anu.spice.SpiceScorer"
SPICE_TIMEOUT_S = 3600


@dataclass(frozen=True)
class SpiceSetup:
    spice_jar: Path
    corenlp_dir: Path

    def classpath(self) -> str:
        parts = [str(self.spice_jar), str(self.spice_jar.parent / "lib" / "*"), str(self.corenlp_dir / "*")]
        return os.pathsep.join(parts)


def find_spice() -> SpiceSetup | str:
    """The SPICE set-up, or the reason why SPICE is skipped."""
    if not SPICE_JAR.is_file():
        return f"skipped: {SPICE_JAR} not found"
    places = []
    env = os.environ.get("OMNIDIFF_SPICE_JARS")
    if env:
        places.append(Path(env))
    places.append(SPICE_DIR / "lib")
    for place in places:
        if all((place / name).is_file() for name in CORENLP_JARS):
            return SpiceSetup(SPICE_JAR, place)
    where = " or ".join(str(p) for p in places)
    return (
        f"skipped: Stanford CoreNLP 3.6.0 jars ({', '.join(CORENLP_JARS)}) not found in {where}; "
        "set OMNIDIFF_SPICE_JARS to a folder holding them"
    )


def spice_item_scores(setup: SpiceSetup, items: Sequence[tuple[str, str, Sequence[str]]]) -> dict[str, float]:
    """Per-pair SPICE F-score (``All``) for (pair_id, tokenized hypothesis, tokenized references)."""
    java = find_java()
    with tempfile.TemporaryDirectory(prefix="omnidiff-spice-") as tmp:
        in_path, out_path = Path(tmp) / "input.json", Path(tmp) / "output.json"
        payload = [{"image_id": pid, "test": hyp, "refs": list(refs)} for pid, hyp, refs in items]
        in_path.write_text(json.dumps(payload), encoding="utf-8")
        cmd = java.command("-cp", setup.classpath(), SPICE_MAIN, str(in_path), "-out", str(out_path),
                           "-subset", "-silent", heap="8G")
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=SPICE_TIMEOUT_S, cwd=str(SPICE_DIR),
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise JavaError(f"SPICE did not finish within {SPICE_TIMEOUT_S} s") from None
        if proc.returncode != 0 or not out_path.is_file():
            last = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
            raise JavaError(f"SPICE failed (exit {proc.returncode}): {last}")
        results = json.loads(out_path.read_text(encoding="utf-8"))
    scores: dict[str, float] = {}
    for entry in results:
        try:
            scores[str(entry["image_id"])] = float(entry["scores"]["All"]["f"])
        except (KeyError, TypeError, ValueError):
            scores[str(entry.get("image_id"))] = math.nan
    return scores
