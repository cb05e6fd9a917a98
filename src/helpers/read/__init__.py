"""Readers: one module per published form, each returning a neutral Document.

:func:`read_document` sniffs the form from the file's first bytes (and its
name as a hint) and dispatches.  Files larger than ``MAX_BYTES`` are refused
before they are read.
"""

from __future__ import annotations

import os

from ..document import Document

MAX_BYTES = 200 * 1024 * 1024  # refuse larger files outright


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


def read_document(path: str, data: bytes | None = None, max_bytes: int = MAX_BYTES) -> Document:
    """Read any supported report file into a :class:`Document`. Never raises."""
    try:
        if data is None:
            size = os.path.getsize(path)
            if size > max_bytes:
                return Document(path, "unknown", status="unsupported",
                                message=f"{path}: file is {size:,} bytes, over the {max_bytes:,}-byte limit; not read")
            with open(path, "rb") as f:
                data = f.read()
        elif len(data) > max_bytes:
            return Document(path, "unknown", status="unsupported",
                            message=f"{path}: file is {len(data):,} bytes, over the {max_bytes:,}-byte limit; not read")
    except OSError as exc:
        return Document(path, "unknown", status="failed", message=f"{path}: cannot read the file ({exc})")
    kind = sniff(path, data[:8192])
    try:
        if kind == "pdf":
            from .pdf import read_pdf

            return read_pdf(path, data)
        if kind == "docx":
            from .docx import read_docx

            return read_docx(path, data)
        if kind == "ole":
            return Document(path, "ole", status="unsupported",
                            message=f"{path}: legacy Word/Excel (OLE) file; save it as DOCX or PDF first")
        if kind == "html":
            from .html import read_html

            return read_html(path, data)
        from .text import read_text

        return read_text(path, data)
    except Exception as exc:  # a reader bug must not stop a build
        return Document(path, kind, status="failed", message=f"{path}: the {kind} reader failed: {type(exc).__name__}: {exc}")
