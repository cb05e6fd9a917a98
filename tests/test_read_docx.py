"""DOCX reader: the official blank template (read in place) and made-up packages."""

from __future__ import annotations

import io
import struct
import time
import zipfile

import docx as python_docx
import pytest

from helpers.document import Paragraph, Table
from helpers.read import docx as docx_mod
from helpers.read.docx import read_docx

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _template(shared_dir):
    path = shared_dir / "corpus" / "originals" / "blank_template.docx"
    return read_docx(str(path), path.read_bytes())


def _texts(table: Table) -> list[list[str]]:
    return [[c.text for c in row] for row in table.rows]


def _package(document_xml: bytes | None, extra: dict[str, bytes] | None = None,
             compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        if document_xml is not None:
            zf.writestr("word/document.xml", document_xml)
        for name, content in (extra or {}).items():
            zf.writestr(name, content)
    return buf.getvalue()


def _body(inner: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W_NS}"><w:body>{inner}</w:body></w:document>'
    ).encode("utf-8")


def _tc(text: str = "", span: int = 1, vmerge: str | None = None) -> str:
    pr = ""
    if span > 1:
        pr += f'<w:gridSpan w:val="{span}"/>'
    if vmerge == "continue":
        pr += "<w:vMerge/>"
    elif vmerge:
        pr += f'<w:vMerge w:val="{vmerge}"/>'
    return f"<w:tc><w:tcPr>{pr}</w:tcPr><w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p></w:tc>"


# ---------------------------------------------------------------- blank template


def test_template_blocks(shared_dir):
    doc = _template(shared_dir)
    assert doc.status == "ok", doc.message
    assert doc.kind == "docx"
    assert len(doc.tables) == 3  # Table 2 is ONE table in the template (four blocks)
    kinds = ["T" if isinstance(b, Table) else b.text for b in doc.blocks]
    # body order: headings and tables interleaved, empty paragraphs dropped
    assert kinds == [
        "政府信息公开工作年度报告格式模板",
        "一、总体情况",
        "（文字描述）",
        "二、主动公开政府信息情况",
        "T",
        "三、收到和处理政府信息公开申请情况",
        "T",
        "四、政府信息公开行政复议、行政诉讼情况",
        "T",
        "五、存在的主要问题及改进情况",
        "（文字描述）",
        "六、其他需要报告的事项",
        "（文字描述，收取信息处理费情况在此处报告。）",
    ]
    assert all(b.page is None for b in doc.blocks)


def test_template_table2(shared_dir):
    t2 = _template(shared_dir).tables[0]
    assert len(t2.rows) == 14 and all(len(r) == 4 for r in t2.rows)
    rows = list(t2.distinct_rows())
    assert rows[0] == ["第二十条第（一）项"]
    assert rows[1] == ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
    assert rows[4] == ["第二十条第（五）项"]
    assert rows[5] == ["信息内容", "本年处理决定数量"]
    assert rows[12] == ["信息内容", "本年收费金额（单位：万元）"]
    # the value cells of 规章 hold ideographic spaces: whitespace-only, kept
    assert t2.rows[2][0].text == "规章"
    assert t2.rows[2][1].text == "  " and t2.rows[2][2].text == " "
    for r in (2, 3, 6, 9, 10, 13):
        assert all(c.text.strip() == "" for c in t2.rows[r][1:])
    # 行政许可's value cell spans three columns
    assert [c.origin for c in t2.rows[6]] == [(6, 0), (6, 1), (6, 1), (6, 1)]


