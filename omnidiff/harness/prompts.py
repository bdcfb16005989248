"""The prompt a benchmark's pairs are captioned with: ``prompt_for(benchmark)``, the API the harness,
training and other helpers call.

Each prompt is declared in its benchmark's module (the registry is the one place prompts live), so a new
benchmark brings its prompt with it. CLEVR-Change, CLEVR-DC, Spot-the-Diff and IEdit references are one
short sentence, so their prompts ask for one; OmniDiff references average about 60 words over every
change, so its prompt asks for a detailed description of each change type it may contain.
"""

from __future__ import annotations


def prompt_for(benchmark: str) -> str:
    """The prompt of ``benchmark`` (``clevr-change`` and ``clevr_change`` both work); unknown names are an error."""
    from omnidiff.benchmarks import get_benchmark

    return get_benchmark(benchmark).prompt
