"""The neutral document every reader produces.

A report, whatever its file form, becomes an ordered list of blocks: paragraphs
of running text and tables.  A table is a rectangular grid of :class:`Cell`
after row and column spans have been expanded; every grid slot covered by a
spanning cell holds a copy whose ``origin`` points at the slot where the cell
starts, so consumers can tell a real cell from its span copies.

Readers never interpret numbers or labels; they only recover structure.  Text
dumps with no real grid produce tables whose rows are the separated fields of
each line (``Table.source = "text"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Literal, Union

Status = Literal["ok", "unsupported", "failed"]


@dataclass(frozen=True, slots=True)
class Cell:
    """One grid slot.

    ``text`` is the cell's visible text with inner line breaks kept as ``\\n``.
    ``origin`` is the (row, column) of the slot where a spanning cell starts;
    for an ordinary cell it equals its own position.
    """

    text: str
    origin: tuple[int, int] = (-1, -1)

    def is_copy_at(self, row: int, col: int) -> bool:
        """True when this slot is a span copy, not where the cell starts."""
        return self.origin != (-1, -1) and self.origin != (row, col)


@dataclass(slots=True)
class Table:
    """A grid of cells; ``rows`` may be ragged for text sources."""

    rows: list[list[Cell]]
    page: int | None = None  # 1-based page for PDFs, else None
    source: str = "grid"  # "grid" (HTML, DOCX, PDF ruling) or "text"

    def distinct_rows(self) -> Iterator[list[str]]:
        """Rows as the texts of the cells that *start* in that row, in order.

        Column-span copies are dropped, and so are row-span copies (the cell
        was already seen in an earlier row).  This is the view in which a
        misaligned header (wider than the data rows) cannot shift values.
        """
        for r, row in enumerate(self.rows):
            # (Cell.is_copy_at, inlined: this runs for every cell of every table)
            yield [c.text for ci, c in enumerate(row) if c.origin == (r, ci) or c.origin == (-1, -1)]


@dataclass(slots=True)
class Paragraph:
    text: str
    page: int | None = None


Block = Union[Paragraph, Table]


@dataclass(slots=True)
class Document:
    """What a reader returns.

    ``status`` is ``unsupported`` when the file cannot be read as a report at
    all (a PDF without a text layer, an unknown format) and ``failed`` when the
    reader broke on it; ``message`` then says why, naming the file.
    ``kind`` names the reader (``text``, ``html``, ``pdf``, ``docx``).
    ``encoding`` is the detected character encoding for byte-oriented sources.
    """

    path: str
    kind: str
    blocks: list[Block] = field(default_factory=list)
    status: Status = "ok"
    message: str = ""
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [b for b in self.blocks if isinstance(b, Paragraph)]

    def text(self) -> str:
        """All visible text in reading order (tables row by row, tab-joined)."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Paragraph):
                out.append(b.text)
            else:
                for row in b.distinct_rows():
                    out.append("\t".join(row))
        return "\n".join(out)


def grid_from_spans(
    rows: list[list[tuple[str, int, int]]],
) -> list[list[Cell]]:
    """Expand ``(text, rowspan, colspan)`` rows into a rectangular grid.

    This is the one place where HTML and DOCX span semantics are resolved:
    a cell occupies the first free slot of its row, slots already taken by a
    row span from above are skipped, and every covered slot receives a copy
    carrying the origin.  Spans are clamped to sane bounds so that hostile
    markup (``rowspan=100000``) cannot blow up memory.
    """
    n_rows = len(rows)
    # slots[r][c] is the cell covering (r, c), None while free; rows grow
    # to the right as cells are placed.
    slots: list[list[Cell | None]] = [[] for _ in range(n_rows)]
    padded: set[int] = set()  # rows that may hold free slots (None)
    for r, row in enumerate(rows):
        line = slots[r]
        c = 0
        for text, rowspan, colspan in row:
            n = len(line)
            while c < n and line[c] is not None:
                c += 1
            if rowspan == 1 and colspan == 1 and c == n:
                # the common case: a plain cell in the next slot at the end
                line.append(Cell(text, (r, c)))
                c += 1
                continue
            rowspan = max(1, min(int(rowspan or 1), n_rows - r))
            colspan = max(1, min(int(colspan or 1), 64))
            cell = Cell(text, (r, c))
            end = c + colspan
            for rr in range(r, r + rowspan):
                target = slots[rr]
                if len(target) < end:
                    if len(target) < c:
                        padded.add(rr)
                    target.extend([None] * (end - len(target)))
                for cc in range(c, end):
                    if target[cc] is None:  # an earlier cell keeps its slot
                        target[cc] = cell
            c = end
    out: list[list[Cell]] = []
    for r, line in enumerate(slots):
        if r in padded:
            # trailing slots never filled stay absent (ragged right edge)
            while line and line[-1] is None:
                line.pop()
            line = [x if x is not None else Cell("", (r, i)) for i, x in enumerate(line)]
        out.append(line)  # type: ignore[arg-type]
    return out
