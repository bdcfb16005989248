"""Pick the renderer for a format and write (or return) the result."""

from __future__ import annotations

from pathlib import Path

from annotations.errors import OmniDiffError
from leaderboard.board import build_board

FORMATS = ("md", "csv", "latex", "html")


def render_leaderboard(results: Path, fmt: str = "md", include_reported: bool = True, examples: int = 3,
                       benchmarks: set[str] | None = None) -> tuple[str, list[str]]:
    """(the leaderboard text, warnings: one line per results folder skipped or shown in part); ``benchmarks``
    keeps only those benchmarks' tables."""
    if fmt not in FORMATS:
        raise OmniDiffError(f"unknown leaderboard format {fmt!r}; choose one of {', '.join(FORMATS)}")
    board = build_board(results, include_reported=include_reported, benchmarks=benchmarks)
    if not board.views:
        first = f" ({len(board.warnings)} results folder(s) skipped; first: {board.warnings[0]})" if board.warnings else ""
        raise OmniDiffError(f"{results}: no readable scores.json files and no reported rows to show{first}")
    if fmt == "html":
        from leaderboard.html_page import to_html

        return to_html(board, examples=examples), board.warnings
    from leaderboard import tables

    return {"md": tables.to_markdown, "csv": tables.to_csv, "latex": tables.to_latex}[fmt](board), board.warnings


def write_leaderboard(text: str, out: Path) -> None:
    from annotations.durable import write_atomic
    from annotations.layout import refuse_inside_store

    if out.is_dir():
        raise OmniDiffError(f"{out}: is a folder; give a file name for --out")
    refuse_inside_store(out)
    write_atomic(out, text.encode("utf-8"))
