"""Page furniture: lines that are only a page number (``- 3 -``, ``第 3 页``, ``3/5``).

Renderings of paginated reports carry page numbers wherever a page broke,
also inside tables (a PDF text layer between two rows, a Markdown table row
``| — 5 — | | |``, a loose line between the parts of a table).  They are never
data: :mod:`helpers.tokens` drops them for every reader, and the PDF reader
uses the same test for the first and last lines of a page.  A bare number
(``21``) is never taken for a page number: it may be data.
"""

from __future__ import annotations

import re

_DASH = r"[-‐‑‒–—―−－~～_·•]"
_CN_NUM = r"[0-9０-９〇零一二三四五六七八九十百]+"
_PAGE_NUMBER_RES = [
    # - 3 -   — 3 —   －3－   -- 3 --   ·3·
    re.compile(rf"^{_DASH}+\s*[0-9０-９]{{1,4}}\s*{_DASH}+$"),
    # 第 3 页 / 第三页 / 第3页 共5页 / 共5页 第3页 / 第 3 页，共 5 页
    re.compile(
        rf"^(?:共\s*{_CN_NUM}\s*页\s*[,，、/ ]?\s*)?第\s*{_CN_NUM}\s*页"
        rf"(?:\s*[,，、/ ]?\s*共\s*{_CN_NUM}\s*页)?$"
    ),
    # Page 3 / Page 3 of 5 / page 3/5
    re.compile(r"^page\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE),
]
_SLASH_PAGE_RE = re.compile(r"^(\d{1,4})\s*[/／]\s*(\d{1,4})$")
# How each form above begins: a dash, 共 or 第, "page", or a digit (``\d``).
_FIRST = frozenset("-‐‑‒–—―−－~～_·•共第pP")


def is_page_number_line(line: str) -> bool:
    """True for a line that is only a page number in one of the usual forms."""
    s = line.strip()
    if not s or len(s) > 30 or not (s[0] in _FIRST or s[0].isdecimal()) or s.isdecimal():
        return False  # a label, or a bare number (most cells of a table)
    if any(rx.match(s) for rx in _PAGE_NUMBER_RES):
        return True
    m = _SLASH_PAGE_RE.match(s)
    if m:
        page, total = int(m.group(1)), int(m.group(2))
        return 1 <= page <= total
    return False
