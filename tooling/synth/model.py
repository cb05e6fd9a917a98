"""A rendering-neutral layout of a report: paragraphs and tables of spanning cells.

Every form (text, pipe, HTML, DOCX, PDF, Markdown) is rendered from the same
list of blocks, so layout damage applied here shows in every form.  A cell's
text may hold line breaks (a label wrapped in its cell); each renderer prints
them the way its form does.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Cell:
    text: str
    rowspan: int = 1
    colspan: int = 1
    key: str | None = None  # the codebook key of a value cell
    header: bool = False
    text_row: int = 0  # in renderings that flatten spans: which row of the span carries the text
    marker: bool = False  # a page marker or running header left inside the table


@dataclass
class Table:
    name: str  # t2 | t3 | t4
    rows: list[list[Cell]]
    ncols: int
    widths: list[float] = field(default_factory=list)  # relative column widths


@dataclass
class Para:
    text: str
    kind: str = "body"  # title | note | heading | body | marker


Block = Para | Table


def grid(table: Table) -> list[list[tuple[Cell | None, str]]]:
    """The table as a full grid: every slot holds (its cell, the text shown there).

    A spanning cell's text is shown once, in the slot at its ``text_row`` and
    first column; its other slots show "".  Slots no cell covers hold (None, "").
    """
    rows: list[list[tuple[Cell | None, str]]] = [[(None, "")] * table.ncols for _ in table.rows]
    taken = [[False] * table.ncols for _ in table.rows]
    for r, row in enumerate(table.rows):
        c = 0
        for cell in row:
            while c < table.ncols and taken[r][c]:
                c += 1
            if c >= table.ncols:  # more cells than columns: widen this row
                for g in range(len(rows)):
                    rows[g] = rows[g] + [(None, "")] * (c + 1 - len(rows[g]))
                    taken[g] = taken[g] + [False] * (c + 1 - len(taken[g]))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    rr, cc = r + dr, c + dc
                    if rr >= len(rows):
                        continue
                    if cc >= len(rows[rr]):
                        rows[rr] = rows[rr] + [(None, "")] * (cc + 1 - len(rows[rr]))
                        taken[rr] = taken[rr] + [False] * (cc + 1 - len(taken[rr]))
                    shown = cell.text if (dr == min(cell.text_row, cell.rowspan - 1) and dc == 0) else ""
                    rows[rr][cc] = (cell, shown)
                    taken[rr][cc] = True
            c += cell.colspan
    return rows


def width(table: Table) -> int:
    """Columns the table really uses: its ``ncols``, or more when damage widened a row."""
    g = grid(table)
    return max([table.ncols, *(len(r) for r in g)])


def col_widths(table: Table) -> list[float]:
    """Relative column widths for :func:`width` columns (extra columns get the mean width)."""
    base = table.widths or [1.0] * table.ncols
    n = width(table)
    return base + [sum(base) / len(base)] * (n - len(base))


def marker_row(row: list[Cell]) -> Cell | None:
    """The marker cell of a row that holds a page marker, else None."""
    return next((c for c in row if c.marker), None)


def insert_row(t: Table, index: int, row: list[Cell]) -> None:
    """Insert ``row`` before row ``index``, lengthening the spans of earlier rows that cover it."""
    for r in range(index):
        for cell in t.rows[r]:
            if r + cell.rowspan > index:
                cell.rowspan += 1
    t.rows.insert(index, row)


def free_columns(t: Table, index: int) -> int:
    """How many columns of a row inserted before ``index`` are not covered by spans from above."""
    covered = 0
    for r in range(index):
        for cell in t.rows[r]:
            if r + cell.rowspan > index:
                covered += cell.colspan
    return t.ncols - covered
