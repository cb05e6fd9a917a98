"""PDF reader: real reports from the shared corpus (read in place) and made-up files."""

from __future__ import annotations

import io
import json
import re

import pytest

from helpers.document import Paragraph
from helpers.read import pdf as pdf_mod
from helpers.read.pdf import is_page_number_line, page_lines, pdf_pages_text, read_pdf

T3_COLUMNS = (
    "natural_person",
    "commercial",
    "research",
    "social_welfare",
    "legal_services",
    "other_org",
    "total",
)
PAGE_NUMBER_RE = re.compile(r"^[-—－]\s*\d+\s*[-—－]$")


def _read_original(shared_dir, name):
    path = shared_dir / "corpus" / "originals" / name
    return read_pdf(str(path), path.read_bytes())


def _lines(doc):
    return [b.text for b in doc.blocks if isinstance(b, Paragraph)]


# ---------------------------------------------------------------- made-up PDFs


def build_pdf(pages: list[list[str]], trailer_extra: bytes = b"", extra_objs=()) -> bytes:
    """A minimal PDF: one Helvetica text line per string, top to bottom."""
    objs: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # page tree, filled in below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    kids = []
    for lines in pages:
        ops = [
            b"BT /F1 12 Tf 72 %d Td (%s) Tj ET" % (760 - 20 * i, line.encode("latin-1"))
            for i, line in enumerate(lines)
        ]
        stream = b"\n".join(ops)
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        contents = len(objs)
        objs.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % contents
        )
        kids.append(len(objs))
    objs[1] = (
        b"<< /Type /Pages /Kids ["
        + b" ".join(b"%d 0 R" % k for k in kids)
        + b"] /Count %d >>" % len(kids)
    )
    objs.extend(extra_objs)
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += (
        b"trailer\n<< /Size %d /Root 1 0 R " % (len(objs) + 1)
        + trailer_extra
        + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    )
    return out


