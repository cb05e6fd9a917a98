"""Read an HTML report page into a :class:`~helpers.document.Document`.

The page is parsed once with lxml's HTML parser (no network access, no
external entities, comments and processing instructions dropped).  The
output is the page's blocks in document order:

* a :class:`Paragraph` for every block of running text outside tables
  (``p``, ``div``, headings, list items, lines separated by ``<br>`` ...),
  whitespace collapsed, empty blocks dropped;
* a :class:`Table` for every ``<table>``, spans expanded with
  :func:`helpers.document.grid_from_spans`.

Cell text joins inline markup without separators (Word splits one number over
several ``<span>``: ``<span>2</span><span>0</span>`` is ``20``) and puts
``\\n`` between block-level children (``<p>``, ``<div>``, ``<br>`` ...).
Non-breaking and ideographic spaces become ordinary spaces; runs of spaces
collapse; every line is stripped.

Nested tables: an inner table becomes a Table block of its own, placed right
after the table that contains it (before any later block); the outer cell
keeps only its own text, with nothing in place of the inner table.  A
``<caption>`` becomes a Paragraph just before its table.

Implementation: instead of visiting every text node in Python, the tree is
marked up once (a private separator character at the start and end of each
block-level element, a placeholder for each table) and text is then pulled
out with lxml's C-level ``text_content()``; splitting on the separators
restores the line structure.
"""

from __future__ import annotations

import re

import lxml.etree as etree

from helpers.document import Cell, Document, Paragraph, Table, grid_from_spans
from helpers.read.encoding import decode_bytes, looks_like_mojibake, normalize_encoding_name

__all__ = ["read_html", "sniff_charset"]

# --- encoding ----------------------------------------------------------------

_SNIFF_BYTES = 8192
_META_CHARSET = re.compile(
    rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)",
    re.IGNORECASE,
)
_XML_DECL = re.compile(rb"^\s*<\?xml\b[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.:\-]+)", re.IGNORECASE)


def sniff_charset(data: bytes) -> str | None:
    """The charset a page declares in its first few KB (``<meta charset>``,
    ``<meta http-equiv="Content-Type" content="...; charset=...">`` or an XML
    declaration), or None."""
    head = data[:_SNIFF_BYTES]
    m = _META_CHARSET.search(head) or _XML_DECL.search(head)
    if not m:
        return None
    try:
        return m.group(1).decode("ascii")
    except UnicodeDecodeError:  # pragma: no cover - the pattern is ASCII-only
        return None


# --- markers ------------------------------------------------------------------

# Unicode noncharacters: never legitimate content, valid in XML/lxml text.
# Any that occur in the input are removed before parsing.
_SEP = "\ufdd0"  # block boundary (line break)
_TAB_OPEN = "\ufdd1"  # placeholder for table number n: OPEN n CLOSE
_TAB_CLOSE = "\ufdd2"
_ROW = "\ufdd3"  # start of a <tr>
_CELL = "\ufdd4"  # start of a <td>/<th>
_MARKERS = _SEP + _TAB_OPEN + _TAB_CLOSE + _ROW + _CELL
_MARKER_BYTES = tuple(ch.encode("utf-8") for ch in _MARKERS)
_TABLE_REF = re.compile(_TAB_OPEN + r"(\d+)" + _TAB_CLOSE)
# a run of block boundaries with the (already collapsed) spaces around it
_SEP_RUN = re.compile(" ?(?:" + _SEP + " ?)+")
_SPLIT_BLOCKS = re.compile("[" + _SEP + _ROW + _CELL + "]|(" + _TAB_OPEN + r"\d+" + _TAB_CLOSE + ")")

