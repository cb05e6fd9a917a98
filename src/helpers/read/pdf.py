"""PDF reader: the text layer, one paragraph per line.

The reader uses pdfium's text layer (via pypdfium2): it is fast (tens of
milliseconds for a typical five-page report) and gives the lines in content
order, which for these reports is reading order.  It does not recover table
grids in general; a table row comes out as one line such as
``一、本年新收政府信息公开申请数量 21 0 0 0 0 0 21`` and the table mapper
downstream splits labels from numbers, joins labels broken over lines and
stitches tables split across pages.  The one exception is a row whose zeros
are printed as empty cells: its line holds too few numbers to place, so
:mod:`helpers.read.pdf_layout` cuts it at the table's ruling lines (from the
character boxes and the page's path objects) into a one-row grid
:class:`~helpers.document.Table` with explicit empty cells, when every
number falls inside one ruled cell; lines whose cells are all printed stay
paragraphs.

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

Hostile files (limits in :class:`helpers.limits.Limits`, each refusal is
``unsupported`` with a message naming the limit):

* before pdfium sees the file, every Flate-compressed stream except images is
  inflated with a cap: a stream that would decompress to more than
  ``max_pdf_object_bytes``, or by a ratio above ``max_zip_ratio`` (once past
  1 MB), or streams that together exceed ``max_pdf_decoded_bytes``, refuse
  the file (pdfium decodes a page's content stream in full when it loads it);
* pdfium runs in a forked child process (:mod:`helpers.read.sandbox`) with
  ``max_pdf_memory_bytes`` of memory and the file's remaining time budget:
  pages that draw millions of characters, form XObjects drawn over and over
  and other structures that make pdfium allocate without bound end in a
  refusal, not in the exhaustion of the machine;
* more than ``max_pdf_pages`` pages, more than ``max_pdf_page_chars``
  characters on a page, or more than ``max_text_chars`` in all are refused.
"""

from __future__ import annotations

import re
import zlib

from ..document import Document
from ..limits import Deadline, Limits, current
from ..pagemarks import is_page_number_line
from .pdf_layout import page_blocks, page_cell_rows, resolve_rows
from .sandbox import can_fork, run_bounded

__all__ = ["is_page_number_line", "page_lines", "pdf_pages_text", "read_pdf"]

MIN_TEXT_CHARS = 20
"""Fewer non-space characters than this in the whole file means no text layer."""

# C0/C1 controls except tab, plus BOM / non-characters pdfium emits for
# soft hyphens and unmapped glyphs.
_INVISIBLE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")


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


def read_pdf(
    path: str,
    data: bytes,
    max_pages: int | None = None,
    limits: Limits | None = None,
    deadline: Deadline | None = None,
) -> Document:
    """Read a PDF's text layer into a :class:`Document` of per-line paragraphs.

    ``path`` is only used in messages; ``data`` is the file's content.
    ``limits`` default to :func:`helpers.limits.current` (defaults and
    environment); ``max_pages`` overrides their ``max_pdf_pages``.
    ``deadline`` is the file's time budget (default: ``limits.max_seconds``
    from now); pdfium's child process is killed when it is spent.
    """
    doc = Document(path=path, kind="pdf")
    try:
        lim = limits if limits is not None else current()
        if max_pages is not None:
            lim = lim.replace(max_pdf_pages=max_pages)
        return _read(doc, data, lim, deadline or Deadline(lim.max_seconds, path))
    except Exception as exc:  # never raise to the caller
        doc.blocks = []
        doc.status = "failed"
        doc.message = f"{path}: PDF could not be read ({type(exc).__name__}: {exc})"
        return doc


# --------------------------------------------------------------------------
# streams checked before pdfium


_STREAM_START = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_FLATE = re.compile(rb"/FlateDecode\b|/Fl\b")
_DICT_LOOKBACK = 4096
_CHUNK = 1 << 16


def check_streams(data: bytes, lim: Limits, path: str) -> str | None:
    """Inflate every Flate stream that is not an image, with caps; a refusal
    message when one is a decompression bomb, else None.

    The work is bounded by the file size plus ``max_pdf_decoded_bytes``.
    """
    total = 0
    per_object = lim.max_pdf_object_bytes
    view = memoryview(data)
    for m in _STREAM_START.finditer(data):
        start = m.end()
        head = data[max(0, m.start() - _DICT_LOOKBACK) : m.start()]
        k = head.rfind(b" obj")
        if k >= 0:
            head = head[k:]
        if not _FLATE.search(head) or _IMAGE.search(head):
            continue
        end = data.find(b"endstream", start)
        if end < 0:
            end = len(data)
        d = zlib.decompressobj()
        out = 0
        pos = start
        try:
            while pos < end and not d.eof:
                chunk = view[pos : min(end, pos + _CHUNK)]
                pos += len(chunk)
                buf = chunk
                while buf and not d.eof:
                    piece = d.decompress(buf, _CHUNK * 16)
                    out += len(piece)
                    buf = d.unconsumed_tail
                    if out > per_object:
                        return lim.refusal(
                            path,
                            f"a PDF stream at byte {m.start():,} decompresses to more than {per_object:,} bytes",
                            "max_pdf_object_bytes",
                        )
                    if total + out > lim.max_pdf_decoded_bytes:
                        return lim.refusal(
                            path,
                            f"the PDF streams decompress to more than {lim.max_pdf_decoded_bytes:,} bytes together",
                            "max_pdf_decoded_bytes",
                        )
                    consumed = pos - start - len(buf)
                    if out > 1024 * 1024 and consumed > 0 and out / consumed > lim.max_zip_ratio:
                        return lim.refusal(
                            path,
                            f"a PDF stream at byte {m.start():,} inflates {consumed:,} bytes to more than "
                            f"{out:,} (ratio above {lim.max_zip_ratio:g}): a possible decompression bomb",
                            "max_zip_ratio",
                        )
        except zlib.error:
            pass  # a broken stream: pdfium decodes at most as much as zlib did
        total += out
    return None


