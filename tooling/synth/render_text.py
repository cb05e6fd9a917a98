"""Plain-text renderings: the tab layout of the transcriptions, and `|`-separated rows.

``text`` follows ``corpus/transcribed/*.txt`` (and ``data/raw/*.transcribed.txt``):
``#`` title, ``##`` section headings, one line per table row with the cells
separated by tabs, a spanning cell's text once and its other slots empty.
``pipe`` is the form of web excerpts (``corpus/fragments``): plain headings,
one line per table row holding the row's own cells between border pipes
(``| 规章 | 0 | 0 | 0 | ``), a spanning cell once with one more ``|`` for each
column it spans beyond its first (``| 第二十条第（一）项 | |||``), rows under a
rowspan without a slot for it, line breaks inside a cell as spaces.  In
``text`` a cell whose text holds a line break makes its row take several
lines (the first line of every cell, then the second, …), as a copied table
reads.
"""

from __future__ import annotations

from .model import Block, Para, Table, grid, marker_row


def pipe_lines(table: Table) -> list[str]:
    out: list[str] = []
    for row in table.rows:
        marker = marker_row(row)
        if marker is not None:
            out.extend(marker.text.split("\n"))
            continue
        texts = [" ".join(c.text.split("\n")) for c in row]
        extra = sum(c.colspan for c in row) - len(row)
        out.append("| " + " | ".join(texts) + " | " + "|" * extra)
    return out


def table_lines(table: Table, sep: str) -> list[str]:
    out: list[str] = []
    for i, row in enumerate(grid(table)):
        marker = marker_row(table.rows[i])
        if marker is not None:  # a page marker inside the table is a line of its own
            out.extend(marker.text.split("\n"))
            continue
        parts = [text.split("\n") for _, text in row]
        depth = max((len(p) for p in parts), default=1)
        for line in range(depth):
            cells = [p[line] if line < len(p) else "" for p in parts]
            out.append(sep.join(cells))
    return out


def render_text(blocks: list[Block], pipe: bool = False) -> bytes:
    lines: list[str] = []
    for b in blocks:
        if isinstance(b, Table):
            lines.extend(pipe_lines(b) if pipe else table_lines(b, "\t"))
            lines.append("")
        elif b.kind == "title":
            lines += [b.text if pipe else f"# {b.text}", ""]
        elif b.kind == "note":
            lines += [b.text if pipe else f"> {b.text}", ""]
        elif b.kind == "heading":
            lines += [b.text if pipe else f"## {b.text}", ""]
        else:
            lines += [b.text, ""]
    return ("\n".join(lines).rstrip("\n") + "\n").encode("utf-8")


def render_pipe(blocks: list[Block]) -> bytes:
    return render_text(blocks, pipe=True)


__all__ = ["render_text", "render_pipe", "table_lines", "Para"]
