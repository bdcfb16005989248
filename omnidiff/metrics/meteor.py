"""One METEOR 1.5 JVM per scoring job: segment statistics once, corpus scores per subset.

METEOR's corpus score is computed by the jar from the sum of the per-segment statistics that its
``SCORE`` call returns, so a subset's score is one ``EVAL`` call over that subset's cached
statistics: the same number pycocoevalcap's ``Meteor.compute_score`` gives on the subset alone
(pycocoevalcap sends the same ``SCORE`` lines and then ``EVAL`` over all of them).
The JVM is closed explicitly (context manager), never left to ``__del__``.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Sequence

from pycocoevalcap.meteor import meteor as _stock

from omnidiff.metrics.hygiene import LONG_CAPTION_TOKENS
from omnidiff.metrics.java import JavaError, find_java

METEOR_JAR = Path(_stock.__file__).resolve().parent / _stock.METEOR_JAR
METEOR_ARGS = ("-", "-", "-stdio", "-l", "en", "-norm")
CLOSE_TIMEOUT_S = 30
# a bound, never reached by real captions (about 3 ms a segment; 400-token worst case about 1-3 s):
# a JVM that stops answering is killed instead of hanging the job. Long captions are scored whole,
# and METEOR's aligner is super-polynomial in their length (5,000 words against 60-word references:
# about 10 s; 2,000 looping words against 2,000: minutes), so the bound grows with the cube of the
# longest caption beyond LONG_CAPTION_TOKENS.
STARTUP_ALLOWANCE_S = 300.0
SECONDS_PER_REPLY = 10.0


def reply_allowance(replies: int, longest_tokens: int = 0) -> float:
    """Seconds METEOR may take for ``replies`` answers whose longest caption has ``longest_tokens``."""
    extra = (longest_tokens / 100.0) ** 3 if longest_tokens > LONG_CAPTION_TOKENS else 0.0
    return STARTUP_ALLOWANCE_S + SECONDS_PER_REPLY * replies + extra


def score_line(hypothesis: str, references: Sequence[str]) -> str:
    """The ``SCORE`` request exactly as pycocoevalcap's ``Meteor._stat`` builds it."""
    hypothesis = hypothesis.replace("|||", "").replace("  ", " ")
    return " ||| ".join(("SCORE", " ||| ".join(references), hypothesis))


class MeteorSession:
    """A running METEOR 1.5 JVM (``-stdio``) with pipelined requests."""

    def __init__(self) -> None:
        java = find_java()
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                java.command("-jar", str(METEOR_JAR), *METEOR_ARGS, heap="2G"),
                cwd=str(METEOR_JAR.parent), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self._stderr,
            )
        except OSError as exc:
            self._stderr.close()
            raise JavaError(f"cannot start METEOR ({exc})") from None

    def __enter__(self) -> "MeteorSession":
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        if exc_type is not None and self._proc.poll() is None:
            self._proc.kill()  # failing or interrupted: do not wait for queued segments
        self.close()

    def _exchange(self, lines: Iterable[str], replies: int, longest_tokens: int = 0) -> list[str]:
        """Write ``lines`` from a thread while reading ``replies`` lines, so no pipe can fill up."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        failure: list[BaseException] = []

        def writer() -> None:
            try:
                for line in lines:
                    self._proc.stdin.write(line.encode("utf-8") + b"\n")
                self._proc.stdin.flush()
            except (OSError, ValueError) as exc:  # the JVM died or the session was closed
                failure.append(exc)

        limit = reply_allowance(replies, longest_tokens)
        timed_out = threading.Event()

        def watchdog() -> None:
            timed_out.set()
            self._proc.kill()

        timer = threading.Timer(limit, watchdog)
        timer.daemon = True
        thread = threading.Thread(target=writer, daemon=True)
        timer.start()
        thread.start()
        out: list[str] = []
        try:
            for _ in range(replies):
                raw = self._proc.stdout.readline()
                if not raw:
                    break
                out.append(raw.decode("utf-8").strip())
        finally:
            timer.cancel()
        thread.join()
        if timed_out.is_set():
            raise JavaError(f"METEOR did not answer {replies} line(s) within {limit:g} s and was stopped")
        if len(out) < replies or failure:
            raise JavaError(f"METEOR stopped answering ({self._stderr_tail()})")
        return out

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else "no message"

    def segment_stats(self, items: Sequence[tuple[str, Sequence[str]]], longest_tokens: int = 0) -> list[str]:
        """Statistics line of each (hypothesis, references) item, in order; ``longest_tokens`` (the
        longest caption among them) widens the time bound for long text."""
        for hyp, refs in items:
            if "\n" in hyp or any("\n" in r or "|||" in r for r in refs):
                raise ValueError("METEOR inputs must be single lines without '|||' in references")
        return self._exchange((score_line(h, r) for h, r in items), len(items), longest_tokens)

    def corpus_score(self, stats: Sequence[str]) -> float:
        """Corpus METEOR of the segments whose statistics are given, as ``Meteor.compute_score``.

        All lines go to one ``EVAL``: the jar's aggregate is not the score of the summed statistics
        (a perfectly matched segment, for one, has no fragmentation penalty of its own).
        """
        if not stats:
            raise ValueError("METEOR needs at least one segment")
        eval_line = "EVAL" + "".join(f" ||| {line}" for line in stats)
        replies = self._exchange([eval_line], len(stats) + 1)
        try:
            return float(replies[-1])
        except ValueError:
            raise JavaError(f"METEOR answered something that is not a number: {replies[-1][:80]!r}") from None

    def close(self) -> None:
        """Close stdin (METEOR exits at end of input); kill it if it does not."""
        proc = self._proc
        if proc.poll() is None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait(timeout=CLOSE_TIMEOUT_S)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        self._stderr.close()
