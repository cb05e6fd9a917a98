"""Read an HTML report page into a :class:`~helpers.document.Document`.

The page is parsed once with libxml2's HTML parser through lxml (the parser
``lxml.html`` uses, without its per-element class lookup; no network access,
no entity loading, ``huge_tree`` off, comments and processing instructions
dropped).  The
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

Rows are the ``<tr>`` elements in document order, wherever they sit
(directly in ``<table>``, in ``<thead>``/``<tbody>``/``<tfoot>``); ``<td>`` and
``<th>`` both count; cells outside any ``<tr>`` join the row before them (or
form one if no row precedes them).  Span
attributes are read leniently (``"2;"`` is 2, junk is 1, ``rowspan="0"`` runs
to the end of the table, huge values are clamped).

Nested tables: an inner table becomes a Table block of its own, placed right
after the table that contains it (before any later block); the outer cell
keeps only its own text, with nothing in place of the inner table.  Text that
sits in a table outside any cell (a ``<caption>``, stray text) becomes
Paragraphs just before the table, as a browser shows it.

``head``, ``script``, ``style``, ``noscript``, ``template``, ``iframe``,
``object`` and Word's ``<o:p>`` are dropped with their content.

Implementation, chosen for speed (a few thousand elements per page): the
tree is marked up once with private separator characters (the start and end
of each block-level element, each ``<br>``, each row, the start and end of
each cell, with a cell's spans written after its start marker) and every
table is cut out of the tree and replaced by a numbered placeholder,
innermost first.  All text is then pulled
out by libxml2 in one call per table and one for the page (XPath
``string()``), and splitting on the separators restores rows, cells, lines
and paragraphs.  No Python code runs per text node.
"""

from __future__ import annotations

import codecs
import re
import threading

import lxml.etree as etree

from helpers.document import Cell, Document, Paragraph, Table, grid_from_spans
from helpers.limits import Limits, current
from helpers.read.encoding import MOJIBAKE_NOTE, decode_bytes, looks_like_mojibake, normalize_encoding_name

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
# Any that occur in the input are removed before parsing (_MARKERS_UTF8).
_SEP = "\ufdd0"  # block boundary (line break)
_TAB_OPEN = "\ufdd1"  # placeholder for table number n: OPEN n CLOSE
_TAB_CLOSE = "\ufdd2"
_ROW = "\ufdd3"  # start of a <tr>
_CELL = "\ufdd4"  # start of a <td>/<th>
_SPAN = "\ufdd5"  # right after _CELL when the cell spans: SPAN rowspan,colspan SPAN_END
_SPAN_END = "\ufdd6"
_CELL_END = "\ufdd7"  # before text that follows a cell or row inside the table (stray text)
_MARKERS = _SEP + _TAB_OPEN + _TAB_CLOSE + _ROW + _CELL + _SPAN + _SPAN_END + _CELL_END
_TABLE_REF = re.compile(_TAB_OPEN + r"(\d+)" + _TAB_CLOSE)
_SPAN_INFO = re.compile(_SPAN + "[^" + _SPAN_END + "]*" + _SPAN_END)
# a run of block boundaries with the (already collapsed) spaces around it;
# written to start with a character class so that the regex engine can skip
# quickly to candidate positions
_SEP_RUN = re.compile("(?:" + _SEP + "| " + _SEP + ")[ " + _SEP + "]*")

# Whitespace is collapsed with " ".join(text.split()): str.split() splits on
# every Unicode space, which covers HTML spaces, NBSP (U+00A0), the
# ideographic space (U+3000) and the typographic spaces (U+2000-U+200A ...).
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
_MAX_GRID_SLOTS = 1_000_000  # per table


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


_local = threading.local()


def _string(el: etree._Element) -> str:
    """All text under ``el`` (markers included), computed by libxml2."""
    # A compiled XPath per thread: cheaper than el.xpath(), and lxml's XPath
    # objects are not meant to be shared between threads.
    fn = getattr(_local, "string", None)
    if fn is None:
        fn = _local.string = etree.XPath("string()")
    return str(fn(el))