def test_template_table3(shared_dir):
    t3 = _template(shared_dir).tables[1]
    assert len(t3.rows) == 28
    assert all(len(r) == 10 for r in t3.rows)
    # 三、本年度办理结果 is one cell merged vertically over rows 5..26
    top = t3.rows[5][0]
    assert top.text == "三、本年度办理结果" and top.origin == (5, 0)
    for r in range(5, 27):
        assert t3.rows[r][0] == top
        assert t3.rows[r][0].origin == (5, 0)
        assert t3.rows[r][0].is_copy_at(r, 0) == (r != 5)
    assert t3.rows[27][0].text == "四、结转下年度继续办理"
    assert t3.rows[27][0].origin == (27, 0)
    # group labels merged over their children
    assert [t3.rows[r][1].origin for r in range(7, 15)] == [(7, 1)] * 8
    assert t3.rows[7][1].text == "（三）不予公开"
    # header: 自然人 and 总计 span two rows, the five organisation columns
    assert list(t3.distinct_rows())[2] == ["商业\n企业", "科研\n机构", "社会公益组织", "法律服务机构", "其他"]
    assert t3.rows[2][3].origin == (1, 3) and t3.rows[2][9].origin == (1, 9)
    assert t3.rows[3][0].text == "一、本年新收政府信息公开申请数量"
    assert [c.origin for c in t3.rows[3][:3]] == [(3, 0)] * 3
    # every value cell is blank and a real (non-copy) cell
    for r in range(3, 28):
        for c in range(3, 10):
            cell = t3.rows[r][c]
            assert cell.text.strip() == ""
            assert cell.origin == (r, c)
    # the distinct view of a 办理结果 row: child label + 7 values
    assert list(t3.distinct_rows())[8] == ["2.其他法律行政法规禁止公开"] + [""] * 7


def test_template_table4(shared_dir):
    t4 = _template(shared_dir).tables[2]
    assert len(t4.rows) == 4 and all(len(r) == 15 for r in t4.rows)
    assert t4.rows[0][4].text == "行政复议" and t4.rows[0][5].text == "行政诉讼"
    assert t4.rows[2][0].origin == (1, 0) and t4.rows[2][4].text == "总计"
    assert list(t4.distinct_rows())[2][0] == "结果\n维持"
    assert all(c.text == "" for c in t4.rows[3])


# ---------------------------------------------------------------- made-up DOCX


def _python_docx_bytes(build) -> bytes:
    d = python_docx.Document()
    build(d)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_python_docx_merged_cells():
    def build(d):
        d.add_paragraph("标题")
        t = d.add_table(rows=4, cols=4)
        for r in range(4):
            for c in range(4):
                t.cell(r, c).text = f"r{r}c{c}"
        t.cell(0, 0).merge(t.cell(0, 2))  # horizontal: gridSpan 3
        t.cell(1, 0).merge(t.cell(3, 0))  # vertical: vMerge over 3 rows
        t.cell(1, 1).merge(t.cell(2, 2))  # 2x2 block: both
        d.add_paragraph("之间")
        d.add_table(rows=1, cols=2).cell(0, 0).text = "second"
        d.add_paragraph("after")

    doc = read_docx("merged.docx", _python_docx_bytes(build))
    assert doc.status == "ok", doc.message
    assert [type(b).__name__ for b in doc.blocks] == [
        "Paragraph", "Table", "Paragraph", "Table", "Paragraph"]
    assert [b.text for b in doc.paragraphs] == ["标题", "之间", "after"]
    t = doc.tables[0]
    assert len(t.rows) == 4 and all(len(r) == 4 for r in t.rows)
    origins = [[c.origin for c in row] for row in t.rows]
    assert origins == [
        [(0, 0), (0, 0), (0, 0), (0, 3)],
        [(1, 0), (1, 1), (1, 1), (1, 3)],
        [(1, 0), (1, 1), (1, 1), (2, 3)],
        [(1, 0), (3, 1), (3, 2), (3, 3)],
    ]
    # python-docx moves merged contents into the top-left cell as paragraphs
    assert t.rows[0][0].text == "r0c0\nr0c1\nr0c2"
    assert t.rows[3][0].text == "r1c0\nr2c0\nr3c0"
    assert t.rows[2][2].text == "r1c1\nr1c2\nr2c1\nr2c2"
    assert list(t.distinct_rows()) == [
        ["r0c0\nr0c1\nr0c2", "r0c3"],
        ["r1c0\nr2c0\nr3c0", "r1c1\nr1c2\nr2c1\nr2c2", "r1c3"],
        ["r2c3"],
        ["r3c1", "r3c2", "r3c3"],
    ]
    assert _texts(doc.tables[1]) == [["second", ""]]


