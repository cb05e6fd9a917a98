"""DOCX through python-docx: Word tables with merged cells (``gridSpan``/``vMerge``).

Core properties (title, subject, dates) say the file is synthetic and are
fixed, and the package is re-zipped with fixed timestamps, so the same report
gives the same bytes.
"""

from __future__ import annotations

import datetime as _dt
import io
import zipfile

from .model import Block, Table, width

_EPOCH = _dt.datetime(2020, 1, 1, tzinfo=_dt.timezone.utc)


def _table(doc, t: Table) -> None:
    from docx.table import _Cell

    nrows = len(t.rows)
    ncols = width(t)
    table = doc.add_table(rows=nrows, cols=ncols)
    table._tbl.tblPr.style = "TableGrid"  # the style id: looking a style up by name costs 10 ms
    # the grid's <w:tc> elements before merging; spans are written directly as
    # gridSpan / vMerge (python-docx's merge() and table.cell() rescan the whole
    # table on every call, a third of a second per report)
    tcs = [list(tr.tc_lst) for tr in table._tbl.tr_lst]
    taken = [[False] * ncols for _ in range(nrows)]

    def put(r: int, c: int, r2: int, c2: int, text: str) -> None:
        for rr in range(r, r2 + 1):
            first = tcs[rr][c]
            if c2 > c:
                width = sum((tcs[rr][cc].width or 0) for cc in range(c, c2 + 1))
                first.grid_span = c2 - c + 1
                first.width = width
                for cc in range(c + 1, c2 + 1):
                    first.getparent().remove(tcs[rr][cc])
            if r2 > r:
                first.vMerge = "restart" if rr == r else "continue"
            for cc in range(c, c2 + 1):
                taken[rr][cc] = True
        cell = _Cell(tcs[r][c], table)
        lines = text.split("\n")
        cell.paragraphs[0].text = lines[0]
        for extra in lines[1:]:
            cell.add_paragraph(extra)

    for r, row in enumerate(t.rows):
        c = 0
        for cell in row:
            while c < ncols and taken[r][c]:
                c += 1
            if c >= ncols:  # pragma: no cover - width() counts every slot
                raise ValueError(f"synthetic DOCX: table {t.name} row {r} has more cells than columns")
            r2 = min(r + cell.rowspan - 1, nrows - 1)
            c2 = min(c + cell.colspan - 1, ncols - 1)
            put(r, c, r2, c2, cell.text)
            c = c2 + 1


def render_docx(blocks: list[Block], title: str, note: str) -> bytes:
    import docx

    doc = docx.Document()
    props = doc.core_properties
    props.title, props.subject, props.author = title, note, "合成测试数据"
    props.comments = note
    props.created = props.modified = _EPOCH
    props.last_modified_by = "合成测试数据"
    props.revision = 1
    for b in blocks:
        if isinstance(b, Table):
            _table(doc, b)
        elif b.kind in ("title", "heading"):
            doc.add_paragraph(b.text)._p.style = "Heading1" if b.kind == "title" else "Heading2"
        else:
            doc.add_paragraph(b.text)
    raw = io.BytesIO()
    doc.save(raw)
    return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same package with every member dated 1980-01-01 (zip timestamps are the save time otherwise)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
