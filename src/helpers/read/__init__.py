"""Readers: one module per published form, each returning a neutral Document.

:func:`read_document` sniffs the form from the file's first bytes (and its
name as a hint) and dispatches.  Resource limits come from
:class:`helpers.limits.Limits`: a file larger than ``max_file_bytes`` is
refused before it is read (and never more than that is read, even from a file
that grows or a device), and a document with more than ``max_text_chars``
characters of text is refused after reading; each reader applies its own
limits on top.
"""

from __future__ import annotations

import os

from ..document import Document, Paragraph
from ..limits import Deadline, Limits, current

MAX_BYTES = Limits().max_file_bytes
"""The default of ``Limits.max_file_bytes`` (kept for callers of old)."""


def sniff(path: str, head: bytes) -> str:
    """The reader a file needs: ``pdf``, ``docx``, ``html`` or ``text``."""
    lower = path.lower()
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    probe = head[:4096].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower()
    probe_nul = probe.replace(b"\x00", b"")
    if lower.endswith((".html", ".htm", ".shtml", ".xhtml")) or probe_nul.startswith((b"<!doctype html", b"<html", b"<?xml", b"<meta", b"<head", b"<body", b"<table", b"<div", b"<p")):
        return "html"
    return "text"


def text_chars(doc: Document) -> int:
    """Characters of text in a document's blocks (table cells counted once)."""
    n = 0
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            n += len(b.text)
        else:
            for row in b.distinct_rows():
                n += sum(len(t) for t in row)
    return n


def read_document(
    path: str,
    data: bytes | None = None,
    max_bytes: int | None = None,
    limits: Limits | None = None,
    deadline: Deadline | None = None,
) -> Document:
    """Read any supported report file into a :class:`Document`. Never raises.

    ``limits`` default to :func:`helpers.limits.current` (defaults and
    ``GIDR_MAX_*`` environment variables); ``max_bytes`` overrides their
    ``max_file_bytes``.  ``deadline`` is the file's time budget, passed on to
    the PDF reader.
    """
    try:
        lim = limits if limits is not None else current()
    except ValueError as exc:  # a malformed GIDR_MAX_* variable
        return Document(path, "unknown", status="failed", message=f"{path}: not read: {exc}")
    if max_bytes is not None:
        lim = lim.replace(max_file_bytes=max_bytes)
    cap = lim.max_file_bytes
    try:
        if data is None:
            size = os.path.getsize(path)
            if size > cap:
                return Document(path, "unknown", status="unsupported",
                                message=lim.refusal(path, f"file is {size:,} bytes", "max_file_bytes"))
            with open(path, "rb") as f:
                head = f.read(8192)
                # text and HTML have lower limits of their own: refuse before reading on
                refusal = _kind_refusal(path, sniff(path, head), size, lim)
                if refusal is not None:
                    return refusal
                data = head + f.read(cap + 1 - len(head))  # never more, whatever the size said
            if len(data) > cap:
                return Document(path, "unknown", status="unsupported",
                                message=lim.refusal(path, f"file is more than {cap:,} bytes", "max_file_bytes"))
        elif len(data) > cap:
            return Document(path, "unknown", status="unsupported",
                            message=lim.refusal(path, f"file is {len(data):,} bytes", "max_file_bytes"))
    except OSError as exc:
        return Document(path, "unknown", status="failed", message=f"{path}: cannot read the file ({exc})")
    kind = sniff(path, data[:8192])
    try:
        doc = _dispatch(path, data, kind, lim, deadline)
    except Exception as exc:  # a reader bug must not stop a build
        return Document(path, kind, status="failed", message=f"{path}: the {kind} reader failed: {type(exc).__name__}: {exc}")
    if doc.status == "ok" and doc.kind in ("docx", "html"):
        n = text_chars(doc)
        if n > lim.max_text_chars:
            return Document(path, doc.kind, status="unsupported", encoding=doc.encoding,
                            message=lim.refusal(path, f"document with {n:,} characters of text", "max_text_chars"))
    return doc


def _kind_refusal(path: str, kind: str, size: int, lim: Limits) -> Document | None:
    """A refusal for a text file or HTML page too large to be read at all."""
    if kind == "text" and size > 4 * lim.max_text_chars:  # every character takes 1 to 4 bytes
        what = f"text file of {size:,} bytes has more than {lim.max_text_chars:,} characters"
        return Document(path, "text", status="unsupported", message=lim.refusal(path, what, "max_text_chars"))
    if kind == "html" and size > lim.max_html_bytes:
        return Document(path, "html", status="unsupported",
                        message=lim.refusal(path, f"HTML page of {size:,} bytes", "max_html_bytes"))
    return None


def _dispatch(path: str, data: bytes, kind: str, lim: Limits, deadline: Deadline | None) -> Document:
    if kind == "pdf":
        from .pdf import read_pdf

        return read_pdf(path, data, limits=lim, deadline=deadline)
    if kind == "docx":
        from .docx import read_docx

        return read_docx(path, data, limits=lim)
    if kind == "ole":
        return Document(path, "ole", status="unsupported",
                        message=f"{path}: legacy Word/Excel (OLE) file; save it as DOCX or PDF first")
    if kind == "html":
        from .html import read_html

        return read_html(path, data, limits=lim)
    from .text import read_text

    return read_text(path, data, limits=lim)
