"""Tests for helpers.read.html.read_html.

Hand-made fixtures are written inline; the real Pingtan pages are read in
place from the shared corpus (fixture ``shared_dir``).
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.document import Cell, Paragraph, Table, grid_from_spans
from helpers.read.html import read_html, sniff_charset

CODEBOOK = Path(__file__).resolve().parent.parent / "src" / "helpers" / "data" / "codebook.csv"
NEW_RECEIVED = "一、本年新收政府信息公开申请数量"


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>标题</title></head><body>{body}</body></html>"


def read(html: str | bytes, path: str = "fixture.html"):
    data = html.encode("utf-8") if isinstance(html, str) else html
    doc = read_html(path, data)
    assert doc.kind == "html"
    assert doc.status == "ok", doc.message
    return doc


def texts(table: Table) -> list[list[str]]:
    return [[c.text for c in row] for row in table.rows]


def only_table(doc) -> Table:
    assert len(doc.tables) == 1, doc.blocks
    return doc.tables[0]


# --- cell text ------------------------------------------------------------------


def test_number_split_over_spans_is_joined():
    doc = read(page('<table><tr><td><p class="MsoNormal"><span style="x">2</span><span>0</span></p></td></tr></table>'))
    assert texts(only_table(doc)) == [["20"]]


def test_inline_markup_joined_without_separators():
    doc = read(page("<table><tr><td><b>1</b><i>2</i><font>3</font><a href='#'>4</a><span><span>5</span></span></td></tr></table>"))
    assert texts(only_table(doc)) == [["12345"]]


def test_block_children_give_newlines():
    html = page(
        "<table><tr>"
        "<td><p>商业</p><p>企业</p></td>"
        "<td>本年新<br />制作数量</td>"
        "<td><div>科研</div><div> </div><div>机构</div></td>"
        "<td><p><span>社会</span></p>\n  <p><span>公益</span><br><span>组织</span></p></td>"
        "</tr></table>"
    )
    assert texts(only_table(read(html))) == [["商业\n企业", "本年新\n制作数量", "科研\n机构", "社会\n公益\n组织"]]


def test_nbsp_ideographic_space_and_whitespace_runs():
    html = page(
        "<table><tr>"
        "<td>&nbsp;</td>"
        "<td>&nbsp;&nbsp;12&nbsp;</td>"
        "<td>\u3000总\u3000计\u3000</td>"
        "<td>  行政\n\t  许可  </td>"
        "<td><span>0</span><span>&nbsp;&nbsp;&nbsp;</span></td>"
        "</tr></table>"
    )
    assert texts(only_table(read(html))) == [["", "12", "总 计", "行政 许可", "0"]]


def test_word_o_p_and_comments_are_ignored():
    html = page(
        "<table><tr><td><p class=MsoNormal><span>8<!-- c -->0</span><o:p>&nbsp;</o:p></p></td>"
        "<td><p><span>合计</span><o:p>不可见</o:p></p></td></tr></table>"
    )
    assert texts(only_table(read(html))) == [["80", "合计"]]


def test_zero_width_characters_removed():
    doc = read(page("<table><tr><td>1\u200b2\ufeff3</td></tr></table>"))
    assert texts(only_table(doc)) == [["123"]]


# --- grid -----------------------------------------------------------------------


def test_rowspan_and_colspan_grid():
    html = page(
        "<table>"
        "<tr><td rowspan=2>A</td><td colspan=2>B</td></tr>"
        "<tr><td>C</td><td>D</td></tr>"
        "<tr><td colspan=3>E</td></tr>"
        "</table>"
    )
    t = only_table(read(html))
    assert texts(t) == [["A", "B", "B"], ["A", "C", "D"], ["E", "E", "E"]]
    assert t.rows[1][0].origin == (0, 0) and t.rows[1][0].is_copy_at(1, 0)
    assert t.rows[0][2].origin == (0, 1) and t.rows[0][2].is_copy_at(0, 2)
    assert not t.rows[1][1].is_copy_at(1, 1)
    assert list(t.distinct_rows()) == [["A", "B"], ["C", "D"], ["E"]]


def test_header_wider_than_data_rows():
    # 11 header columns; the data row puts 商业企业's value in a colspan=2 cell.
    header1 = "<tr><td rowspan=3 colspan=2>指标</td><td colspan=9>申请人情况</td></tr>"
    header2 = "<tr><td rowspan=2>自然人</td><td colspan=7>法人或其他组织</td><td rowspan=2>总计</td></tr>"
    header3 = "<tr><td colspan=2>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td colspan=2>其他</td></tr>"
    data = "<tr><td colspan=2>一、本年新收</td><td>64</td><td colspan=2>0</td><td>0</td><td>2</td><td>0</td><td colspan=2>4</td><td>70</td></tr>"
    t = only_table(read(page(f"<table>{header1}{header2}{header3}{data}</table>")))
    assert max(len(r) for r in t.rows) == 11
    rows = list(t.distinct_rows())
    assert rows[3] == ["一、本年新收", "64", "0", "0", "2", "0", "4", "70"]


@pytest.mark.parametrize(
    "rowspan, colspan, expected",
    [
        ('"2;"', '"2;"', [["a", "a", "b"], ["a", "a", "c"]]),
        ('""', '""', [["a", "b"], ["c"]]),
        ('"abc"', '"-3"', [["a", "b"], ["c"]]),
        ('" 2 "', '"1.5"', [["a", "b"], ["a", "c"]]),
        ('"0"', '"0"', [["a", "b"], ["a", "c"]]),  # rowspan=0: to the end of the table
        ('"999999999999999999999999"', '"2"', [["a", "a", "b"], ["a", "a", "c"]]),
    ],
)
def test_malformed_span_attributes(rowspan, colspan, expected):
    html = page(f"<table><tr><td rowspan={rowspan} colspan={colspan}>a</td><td>b</td></tr><tr><td>c</td></tr></table>")
    assert texts(only_table(read(html))) == expected


def test_huge_colspan_is_clamped():
    t = only_table(read(page("<table><tr><td colspan=100000>x</td></tr><tr><td>y</td></tr></table>")))
    assert 1 <= len(t.rows[0]) <= 64
    assert texts(t)[1] == ["y"]


def test_many_large_spans_cannot_blow_up_the_grid():
    n = 400  # each row: one cell spanning all rows below and 64 columns
    html = "<table>" + f"<tr><td rowspan={n} colspan=64>x</td></tr>" * n + "</table>"
    doc = read(page(html))
    t = only_table(doc)
    assert len(t.rows) == n and sum(len(r) for r in t.rows) == n
    assert any("spans ignored" in note for note in doc.notes)


def test_row_groups_and_header_cells_in_document_order():
    html = page(
        "<table><caption>表1</caption>"
        "<thead><tr><th>h1</th><th>h2</th></tr></thead>"
        "<tbody><tr><td>1</td><td>2</td></tr></tbody>"
        "<tr><td>3</td><td>4</td></tr>"
        "<tfoot><tr><th>f</th><td>5</td></tr></tfoot>"
        "</table>"
    )
    doc = read(html)
    assert texts(only_table(doc)) == [["h1", "h2"], ["1", "2"], ["3", "4"], ["f", "5"]]
    assert [b.text for b in doc.blocks if isinstance(b, Paragraph)] == ["表1"]
    assert isinstance(doc.blocks[0], Paragraph) and isinstance(doc.blocks[1], Table)


def test_text_in_a_table_outside_cells_goes_before_the_table():
    doc = read(page("<table>前<tr><td>1</td>间<td>2</td></tr>注</table>后"))
    assert [b.text if isinstance(b, Paragraph) else texts(b) for b in doc.blocks] == [
        "前",
        "间",
        "注",
        [["1", "2"]],
        "后",
    ]


def test_blank_rows_kept():
    t = only_table(read(page("<table><tr><td>1</td><td>2</td></tr><tr><td>&nbsp;</td><td></td></tr><tr></tr></table>")))
    assert texts(t) == [["1", "2"], ["", ""], []]


def test_nested_table_becomes_its_own_block_after_the_outer_one():
    html = page(
        "<p>前</p>"
        "<table><tr><td>外1<table><tr><td>内</td><td>9</td></tr></table>外2</td><td>x</td></tr></table>"
        "<p>后</p>"
    )
    doc = read(html)
    kinds = [type(b).__name__ for b in doc.blocks]
    assert kinds == ["Paragraph", "Table", "Table", "Paragraph"]
    outer, inner = doc.tables
    assert texts(outer) == [["外1\n外2", "x"]]
    assert texts(inner) == [["内", "9"]]


def test_grid_from_spans_matches_reference_semantics():
    # A straightforward dictionary implementation of the documented rules,
    # compared with the library function on random span layouts.
    def reference(rows):
        grid: dict = {}
        n = len(rows)
        width = 0
        for r, row in enumerate(rows):
            c = 0
            for text, rs, cs in row:
                while (r, c) in grid:
                    c += 1
                rs = max(1, min(int(rs or 1), n - r))
                cs = max(1, min(int(cs or 1), 64))
                cell = Cell(text, (r, c))
                for dr in range(rs):
                    for dc in range(cs):
                        grid.setdefault((r + dr, c + dc), cell)
                c += cs
                width = max(width, c)
        out = []
        for r in range(n):
            line = [grid.get((r, c)) for c in range(width)]
            while line and line[-1] is None:
                line.pop()
            out.append([x if x is not None else Cell("", (r, i)) for i, x in enumerate(line)])
        return out

    span = st.sampled_from([None, 0, 1, 1, 1, 2, 3, 70, -1])
    cells = st.lists(st.tuples(st.sampled_from("abc"), span, span), max_size=5)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(cells, max_size=6))
    def check(rows):
        assert grid_from_spans(rows) == reference(rows)

    check()


# --- paragraphs and page structure ------------------------------------------------


def test_paragraphs_in_document_order_and_dropped_content():
    html = page(
        "<script>var x = '<p>不要</p>';</script><style>p{}</style><noscript>不要</noscript>"
        "<h1>平潭综合实验区2024年度政府信息公开工作年度报告</h1>"
        "<div>一、总体情况<p>  正文  第一段 </p>尾巴</div>"
        "<ul><li>甲</li><li>乙</li></ul>"
        "行一<br>行二"
        "<table><tr><td>1</td></tr></table>"
        "<p></p><p>&nbsp;</p><p>六、其他</p>",
        head="<meta charset='utf-8'><style>.a{}</style><script>1</script>",
    )
    doc = read(html)
    blocks = [b.text if isinstance(b, Paragraph) else "<table>" for b in doc.blocks]
    assert blocks == [
        "平潭综合实验区2024年度政府信息公开工作年度报告",
        "一、总体情况",
        "正文 第一段",
        "尾巴",
        "甲",
        "乙",
        "行一",
        "行二",
        "<table>",
        "六、其他",
    ]
    assert "标题" not in doc.text()  # <title> is head content


def test_page_without_tables_is_ok():
    doc = read(page("<p>本年度无依申请公开。</p>"))
    assert doc.tables == [] and [p.text for p in doc.paragraphs] == ["本年度无依申请公开。"]


@pytest.mark.parametrize("data", [b"", b"   \n", b"<html></html>", b"<!-- only a comment -->", b"\x00\x00"])
def test_empty_pages_are_ok_and_empty(data):
    doc = read_html("empty.html", data)
    assert doc.status == "ok" and doc.blocks == []


def test_fragment_without_html_element():
    doc = read("<table><tr><td>1</td><td>2</td></tr></table><p>x</p>")
    assert texts(doc.tables[0]) == [["1", "2"]] and doc.paragraphs[0].text == "x"


def test_cells_outside_a_table_are_paragraphs():
    doc = read("<td colspan=2>1<td>2")
    assert [p.text for p in doc.paragraphs] == ["1", "2"]


def test_control_characters_do_not_break_reading():
    doc = read(page("<p>a\x01b</p><table><tr><td>1\x0b2</td></tr></table><p>\ufffe</p>"))
    assert doc.paragraphs[0].text == "ab"
    assert texts(doc.tables[0]) == [["12"]]


def test_private_marker_characters_in_input_are_removed():
    doc = read(page("<table><tr><td>1\ufdd0\ufdd4\ufdd32</td></tr></table><p>\ufdd1x\ufdd2</p>"))
    assert texts(doc.tables[0]) == [["12"]]
    assert [p.text for p in doc.paragraphs] == ["x"]


def test_deep_nesting_does_not_crash():
    doc = read_html("deep.html", b"<div>" * 5000 + b"x" + b"</div>" * 5000)
    assert doc.status == "ok"
    assert any("stopped early" in n for n in doc.notes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_never_raises_on_random_bytes(data):
    doc = read_html("random.html", data)
    assert doc.status in ("ok", "failed")
    if doc.status == "failed":
        assert doc.message.startswith("random.html: ")


_TAGS = st.sampled_from(
    ["<table>", "</table>", "<tr>", "</tr>", "<td rowspan=2>", "<td colspan='3;'>", "<td>", "</td>", "<th>", "<p>",
     "</p>", "<br>", "<span>", "</span>", "<tbody>", "<caption>", "<o:p>", "</o:p>", "&nbsp;", "2", "0", "政府", " ",
     "<!--", "-->", "<script>", "</script>", "<div>", "</div>", "<td colspan=0>", "<td rowspan=99999>"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TAGS, max_size=60).map("".join))
def test_never_raises_on_tag_soup(html):
    doc = read_html("soup.html", html.encode("utf-8"))
    assert doc.status == "ok", doc.message
    for t in doc.tables:
        for r, row in enumerate(t.rows):
            for c, cell in enumerate(row):
                assert cell.origin[0] <= r and cell.origin[1] <= c


def test_no_entity_expansion_and_no_file_access(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET", encoding="utf-8")
    html = (
        f'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        "<html><body><p>&xxe;</p><table><tr><td>&xxe;</td></tr></table></body></html>"
    )
    doc = read_html("xxe.html", html.encode("utf-8"))
    assert doc.status == "ok"
    assert "TOPSECRET" not in doc.text()


# --- encodings --------------------------------------------------------------------

GBK_PAGE = page("<p>政府信息公开</p><table><tr><td>行政复议</td><td>1</td></tr></table>", head="<meta charset='{cs}'>")


@pytest.mark.parametrize("declared, codec", [("gbk", "gbk"), ("gb2312", "gb2312"), ("GB18030", "gb18030")])
def test_gb_family_with_meta_charset(declared, codec):
    doc = read(GBK_PAGE.replace("{cs}", declared).encode(codec))
    assert doc.encoding == codec
    assert doc.paragraphs[0].text == "政府信息公开"
    assert texts(doc.tables[0]) == [["行政复议", "1"]]


def test_http_equiv_content_type_meta():
    html = page(
        "<p>㐀年度报告</p>",  # U+3400 needs a four-byte GB18030 sequence
        head='<meta http-equiv="Content-Type" content="text/html; charset=gb18030">',
    )
    data = html.encode("gb18030")
    assert sniff_charset(data) == "gb18030"
    doc = read(data)
    assert doc.encoding == "gb18030" and doc.paragraphs[0].text == "㐀年度报告"


def test_gbk_without_meta():
    doc = read(page("<p>政府信息公开工作年度报告</p>").encode("gbk"))
    assert doc.encoding == "gb18030"
    assert doc.paragraphs[0].text == "政府信息公开工作年度报告"


def test_wrong_meta_utf8_on_a_gbk_page():
    doc = read(page("<p>政府信息公开工作年度报告</p>", head="<meta charset='utf-8'>").encode("gbk"))
    assert doc.encoding == "gb18030"
    assert doc.paragraphs[0].text == "政府信息公开工作年度报告"
    assert doc.notes  # the mismatch is recorded


def test_wrong_meta_gbk_on_a_utf8_page():
    doc = read(page("<p>政府信息公开</p>", head="<meta charset='gbk'>"))
    assert doc.encoding == "utf-8" and doc.paragraphs[0].text == "政府信息公开"


def test_utf8_bom():
    doc = read(codecs.BOM_UTF8 + page("<p>政府</p>").encode("utf-8"))
    assert doc.encoding == "utf-8-sig" and doc.paragraphs[0].text == "政府"


@pytest.mark.parametrize("bom, codec", [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_utf16_with_bom(bom, codec):
    html = page("<p>政府</p><table><tr><td>2</td><td>0</td></tr></table>", head="<meta charset='utf-16'>")
    doc = read(bom + html.encode(codec))
    assert doc.encoding == codec
    assert doc.paragraphs[0].text == "政府" and texts(doc.tables[0]) == [["2", "0"]]


def test_mojibake_is_noted():
    damaged = "政府信息公开工作年度报告".encode("utf-8").decode("gb18030", errors="replace")
    doc = read(page(f"<p>{damaged}</p>"))
    assert any("mojibake" in n for n in doc.notes)


def test_sniff_charset_variants():
    assert sniff_charset(b'<meta charset="GBK">') == "GBK"
    assert sniff_charset(b"<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=gb2312'>") == "gb2312"
    assert sniff_charset(b'<?xml version="1.0" encoding="GB18030"?><html/>') == "GB18030"
    assert sniff_charset(b"<p>charset=utf-8</p>") is None
    assert sniff_charset(b" " * 9000 + b'<meta charset="gbk">') is None  # beyond the first 8 KB


# --- the real corpus --------------------------------------------------------------

YEARS = list(range(2019, 2026))


def _new_received_keys() -> list[str]:
    with CODEBOOK.open(encoding="utf-8", newline="") as f:
        keys = [row["key"] for row in csv.DictReader(f) if row["key"].startswith("t3.new_received.")]
    assert len(keys) == 7, keys
    return keys


def _corpus_doc(shared_dir: Path, year: int):
    path = shared_dir / "corpus" / "originals" / f"pingtan_{year}.html"
    if not path.is_file():
        msg = f"corpus file missing: {path}"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    doc = read_html(str(path), path.read_bytes())
    assert doc.status == "ok", doc.message
    return doc


def _label_row(doc, label: str) -> list[str]:
    for table in doc.tables:
        for row in table.distinct_rows():
            if row and label in row[0]:
                return row
    raise AssertionError(f"no table row starts with {label!r}")


@pytest.mark.parametrize("year", YEARS)
def test_pingtan_page_structure(shared_dir, year):
    doc = _corpus_doc(shared_dir, year)
    assert doc.kind == "html" and doc.encoding == "utf-8"
    assert len(doc.tables) >= 3
    text = doc.text()
    assert f"平潭综合实验区{year}年度政府信息公开工作年度报告" in text
    assert "window." not in text and "function(" not in text  # scripts dropped


@pytest.mark.parametrize("year", YEARS)
def test_pingtan_new_received_row_matches_expected(shared_dir, year):
    doc = _corpus_doc(shared_dir, year)
    expected = json.loads((shared_dir / "corpus" / "expected" / f"pingtan_{year}.json").read_text(encoding="utf-8"))
    want = [expected["cells"][k] for k in _new_received_keys()]
    assert all(v is not None for v in want)
    row = _label_row(doc, NEW_RECEIVED)
    assert len(row) == 1 + len(want), row
    assert [float(v) for v in row[1:]] == [float(v) for v in want], row


def test_pingtan_2020_digit_split_over_spans(shared_dir):
    doc = _corpus_doc(shared_dir, 2020)
    raw = (shared_dir / "corpus" / "originals" / "pingtan_2020.html").read_text(encoding="utf-8")
    # the source really splits the number: ...>2</span><span ...>0</span>
    assert re.search(r">2</span><span[^>]*>0</span>", raw)
    row = _label_row(doc, NEW_RECEIVED)
    assert row[1] == "20"


def test_pingtan_2021_wide_header_and_colspan_values(shared_dir):
    doc = _corpus_doc(shared_dir, 2021)
    row = _label_row(doc, NEW_RECEIVED)
    assert len(row) == 1 + 7, row
    t3 = next(t for t in doc.tables if any(NEW_RECEIVED in c.text for r in t.rows for c in r))
    assert max(len(r) for r in t3.rows) == 11
    # the 商业企业 value sits in a colspan=2 cell: two slots, one distinct cell
    r = next(i for i, rr in enumerate(t3.rows) if NEW_RECEIVED in rr[0].text)
    copies = [c for c, cell in enumerate(t3.rows[r]) if cell.is_copy_at(r, c)]
    assert copies, "expected column-span copies in the data row"
