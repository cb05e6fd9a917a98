"""PDF reader: the text layer, one paragraph per line.

The reader uses pdfium's text layer (via pypdfium2) and nothing else: it is
fast (tens of milliseconds for a typical five-page report) and gives the
lines in content order, which for these reports is reading order.  It does
*not* try to recover table grids; a table row comes out as one line such as
``一、本年新收政府信息公开申请数量 21 0 0 0 0 0 21`` and the table mapper
downstream splits labels from numbers, joins labels broken over lines and
stitches tables split across pages.

What the reader does to the text:

* each line is stripped, U+00A0 and U+3000 become ordinary spaces, and
  invisible control characters (other than tab) are removed;
* empty lines are dropped;
* a page-number line (``- 3 -``, ``— 3 —``, ``第 3 页``, ``3/5``, ``Page 3``) is
  dropped when it is the first or the last non-empty line of its page.  A
  bare number (``21``) is never treated as a page number: it may be data.

A PDF with (almost) no text is reported as ``unsupported`` (a scanned image;
OCR is out of scope); a PDF that cannot be opened (encrypted, damaged, not a
PDF) is ``failed``.  The reader never raises.
"""

from __future__ import annotations

import re

from ..document import Document, Paragraph

MAX_PDF_PAGES = 500
"""Default page limit; longer files are refused as ``unsupported``."""

MIN_TEXT_CHARS = 20
"""Fewer non-space characters than this in the whole file means no text layer."""

_DASH = r"[-‐‑‒–—―−－~～_·•]"
_CN_NUM = r"[0-9０-９〇零一二三四五六七八九十百]+"
_PAGE_NUMBER_RES = [
    # - 3 -   — 3 —   －3－   -- 3 --
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

# C0/C1 controls except tab, plus BOM / non-characters pdfium emits for
# soft hyphens and unmapped glyphs.
_INVISIBLE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")


def is_page_number_line(line: str) -> bool:
    """True for a line that is only a page number in one of the usual forms."""
    s = line.strip()
    if not s or len(s) > 30:
        return False
    if any(rx.match(s) for rx in _PAGE_NUMBER_RES):
        return True
    m = _SLASH_PAGE_RE.match(s)
    if m:
        page, total = int(m.group(1)), int(m.group(2))
        return 1 <= page <= total
    return False


def clean_line(line: str) -> str:
    """One text-layer line as it goes into the document."""
    line = line.replace("\u00a0", " ").replace("\u3000", " ")
    line = _INVISIBLE_RE.sub("", line)
    return line.strip()


def page_lines(text: str) -> tuple[list[str], int]:
    """Clean non-empty lines of one page's text, without page-number lines.

    Returns the lines and how many page-number lines were dropped.
    """
    lines = [x for x in (clean_line(raw) for raw in text.splitlines()) if x]
    dropped = 0
    if lines and is_page_number_line(lines[0]):
        lines.pop(0)
        dropped += 1
    if lines and is_page_number_line(lines[-1]):
        lines.pop()
        dropped += 1
    return lines, dropped


def _page_texts(pdf, n_pages: int) -> list[str]:
    texts: list[str] = []
    for i in range(n_pages):
        page = pdf[i]
        try:
            textpage = page.get_textpage()
            try:
                texts.append(textpage.get_text_range())
            finally:
                textpage.close()
        finally:
            page.close()
    return texts


def pdf_pages_text(data: bytes, max_pages: int | None = None) -> list[str]:
    """Raw text layer of every page (at most ``max_pages`` pages).

    A convenience for inspection and tests; unlike :func:`read_pdf` it raises
    on files pdfium cannot open.
    """
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        n = len(pdf)
        if max_pages is not None:
            n = min(n, max_pages)
        return _page_texts(pdf, n)
    finally:
        pdf.close()


def read_pdf(path: str, data: bytes, max_pages: int | None = None) -> Document:
    """Read a PDF's text layer into a :class:`Document` of per-line paragraphs.

    ``path`` is only used in messages; ``data`` is the file's content.
    ``max_pages`` overrides :data:`MAX_PDF_PAGES`.
    """
    limit = MAX_PDF_PAGES if max_pages is None else max_pages
    doc = Document(path=path, kind="pdf")
    try:
        return _read(doc, data, limit)
    except Exception as exc:  # never raise to the caller
        doc.blocks = []
        doc.status = "failed"
        doc.message = f"{path}: PDF could not be read ({type(exc).__name__}: {exc})"
        return doc


def _read(doc: Document, data: bytes, limit: int) -> Document:
    path = doc.path
    if not data:
        doc.status = "failed"
        doc.message = f"{path}: empty file, not a PDF"
        return doc

    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        doc.status = "failed"
        detail = str(exc)
        if "password" in detail.lower():
            doc.message = f"{path}: PDF is encrypted (password required) and cannot be read"
        elif not bytes(data[:1024]).lstrip().startswith(b"%PDF"):
            doc.message = f"{path}: not a PDF file ({detail})"
        else:
            doc.message = f"{path}: damaged PDF, cannot be opened ({detail})"
        return doc

    try:
        n_pages = len(pdf)
        if n_pages > limit:
            doc.status = "unsupported"
            doc.message = (
                f"{path}: PDF has {n_pages} pages, more than the limit of {limit} pages"
            )
            return doc
        if n_pages == 0:
            doc.status = "unsupported"
            doc.message = f"{path}: PDF has no pages"
            return doc
        texts = _page_texts(pdf, n_pages)
    finally:
        pdf.close()

    n_chars = 0
    n_dropped = 0
    for page_no, text in enumerate(texts, start=1):
        lines, dropped = page_lines(text)
        n_dropped += dropped
        for line in lines:
            n_chars += sum(1 for ch in line if not ch.isspace())
            doc.blocks.append(Paragraph(line, page=page_no))

    if n_chars < MIN_TEXT_CHARS:
        doc.blocks = []
        doc.status = "unsupported"
        doc.message = f"{path}: PDF has no text layer (scanned image?); OCR is not supported"
        return doc

    doc.notes.append(f"{n_pages} pages read from the text layer")
    if n_dropped:
        doc.notes.append(f"{n_dropped} page-number lines dropped")
    return doc
