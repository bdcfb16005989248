"""The annotated view: the stored pairs with the human-annotation log applied.

Every reader of a store sees this view (the latest log entry of a pair gives its captions and change
types); the stored values are read only where a caller asks for them by name (``annotated=False``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from annotations.layout import ANNOTATION_LOG
from annotations.schema import PairRecord

ANNOTATED_COLUMNS = ("captions", "change_types")
Overlay = dict[str, dict[str, Any]]


def current_annotations(root: Path) -> Overlay:
    """pair id -> its latest valid log entry (empty when the store has no log)."""
    if not (Path(root) / ANNOTATION_LOG).is_file():
        return {}
    from annotations.annotation_log import AnnotationLog

    return AnnotationLog(root).latest()


def apply_to_record(rec: PairRecord, overlay: Overlay) -> PairRecord:
    entry = overlay.get(rec.pair_id)
    if entry is not None:
        rec.captions = list(entry["captions"])
        rec.change_types = list(entry["change_types"])
    return rec


def apply_to_table(table: pa.Table, overlay: Overlay) -> pa.Table:
    """The table with the annotated columns it holds replaced where the log has an entry (needs ``pair_id``)."""
    targets = [c for c in ANNOTATED_COLUMNS if c in table.column_names]
    if not overlay or not targets or table.num_rows == 0:
        return table
    ids = table.column("pair_id")
    hit = pc.is_in(ids, value_set=pa.array(list(overlay), pa.string()))
    rows = pc.indices_nonzero(hit.fill_null(False)).to_pylist()
    if not rows:
        return table
    pids = ids.take(rows).to_pylist()
    for name in targets:
        values = table.column(name).to_pylist()
        for row, pid in zip(rows, pids):
            values[row] = list(overlay[pid][name])
        field = table.schema.field(name)
        table = table.set_column(table.schema.get_field_index(name), field, pa.array(values, field.type))
    return table


def changed_pairs(stored: pa.Table, overlay: Overlay) -> int:
    """How many pairs of ``stored`` (pair_id, captions, change_types as stored) the log gives other values."""
    if not overlay:
        return 0
    cols = stored.select(["pair_id", *ANNOTATED_COLUMNS]).to_pydict()
    changed = 0
    for pid, captions, types in zip(cols["pair_id"], cols["captions"], cols["change_types"]):
        entry = overlay.get(pid)
        if entry is not None and (list(entry["captions"]) != list(captions or []) or
                                  list(entry["change_types"]) != list(types or [])):
            changed += 1
    return changed
