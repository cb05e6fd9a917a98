"""Markdown as PDF-to-Markdown converters write it (compare ``corpus/originals/sh_kewei_2024.md``).

Paragraphs keep the PDF's hard line breaks (about 30 characters a line);
headings are plain lines; tables are pipe tables whose first row stands as
their header, spanning cells flattened (text once, other slots empty), line
breaks inside a cell as ``<br>``.  With the ``markdown_loose`` damage a table is
cut where a page ended (the marker ``— N —`` as a loose line between the two
parts), and long labels spill out of the table as loose lines just before
their row, as in the real conversion.  A cell's bracketed note on a second
line (``value_notes``) is always pulled out of the table, as a loose line
after its row.
"""

from __future__ import annotations

import random

from .model import Block, Table, grid, marker_row

LINE = 30  # characters per line of the PDF the Markdown was converted from


def _hard_wrap(text: str) -> list[str]:
    return [text[i : i + LINE] for i in range(0, len(text), LINE)] or [""]


def _table(t: Table, rng: random.Random, loose: bool) -> list[str]:
    out: list[str] = []
    segment: list[list[str]] = []

    def flush() -> None:
        if segment:
            n = max(len(r) for r in segment)
            for i, cells in enumerate(segment):
                out.append("| " + " | ".join(cells + [""] * (n - len(cells))) + " |")
                if i == 0:
                    out.append("|" + "---|" * n)
            segment.clear()
        out.append("")

    cut_at = rng.randint(3, len(t.rows) - 1) if loose and len(t.rows) > 4 else None
    for r, row in enumerate(grid(t)):
        marker = marker_row(t.rows[r])
        if marker is not None or r == cut_at:
            flush()
            out.extend((marker.text if marker is not None else f"— {rng.randint(2, 9)} —").split("\n"))
            out.append("")
            if marker is not None:
                continue
        cells: list[str] = []
        before: list[str] = []
        after: list[str] = []
        for cell, text in row:
            lines = text.split("\n")
            if cell is not None and cell.key and len(lines) > 1:
                cells.append(lines[0])
                after.extend(lines[1:])
            elif loose and cell is not None and not cell.key and not cell.header and len(text.replace("\n", "")) > 12 and rng.random() < 0.5:
                cells.append("")
                before.extend(lines if len(lines) > 1 else _hard_wrap(text))
            else:
                cells.append("<br>".join(lines))
        if before:
            flush()
            out.extend(before)
        segment.append(cells)
        if after:
            flush()
            out.extend(after)
            out.append("")
    flush()
    return out


def render_markdown(blocks: list[Block], rng: random.Random, damaged: bool = False) -> bytes:
    lines: list[str] = []
    for b in blocks:
        if isinstance(b, Table):
            lines.extend(_table(b, rng, damaged))
        elif b.kind in ("title", "note", "heading"):
            lines += [b.text, ""]
        else:
            lines += _hard_wrap(b.text)
            lines.append("")
    while lines and lines[-1] == "":
        lines.pop()
    return ("\n".join(lines) + "\n").encode("utf-8")