def _prepare(root: etree._Element) -> None:
    """Remove invisible content and insert the markers, in place."""
    # (Each read of .text/.tail converts libxml2's UTF-8 into a new str, so
    # each is read once.)
    etree.strip_elements(root, *_DROP, with_tail=False)
    for el in root.iter(*_BLOCK):
        t = el.text
        el.text = _SEP + t if t else _SEP
        t = el.tail
        el.tail = _SEP + t if t else _SEP
    for el in root.iter(*_BREAK):
        t = el.tail
        el.tail = _SEP + t if t else _SEP
    for el in root.iter("tr", "tbody", "thead", "tfoot"):
        if el.tag == "tr":
            t = el.text
            el.text = _ROW + t if t else _ROW
        t = el.tail
        if t and not t.isspace():  # text after a row, still inside the table
            el.tail = _CELL_END + t
    for el in root.iter("td", "th"):
        rowspan = el.get("rowspan")
        colspan = el.get("colspan")
        if rowspan is None and colspan is None:
            mark = _CELL
        else:
            mark = f"{_CELL}{_SPAN}{_span(rowspan, True)},{_span(colspan, False)}{_SPAN_END}"
        t = el.text
        el.text = mark + t if t else mark
        t = el.tail
        if t and not t.isspace():  # text after a cell, still inside the table
            el.tail = _CELL_END + t


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


def _read_table(table: etree._Element, notes: list[str]) -> tuple[list[list[Cell]], list[int], list[str]]:
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
    raw = _SEP_RUN.sub("\n", " ".join(raw.split()))
    rows: list[list[tuple[str, int, int]]] = []
    stray: list[str] = []
    spanned: list[tuple[int, int]] = []  # (row, index in row) of cells with spans

    def outside(text: str) -> None:
        # text in the table but in no cell: a browser shows it before the table
        if text and not text.isspace():
            stray.extend(line.strip() for line in text.split("\n") if line.strip())

    for r, part in enumerate(raw.split(_ROW)):
        segments = part.split(_CELL)
        outside(segments[0].replace(_CELL_END, "\n"))
        if r == 0 and len(segments) == 1:
            continue  # text before the first row, no cells outside rows
        row = []
        for seg in segments[1:]:
            rowspan = colspan = 1
            if seg and seg[0] == _SPAN:
                k = seg.find(_SPAN_END)
                rs, cs = seg[1:k].split(",")
                rowspan, colspan = int(rs), int(cs)
                seg = seg[k + 1 :]
                spanned.append((len(rows), len(row)))
            k = seg.find(_CELL_END)
            if k >= 0:
                outside(seg[k + 1 :].replace(_CELL_END, "\n"))
                seg = seg[:k]
            row.append((seg.strip(), rowspan, colspan))
        rows.append(row)
    if spanned:
        # Spans are clamped one by one in grid_from_spans; many large spans
        # together could still ask for a huge grid (hostile markup).
        n_rows = len(rows)
        area = sum(len(row) for row in rows)
        for r, i in spanned:
            _, rs, cs = rows[r][i]
            area += min(rs, n_rows - r) * min(cs, 64)
        if area > _MAX_GRID_SLOTS:
            for r, i in spanned:
                rows[r][i] = (rows[r][i][0], 1, 1)
            notes.append(f"table spans ignored: they would expand to {area:,} grid slots")
    return grid_from_spans(rows), nested, stray


def _build(root: etree._Element, notes: list[str]) -> list[Paragraph | Table]:
    """The page's blocks; remarks about the markup are added to ``notes``."""
    _prepare(root)

    # Innermost tables first: each is turned into a grid, then replaced in the
    # tree by a placeholder, so that an outer table never sees inner rows.
    tables = list(root.iter("table"))
    grids: list[list[list[Cell]]] = [[] for _ in tables]
    children: list[list[int]] = [[] for _ in tables]
    before: list[list[str]] = [[] for _ in tables]
    for idx in range(len(tables) - 1, -1, -1):
        table = tables[idx]
        grids[idx], children[idx], before[idx] = _read_table(table, notes)
        table.tail = _SEP + _TAB_OPEN + str(idx) + _TAB_CLOSE + _SEP + (table.tail or "")
        _drop_keep_tail(table)

    blocks: list[Paragraph | Table] = []

    def emit_table(i: int) -> None:
        for line in before[i]:
            blocks.append(Paragraph(line))
        blocks.append(Table(grids[i]))
        for child in children[i]:
            emit_table(child)

    raw = _remove_invisible(_string(root))
    # cells outside any table: their markers are plain boundaries here
    if _SPAN in raw:
        raw = _SPAN_INFO.sub("", raw)
    raw = raw.replace(_ROW, _SEP).replace(_CELL, _SEP).replace(_CELL_END, _SEP)
    for k, chunk in enumerate(raw.split(_TAB_OPEN)):
        if k:  # the chunk starts with a table number
            end = chunk.find(_TAB_CLOSE)
            emit_table(int(chunk[:end]))
            chunk = chunk[end + 1 :]
        for piece in chunk.split(_SEP):
            if piece and not piece.isspace():
                blocks.append(Paragraph(" ".join(piece.split())))
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
        collect_ids=False,
        default_doctype=False,
    )


