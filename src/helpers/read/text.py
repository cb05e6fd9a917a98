"""Text dumps: plain text, tab-separated exports, ``|``-separated and Markdown tables.

Lines holding a tab or a ``|`` separator are table rows: consecutive ones form
one :class:`~helpers.document.Table` (``source="text"``) whose cells are the
separated fields, so an empty field stays an empty (blank) cell (a ``<br>``
inside a Markdown cell is the line break it stands for).  Every other
line is a :class:`~helpers.document.Paragraph`; the table mapper splits such
lines into label text and numbers itself (space-separated rows, one cell per
line, digits run together).
"""

from __future__ import annotations

import re

from ..document import Cell, Document, Paragraph, Table
from ..limits import Limits, current
from .encoding import MOJIBAKE_NOTE, decode_bytes, looks_like_mojibake

_MD_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


# U+FFFD and the control characters other than tab, line feed, carriage return and form feed
_BAD_CHARS = re.compile("[\ufffd\x00-\x08\x0b\x0e-\x1f]")


def _looks_binary(data: bytes, text: str) -> bool:
    """Random or binary bytes: NULs, many control characters or undecodable bytes."""
    if not data:
        return False
    sample = text[:20000]
    if not sample:
        return False
    bad = len(_BAD_CHARS.findall(sample))
    wide = data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"))  # UTF-16/32 BOMs (UTF-32 LE starts FF FE)
    return b"\x00" in data[:4096] and not wide or bad / len(sample) > 0.05


def _pipe_cells(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [_BR.sub("\n", c).strip() for c in s.split("|")]


# a line break inside a Markdown table cell ("本年废止件<br>数")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def split_lines(text: str) -> list[list[str] | str]:
    """Classify each line: a list of fields for table rows, a string otherwise.

    Empty lines and lines holding only separators are dropped, Markdown rule
    lines (``|---|---|``) too.
    """
    out: list[list[str] | str] = []
    for raw in text.splitlines():
        line = raw.rstrip("\r\n")
        stripped = line.strip()
        if not stripped or stripped in ("|", "||"):
            continue
        if "\t" in line and stripped.replace("\t", ""):
            out.append([c.strip() for c in line.split("\t")])
        elif "|" in stripped and stripped != "|":
            if _MD_RULE.match(stripped):
                continue
            cells = _pipe_cells(stripped)
            if len(cells) >= 2:
                out.append(cells)
            else:  # a cell followed by a lone separator: "行政规范性文件 |"
                out.append(cells[0] if cells else stripped)
        else:
            out.append(stripped)
    return out


def read_text(path: str, data: bytes, limits: Limits | None = None) -> Document:
    """Read a text dump.  More than ``limits.max_text_chars`` characters are
    refused (``unsupported``); the byte count is checked first, so a huge file
    is refused without being decoded."""
    lim = limits if limits is not None else current()
    # every character takes at least one byte and at most four
    if len(data) > 4 * lim.max_text_chars:
        return Document(path=path, kind="text", status="unsupported",
                        message=lim.refusal(path, f"text file of {len(data):,} bytes has more than "
                                            f"{lim.max_text_chars:,} characters", "max_text_chars"))
    text, encoding = decode_bytes(data, path)
    doc = Document(path=path, kind="text", encoding=encoding)
    if len(text) > lim.max_text_chars:
        doc.status = "unsupported"
        doc.message = lim.refusal(path, f"text of {len(text):,} characters", "max_text_chars")
        return doc
    # Text damaged by a GBK round trip is full of U+FFFD; it is still text,
    # and is reported as mojibake rather than as binary data.
    mojibake = looks_like_mojibake(text)
    if not mojibake and _looks_binary(data, text):
        doc.status = "failed"
        doc.message = f"{path}: not a text document (binary data, or an unknown format); not read"
        return doc
    if mojibake:
        doc.notes.append(f"{path}: {MOJIBAKE_NOTE}; labels may not be recognised")
    rows: list[list[Cell]] = []

    def flush() -> None:
        if rows:
            doc.blocks.append(Table([list(r) for r in rows], source="text"))
            rows.clear()

    for item in split_lines(text):
        if isinstance(item, list):
            r = len(rows)
            rows.append([Cell(t, (r, c)) for c, t in enumerate(item)])
        else:
            flush()
            doc.blocks.append(Paragraph(item))
    flush()
    return doc
