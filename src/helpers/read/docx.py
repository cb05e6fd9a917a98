"""DOCX reader: body paragraphs and tables with exact merged cells.

The main document part (``word/document.xml``, or wherever the package
relationships point) is parsed with lxml's safe settings (no entities, no
network, no huge trees).  The body is walked in order; paragraphs become
:class:`Paragraph` blocks and tables become :class:`Table` blocks whose grid
is built by :func:`helpers.document.grid_from_spans`:

* ``w:gridSpan`` gives a cell's column span; ``w:gridBefore`` (leading
  grid columns a row skips) becomes an empty placeholder cell;
* a run of ``w:vMerge`` cells (``restart`` followed by ``continue`` cells in
  the same grid column) becomes one cell with a row span, so every covered
  slot is a copy carrying the origin of the restart cell.

Text: runs are concatenated without separators, ``w:tab`` becomes a space,
``w:br``/``w:cr`` a newline, paragraphs inside a cell are joined with ``\\n``.
U+3000 and U+00A0 become ordinary spaces.  Cell text is not stripped, so a
value cell holding only ideographic spaces comes out as whitespace-only text
(blank downstream).  Body paragraphs are stripped and empty ones are dropped.
Deleted revisions (``w:del``) and ``mc:Fallback`` duplicates are ignored.

Hostile input: the package is refused (``unsupported``) when it is not a DOCX
(no main document part, or a legacy/encrypted OLE file), when its central
directory lists more than ``max_zip_entries`` members (checked in the
end-of-central-directory record, before the directory is parsed), when the
main part is larger than ``max_docx_xml_bytes`` or compresses more than
``max_zip_ratio`` : 1 (zip bomb); the limits are those of
:class:`helpers.limits.Limits`.  The member is read with a size cap, so a
lying zip header cannot make it decompress more.  The XML parser neither
loads DTDs nor expands entities nor touches the network, so "billion laughs"
and external entities (``file:///etc/passwd``) come out as nothing.  A broken
zip or XML gives ``failed``.  The reader never raises.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile

from lxml import etree

from ..document import Document, Paragraph, Table, grid_from_spans
from ..limits import Limits, current

MAX_RELS_BYTES = 1024 * 1024
"""Cap on the package relationships part (only read to find the main part)."""

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_W = "{%s}" % W_NS
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OFFICE_DOC_TYPES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
    "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
)
_DEFAULT_MAIN = "word/document.xml"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Elements that only wrap content (structured document tags, custom XML,
# smart tags, inserted/moved revisions, hyperlinks, fields): walk into them.
_WRAPPERS = {
    _W + "sdt",
    _W + "sdtContent",
    _W + "customXml",
    _W + "smartTag",
    _W + "ins",
    _W + "moveTo",
    _W + "hyperlink",
    _W + "fldSimple",
    _W + "dir",
    _W + "bdo",
}
# Subtrees whose text is not visible (or duplicated elsewhere).
_SKIP = {
    _W + "del",
    _W + "moveFrom",
    _W + "pPr",
    _W + "rPr",
    _W + "tblPr",
    _W + "trPr",
    _W + "tcPr",
    _W + "sdtPr",
    _W + "sdtEndPr",
    "{%s}Fallback" % MC_NS,
}
# Walked into by :func:`_content_children`: the wrappers, and the chosen branch of markup compatibility.
_LOOK_THROUGH = _WRAPPERS | {"{%s}AlternateContent" % MC_NS, "{%s}Choice" % MC_NS}
# Tags compared in the hot loops, spelled once.
_P, _T, _TAB, _PTAB, _BR, _CR, _NB_HYPHEN = (_W + t for t in ("p", "t", "tab", "ptab", "br", "cr", "noBreakHyphen"))
_TBL, _TR, _TC, _TRPR, _TCPR = (_W + t for t in ("tbl", "tr", "tc", "trPr", "tcPr"))
_GRID_BEFORE, _GRID_SPAN, _VMERGE = (_W + t for t in ("gridBefore", "gridSpan", "vMerge"))


class _Refused(Exception):
    """The package is not something this reader accepts (status unsupported)."""


def _space(text: str) -> str:
    return text.replace("\u3000", " ").replace("\u00a0", " ")


# --------------------------------------------------------------------------
# text of paragraphs and cells


def _inline_text(el, out: list[str]) -> None:
    """Append the visible text under ``el`` (paragraph content) to ``out``."""
    for child in el:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP:
            continue
        if tag == _T:
            if child.text:
                out.append(child.text)
        elif tag == _TAB or tag == _PTAB:
            out.append(" ")
        elif tag == _BR or tag == _CR:
            out.append("\n")
        elif tag == _NB_HYPHEN:
            out.append("-")
        elif tag == _P:
            # a paragraph nested in a text box inside this paragraph
            if out and not out[-1].endswith("\n"):
                out.append("\n")
            _inline_text(child, out)
            out.append("\n")
        else:
            _inline_text(child, out)


def paragraph_text(p) -> str:
    out: list[str] = []
    _inline_text(p, out)
    return _space("".join(out))


def _content_children(el):
    """Children of ``el``, looking through wrapper elements (sdt, customXml...)."""
    for child in el:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP:
            continue
        if tag in _LOOK_THROUGH:
            yield from _content_children(child)
        else:
            yield child


def _cell_text(tc) -> str:
    """Paragraphs of a cell joined with newlines; nested tables row by row."""
    parts: list[str] = []
    for child in _content_children(tc):
        tag = child.tag
        if tag == _P:
            parts.append(paragraph_text(child))
        elif tag == _TBL:
            for row in _table_rows(child):
                texts = [t for t, _rs, _cs in row if t.strip()]
                if texts:
                    parts.append(" ".join(texts))
    return "\n".join(parts)


# --------------------------------------------------------------------------
# tables


def _int_attr(el, name: str, default: int) -> int:
    if el is None:
        return default
    try:
        return int(el.get(_W + name, default))
    except (TypeError, ValueError):
        return default


def _child(el, tag: str):
    """The first child of ``el`` with ``tag``, or None: ``el.find(tag)``
    without lxml's path machinery, which costs more than the walk."""
    for x in el:
        if x.tag == tag:
            return x
    return None