_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# character references the parser turns into such characters (``&#5;``, ``&#x3``)
_NOT_XML_REFS = re.compile(
    r"&#(?:[xX]0*(?:[1-8bBcCeEfF]|1[0-9a-fA-F]|[fF]{3}[eEfF])(?![0-9a-fA-F])|0*(?:[1-8]|1[1-24-9]|2[0-9]|3[01]|6553[45])(?![0-9]));?"
)
# the marker characters, UTF-8 encoded (input containing them is cleaned)
_MARKERS_UTF8 = re.compile(b"\xef\xb7[\x90-\x97]")  # U+FDD0..U+FDD7
assert all(_MARKERS_UTF8.fullmatch(ch.encode("utf-8")) for ch in _MARKERS)
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # UTF-32 BOMs start with these
_UTF8_NAMES = ("utf-8", "ascii")
_PREFIX_CHECK = 65536


def _clean_payload(payload: bytes) -> bytes:
    """Remove NUL and the private marker characters (UTF-8 bytes)."""
    if b"\x00" in payload:
        payload = payload.replace(b"\x00", b"")
    if _MARKERS_UTF8.search(payload):
        payload = _MARKERS_UTF8.sub(b"", payload)
    return payload


def _parse(payload: bytes, parser: etree.HTMLParser) -> etree._Element | None:
    if not payload or payload.isspace():
        return None
    try:
        return etree.fromstring(payload, parser=parser)
    except etree.XMLSyntaxError:
        return None  # nothing the parser could turn into a document


def _invalid_utf8(parser: etree.HTMLParser) -> bool:
    return any(e.type_name == "ERR_INVALID_ENCODING" for e in parser.error_log)


def _fast_path_possible(data: bytes, declared: str | None) -> bool:
    """Worth parsing the raw bytes as UTF-8 straight away?  Not when a BOM is
    present, a non-UTF-8 charset is declared, or the first 64 KB are not
    UTF-8 (a page without a declaration)."""
    if data.startswith(_BOMS):
        return False
    if declared:
        return normalize_encoding_name(declared) in _UTF8_NAMES
    try:
        codecs.utf_8_decode(data[:_PREFIX_CHECK], "strict", False)
    except UnicodeDecodeError:
        return False
    return True


def _build_or_retry(root: etree._Element, payload: bytes, doc: Document) -> list[Paragraph | Table]:
    try:
        return _build(root, doc.notes)
    except ValueError:
        # The parser accepts C0 control characters and U+FFFE/U+FFFF, but
        # lxml refuses to write text that contains them back into the tree.
        # Rare, so only then are they removed and the page parsed again.
        clean = _NOT_XML_CHARS.sub("", payload.decode("utf-8", errors="replace"))
        clean = _NOT_XML_REFS.sub("", clean)
        doc.notes.append("control characters removed before parsing")
        root = _parse(clean.encode("utf-8"), _parser())
        return [] if root is None else _build(root, doc.notes)


def count_tags(data: bytes) -> int:
    """Start tags in raw HTML, estimated without parsing (every ``<`` that
    does not open an end tag, a comment or a declaration)."""
    return data.count(b"<") - data.count(b"</") - data.count(b"<!") - data.count(b"<?")


def _sample_text(doc: Document, limit: int = 200_000) -> str:
    """Paragraphs, then table cells, up to about ``limit`` characters."""
    parts: list[str] = []
    n = 0
    for p in doc.paragraphs:
        parts.append(p.text)
        n += len(p.text)
        if n > limit:
            return "\n".join(parts)
    for t in doc.tables:
        for row in t.distinct_rows():
            line = "\t".join(row)
            parts.append(line)
            n += len(line)
            if n > limit:
                return "\n".join(parts)
    return "\n".join(parts)


