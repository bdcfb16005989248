"""Markdown, CSV and LaTeX (booktabs) renderings of a :class:`~leaderboard.board.Board`."""

from __future__ import annotations

import csv
import io

from leaderboard.board import COLUMN_TITLES, COLUMNS, Board, Row


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _label(row: Row, keys: list[str]) -> str:
    if row.kind == "reported":
        return f"{row.model} (reported [{keys.index(row.citation) + 1}])"
    return row.model


def _citation_keys(board: Board) -> list[str]:
    used = {r.citation for v in board.views for r in v.reported}
    return [k for k in board.citations if k in used]


def to_markdown(board: Board) -> str:
    keys = _citation_keys(board)
    lines = []
    for view in board.views:
        lines += [f"### {view.title}", ""]
        if view.headline:
            lines += [f"_{view.headline}_", ""]
        lines += ["| model | kind | n | " + " | ".join(COLUMN_TITLES[c] for c in COLUMNS) + " |",
                  "|---|---|---:|" + "---:|" * len(COLUMNS)]
        for row in view.rows:
            n = "" if row.n is None else str(row.n)
            cells = " | ".join(fmt(row.values.get(c)) for c in COLUMNS)
            lines.append(f"| {_label(row, keys)} | {row.kind} | {n} | {cells} |")
        lines.append("")
    if keys:
        lines.append("Reported rows are numbers published in papers, not reproduced here:")
        lines.append("")
        lines += [f"[{i}] {board.citations[k]}" for i, k in enumerate(keys, start=1)] + [""]
    lines.append("Scores x100 (pycocoevalcap scale x100, as papers report them); '-' = not available.")
    return "\n".join(lines) + "\n"


def to_csv(board: Board) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["benchmark", "split", "model", "kind", "n", *COLUMNS, "citation"])
    for view in board.views:
        for row in view.rows:
            writer.writerow([
                view.key, view.split, row.model, row.kind, "" if row.n is None else row.n,
                *("" if row.values.get(c) is None else f"{row.values[c]:.2f}" for c in COLUMNS),
                board.citations.get(row.citation, "") if row.citation else "",
            ])
    return buf.getvalue()


LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(board: Board) -> str:
    """One booktabs table per view; reported rows below a rule, in italics, with their citation."""
    keys = _citation_keys(board)
    out = ["% Requires \\usepackage{booktabs}. Scores x100."]
    for view in board.views:
        out += [
            "\\begin{table}[t]", "\\centering", f"\\caption{{{latex_escape(view.title)}}}",
            *([f"% {view.headline}"] if view.headline else []),
            "\\begin{tabular}{l" + "r" * len(COLUMNS) + "}", "\\toprule",
            "Model & " + " & ".join(COLUMN_TITLES[c] for c in COLUMNS) + " \\\\", "\\midrule",
        ]
        for row in view.reproduced:
            out.append(latex_escape(row.model) + " & " + " & ".join(fmt(row.values.get(c)) for c in COLUMNS) + " \\\\")
        if view.reported:
            out.append("\\midrule")
            for row in view.reported:
                label = f"\\textit{{{latex_escape(row.model)}}} (reported [{keys.index(row.citation) + 1}])"
                out.append(label + " & " + " & ".join(fmt(row.values.get(c)) for c in COLUMNS) + " \\\\")
        out += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
    if keys:
        out.append("% Reported rows: " + "; ".join(f"[{i}] {latex_escape(board.citations[k])}" for i, k in enumerate(keys, 1)))
    return "\n".join(out) + "\n"
