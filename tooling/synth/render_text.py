"""Plain-text renderings: the tab layout of the transcriptions, and `|`-separated rows.

``text`` follows ``corpus/transcribed/*.txt`` (and ``data/raw/*.transcribed.txt``):
``#`` title, ``##`` section headings, one line per table row with the cells
separated by tabs, a spanning cell's text once and its other slots empty.
``pipe`` is the form of web excerpts: plain headings and ``|``-separated rows.
A cell whose text holds a line break makes its row take several lines (the
first line of every cell, then the second, …), as a copied table reads.
"""

from __future__ import annotations

from .model import Block, Para, Table, grid


def table_lines(table: Table, sep: str) -> list[str]:
    out: list[str] = []
    for i, row in enumerate(grid(table)):
        if i in table.breaks:
            out.extend(table.breaks[i].split("\n"))
        parts = [text.split("\n") for _, text in row]
        depth = max((len(p) for p in parts), default=1)
        for line in range(depth):
            cells = [p[line] if line < len(p) else "" for p in parts]
            out.append(sep.join(cells).rstrip() if sep == " | " else sep.join(cells))
    return out


def render_text(blocks: list[Block], pipe: bool = False) -> bytes:
    lines: list[str] = []
    for b in blocks:
        if isinstance(b, Table):
            lines.extend(table_lines(b, " | " if pipe else "\t"))
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
