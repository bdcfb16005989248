"""One self-contained HTML page: sortable tables, per-change-type bar charts, example pairs.

Nothing is fetched when the page opens: the style and the sorting script are inline, the charts are
inline SVG and the example images are base64 PNG data URLs.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from annotations.errors import OmniDiffError
from leaderboard.board import COLUMN_TITLES, COLUMNS, Board, View
from leaderboard.tables import fmt

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem}
th,td{padding:.3rem .7rem;border-bottom:1px solid #e4e4e4;text-align:right}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}
th{cursor:pointer;user-select:none;background:#f6f6f6}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
tbody.reported td{color:#666;font-style:italic}
.cite{font-size:.85rem;color:#555}.note{font-size:.85rem;color:#777}
.pair{display:flex;gap:1rem;align-items:flex-start;margin:1rem 0;padding:.6rem;border:1px solid #eee;border-radius:6px}
.pair img{width:160px;height:auto;border:1px solid #ccc;margin-right:6px}
.pair ul{margin:.2rem 0 .6rem 1rem;padding:0}.pair .id{font-family:monospace;font-size:.8rem;color:#777}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
"""

SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  var headers = table.querySelectorAll('thead th');
  headers.forEach(function (th, col) {
    th.addEventListener('click', function () {
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      headers.forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      table.querySelectorAll('tbody').forEach(function (body) {
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute('data-value'), y = b.cells[col].getAttribute('data-value');
          var nx = parseFloat(x), ny = parseFloat(y);
          var cmp = (isNaN(nx) || isNaN(ny)) ? String(x).localeCompare(String(y)) : nx - ny;
          if (isNaN(nx) && !isNaN(ny)) { cmp = 1; } else if (!isNaN(nx) && isNaN(ny)) { cmp = -1; }
          return asc ? cmp : -cmp;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
});
"""


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _cell(value: float | None) -> str:
    data = "" if value is None else f"{value:.4f}"
    return f'<td data-value="{data}">{fmt(value)}</td>'


def _table(view: View, keys: list[str]) -> str:
    head = "".join(f"<th>{esc(t)}</th>" for t in ("model", "n", *(COLUMN_TITLES[c] for c in COLUMNS)))
    parts = [f'<table class="sortable" id="table-{esc(view.slug)}"><thead><tr>{head}</tr></thead>']
    for kind, rows in (("reproduced", view.reproduced), ("reported", view.reported)):
        if not rows:
            continue
        body = []
        for row in rows:
            label = esc(row.model)
            if row.citation:
                label += f' <span class="cite">(reported [{keys.index(row.citation) + 1}])</span>'
            n = "" if row.n is None else str(row.n)
            cells = "".join(_cell(row.values.get(c)) for c in COLUMNS)
            body.append(f'<tr><td data-value="{esc(row.model)}">{label}</td><td data-value="{n}">{n}</td>{cells}</tr>')
        parts.append(f'<tbody class="{kind}">' + "".join(body) + "</tbody>")
    parts.append("</table>")
    return "".join(parts)


CHART_METRICS = ("CIDEr", "METEOR", "ROUGE_L")


def chart_metric(view: View) -> str | None:
    """CIDEr, unless it is zero everywhere (a subset of one pair has CIDEr 0: its IDF is degenerate)."""
    for metric in CHART_METRICS:
        if any((v.get(metric) or 0.0) > 0 for per in view.change_types.values() for v in per.values()):
            return metric
    return None


def bar_chart(view: View) -> str:
    """Grouped bars: a metric (x100) of each change-type subset, one colour per model (inline SVG)."""
    models = sorted(view.change_types)
    types = sorted({t for per in view.change_types.values() for t in per})
    metric = chart_metric(view)
    if not models or not types or metric is None:
        return ""
    values = {(m, t): view.change_types[m][t].get(metric) for m in models for t in types if t in view.change_types[m]}
    top = max(v or 0.0 for v in values.values())
    group_w, bar_w, height, left, bottom = max(40, 14 * len(models) + 16), 14, 180, 44, 70
    width = left + group_w * len(types) + 10
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + bottom + 10}" '
           f'role="img" aria-label="{metric} per change type, {esc(view.title)}">']
    for frac in (0.0, 0.5, 1.0):
        y = 10 + height * (1 - frac)
        svg.append(f'<line x1="{left}" x2="{width - 5}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{top * frac:.1f}</text>')
    for ti, change_type in enumerate(types):
        x0 = left + ti * group_w + 8
        for mi, model in enumerate(models):
            value = values.get((model, change_type))
            if value is None:  # this model's run had no pair of this type
                continue
            h = height * value / top
            svg.append(f'<rect x="{x0 + mi * bar_w}" y="{10 + height - h:.1f}" width="{bar_w - 2}" height="{h:.1f}" '
                       f'fill="{PALETTE[mi % len(PALETTE)]}"><title>{esc(model)} {esc(change_type)}: {fmt(value)}</title></rect>')
        cx = x0 + len(models) * bar_w / 2
        svg.append(f'<text x="{cx:.1f}" y="{height + 24}" font-size="10" text-anchor="end" '
                   f'transform="rotate(-40 {cx:.1f} {height + 24})">{esc(change_type)}</text>')
    svg.append("</svg>")
    legend = "".join(f'<span><i style="background:{PALETTE[i % len(PALETTE)]}"></i>{esc(m)}</span>' for i, m in enumerate(models))
    note = f"{COLUMN_TITLES[metric]} (x100) per change type"
    if metric != "CIDEr":
        note += " (CIDEr is 0 on every change-type subset: too few pairs per type for its IDF)"
    return f'<p class="note">{esc(note)}</p>{"".join(svg)}<div class="legend">{legend}</div>'


def _thumb(data: bytes | None, size: int = 320) -> str:
    if not data:
        return ""
    from PIL import Image

    img = Image.open(io.BytesIO(data)).convert("RGB")
    img.thumbnail((size, size))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _examples(board: Board, benchmark: str, split: str, count: int) -> str:
    """The first ``count`` pairs (store order) with every model's caption beside the references."""
    entries = [e for e in board.entries if e.benchmark == benchmark and e.split == split]
    if not entries or count < 1:
        return ""
    predictions: dict[str, dict[str, str]] = {}
    for entry in entries:
        try:
            predictions[entry.model] = entry.predictions()
        except OmniDiffError as exc:  # the scores still show; this model's example captions do not
            board.warnings.append(f"{exc}; no example captions for {entry.model}")
            predictions[entry.model] = {}
    first = predictions[entries[0].model]
    pair_ids = list(first)[:count]
    records: dict[str, Any] = {}
    run = entries[0].run
    for store_path in run.get("stores") or [run.get("store")]:  # OmniDiff may come from a rendered and a real store
        if not store_path or not Path(store_path).is_dir():
            continue
        from annotations import Store

        try:
            store = Store.open(store_path)
            records.update({r.pair_id: r for r in store.records(split=split, pair_ids=set(pair_ids))})
        except Exception:  # the page still shows the captions when the store moved or broke
            continue
    parts = [f"<h3>Examples</h3>"]
    for pid in pair_ids:
        rec = records.get(pid)
        images = ""
        if rec is not None:
            images = "".join(f'<img alt="{esc(side)} {esc(pid)}" src="{_thumb(data)}">'
                             for side, data in (("before", rec.image_before), ("after", rec.image_after)) if data)
        refs = "".join(f"<li>{esc(c)}</li>" for c in (rec.captions if rec is not None else []))
        preds = "".join(f"<li><b>{esc(m)}</b>: {esc(p.get(pid, '(no prediction)'))}</li>" for m, p in sorted(predictions.items()))
        parts.append(f'<div class="pair"><div>{images}<div class="id">{esc(pid)}</div></div><div>'
                     f"<b>Models</b><ul>{preds}</ul><b>References</b><ul>{refs or '<li>(store not available)</li>'}</ul></div></div>")
    return "".join(parts)


def to_html(board: Board, examples: int = 3, title: str = "OmniDiff leaderboard") -> str:
    used = {r.citation for v in board.views for r in v.reported}
    keys = [k for k in board.citations if k in used]
    body = [f"<h1>{esc(title)}</h1>",
            '<p class="note">Scores x100 (pycocoevalcap). Click a column header to sort. '
            "Reported rows are published numbers, shown apart from the rows reproduced here.</p>"]
    for view in board.views:
        body.append(f'<h2 id="{esc(view.slug)}">{esc(view.title)}</h2>')
        if view.headline:
            body.append(f'<p class="note">{esc(view.headline)}</p>')
        body.append(_table(view, keys))
        notes = sorted({n for r in view.reproduced for n in r.notes if not n.startswith("SPICE")})
        if notes:
            body.append('<p class="note">' + "<br>".join(esc(n) for n in notes) + "</p>")
        body.append(bar_chart(view))
        if "/" not in view.key:
            body.append(_examples(board, view.key, view.split, examples))
    if keys:
        body.append("<h2>Sources of the reported rows</h2><ol>" + "".join(f"<li>{esc(board.citations[k])}</li>" for k in keys) + "</ol>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<link rel=\"icon\" href=\"data:,\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{esc(title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}<script>{SCRIPT}</script></body></html>\n")
