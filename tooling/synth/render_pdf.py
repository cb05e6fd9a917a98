"""PDF through fpdf2: A4 pages, tables drawn cell by cell with lines, page numbers ``— N —``.

Tables are laid out here rather than with ``FPDF.table`` (faster, and spans
can cross page breaks): row heights come from the wrapped cell texts, a row
that does not fit starts a new page, so long tables are cut by the page
footer (``— 5 —``) as printed reports are.  A spanning cell's text sits at
the top of its span, or in its middle when its ``text_row`` says so (as
vertically centred merged cells print).  The creation date is fixed and the
metadata say the file is synthetic, so the same blocks give the same bytes.
"""

from __future__ import annotations

import datetime as _dt

from .font import charset, font_path
from .model import Block, Table, col_widths

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 20.0
BOTTOM = PAGE_H - 22.0
BODY_PT, TABLE_PT = 14.0, 7.5
PT = 0.3528  # mm per point
PAD = 0.8
_DATE = _dt.datetime(2020, 1, 1, tzinfo=_dt.timezone.utc)


class _Doc:
    def __init__(self, title: str, note: str, running_header: str | None):
        from fpdf import FPDF

        outer = self

        class Pdf(FPDF):
            def header(self):  # noqa: D401 - fpdf2 hook
                if outer.running_header:
                    self.set_font("cjk", size=8)
                    self.text(MARGIN, 12.0, outer.running_header)

            def footer(self):
                self.set_font("cjk", size=9)
                marker = f"— {self.page_no()} —"
                self.text(PAGE_W / 2 - self.get_string_width(marker) / 2, PAGE_H - 12.0, marker)

        self.running_header = running_header
        self.pdf = Pdf(unit="mm", format="A4")
        self.pdf.set_creation_date(_DATE)
        self.pdf.set_title(f"{title}{note}")
        self.pdf.set_subject(note)
        self.pdf.set_author("合成测试数据")
        self.pdf.set_keywords("synthetic 合成测试数据")
        self.pdf.set_creator("tooling.synth")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(MARGIN, MARGIN, MARGIN)
        self.pdf.add_font("cjk", fname=str(font_path()))
        # the cut-down font's bounding boxes are already right: recomputing them
        # for every embedded subset decodes and re-encodes every glyph (0.3 s a file)
        self.pdf.fonts["cjk"].ttfont.recalcBBoxes = False
        self.widths: dict[tuple[str, float], float] = {}
        self.pdf.set_font("cjk", size=BODY_PT)
        self.pdf.add_page()
        self.y = MARGIN

    def width(self, ch: str, size: float) -> float:
        w = self.widths.get((ch, size))
        if w is None:
            w = self.widths[(ch, size)] = self.pdf.get_string_width(ch) * size / self.pdf.font_size_pt
        return w

    def wrap(self, text: str, size: float, avail: float, indent: float = 0.0) -> list[str]:
        lines: list[str] = []
        for part in text.split("\n"):
            cur, w, lim = "", 0.0, avail - indent
            for ch in part:
                cw = self.width(ch, size)
                if cur and w + cw > lim:
                    lines.append(cur)
                    cur, w, lim = "", 0.0, avail
                cur += ch
                w += cw
            lines.append(cur)
        return lines

    def need(self, h: float) -> None:
        if self.y + h > BOTTOM:
            self.pdf.add_page()
            self.y = MARGIN

    def paragraph(self, text: str, size: float, align: str = "left", indent: bool = True, gap: float = 1.5) -> None:
        lh = size * PT * 1.6
        first = 2 * self.width("一", size) if indent else 0.0
        lines = self.wrap(text, size, PAGE_W - 2 * MARGIN, first)
        self.pdf.set_font("cjk", size=size)
        for i, line in enumerate(lines):
            self.need(lh)
            x = MARGIN + (first if i == 0 else 0.0)
            if align == "center":
                x = PAGE_W / 2 - self.pdf.get_string_width(line) / 2
            self.pdf.text(x, self.y + size * PT * 1.15, line)
            self.y += lh
        self.y += gap

    def table(self, t: Table, size: float) -> None:
        pdf = self.pdf
        lh = size * PT * 1.35
        rel = col_widths(t)
        ncols = len(rel)
        colw = [(PAGE_W - 2 * MARGIN) * (w / sum(rel)) for w in rel]
        xs = [MARGIN]
        for w in colw:
            xs.append(xs[-1] + w)
        # place cells on the grid
        placed = []  # (row, col, rowspan, colspan, cell, wrapped lines)
        taken: set[tuple[int, int]] = set()
        for r, row in enumerate(t.rows):
            c = 0
            for cell in row:
                while (r, c) in taken:
                    c += 1
                if c >= ncols:  # pragma: no cover - width() counts every slot
                    raise ValueError(f"synthetic PDF: table {t.name} row {r} has more cells than columns")
                cs = min(cell.colspan, ncols - c)
                rs = min(cell.rowspan, len(t.rows) - r)
                for dr in range(rs):
                    for dc in range(cs):
                        taken.add((r + dr, c + dc))
                w = xs[c + cs] - xs[c] - 2 * PAD
                placed.append((r, c, rs, cs, cell, self.wrap(cell.text, size, w) if cell.text else []))
                c += cs
        heights = [lh + 2 * PAD] * len(t.rows)
        for r, c, rs, cs, cell, lines in placed:
            if rs == 1:
                heights[r] = max(heights[r], len(lines) * lh + 2 * PAD)
        for r, c, rs, cs, cell, lines in placed:
            if rs > 1:
                have = sum(heights[r : r + rs])
                if have < len(lines) * lh + 2 * PAD:
                    heights[r + rs - 1] += len(lines) * lh + 2 * PAD - have
        # paginate first (the page and top of every row), then draw row by row, so
        # that each page's footer follows the rows printed on it in the content stream
        tops: list[tuple[int, float]] = []
        page, y = 0, self.y
        for h in heights:
            if y + h > BOTTOM:
                page, y = page + 1, MARGIN
            tops.append((page, y))
            y += h
        starts: dict[int, list] = {}
        for item in placed:
            r, rs = item[0], item[2]
            starts.setdefault(r, []).append(item)
            for rr in range(r + 1, r + rs):
                if tops[rr][0] != tops[rr - 1][0]:
                    starts.setdefault(rr, []).append(("cont", item))
        pdf.set_line_width(0.2)
        page = 0
        for r in range(len(t.rows)):
            while page < tops[r][0]:  # also before the first row, when not even it fits here
                pdf.add_page()
                page += 1
            pdf.set_font("cjk", size=size)
            for item in starts.get(r, []):
                if item[0] == "cont":
                    rr, (r0, c, rs, cs, cell, lines) = r, item[1]
                    seg = [x for x in range(rr, r0 + rs) if tops[x][0] == tops[rr][0]]
                    pdf.rect(xs[c], tops[rr][1], xs[c + cs] - xs[c], sum(heights[x] for x in seg))
                else:
                    self._cell(xs, tops, heights, *item, lh)
        self.y = y + 3.0

    def _cell(self, xs, tops, heights, r, c, rs, cs, cell, lines, lh) -> None:
        pdf = self.pdf
        seg = [x for x in range(r, r + rs) if tops[x][0] == tops[r][0]]
        x0, x1 = xs[c], xs[c + cs]
        top = tops[seg[0]][1]
        h = sum(heights[x] for x in seg)
        pdf.rect(x0, top, x1 - x0, h)
        if not lines:
            return
        block = len(lines) * lh
        if rs > 1:  # a spanning label: at the top of its span, or in its middle
            y = top + (h - block) / 2 if cell.text_row > 0 else top + PAD
        else:  # vertically centred in its row
            y = top + (h - block) / 2
        for line in lines:
            w = sum(self.width(ch, pdf.font_size_pt) for ch in line)
            x = x0 + (x1 - x0 - w) / 2 if (cell.key or cell.header) else x0 + PAD
            pdf.text(x, y + lh * 0.78, line)
            y += lh

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def render_pdf(blocks: list[Block], title: str, note: str, running_header: bool = False) -> bytes:
    known = set(charset())
    for b in blocks:
        texts = [c.text for row in b.rows for c in row] if isinstance(b, Table) else [b.text]
        for s in texts:
            missing = {ch for ch in s if ch not in known and ch != "\n"}
            if missing:
                raise ValueError(f"synthetic PDF: characters without a glyph in the cut-down font: {''.join(sorted(missing))!r} in {s!r}")
    doc = _Doc(title, note, title if running_header else None)
    for b in blocks:
        if isinstance(b, Table):
            doc.table(b, 6.5 if b.name == "t4" else TABLE_PT)
        elif b.kind == "title":
            doc.paragraph(b.text, 16, align="center", indent=False, gap=3)
        elif b.kind == "note":
            doc.paragraph(b.text, 10, align="center", indent=False, gap=3)
        elif b.kind == "heading":
            doc.paragraph(b.text, 12, indent=False, gap=1.5)
        else:
            doc.paragraph(b.text, BODY_PT)
    return doc.output()