def _span_and_merge(tcpr):
    """``(tcpr.find(gridSpan), tcpr.find(vMerge))`` in one walk."""
    span = vmerge = None
    for x in tcpr:
        tag = x.tag
        if tag == _GRID_SPAN:
            if span is None:
                span = x
        elif tag == _VMERGE and vmerge is None:
            vmerge = x
    return span, vmerge


def _table_rows(tbl) -> list[list[tuple[str, int, int]]]:
    """``(text, rowspan, colspan)`` rows of a ``w:tbl`` with vMerge resolved.

    A ``continue`` cell is folded into the cell above it that starts in the
    same grid column (when that cell's run reaches the previous row); it
    then disappears from its own row and the origin's row span grows.
    """
    rows: list[list[list]] = []
    # grid column -> the [text, rowspan, colspan, start_row] entry whose
    # vertical merge is still open there
    open_merges: dict[int, list] = {}
    for r, tr in enumerate(x for x in _content_children(tbl) if x.tag == _TR):
        row: list[list] = []
        trpr = _child(tr, _TRPR)
        col = _int_attr(_child(trpr, _GRID_BEFORE) if trpr is not None else None, "val", 0)
        col = max(0, min(col, 64))
        if col:
            row.append(["", 1, col, r])
        for tc in (x for x in _content_children(tr) if x.tag == _TC):
            tcpr = _child(tc, _TCPR)
            span = 1
            vmerge = None
            if tcpr is not None:
                span_el, vm = _span_and_merge(tcpr)
                span = _int_attr(span_el, "val", 1)
                if vm is not None:
                    vmerge = vm.get(_W + "val", "continue")
            span = max(1, min(span, 64))
            text = _cell_text(tc)
            above = open_merges.get(col)
            if (
                vmerge == "continue"
                and above is not None
                and above[3] + above[1] == r
                and above[2] == span
            ):
                above[1] += 1
                if text.strip():
                    above[0] = f"{above[0]}\n{text}" if above[0].strip() else text
            else:
                entry = [text, 1, span, r]
                row.append(entry)
                for c in range(col, col + span):
                    open_merges.pop(c, None)
                if vmerge is not None:  # restart (or a continue with nothing above)
                    open_merges[col] = entry
            col += span
        rows.append(row)
    return [[(t, rs, cs) for t, rs, cs, _r in row] for row in rows]