def test_run_text_breaks_tabs_and_spaces():
    def build(d):
        p = d.add_paragraph()
        p.add_run("一、")
        p.add_run("总体情况")
        t = d.add_table(rows=1, cols=3)
        cell = t.cell(0, 0)
        cell.paragraphs[0].add_run("商业")
        cell.add_paragraph("企业")
        run = t.cell(0, 1).paragraphs[0].add_run("a")
        run.add_tab()
        run.add_text("b")
        run.add_break()
        run.add_text("c")
        t.cell(0, 2).text = "\u3000\u3000"
        d.add_paragraph("\u3000\u3000正文\u00a0段落 ")

    doc = read_docx("runs.docx", _python_docx_bytes(build))
    assert doc.status == "ok", doc.message
    assert [b.text for b in doc.paragraphs] == ["一、总体情况", "正文 段落"]
    assert _texts(doc.tables[0]) == [["商业\n企业", "a b\nc", "  "]]


def test_raw_xml_edge_cases():
    table = (
        "<w:tbl>"
        # gridBefore: the row starts one grid column in
        '<w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr>' + _tc("b") + _tc("c") + "</w:tr>"
        # rows wrapped in a content control
        "<w:sdt><w:sdtPr/><w:sdtContent><w:tr>"
        + _tc("x", vmerge="restart") + _tc("y") + _tc("z") + "</w:tr></w:sdtContent></w:sdt>"
        "<w:tr>" + _tc("", vmerge="continue") + _tc("y2") + _tc("z2") + "</w:tr>"
        # a continue cell whose run is broken (not below a merge) starts a new cell
        "<w:tr>" + _tc("p") + _tc("", vmerge="continue") + _tc("r") + "</w:tr>"
        "</w:tbl>"
    )
    body = (
        "<w:p><w:r><w:t>保留</w:t></w:r><w:del><w:r><w:delText>删除</w:delText></w:r></w:del>"
        "<w:ins><w:r><w:t>插入</w:t></w:r></w:ins></w:p>"
        + table
        + "<w:p/><w:p><w:r><w:t> </w:t></w:r></w:p>"
    )
    doc = read_docx("raw.docx", _package(_body(body)))
    assert doc.status == "ok", doc.message
    assert [b.text for b in doc.paragraphs] == ["保留插入"]
    t = doc.tables[0]
    assert _texts(t) == [["", "b", "c"], ["x", "y", "z"], ["x", "y2", "z2"], ["p", "", "r"]]
    assert t.rows[2][0].origin == (1, 0)
    assert t.rows[3][1].origin == (3, 1)


def test_entities_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">'
        '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>x&xxe;&b;y</w:t></w:r></w:p>'
        "</w:body></w:document>"
    ).encode()
    doc = read_docx("xxe.docx", _package(xml))
    assert doc.status in ("ok", "failed")
    assert "TOP-SECRET" not in doc.text()
    assert "aaaaaaaaaa" not in doc.text()


# ---------------------------------------------------------------- refusals


def test_zip_bomb_refused_quickly():
    data = _package(_body("<w:p><w:r><w:t>" + " " * (60 * 1024 * 1024) + "</w:t></w:r></w:p>"))
    assert len(data) < 1024 * 1024  # highly compressible
    start = time.perf_counter()
    doc = read_docx("bomb.docx", data)
    elapsed = time.perf_counter() - start
    assert doc.status == "unsupported"
    assert doc.message.startswith("bomb.docx: ")
    assert "limit" in doc.message
    assert elapsed < 1.0, elapsed


def test_compression_ratio_refused():
    # under the size limit but compressing far more than any real document
    data = _package(_body("<w:p><w:r><w:t>" + " " * (5 * 1024 * 1024) + "</w:t></w:r></w:p>"))
    doc = read_docx("dense.docx", data)
    assert doc.status == "unsupported"
    assert "zip bomb" in doc.message
    # with the ratio limit lifted the same file reads
    assert read_docx("dense.docx", data, max_ratio=1e9).status == "ok"


