"""Table 2 (主动公开): blocks, their column headers and their rows.

Table 2 is a stack of *blocks* (规章, 规范性文件, 行政许可, …), each with its
own column header.  Unlike Tables 3 and 4, its columns differ between the
editions, so a block's rows are read against the block's header as printed;
the edition's codebook order is the fallback when the header is not printed.

* A block label opens a block and a new header; column labels that follow
  fill the header until a row label opens a :class:`~.state.Record`.
* A header with one unrecognised cell is read as the template's columns only
  when its recognised cells stand at their template positions
  (``extract.unlabelled_column``); otherwise the block's rows are not read,
  so a lost header cell can never shift values into the next column.
* Amounts are converted to the codebook's unit (元 or 万元) when emitted.
"""

from __future__ import annotations

from ..codebook import LabelEntry
from ..numbers import to_wan_yuan, to_yuan
from ..result import CellValue, Issue
from ..tokens import Row, Token
from .decode import cell, printed_run
from .state import Record, Walk, pick


def on_label(w: Walk, t: Token, row: Row) -> bool:
    """Handle a Table 2 block, column or row label; False when ``t`` is none of them here."""
    e = t.entries
    if w.ctx == "t2" or w.ctx is None or w.ctx == "t3" and not w.t3_started():
        blk = pick(e, ("t2_block",))
        if blk:
            w.close()
            w.enter("t2")
            w.block = blk.target
            w.reset_header(in_header=True)
            return True
    if w.ctx == "t2":
        col = pick(e, ("t2_col",))
        if col:
            w.close()
            w.header.append(col.target)
            w.in_header = True
            return True
        r = pick(e, ("t2_row",))
        if r:
            w.close()
            _open_row(w, r, t, row)
            return True
    return False


def unknown_header_cell(w: Walk, text: str, where: str) -> None:
    """A header cell that is no known column label: its column is unknown."""
    w.header.append(None)
    w.header_unknown.append((text, where))


def header_cell_was_label(w: Walk) -> bool:
    """Values right after an unknown header cell: that cell was a row label
    that is not recognised.  Reports it; False when there is no such cell."""
    if w.ctx == "t2" and w.in_header and w.header and w.header[-1] is None:
        w.header.pop()
        w.in_header = False
        w.unrecognised_row(*w.header_unknown.pop())
        return True
    return False


def _open_row(w: Walk, entry: LabelEntry, t: Token, row: Row) -> None:
    row_id = entry.target
    w.in_header = False
    cols = _columns(w, row_id)
    if cols is None and None in w.header:
        w.issues.append(
            Issue(
                "extract.t2_columns",
                "warning",
                f"{w.path}: Table 2 row {t.text!r} at {t.where}: the column header holds unrecognised "
                f"cell(s) {', '.join(repr(x) for x, _ in w.header_unknown)}, so its columns are not known; "
                "its values are not read",
                path=w.path,
            )
        )
        return
    if cols is None:
        w.issues.append(
            Issue(
                "extract.t2_columns",
                "warning",
                f"{w.path}: Table 2 row {t.text!r} at {t.where}: no column layout of edition "
                f"{w.edition or 'unknown'} fits this row; its values are not read",
                path=w.path,
            )
        )
        return
    w.open = Record("t2", row_id, t.text, t.where, w.order, cols=cols, grid=row.grid)
    w.records.append(w.open)


def _columns(w: Walk, row_id: str) -> list[str] | None:
    eds = [w.edition] if w.edition else ["2021", "2019"]
    if None in w.header:
        return _columns_with_gap(w, row_id, eds)
    keys = w.cb.keys
    for ed in eds:
        if w.header and all(f"t2.{row_id}.{c}" in keys and ed in keys[f"t2.{row_id}.{c}"].editions for c in w.header):
            if len(set(w.header)) == len(w.header):
                return list(w.header)
    for ed in eds:
        default = w.cb.t2_cols.get((ed, row_id))
        if default:
            return list(default)
    return None


def _columns_with_gap(w: Walk, row_id: str, eds: list[str]) -> list[str] | None:
    """Columns of a header with one unrecognised cell: the template's columns,
    only when the header has their number and every recognised label stands
    at its template position (the unknown cell is then the one column left
    there).  Otherwise None: the values are not read."""
    header = w.header
    known = [h for h in header if h is not None]
    if len(header) - len(known) != 1 or not known or len(set(known)) != len(known):
        return None
    for ed in eds:
        default = w.cb.t2_cols.get((ed, row_id))
        if default and len(default) == len(header) and all(h is None or h == d for h, d in zip(header, default)):
            gap = header.index(None)
            note = (
                f"{w.path}: Table 2 column header cell {w.header_unknown[0][0]!r} at {w.header_unknown[0][1]} "
                "is not recognised; "
                f"read as {default[gap]!r}, the only template column left at its position"
            )
            if not any(i.message == note for i in w.issues):
                w.issues.append(Issue("extract.unlabelled_column", "info", note, path=w.path))
            return list(default)
    return None


def emit(w: Walk, rec: Record, decoded, cells: dict[str, CellValue], rows_found) -> None:
    """The cells of a decoded Table 2 row, amounts in the codebook's unit."""
    if decoded is None:
        return
    rows_found["t2"].add(rec.row)
    for i, col in enumerate(rec.cols):
        key = f"t2.{rec.row}.{col}"
        options = sorted({c[i][0] for c in decoded})
        if len(options) > 1:
            cells[key] = CellValue(None, "text", printed_run(rec.tokens))
            continue
        printed, p = decoded[0][i]
        unit = w.cb.keys[key].unit if key in w.cb.keys else ""
        value = cell(printed, p)
        if p.status == "number":
            if unit == "yuan":
                v = 0 if p.value == 0 else to_yuan(p)
                if v is None:
                    w.issues.append(
                        Issue(
                            "extract.unit_unknown",
                            "warning",
                            f"{w.path}: Table 2 {key} printed {printed!r} at {rec.where} without a unit; "
                            "the amount in 元 cannot be known",
                            cells=[key],
                            path=w.path,
                        )
                    )
                value = CellValue(v, "number" if v is not None else "text", printed)
            elif unit == "10k_yuan":
                v = to_wan_yuan(p)  # None for a unit that is no amount (e.g. %)
                value = CellValue(v, "number" if v is not None else "text", printed)
        cells[key] = value