def _table(tbl) -> Table | None:
    rows = _table_rows(tbl)
    if not rows:
        return None
    return Table(rows=grid_from_spans(rows), page=None, source="grid")


# --------------------------------------------------------------------------
# body


def _blocks(body, doc: Document) -> None:
    for child in _content_children(body):
        tag = child.tag
        if tag == _P:
            text = paragraph_text(child).strip()
            if text:
                doc.blocks.append(Paragraph(text))
        elif tag == _TBL:
            table = _table(child)
            if table is not None:
                doc.blocks.append(table)


# --------------------------------------------------------------------------
# package


def _find_member(zf: zipfile.ZipFile, name: str) -> zipfile.ZipInfo | None:
    """Part names are case-insensitive in OPC; look the name up that way."""
    want = name.lstrip("/").lower()
    for info in zf.infolist():
        if info.filename.lower() == want:
            return info
    return None


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, what: str, lim: Limits | None = None) -> bytes:
    """Read a member, never decompressing more than ``cap`` bytes."""
    chunks: list[bytes] = []
    total = 0
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(min(1 << 20, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > cap:
                if lim is None:
                    raise _Refused(f"{what} is larger than the limit of {cap} bytes")
                raise _Refused(f"{what} decompresses to more than {cap:,} bytes, {_how(lim, 'max_docx_xml_bytes')}")
    return b"".join(chunks)


def _main_part_name(zf: zipfile.ZipFile) -> str:
    rels = _find_member(zf, "_rels/.rels")
    if rels is None or rels.file_size > MAX_RELS_BYTES:
        return _DEFAULT_MAIN
    try:
        root = etree.fromstring(_read_capped(zf, rels, MAX_RELS_BYTES, "_rels/.rels"), _parser())
    except (_Refused, etree.XMLSyntaxError, ValueError):
        return _DEFAULT_MAIN
    for rel in root.iter(_RELS_NS + "Relationship"):
        if rel.get("Type") in _OFFICE_DOC_TYPES and rel.get("TargetMode") != "External":
            target = rel.get("Target") or ""
            name = posixpath.normpath(target.lstrip("/"))
            if name and not name.startswith(".."):
                return name
    return _DEFAULT_MAIN


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )


def read_docx(
    path: str,
    data: bytes,
    max_xml_bytes: int | None = None,
    max_ratio: float | None = None,
    limits: Limits | None = None,
) -> Document:
    """Read a DOCX file into a :class:`Document`.

    ``path`` is only used in messages; ``data`` is the file's content.
    ``limits`` default to :func:`helpers.limits.current` (defaults and
    environment); ``max_xml_bytes`` and ``max_ratio`` override their
    ``max_docx_xml_bytes`` and ``max_zip_ratio``.
    """
    doc = Document(path=path, kind="docx")
    try:
        lim = limits if limits is not None else current()
        if max_xml_bytes is not None:
            lim = lim.replace(max_docx_xml_bytes=max_xml_bytes)
        if max_ratio is not None:
            lim = lim.replace(max_zip_ratio=max_ratio)
        _read(doc, data, lim)
    except _Refused as exc:
        doc.blocks = []
        doc.status = "unsupported"
        doc.message = f"{path}: {exc}"
    except Exception as exc:  # never raise to the caller
        doc.blocks = []
        doc.status = "failed"
        doc.message = f"{path}: DOCX could not be read ({type(exc).__name__}: {exc})"
    return doc


def _how(lim: Limits, name: str) -> str:
    return f"over the limit of {lim.show(name)} ({name}); not read — {lim.how_to_raise(name)}"


_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_MIN_CD_ENTRY = 46


def zip_directory_size(data: bytes) -> tuple[int, int] | None:
    """``(entries, central directory bytes)`` from the end-of-central-directory
    record (ZIP64 aware), or None when there is none."""
    tail_start = max(0, len(data) - (65535 + 22))
    pos = data.rfind(_EOCD, tail_start)
    if pos < 0 or pos + 22 > len(data):
        return None
    entries, cd_size = struct.unpack_from("<HI", data, pos + 10)
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:
        loc = pos - 20
        if loc >= 0 and data[loc : loc + 4] == _EOCD64_LOCATOR:
            (off,) = struct.unpack_from("<Q", data, loc + 8)
            if off + 56 <= len(data) and data[off : off + 4] == _EOCD64:
                entries, cd_size = struct.unpack_from("<QQ", data, off + 32)
    return entries, cd_size


def _read(doc: Document, data: bytes, lim: Limits) -> None:
    path = doc.path
    cap = lim.max_docx_xml_bytes
    ratio = lim.max_zip_ratio
    if bytes(data[:8]) == _OLE_MAGIC:
        raise _Refused(
            "not a DOCX package: an OLE compound file (legacy .doc or a password-protected Office file)"
        )
    data = bytes(data)
    directory = zip_directory_size(data)
    if directory is not None:
        entries, cd_size = directory
        # zipfile parses the whole directory (one object per member) and trusts
        # its byte size over the count: check both before it does
        if entries > lim.max_zip_entries or cd_size > lim.max_zip_entries * 1024:
            n = max(entries, cd_size // _MIN_CD_ENTRY)
            raise _Refused(f"the DOCX package lists about {n:,} members, {_how(lim, 'max_zip_entries')}")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        doc.status = "failed"
        doc.message = f"{path}: not a readable DOCX (broken zip: {exc})"
        return
    with zf:
        name = _main_part_name(zf)
        info = _find_member(zf, name)
        if info is None and name != _DEFAULT_MAIN:
            info = _find_member(zf, _DEFAULT_MAIN)
        if info is None:
            raise _Refused(f"not a DOCX package: no main document part ({_DEFAULT_MAIN})")
        if info.file_size > cap:
            raise _Refused(
                f"{info.filename} is {info.file_size:,} bytes uncompressed, {_how(lim, 'max_docx_xml_bytes')}"
            )
        if info.file_size and (
            info.compress_size == 0 or info.file_size / info.compress_size > ratio
        ):
            raise _Refused(
                f"{info.filename} compresses {info.file_size:,} bytes into "
                f"{info.compress_size:,} (ratio above {ratio:g}): refused as a possible zip bomb, "
                f"{_how(lim, 'max_zip_ratio')}"
            )
        xml = _read_capped(zf, info, cap, info.filename, lim)
        if info.compress_size and len(xml) / info.compress_size > ratio:
            raise _Refused(
                f"{info.filename} decompresses to {len(xml):,} bytes from "
                f"{info.compress_size:,} (ratio above {ratio:g}): refused as a possible zip bomb, "
                f"{_how(lim, 'max_zip_ratio')}"
            )

    root = etree.fromstring(xml, _parser())
    body = root.find(_W + "body")
    if body is None:
        raise _Refused(f"{info.filename} has no w:body: not a WordprocessingML document")
    _blocks(body, doc)
    n_tables = len(doc.tables)
    doc.notes.append(f"{len(doc.paragraphs)} paragraphs and {n_tables} tables read from {info.filename}")