# Whitespace as rendered: HTML spaces, NBSP, ideographic and typographic spaces.
_SPACES = re.compile("[ \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Invisible characters that would split a number or a label: removed.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"

# Elements whose content is never shown.
_DROP = (
    "head",
    "title",
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "o:p",
)
# Elements that start and end a line.
_BLOCK = (
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "address",
    "center",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "main",
    "figure",
    "figcaption",
    "form",
    "fieldset",
    "legend",
    "option",
    "details",
    "summary",
    "caption",
    "body",
)
# Elements that end a line.  (Table rows and cells have markers of their own.)
_BREAK = ("br", "hr")

_SPAN_NUMBER = re.compile(r"\s*\+?(\d+)")
_MAX_ROWSPAN = 65534  # HTML's own limits; grid_from_spans clamps further
_MAX_COLSPAN = 1000


def _span(value: str | None, zero_means_all: bool) -> int:
    """Parse a rowspan/colspan attribute leniently (``"2;"``, ``" 3 "``, ``""``,
    ``"abc"``, ``"-1"``, ``"99999999999"``)."""
    if not value:
        return 1
    m = _SPAN_NUMBER.match(value)
    if not m:
        return 1
    digits = m.group(1)
    n = int(digits) if len(digits) <= 6 else 10**6
    if n == 0:
        # rowspan="0" spans to the end of the table; colspan="0" is invalid.
        return _MAX_ROWSPAN if zero_means_all else 1
    return min(n, _MAX_ROWSPAN if zero_means_all else _MAX_COLSPAN)


def _remove_invisible(text: str) -> str:
    for ch in _INVISIBLE:
        if ch in text:
            text = text.replace(ch, "")
    return text


def _string(el: etree._Element) -> str:
    """All text under ``el`` (markers included), computed by libxml2."""
    return str(el.xpath("string()"))


def _prepare(root: etree._Element) -> None:
    """Remove invisible content and insert the markers, in place."""
    etree.strip_elements(root, *_DROP, with_tail=False)
    for el in root.iter(*_BLOCK):
        el.text = _SEP + el.text if el.text else _SEP
        el.tail = _SEP + el.tail if el.tail else _SEP
    for el in root.iter(*_BREAK):
        el.tail = _SEP + el.tail if el.tail else _SEP
    for el in root.iter("tr"):
        el.text = _ROW + el.text if el.text else _ROW
    for el in root.iter("td", "th"):
        el.text = _CELL + el.text if el.text else _CELL


def _drop_keep_tail(el: etree._Element) -> None:
    """Remove ``el`` and its content but keep the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = prev.tail + tail if prev.tail else tail
        else:
            parent.text = parent.text + tail if parent.text else tail
    parent.remove(el)


def _read_table(table: etree._Element) -> tuple[list[list[Cell]], list[int], list[str]]:
    """Grid of a table that holds no nested table any more (those were
    replaced by placeholders), the numbers of the placeholders met in it, in
    order, and the lines of text found in the table outside any cell (a
    ``<caption>``, stray text), which a browser shows before the table."""
    raw = _remove_invisible(_string(table))
    nested: list[int] = []
    if _TAB_OPEN in raw:
        nested = [int(n) for n in _TABLE_REF.findall(raw)]
        raw = _TABLE_REF.sub(_SEP, raw)
    # Whitespace and line structure for the whole table at once: spaces
    # collapse, a run of block boundaries (with the spaces around it) becomes
    # one newline; each cell then only needs strip().
    raw = _SEP_RUN.sub("\n", _SPACES.sub(" ", raw))
    # one (rowspan, colspan) per cell marker, both in document order
    spans = [(c.get("rowspan"), c.get("colspan")) for c in table.iter("td", "th")]
    n_spans = len(spans)
    k = 0
    rows: list[list[tuple[str, int, int]]] = []
    stray: list[str] = []
    for r, part in enumerate(raw.split(_ROW)):
        segments = part.split(_CELL)
        lead = segments[0].strip()
        if lead:
            stray.extend(line.strip() for line in lead.split("\n"))
        if r == 0 and len(segments) == 1:
            continue  # text before the first row, no cells outside rows
        row = []
        for seg in segments[1:]:
            rowspan, colspan = spans[k] if k < n_spans else (None, None)
            k += 1
            row.append(
                (
                    seg.strip(),
                    _span(rowspan, True) if rowspan else 1,
                    _span(colspan, False) if colspan else 1,
                )
            )
        rows.append(row)
    return grid_from_spans(rows), nested, stray


def _build(root: etree._Element) -> list[Paragraph | Table]:
    _prepare(root)

    # Innermost tables first: each is turned into a grid, then replaced in the
    # tree by a placeholder, so that an outer table never sees inner rows.
    tables = list(root.iter("table"))
    grids: list[list[list[Cell]]] = [[] for _ in tables]
    children: list[list[int]] = [[] for _ in tables]
    before: list[list[str]] = [[] for _ in tables]
    for idx in range(len(tables) - 1, -1, -1):
        table = tables[idx]
        grids[idx], children[idx], before[idx] = _read_table(table)
        table.tail = _SEP + _TAB_OPEN + str(idx) + _TAB_CLOSE + _SEP + (table.tail or "")
        _drop_keep_tail(table)

    blocks: list[Paragraph | Table] = []

    def emit_table(i: int) -> None:
        for line in before[i]:
            blocks.append(Paragraph(line))
        blocks.append(Table(grids[i]))
        for child in children[i]:
            emit_table(child)

    raw = _SPACES.sub(" ", _remove_invisible(_string(root)))
    for piece in _SPLIT_BLOCKS.split(raw):
        if not piece:
            continue
        if piece[0] == _TAB_OPEN:
            emit_table(int(piece[1:-1]))
            continue
        text = piece.strip()
        if text:
            blocks.append(Paragraph(text))
    return blocks


def _parser() -> etree.HTMLParser:
    # libxml2's HTML parser, as used by lxml.html, but without lxml.html's
    # element-class lookup (a Python call per element visited).  A new parser
    # per call: lxml parsers are not thread-safe.
    return etree.HTMLParser(
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        huge_tree=False,
        compact=True,
        default_doctype=False,
    )


def read_html(path: str, data: bytes) -> Document:
    """Read an HTML page (``data`` are its raw bytes; ``path`` names it).

    Never raises on bad input: a page the parser cannot handle yields
    ``Document(status="failed")`` with a message naming the file.  A page
    without tables (or without any content) is ``ok`` with only paragraphs.
    """
    doc = Document(path=path, kind="html")
    try:
        declared = sniff_charset(data)
        text, encoding = decode_bytes(data, path, declared)
        doc.encoding = encoding
        if declared and not encoding.startswith("utf-8"):
            doc.notes.append(f"declared charset {declared!r}, decoded as {encoding}")
        elif declared:
            norm = normalize_encoding_name(declared)
            if norm is not None and norm not in ("utf-8", "ascii"):
                doc.notes.append(f"declared charset {declared!r} but the bytes are valid UTF-8")
        if encoding.startswith("utf-8"):
            # valid UTF-8 already: hand the bytes to the parser as they are
            payload = bytes(data[3:] if encoding == "utf-8-sig" else data)
        else:
            if "\ufffd" in text:
                doc.notes.append("undecodable bytes replaced by U+FFFD")
            payload = text.encode("utf-8", errors="replace")
        del text
        # NUL and the private marker characters never belong to the content.
        if b"\x00" in payload:
            payload = payload.replace(b"\x00", b"")
        if b"\xef\xb7" in payload:
            for marker in _MARKER_BYTES:
                payload = payload.replace(marker, b"")
        if not payload.strip():
            return doc
        try:
            root = etree.fromstring(payload, parser=_parser())
        except etree.XMLSyntaxError:
            # nothing the parser could turn into a document
            return doc
        if root is None:
            return doc
        doc.blocks = _build(root)
        if looks_like_mojibake("\n".join(p.text for p in doc.paragraphs)):
            doc.notes.append("text looks like UTF-8 read as GBK (mojibake)")
        return doc
    except Exception as exc:  # noqa: BLE001 - a reader must not raise
        return Document(
            path=path,
            kind="html",
            status="failed",
            message=f"{path}: HTML could not be read: {type(exc).__name__}: {exc}",
            encoding=doc.encoding,
        )
