"""Table rows with blank cells, rebuilt from the page geometry of a PDF.

The text layer gives a table row as one line (``一、本年新收政府信息公开申请数量
9 1 3 13``).  When every cell carries a number that is enough: the table mapper
counts them.  When an agency prints zeros as empty cells, the line holds fewer
numbers than the table has columns and nothing in the text says which columns
they belong to.  A person reading the page sees each number inside a drawn
cell; this module does the same with pdfium's character boxes and the ruling
lines drawn on the page:

* rules are taken from the page's own path objects: a thin path (a line, or
  a thin filled rectangle as word processors draw borders), stroked or
  filled in a colour other than white, is a rule; a stroked rectangle (at
  most five path segments) gives its four edges; a filled rectangle (a
  cell's background) gives none.  Vertical rules closer than :data:`MERGE`
  points are one rule;
* a text-layer line that lies across at least two cells is cut at the rules
  that cross its middle: every non-space character must lie wholly inside
  one cell (within :data:`TOLERANCE` points), a cell's characters must be
  consecutive in the line, two digits run together may not fall into
  different cells, and no cell may be narrower than :data:`MIN_CELL` —
  otherwise the line is left as it is;
* an empty cell counts as empty only when nothing is printed anywhere in its
  ruled box (between the horizontal rules above and below the line): a
  number on a line of its own beside a note in its cell is not a blank;
* a *column of values* is a cell that holds a number, or lies to the right of
  one, in some line of the report (matched by its edges, its place from the
  right-hand end of the row and that end).  A line's values are its cells
  from its first number on, with the columns of values just before it; the
  cell before them is the label's, and a label wrapped over lines of its own
  inside that cell (with no rule between) is joined.  The line becomes a
  one-row :class:`~helpers.document.Table` — its texts before the values,
  the label, the values with explicit empty cells — only when some value
  cell is empty and the label's cell is certain (it holds text or a wrapped
  label; an empty cell there that is no column of values may be a spacer or a
  value column blank everywhere: the line is left as it is);
* a line without numbers, with text in one cell only and every cell to its
  right empty in its whole box, all of them columns of values, is a row whose
  every value is blank (looked for only on pages where some row has an empty
  cell).

A line whose values are all printed, and every line outside a ruled table,
stays a paragraph exactly as the text layer gives it; so do tables drawn
without rules (their rows stay one line, and the mapper leaves what it cannot
place unset).  :func:`page_cell_rows` (per page) and :func:`resolve_rows`
(over the report) run in pdfium's sandbox child and return plain data;
:func:`page_blocks` builds the blocks in the parent.
"""

from __future__ import annotations

import bisect
import re

from ..document import Block, Cell, Paragraph, Table

__all__ = ["page_cell_rows", "resolve_rows", "page_blocks", "MAX_PATH_OBJECTS"]

MERGE = 1.5
"""Rules nearer than this (points) are one rule (the shared edge of two cells)."""

TOLERANCE = 0.6
"""How far (points) a character's box may reach over a rule and still be inside its cell."""

MIN_CELL = 5.0
"""Rules nearer than this (points) but farther than :data:`MERGE` leave the line as it is."""

THIN = 2.0
"""A path object narrower than this (points) is a vertical rule."""

MAX_PATH_OBJECTS = 20_000
"""Pages with more objects than this are not looked at (left as text).  Only
the page's own path objects count as rules, not those inside form XObjects."""

_DIGIT = re.compile(r"[0-9\uff10-\uff19]")
_ALONE = re.compile(r"(?:^|\s)[-+]?[0-9\uff10-\uff19][0-9\uff10-\uff19,.，．]*(?=\s|$)")
_NUMBER_CELL = re.compile(r"^[\s0-9\uff10-\uff19,.，．+\-]+$")