def test_size_limit_override(monkeypatch):
    data = _package(_body("<w:p><w:r><w:t>正文</w:t></w:r></w:p>"), compression=zipfile.ZIP_STORED)
    assert read_docx("small.docx", data).status == "ok"
    doc = read_docx("small.docx", data, max_xml_bytes=100)
    assert doc.status == "unsupported" and "limit of 100 bytes" in doc.message
    monkeypatch.setenv("GIDR_MAX_DOCX_XML_MB", "0.0001")  # 104 bytes
    doc = read_docx("small.docx", data)
    assert doc.status == "unsupported"
    assert "GIDR_MAX_DOCX_XML_MB" in doc.message and "--max-docx-xml-mb" in doc.message


def test_lying_size_header_is_not_trusted():
    xml = _body("<w:p><w:r><w:t>" + "正文数据" * 20000 + "</w:t></w:r></w:p>")
    data = bytearray(_package(xml, compression=zipfile.ZIP_STORED))
    # rewrite the declared uncompressed and compressed sizes of word/document.xml
    # (local header and central directory) to claim only 1000 bytes
    name = b"word/document.xml"
    for sig, size_off in ((b"PK\x03\x04", 18), (b"PK\x01\x02", 20)):
        pos = 0
        while True:
            pos = data.find(sig, pos)
            if pos < 0:
                break
            name_off = 46 if sig == b"PK\x01\x02" else 30
            if data[pos + name_off:pos + name_off + len(name)] == name:
                struct.pack_into("<II", data, pos + size_off, 1000, 1000)
            pos += 4
    doc = read_docx("liar.docx", bytes(data), max_xml_bytes=5000)
    assert doc.status in ("failed", "unsupported")
    assert doc.message.startswith("liar.docx: ")
    assert doc.blocks == []


def test_zip_without_document_xml():
    data = _package(None, {"word/styles.xml": b"<w:styles/>", "hello.txt": b"hi"})
    doc = read_docx("notdocx.docx", data)
    assert doc.status == "unsupported"
    assert "notdocx.docx" in doc.message and "word/document.xml" in doc.message


def test_ole_file_unsupported():
    doc = read_docx("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert doc.status == "unsupported"
    assert "old.doc" in doc.message


@pytest.mark.parametrize("data", [b"", b"garbage bytes, not a zip", b"PK\x03\x04broken"])
def test_broken_zip_fails(data):
    doc = read_docx("broken.docx", data)
    assert doc.status == "failed"
    assert doc.message.startswith("broken.docx: ")


def test_truncated_docx_fails(shared_dir):
    data = (shared_dir / "corpus" / "originals" / "blank_template.docx").read_bytes()
    doc = read_docx("cut.docx", data[: len(data) // 2])
    assert doc.status == "failed"
    assert "cut.docx" in doc.message


def test_malformed_xml_fails():
    doc = read_docx("bad.docx", _package(b"<w:document><w:body><w:p>"))
    assert doc.status == "failed"
    assert doc.message.startswith("bad.docx: ")


def test_document_without_body_unsupported():
    doc = read_docx("nobody.docx", _package(f'<w:document xmlns:w="{W_NS}"/>'.encode()))
    assert doc.status == "unsupported"
    assert "w:body" in doc.message


def test_main_part_found_through_relationships():
    rels = (
        b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        b'Target="word/document2.xml"/></Relationships>'
    )
    data = _package(None, {"_rels/.rels": rels,
                           "word/document2.xml": _body("<w:p><w:r><w:t>二号</w:t></w:r></w:p>")})
    doc = read_docx("rel.docx", data)
    assert doc.status == "ok", doc.message
    assert [b.text for b in doc.paragraphs] == ["二号"]


def test_never_raises_on_odd_inputs():
    for data in (b"PK\x05\x06" + b"\0" * 18, bytes(range(256)) * 4, memoryview(b"x" * 10)):
        doc = read_docx("odd.docx", data)
        assert doc.status in ("failed", "unsupported")
        assert isinstance(doc.blocks, list) and all(isinstance(b, (Paragraph, Table)) for b in doc.blocks)