# --------------------------------------------------------------------------
# pdfium (in a child process)


def _pdfium_pages(data: bytes, max_pages: int, max_page_chars: int, max_chars: int):
    """Open the PDF and take the text layer of every page, within the limits.

    Returns ``("ok", n_pages, texts, rows)`` (``rows``: per page, the table
    rows with empty cells, :func:`helpers.read.pdf_layout.resolve_rows`),
    ``("open_error", detail)`` or
    ``("limit", name, what)``.  Runs in the sandbox child.
    """
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        return ("open_error", str(exc))
    try:
        n_pages = len(pdf)
        if n_pages > max_pages:
            return ("limit", "max_pdf_pages", f"PDF has {n_pages:,} pages")
        texts: list[str] = []
        candidates: list[dict] = []  # lines across ruled cells (pdf_layout)
        total = 0
        for i in range(n_pages):
            page = pdf[i]
            try:
                textpage = page.get_textpage()
                try:
                    n = textpage.count_chars()
                    if n > max_page_chars:
                        return ("limit", "max_pdf_page_chars", f"page {i + 1} of the PDF has {n:,} characters")
                    total += n
                    if total > max_chars:
                        return ("limit", "max_text_chars", f"the PDF has more than {max_chars:,} characters of text")
                    text = textpage.get_text_range()
                    texts.append(text)
                    candidates.append(page_cell_rows(page, textpage, text))
                finally:
                    textpage.close()
            finally:
                page.close()
        return ("ok", n_pages, texts, resolve_rows(candidates))
    finally:
        pdf.close()


def _read(doc: Document, data: bytes, lim: Limits, deadline: Deadline) -> Document:
    path = doc.path
    if not data:
        doc.status = "failed"
        doc.message = f"{path}: empty file, not a PDF"
        return doc
    data = bytes(data)

    refusal = check_streams(data, lim, path)
    if refusal:
        doc.status = "unsupported"
        doc.message = refusal
        return doc

    args = (data, lim.max_pdf_pages, lim.max_pdf_page_chars, lim.max_text_chars)
    if lim.max_pdf_memory_bytes > 0 and can_fork():
        remaining = deadline.remaining()
        if remaining <= 0:
            doc.status = "unsupported"
            doc.message = lim.refusal(path, "no time left to read the PDF", "max_seconds")
            return doc
        outcome = run_bounded(
            _pdfium_pages,
            args,
            memory_bytes=lim.max_pdf_memory_bytes,
            seconds=0 if remaining == float("inf") else remaining,
        )
        if outcome.kind == "timeout":
            doc.status = "unsupported"
            doc.message = lim.refusal(path, f"reading the PDF did not finish in {outcome.seconds:.1f} s", "max_seconds")
            return doc
        if outcome.kind == "memory":
            doc.status = "unsupported"
            doc.message = lim.refusal(path, "pdfium needs more memory to read this PDF", "max_pdf_memory_bytes")
            return doc
        if outcome.kind != "ok":
            doc.status = "failed"
            doc.message = f"{path}: PDF could not be read (the pdfium process {outcome.kind}: {outcome.detail})"
            return doc
        result = outcome.value
    else:
        result = _pdfium_pages(*args)

    if result[0] == "open_error":
        detail = result[1]
        doc.status = "failed"
        if "password" in detail.lower():
            doc.message = f"{path}: PDF is encrypted (password required) and cannot be read"
        elif not bytes(data[:1024]).lstrip().startswith(b"%PDF"):
            doc.message = f"{path}: not a PDF file ({detail})"
        else:
            doc.message = f"{path}: damaged PDF, cannot be opened ({detail})"
        return doc
    if result[0] == "limit":
        _kind, name, what = result
        doc.status = "unsupported"
        doc.message = lim.refusal(path, what, name)
        return doc
    _ok, n_pages, texts, rows = result
    if n_pages == 0:
        doc.status = "unsupported"
        doc.message = f"{path}: PDF has no pages"
        return doc

    n_chars = 0
    n_dropped = 0
    for page_no, (text, page_rows) in enumerate(zip(texts, rows), start=1):
        blocks, dropped, chars = page_blocks(text, page_rows, page_no)
        n_dropped += dropped
        n_chars += chars
        doc.blocks.extend(blocks)

    if n_chars < MIN_TEXT_CHARS:
        doc.blocks = []
        doc.status = "unsupported"
        doc.message = f"{path}: PDF has no text layer (scanned image?); OCR is not supported"
        return doc

    doc.notes.append(f"{n_pages} pages read from the text layer")
    if n_dropped:
        doc.notes.append(f"{n_dropped} page-number lines dropped")
    return doc