def _visible(obj, raw, ints) -> tuple[bool, bool]:
    """Whether the path is stroked and whether it is filled, each in a colour
    other than white (a white filled rectangle is a cell's background, not a
    line one sees).  ``ints``: six ``c_int``/``c_uint`` out-parameters, reused."""
    import ctypes

    fill, stroke, r, g, b, a = ints
    if not raw.FPDFPath_GetDrawMode(obj, ctypes.byref(fill), ctypes.byref(stroke)):
        return False, False
    refs = (ctypes.byref(r), ctypes.byref(g), ctypes.byref(b), ctypes.byref(a))

    def coloured(getter) -> bool:
        if not getter(obj, *refs):
            return False
        return a.value > 0 and (r.value, g.value, b.value) != (255, 255, 255)

    stroked, filled = bool(stroke.value), bool(fill.value)
    return stroked and coloured(raw.FPDFPageObj_GetStrokeColor), filled and coloured(raw.FPDFPageObj_GetFillColor)


def _rules(page):
    """The page's visible rules: ``(x, bottom, top)`` of every vertical one and
    ``(y, left, right)`` of every horizontal one; None when the page draws too
    many path objects to look at.  A thin path, stroked or filled, is a rule;
    a wider path with at most five segments (a rectangle) gives its four
    edges when it is stroked; a filled one (a cell's background) gives none."""
    import pypdfium2.raw as raw

    import ctypes

    vertical: list[tuple[float, float, float]] = []
    horizontal: list[tuple[float, float, float]] = []
    n_objects = raw.FPDFPage_CountObjects(page.raw)
    if n_objects > MAX_PATH_OBJECTS:
        return None
    box = [ctypes.c_float() for _ in range(4)]
    refs = [ctypes.byref(v) for v in box]
    ints = (ctypes.c_int(), ctypes.c_int(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint())
    for i in range(n_objects):
        obj = raw.FPDFPage_GetObject(page.raw, i)
        if not obj or raw.FPDFPageObj_GetType(obj) != raw.FPDF_PAGEOBJ_PATH or not raw.FPDFPageObj_GetBounds(obj, *refs):
            continue
        left, bottom, right, top = (v.value for v in box)
        width, height = right - left, top - bottom
        thin_v = width <= THIN and height >= 3.0
        thin_h = height <= THIN and width >= 3.0
        rect = width > THIN and height > THIN
        if not (thin_v or thin_h or rect):
            continue
        stroked, filled = _visible(obj, raw, ints)
        if thin_v and (stroked or filled):
            vertical.append(((left + right) / 2, bottom, top))
        elif thin_h and (stroked or filled):
            horizontal.append(((bottom + top) / 2, left, right))
        elif rect and stroked and raw.FPDFPath_CountSegments(obj) <= 5:
            vertical.append((left, bottom, top))
            vertical.append((right, bottom, top))
            horizontal.append((bottom, left, right))
            horizontal.append((top, left, right))
    return vertical, horizontal


def _cells(boxes, line: str, xs: list[float]) -> list[str] | None:
    """The line cut at the rule positions ``xs``; None when a character cannot be
    placed in one cell with certainty."""
    cells: list[list[str]] = [[] for _ in range(len(xs) - 1)]
    done: set[int] = set()  # cells left behind (their characters must be consecutive)
    cur = -1
    prev_char = ""
    space = False
    for ch, box in zip(line, boxes):
        if ch.isspace():
            space = True
            continue
        if box is None:
            return None
        left, right = box
        mid = (left + right) / 2
        k = next((i for i in range(len(xs) - 1) if xs[i] <= mid < xs[i + 1]), -1)
        if k < 0 or left < xs[k] - TOLERANCE or right > xs[k + 1] + TOLERANCE:
            return None
        if k != cur:
            if k in done:
                return None
            if cur >= 0:
                done.add(cur)
                if not space and _DIGIT.match(ch) and _DIGIT.match(prev_char):
                    return None  # digits run together on both sides of a rule
            cur = k
        elif space and cells[k]:
            cells[k].append(" ")
        cells[k].append(ch)
        prev_char = ch
        space = False
    return ["".join(c) for c in cells]


class _CharBoxes:
    """``(left, bottom, right, top)`` of the page's characters by index, asked
    of pdfium when first needed (zeros when it has no box for one)."""

    def __init__(self, textpage, n: int):
        import ctypes

        import pypdfium2.raw as raw

        self._handle = textpage.raw
        self._get = raw.FPDFText_GetCharBox
        self._vals = [ctypes.c_double() for _ in range(4)]  # left, right, bottom, top
        self._refs = [ctypes.byref(v) for v in self._vals]
        self._cache: list[tuple[float, float, float, float] | None] = [None] * n

    def __getitem__(self, i: int) -> tuple[float, float, float, float]:
        box = self._cache[i]
        if box is None:
            if self._get(self._handle, i, *self._refs):
                left, right, bottom, top = self._vals
                box = (left.value, bottom.value, right.value, top.value)
            else:
                box = (0.0, 0.0, 0.0, 0.0)
            self._cache[i] = box
        return box


class _Line:
    """One text-layer line with the horizontal extent of each character
    (None for spaces and characters without a box) and its middle height."""

    __slots__ = ("text", "boxes", "y", "height", "extent")

    def __init__(self, text: str, start: int, charboxes):
        self.text = text
        self.boxes: list[tuple[float, float] | None] = []
        mids: list[float] = []
        heights: list[float] = []
        for j, ch in enumerate(text):
            if ch.isspace():
                self.boxes.append(None)
                continue
            left, bottom, right, top = charboxes[start + j]
            if right <= left and top <= bottom:
                self.boxes.append(None)
                continue
            self.boxes.append((left, right))
            mids.append((bottom + top) / 2)
            heights.append(top - bottom)
        placed = [b for b in self.boxes if b is not None]
        unboxed = any(b is None and not ch.isspace() for ch, b in zip(text, self.boxes))
        self.extent = None if unboxed or not placed else (min(b[0] for b in placed), max(b[1] for b in placed))
        mids.sort()
        heights.sort()
        self.y = mids[len(mids) // 2] if mids else None
        self.height = heights[-1] if heights else 0.0

    def within(self, x0: float, x1: float) -> bool:
        """Every character lies inside ``[x0, x1]`` (and there is one with a box,
        and none without)."""
        return self.extent is not None and self.extent[0] >= x0 - TOLERANCE and self.extent[1] <= x1 + TOLERANCE


MAX_LABEL_LINES = 3
"""Lines of a label wrapped inside its cell joined to the row that carries the values."""

_ENUMERATOR = re.compile(r"^[（(]?[0-9\uff10-\uff19]{1,2}[.、)）．]")


def _wrapped(k, i, xs, lines, line_at, out, horizontal):
    """The lines above and below line ``i`` that lie wholly in its cell ``k``
    with no rule between (lines that hold a digit other than a leading
    enumerator are never part of a label); None when there are none, or when
    the rows are not ruled (where one row's label ends is not drawn)."""
    x0, x1 = xs[k], xs[k + 1]
    mid = (x0 + x1) / 2
    if not any(left <= mid <= right for _y, left, right in horizontal):
        return None
    line = line_at(i)
    above: list[int] = []
    near = line
    for j in range(i - 1, max(-1, i - 1 - MAX_LABEL_LINES), -1):
        g = line_at(j)
        if j in out or g.y is None or not g.within(x0, x1) or abs(g.y - near.y) > 2.5 * max(g.height, near.height):
            break
        if _ruled_between(horizontal, g.y, near.y, mid) or _DIGIT.search(_ENUMERATOR.sub("", g.text.strip())):
            break
        above.append(j)
        near = g
    below: list[int] = []
    near = line
    for j in range(i + 1, min(len(lines), i + 1 + MAX_LABEL_LINES)):
        g = line_at(j)
        if g.y is None or not g.within(x0, x1) or abs(g.y - near.y) > 2.5 * max(g.height, near.height):
            break
        if _ruled_between(horizontal, g.y, near.y, mid) or _DIGIT.search(g.text):
            break
        below.append(j)
        near = g
    return (above, below) if above or below else None


def _ruled_between(horizontal, y0: float, y1: float, x: float) -> bool:
    lo, hi = min(y0, y1), max(y0, y1)
    return any(lo < y < hi and left <= x <= right for y, left, right in horizontal)


def page_cell_rows(page, textpage, text: str) -> dict[int, tuple]:
    """The page's text-layer lines (indices into ``text.splitlines()``) that
    lie across at least two ruled cells and hold a number in a cell of its own
    (or may be a row whose every value is blank), each as
    ``(xs, cells, labels)``: the rule positions, the texts of the cells
    between them (None for an empty cell whose box holds print elsewhere) and
    ``labels``, for a row with an empty cell, the labels wrapped inside its
    cells (cell index -> ``(whole label, indices of its other lines)``), or
    None for a row whose label and values are all printed on the line.  Runs
    in the sandbox child; returns plain data for :func:`resolve_rows`."""
    if len(text) != textpage.count_chars():
        return {}  # characters outside the Basic Multilingual Plane: no index mapping
    lines = text.splitlines(keepends=True)
    wanted = [i for i, ln in enumerate(lines) if _ALONE.search(ln)]  # a number set apart
    if not wanted:
        return {}
    rules = _rules(page)
    if not rules or not rules[0]:
        return {}
    vertical, horizontal = rules
    spans: dict[tuple[float, float], list[float]] = {}  # the rules by vertical extent (a row's share one)
    for x, b, t in vertical:
        spans.setdefault((b + 1.0, t - 1.0), []).append(x)
    vertical = [(b, t, xs_) for (b, t), xs_ in spans.items()]
    charboxes = _CharBoxes(textpage, len(text))
    starts = []
    pos = 0
    for ln in lines:
        starts.append(pos)
        pos += len(ln)
    geom: dict[int, _Line] = {}

    def line_at(i: int) -> _Line:
        g = geom.get(i)
        if g is None:
            g = geom[i] = _Line(lines[i].rstrip("\r\n"), starts[i], charboxes)
        return g

    out: dict[int, tuple] = {}
    taken: set[int] = set()  # lines joined into the label of a row with every value blank
    ink: _Ink | None = None
    numbered = set(wanted)
    # the lines with numbers first; the others (rows whose every value is
    # blank) only on a page where some row has an empty cell
    order = wanted + [-1] + [i for i in range(len(lines)) if i not in numbered]
    for i in order:
        if i < 0:
            if all(v[2] is None for v in out.values()):
                break
            continue
        if i in taken or not lines[i].strip():
            continue
        if i not in numbered and not _across_rules(lines[i], starts[i], charboxes, vertical):
            continue  # a line without numbers outside the ruled tables (prose): not looked at further
        line = line_at(i)
        if line.y is None:
            continue
        y = line.y
        crossing = sorted(x for b, t, xs_ in vertical if b <= y <= t for x in xs_)
        xs: list[float] = []
        last = None
        for x in crossing:  # rules a little apart (the edges of neighbouring cells) are one
            if last is None or x - last >= MERGE:
                xs.append(x)
            last = x
        if len(xs) < 3 or any(b - a < MIN_CELL for a, b in zip(xs, xs[1:])):
            continue  # a cell too narrow for a digit: rules that are not column edges
        cells = _cells(line.boxes, line.text, xs)
        if cells is None:
            continue
        if i not in numbered or not any(_NUMBER_CELL.match(c) for c in cells):
            if ink is None:
                ink = _Ink(charboxes, text, horizontal)
            blank = _blank_row(i, xs, cells, lines, line_at, out, horizontal, ink)
            if blank:
                out[i] = blank
                taken.update(*(v[1] for v in blank[2].values()))
            continue
        filled = [bool(c.strip()) for c in cells]
        first = filled.index(True)
        if all(filled[first:]) and not _NUMBER_CELL.match(cells[first]):
            out[i] = (xs, cells, None)  # the label, then every value printed
            continue
        # an empty cell is empty only when nothing is printed in its ruled box
        # (a number may stand on a line of its own, beside a note in its cell)
        if ink is None:
            ink = _Ink(charboxes, text, horizontal)
        cells = [c if c.strip() or ink.box_empty(xs[k], xs[k + 1], y) else None for k, c in enumerate(cells)]
        # labels wrapped inside their cells: for each cell up to the first
        # text, the lines above and below that lie wholly in it, with no rule
        # between them and this line (resolve_rows picks the label's cell)
        labels: dict[int, tuple[str, tuple[int, ...]]] = {}
        for k in range(first + 1):
            if k == first and _NUMBER_CELL.match(cells[k]):
                break
            found = _wrapped(k, i, xs, lines, line_at, out, horizontal)
            if found:
                own = cells[k].strip() if k == first else ""
                above, below = found
                text_ = "".join(lines[j].strip() for j in reversed(above)) + own + "".join(lines[j].strip() for j in below)
                labels[k] = (text_, tuple(above) + tuple(below))
        out[i] = (xs, cells, labels)
    return out


def _across_rules(text: str, start: int, charboxes, vertical) -> bool:
    """A quick look: at least three vertical rules cross the height of the
    line's first character."""
    j = next((j for j, ch in enumerate(text) if not ch.isspace()), None)
    if j is None:
        return False
    _left, bottom, _right, top = charboxes[start + j]
    y = (bottom + top) / 2
    return sum(len(xs_) for b, t, xs_ in vertical if b <= y <= t) >= 3


def _blank_row(i, xs, cells, lines, line_at, out, horizontal, ink):
    """A line without numbers that may be a row whose every value is printed
    blank: text in one cell (the label's), every cell to its right empty in
    its whole ruled box.  ``(xs, cells, labels)`` with the label wrapped in its
    cell, else None."""
    filled = [bool(c.strip()) for c in cells]
    if sum(filled) != 1:
        return None
    lc = filled.index(True)
    if lc == len(cells) - 1 or _NUMBER_CELL.match(cells[lc]):
        return None
    y = line_at(i).y
    if not all(ink.box_empty(xs[k], xs[k + 1], y) for k in range(lc + 1, len(cells))):
        return None  # something is printed in a value cell's box: not a blank row
    labels: dict[int, tuple[str, tuple[int, ...]]] = {}
    found = _wrapped(lc, i, xs, lines, line_at, out, horizontal)
    if found:
        above, below = found
        label = "".join(lines[j].strip() for j in reversed(above)) + cells[lc].strip() + "".join(lines[j].strip() for j in below)
        labels[lc] = (label, tuple(above) + tuple(below))
    return (xs, cells, labels)


class _Ink:
    """Where characters are printed on a page and its horizontal rules, sorted
    for looking up what lies in a cell's box."""

    def __init__(self, charboxes, text: str, horizontal):
        chars = []
        for i, ch in enumerate(text):
            if ch.isspace():
                continue
            left, bottom, right, top = charboxes[i]
            if right > left or top > bottom:
                chars.append(((left + right) / 2, (bottom + top) / 2))
        chars.sort()
        self.cx = [c[0] for c in chars]
        self.cy = [c[1] for c in chars]
        self.rules = sorted(horizontal)
        self.ry = [h[0] for h in self.rules]

    def box_empty(self, x0: float, x1: float, y: float) -> bool:
        """No character is printed in the cell between ``x0`` and ``x1`` and the
        horizontal rules nearest below and above ``y``; False when there is no
        such rule (the cell's box is not drawn)."""
        mid = (x0 + x1) / 2
        k = bisect.bisect_left(self.ry, y - 0.5)
        rules = self.rules
        lo = next((rules[m][0] for m in range(k - 1, -1, -1) if rules[m][1] <= mid <= rules[m][2]), None)
        k = bisect.bisect_right(self.ry, y + 0.5)
        hi = next((rules[m][0] for m in range(k, len(rules)) if rules[m][1] <= mid <= rules[m][2]), None)
        if lo is None or hi is None:
            return False
        i, j = bisect.bisect_right(self.cx, x0), bisect.bisect_left(self.cx, x1)
        return not any(lo < cy < hi for cy in self.cy[i:j])


COLUMN_TOLERANCE = 2.0
"""How far (points) the edges of one column may differ between two rows."""


def resolve_rows(pages: list[dict[int, tuple]]) -> list[dict[int, list[str] | None]]:
    """Which lines become rows of cells, from the candidates of every page.

    A *column of values* is a ruled cell that, in some line, holds a number
    or lies to the right of a cell that does (the values of these tables are
    to the right of their labels): its two edges, its place counted from the
    right-hand end of its row and that end.  In a line, the cells from its
    first number to the right, and the columns of values just before it, are
    its values; the cell before them is the label's.  The line becomes a row
    of cells (its texts before the values, the label wrapped in the label's
    cell, then the values) only when some value cell is empty and every
    empty value cell is empty in its whole ruled box.  An empty cell between
    the label and the values where no value ever stands (a label's second
    grid column, a spacer) is not a value: a line whose values are all
    printed stays as it is.  Returns, per page, the lines to replace: a list
    of cell texts, or None for a line joined into a row's label."""
    columns: list[tuple[float, float, int, float]] = []
    for page in pages:
        for xs, cells, _labels in page.values():
            n = len(cells)
            numbers = [k for k, c in enumerate(cells) if c and _NUMBER_CELL.match(c)]
            for k in range(numbers[0], n) if numbers else ():
                columns.append((xs[k], xs[k + 1], n - k, xs[-1]))

    def valued(xs: list[float], k: int, n: int) -> bool:
        a, b, right = xs[k], xs[k + 1], xs[-1]
        return any(
            place == n - k and abs(a - a2) < COLUMN_TOLERANCE and abs(b - b2) < COLUMN_TOLERANCE and abs(right - r2) < COLUMN_TOLERANCE
            for a2, b2, place, r2 in columns
        )

    out: list[dict[int, list[str] | None]] = []
    for page in pages:
        rows: dict[int, list[str] | None] = {}
        blank_rows = []
        for i, (xs, cells, labels) in sorted(page.items()):
            if labels is None:
                continue  # every cell from the first text on is printed
            n = len(cells)
            number = next((k for k, c in enumerate(cells) if c and _NUMBER_CELL.match(c)), None)
            if number is None:
                blank_rows.append((i, xs, cells, labels))
                continue
            lc = number - 1
            while lc >= 0 and not cells[lc] and valued(xs, lc, n):
                lc -= 1
            values = cells[lc + 1 :]
            if all(c and c.strip() for c in values):
                continue  # the values are all printed: the line stays as it is
            if any(c is None for c in values):
                continue  # a cell with nothing on this line but something printed in its box
            if lc >= 0 and lc not in labels and not (cells[lc] and cells[lc].strip()):
                continue  # an empty cell before the values that is neither a value nor the label: not certain
            head = [c for c in cells[: max(lc, 0)] if c and c.strip()]
            joined: tuple[int, ...] = ()
            if lc >= 0 and lc in labels:
                head.append(labels[lc][0])
                joined = labels[lc][1]
            elif lc >= 0 and cells[lc] and cells[lc].strip():
                head.append(cells[lc])
            if any(j in rows for j in joined):
                continue
            for j in joined:
                rows[j] = None
            rows[i] = head + [c or "" for c in values]
        # rows whose every value is blank: the label's cell, then only columns of values
        for i, xs, cells, labels in blank_rows:
            n = len(cells)
            lc = next(k for k, c in enumerate(cells) if c and c.strip())
            if i in rows or not all(cells[k] == "" and valued(xs, k, n) for k in range(lc + 1, n)):
                continue
            label, joined = labels.get(lc, (cells[lc], ()))
            if any(j in rows for j in joined):
                continue
            for j in joined:
                rows[j] = None
            rows[i] = [label] + [""] * (n - lc - 1)
        out.append(rows)
    return out


def page_blocks(text: str, rows: dict[int, list[str] | None], page_no: int) -> tuple[list[Block], int, int]:
    """The blocks of one page: a paragraph per clean non-empty line, a one-row
    table for each line in ``rows`` (none for a line joined into one of them);
    page-number lines first or last dropped.
    Returns the blocks, the count of page-number lines dropped and of
    non-space characters kept."""
    from ..pagemarks import is_page_number_line
    from .pdf import clean_line

    kept = [(i, c) for i, c in ((i, clean_line(raw)) for i, raw in enumerate(text.splitlines())) if c]
    dropped = 0
    if kept and is_page_number_line(kept[0][1]):
        kept.pop(0)
        dropped += 1
    if kept and is_page_number_line(kept[-1][1]):
        kept.pop()
        dropped += 1
    blocks: list[Block] = []
    n_chars = 0
    for i, line in kept:
        n_chars += sum(1 for ch in line if not ch.isspace())
        if i not in rows:
            blocks.append(Paragraph(line, page=page_no))
            continue
        cells = rows[i]
        if cells is not None:
            blocks.append(Table([[Cell(clean_line(c), (0, k)) for k, c in enumerate(cells)]], page=page_no, source="grid"))
    return blocks, dropped, n_chars