def blank_pdf(n_pages: int) -> bytes:
    """Pages with nothing on them, as a scanner without OCR would leave them."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    try:
        for _ in range(n_pages):
            page = pdf.new_page(595, 842)
            page.close()
        buf = io.BytesIO()
        pdf.save(buf)
        return buf.getvalue()
    finally:
        pdf.close()


# ---------------------------------------------------------------- real corpus


def test_hongze_2023_lines(shared_dir):
    doc = _read_original(shared_dir, "hongze_2023.pdf")
    assert doc.status == "ok", doc.message
    assert doc.kind == "pdf"
    assert not doc.tables
    lines = _lines(doc)
    # Table 4's single data row, exactly as printed (its totals contradict its parts)
    assert "10 1 0 0 0 0 0 0 0 0 5 0 0 0 0" in lines
    assert any(x.startswith("一、本年新收政府信息公开申请数量") for x in lines)
    assert "一、本年新收政府信息公开申请数量 21 0 0 0 0 0 21" in lines
    # page numbers ("- 1 -" … "- 5 -") are gone, data lines of zeros stay
    assert not any(PAGE_NUMBER_RE.match(x) for x in lines)
    assert "二、上年结转政府信息公开申请数量 0 0 0 0 0 0 0" in lines
    # every line is stripped and non-empty, no U+3000 / U+00A0 left
    assert all(x and x == x.strip() for x in lines)
    assert not any("\u3000" in x or "\u00a0" in x for x in lines)


def test_hongze_2023_pages(shared_dir):
    doc = _read_original(shared_dir, "hongze_2023.pdf")
    pages = [b.page for b in doc.blocks]
    assert all(isinstance(p, int) for p in pages)
    assert pages == sorted(pages), "lines must come in page order"
    assert set(pages) == {1, 2, 3, 4, 5}
    by_text = {b.text: b.page for b in doc.blocks}
    assert by_text["洪泽区人民政府"] == 1
    assert by_text["一、本年新收政府信息公开申请数量 21 0 0 0 0 0 21"] == 3
    assert by_text["10 1 0 0 0 0 0 0 0 0 5 0 0 0 0"] == 4
    # T3 runs over pp.3-4: its last rows are at the top of page 4
    assert by_text["四、结转下年度继续办理 0 0 0 0 0 0 0"] == 4
    # the first line of page 4 is the continued table, not the page number
    first_p4 = next(b.text for b in doc.blocks if b.page == 4)
    assert first_p4 == "3.补正后申请内容仍不明确 0 0 0 0 0 0 0"


def test_hongze_2024_t3_new_received(shared_dir):
    expected = json.loads(
        (shared_dir / "corpus" / "expected" / "hongze_2024.json").read_text(encoding="utf-8")
    )
    values = [expected["cells"][f"t3.new_received.{col}"] for col in T3_COLUMNS]
    assert None not in values
    doc = _read_original(shared_dir, "hongze_2024.pdf")
    assert doc.status == "ok", doc.message
    lines = _lines(doc)
    label = "一、本年新收政府信息公开申请数量"
    rows = [x for x in lines if x.startswith(label)]
    assert len(rows) == 1
    numbers = rows[0][len(label):].split()
    assert [int(n) for n in numbers] == values
    assert rows[0] == label + " " + " ".join(str(v) for v in values)
    assert not any(PAGE_NUMBER_RE.match(x) for x in lines)
    assert {b.page for b in doc.blocks} == {1, 2, 3, 4, 5}


def test_pdf_pages_text_is_raw(shared_dir):
    data = (shared_dir / "corpus" / "originals" / "hongze_2023.pdf").read_bytes()
    texts = pdf_pages_text(data)
    assert len(texts) == 5
    assert texts[2].splitlines()[0] == "- 3 -"  # the raw layer still has it
    assert len(pdf_pages_text(data, max_pages=2)) == 2


# ---------------------------------------------------------------- page furniture


@pytest.mark.parametrize(
    "line",
    ["- 3 -", "-3-", "— 3 —", "－ 12 －", "第 3 页", "第3页", "第三页", "第3页 共5页",
     "共5页 第3页", "3/5", "3 / 5", "Page 3", "page 3 of 5"],
)
def test_page_number_forms(line):
    assert is_page_number_line(line)


@pytest.mark.parametrize(
    "line",
    ["21", "0 0 0 0 0 0 0", "10 1 0 0 0 0 0 0 0 0 5 0 0 0 0", "-185", "5/3", "0/0",
     "第二十条第（一）项", "3.危及“三安全一稳定” 0 0 0 0 0 0 0", "7730.28"],
)
def test_not_page_number(line):
    assert not is_page_number_line(line)


def test_page_lines_only_at_edges():
    text = "- 2 -\r\n正文第一行\r\n- 7 -\r\n21\r\n\r\n0 0 0\r\n第 2 页\r\n"
    lines, dropped = page_lines(text)
    # only the first and last lines are furniture; "- 7 -" mid-page stays
    assert lines == ["正文第一行", "- 7 -", "21", "0 0 0"]
    assert dropped == 2


def test_page_lines_cleaning():
    lines, _ = page_lines("\u3000\u3000一、总体情况\u00a0\r\n  \r\n规章\u30000 0 0  \x02")
    assert lines == ["一、总体情况", "规章 0 0 0"]


def test_made_up_pdf_furniture_and_numbers():
    data = build_pdf([
        ["- 1 -", "Annual report", "0 0 0 0 0 0 0", "21"],
        ["Page 2", "Second page", "10 1 0 0 5", "2/3"],
        ["21", "last page", "- 3 -"],
    ])
    doc = read_pdf("made_up.pdf", data)
    assert doc.status == "ok", doc.message
    got = [(b.text, b.page) for b in doc.blocks]
    assert got == [
        ("Annual report", 1), ("0 0 0 0 0 0 0", 1), ("21", 1),
        ("Second page", 2), ("10 1 0 0 5", 2),
        ("21", 3), ("last page", 3),
    ]


# ---------------------------------------------------------------- refusals


def test_no_text_layer_is_unsupported():
    doc = read_pdf("scan.pdf", blank_pdf(3))
    assert doc.status == "unsupported"
    assert doc.message == "scan.pdf: PDF has no text layer (scanned image?); OCR is not supported"
    assert doc.blocks == []


def test_only_page_numbers_is_unsupported():
    doc = read_pdf("scan2.pdf", build_pdf([["- 1 -"], ["- 2 -"], ["Page 3"]]))
    assert doc.status == "unsupported"
    assert "no text layer" in doc.message


def test_garbage_bytes_fail():
    doc = read_pdf("junk.pdf", b"\x00\x01 this is not a PDF at all " * 50)
    assert doc.status == "failed"
    assert doc.message.startswith("junk.pdf: ")
    assert doc.blocks == []


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n", b"%PDF-1.4\n1 0 obj << /Type /Catalog"])
def test_broken_pdf_fails(data):
    doc = read_pdf("broken.pdf", data)
    assert doc.status == "failed"
    assert "broken.pdf" in doc.message


def test_encrypted_pdf_fails():
    # standard security handler whose /U entry matches no password, so the
    # file cannot be opened without one; objects 4-5 are the page's content
    # and page, the encryption dictionary is object 6
    enc = (
        b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32
        + b"> /P -4 >>"
    )
    file_id = b"<" + b"33" * 16 + b">"
    data = build_pdf(
        [["secret text line"]],
        trailer_extra=b"/Encrypt 6 0 R /ID [" + file_id + b" " + file_id + b"]",
        extra_objs=[enc],
    )
    doc = read_pdf("locked.pdf", data)
    assert doc.status == "failed"
    assert doc.message.startswith("locked.pdf: ")
    assert "encrypted" in doc.message


def test_page_limit():
    data = build_pdf([["line on page %d with text" % i] for i in range(4)])
    doc = read_pdf("long.pdf", data, max_pages=3)
    assert doc.status == "unsupported"
    assert "4 pages" in doc.message and "limit of 3" in doc.message
    assert read_pdf("long.pdf", data, max_pages=4).status == "ok"


def test_module_page_limit(monkeypatch):
    data = build_pdf([["line on page %d with text" % i] for i in range(3)])
    monkeypatch.setenv("GIDR_MAX_PDF_PAGES", "2")
    doc = read_pdf("long.pdf", data)
    assert doc.status == "unsupported"
    assert "limit of 2" in doc.message
    assert "GIDR_MAX_PDF_PAGES" in doc.message and "--max-pdf-pages" in doc.message
