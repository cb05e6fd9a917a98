"""Markdown as PDF-to-Markdown converters write it (filled in below)."""

from __future__ import annotations

from .model import Table, grid


def render_markdown(blocks, rng, damaged: bool = False) -> bytes:
    lines: list[str] = []
    for b in blocks:
        if isinstance(b, Table):
            g = grid(b)
            for i, row in enumerate(g):
                lines.append("| " + " | ".join(t.replace("\n", "") for _, t in row) + " |")
                if i == 0:
                    lines.append("|" + "---|" * len(row))
            lines.append("")
        else:
            lines += [b.text, ""]
    return ("\n".join(lines)).encode("utf-8")
