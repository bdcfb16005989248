"""PTB tokenization as pycocoevalcap 1.2 does it, for every caption of a scoring job in one JVM call.

pycocoevalcap's ``PTBTokenizer`` writes its temporary file into the installed package folder and
zips output lines to captions without checking their number; here the file goes to a private
temporary folder and a line-count mismatch is an error instead of silently shifted captions.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from pycocoevalcap.tokenizer import ptbtokenizer as _stock

from omnidiff.metrics.java import JavaError, find_java

TOKENIZER_JAR = Path(_stock.__file__).resolve().parent / _stock.STANFORD_CORENLP_3_4_1_JAR
PUNCTUATIONS = frozenset(_stock.PUNCTUATIONS)
TOKENIZER_TIMEOUT_S = 1800


def strip_punctuation(line: str) -> str:
    """pycocoevalcap's post-processing of one tokenizer output line."""
    return " ".join(w for w in line.rstrip().split(" ") if w not in PUNCTUATIONS)


def ptb_tokenize(sentences: list[str]) -> list[str]:
    """Lowercased PTB tokens without punctuation, one string per input sentence (same order).

    Sentences must already be single lines (see :mod:`omnidiff.metrics.hygiene`).
    """
    if not sentences:
        return []
    if any("\n" in s or "\r" in s for s in sentences):
        raise ValueError("sentences passed to ptb_tokenize must not contain line breaks")
    java = find_java()
    with tempfile.TemporaryDirectory(prefix="omnidiff-ptb-") as tmp:
        path = Path(tmp) / "sentences.txt"
        path.write_bytes("\n".join(sentences).encode("utf-8"))
        cmd = java.command(
            "-cp", str(TOKENIZER_JAR), "edu.stanford.nlp.process.PTBTokenizer",
            "-preserveLines", "-lowerCase", "-encoding", "utf-8", str(path),
        )
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=TOKENIZER_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise JavaError(f"the PTB tokenizer did not finish within {TOKENIZER_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        last = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
        raise JavaError(f"the PTB tokenizer failed (exit {proc.returncode}): {last}")
    lines = proc.stdout.decode("utf-8").split("\n")
    if len(lines) == len(sentences) + 1 and lines[-1] == "":
        lines.pop()
    if len(lines) < len(sentences) or any(lines[len(sentences):]):
        raise JavaError(
            f"the PTB tokenizer returned {len(lines)} lines for {len(sentences)} captions; "
            "a caption contains a line separator the tokenizer splits on"
        )
    return [strip_punctuation(line) for line in lines[: len(sentences)]]