def read_html(path: str, data: bytes, limits: Limits | None = None) -> Document:
    """Read an HTML page (``data`` are its raw bytes; ``path`` names it).

    Limits (``limits``, default :func:`helpers.limits.current`): a page larger
    than ``max_html_bytes`` or with more than ``max_html_nodes`` tags is
    refused (``unsupported``) before it is parsed.  libxml2 parses without
    network access, DTD loading or entity expansion, and stops at 256 levels
    of nesting (noted, the rest of the page is lost).

    Never raises on bad input: a page the parser cannot handle yields
    ``Document(status="failed")`` with a message naming the file.  A page
    without tables (or without any content) is ``ok`` with only paragraphs.

    Encoding: the charset declared in the first 8 KB (:func:`sniff_charset`)
    is passed to :func:`~helpers.read.encoding.decode_bytes`, whose result is
    recorded in ``Document.encoding``.  Shortcut for the common case: bytes
    without a BOM and not declared as something else than UTF-8 are parsed
    as UTF-8 directly; libxml2 validates the UTF-8 as it parses, and only if
    it reports invalid bytes is the page decoded by ``decode_bytes`` and
    parsed again.  Valid UTF-8 is what ``decode_bytes`` tries first, so the
    outcome is the same, without decoding the page twice.
    """
    doc = Document(path=path, kind="html")
    try:
        lim = limits if limits is not None else current()
        data = bytes(data)
        if len(data) > lim.max_html_bytes:
            doc.status = "unsupported"
            doc.message = lim.refusal(path, f"HTML page of {len(data):,} bytes", "max_html_bytes")
            return doc
        n_tags = count_tags(data)
        if n_tags > lim.max_html_nodes:
            doc.status = "unsupported"
            doc.message = lim.refusal(path, f"HTML page with about {n_tags:,} tags", "max_html_nodes")
            return doc
        declared = sniff_charset(data)
        root = None
        payload = b""
        if _fast_path_possible(data, declared):
            payload = _clean_payload(data)
            parser = _parser()
            root = _parse(payload, parser)
            if not _invalid_utf8(parser):
                doc.encoding = "utf-8"
        if doc.encoding is None:
            text, encoding = decode_bytes(data, path, declared)
            doc.encoding = encoding
            if "\ufffd" in text and "\ufffd".encode("utf-8") not in data:
                doc.notes.append("undecodable bytes replaced by U+FFFD")
            payload = _clean_payload(text.encode("utf-8", errors="replace"))
            del text
            parser = _parser()
            root = _parse(payload, parser)
        if declared:
            norm = normalize_encoding_name(declared)
            if norm is None:
                doc.notes.append(f"unknown charset {declared!r} declared; decoded as {doc.encoding}")
            elif norm not in _UTF8_NAMES and doc.encoding.startswith("utf-8"):
                doc.notes.append(f"declared charset {declared!r} but the bytes are valid UTF-8")
            elif norm != doc.encoding and not (norm in _UTF8_NAMES and doc.encoding.startswith("utf-8")):
                doc.notes.append(f"declared charset {declared!r}, decoded as {doc.encoding}")
        fatal = parser.error_log.filter_from_fatals()
        if fatal:
            # e.g. nesting deeper than 256 levels: the rest of the page is lost
            err = fatal[0]
            doc.notes.append(f"HTML parser stopped early: {err.message.strip()} (line {err.line})")
        if root is None:
            return doc
        doc.blocks = _build_or_retry(root, payload, doc)
        # A wrongly decoded page is damaged throughout, so a short round-trip
        # sample is enough here; table text counts too (a page may be all table).
        if looks_like_mojibake(_sample_text(doc), round_trip_chars=1000):
            doc.notes.append(f"{path}: {MOJIBAKE_NOTE}; labels may not be recognised")
        return doc
    except Exception as exc:  # noqa: BLE001 - a reader must not raise
        return Document(
            path=path,
            kind="html",
            status="failed",
            message=f"{path}: HTML could not be read: {type(exc).__name__}: {exc}",
            encoding=doc.encoding,
        )
