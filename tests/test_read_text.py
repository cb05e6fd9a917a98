"""read_text on small inline byte strings: which lines become table rows, which
paragraphs, and what survives of empty fields, Markdown rules and lone pipes."""

from __future__ import annotations

from helpers.document import Paragraph, Table
from helpers.read.text import read_text, split_lines


def blocks(data: bytes, path: str = "sample.txt"):
    doc = read_text(path, data)
    assert doc.status == "ok"
    out = []
    for b in doc.blocks:
        if isinstance(b, Table):
            out.append(("T", [[c.text for c in row] for row in b.rows]))
        else:
            assert isinstance(b, Paragraph)
            out.append(("P", b.text))
    return out


def test_tab_rows_become_table_cells_with_empty_fields_kept():
    data = "规章\t0\t\t3\n行政许可\t\t\t\n".encode()
    assert blocks(data) == [("T", [["规章", "0", "", "3"], ["行政许可", "", "", ""]])]


def test_tab_table_cells_have_their_positions():
    doc = read_text("x.txt", "a\tb\nc\t\td\n".encode())
    (table,) = doc.tables
    assert table.source == "text"
    assert [[c.origin for c in row] for row in table.rows] == [[(0, 0), (0, 1)], [(1, 0), (1, 1), (1, 2)]]
    # no span copies in a text table: every field is a distinct cell
    assert list(table.distinct_rows()) == [["a", "b"], ["c", "", "d"]]


def test_leading_empty_fields_kept():
    data = "\t\t2. 其他法律行政法规禁止公开\t0\t0\n".encode()
    assert blocks(data) == [("T", [["", "", "2. 其他法律行政法规禁止公开", "0", "0"]])]


def test_yindu_layout_sample():
    data = (
        "### 三、收到和处理政府信息公开申请情况\n"
        "\n"
        "一、本年新收政府信息公开申请数量\t\t21\t0\t0\t0\t0\t0\t21\t\n"
        "三、本年度办理结果\t(一) 予以公开\t13\t0\t0\t0\t0\t0\t13\t\n"
    ).encode()
    out = blocks(data)
    assert out[0] == ("P", "### 三、收到和处理政府信息公开申请情况")
    assert out[1] == (
        "T",
        [
            ["一、本年新收政府信息公开申请数量", "", "21", "0", "0", "0", "0", "0", "21", ""],
            ["三、本年度办理结果", "(一) 予以公开", "13", "0", "0", "0", "0", "0", "13", ""],
        ],
    )


def test_plain_lines_are_paragraphs_and_split_tables():
    data = "一、总体情况\n规章\t0\n正文一段，共12件。\n行政处罚\t5\n".encode()
    assert blocks(data) == [
        ("P", "一、总体情况"),
        ("T", [["规章", "0"]]),
        ("P", "正文一段，共12件。"),
        ("T", [["行政处罚", "5"]]),
    ]


def test_empty_lines_dropped():
    assert blocks(b"\n\n  \n\xe8\xa7\x84\xe7\xab\xa0\n\n") == [("P", "规章")]


def test_markdown_pipe_table_separator_dropped():
    data = (
        "### 第二十条第（一）项\n"
        "| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |\n"
        "|---|---|---|---|\n"
        "| 规章 | 0 | 0 | 0 |\n"
        "| 行政规范性文件 | 6 | 1 | 32 |\n"
    ).encode()
    assert blocks(data) == [
        ("P", "### 第二十条第（一）项"),
        (
            "T",
            [
                ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
                ["规章", "0", "0", "0"],
                ["行政规范性文件", "6", "1", "32"],
            ],
        ),
    ]


def test_markdown_alignment_rules_dropped():
    data = "| a | b |\n|:---|---:|\n| :---: | ---- |\n|----------|------|\n| 1 | 2 |\n".encode()
    assert blocks(data) == [("T", [["a", "b"], ["1", "2"]])]


def test_markdown_empty_cells_kept():
    data = "| 行政许可 |  | 3 |\n| | |||\n".encode()
    out = blocks(data)
    assert out[0][0] == "T"
    assert out[0][1][0] == ["行政许可", "", "3"]
    assert all(c == "" for c in out[0][1][1])


def test_bare_pipe_lines():
    data = "规章 | 0 | 0 | 0\n行政许可|2293\n".encode()
    assert blocks(data) == [("T", [["规章", "0", "0", "0"], ["行政许可", "2293"]])]


def test_cell_with_trailing_lone_separator_is_a_paragraph():
    assert blocks("行政规范性文件 |\n".encode()) == [("P", "行政规范性文件")]


def test_one_cell_per_line_with_lone_pipes():
    # 桃江县审计局 2020: each cell on its own line, a line holding only "|" between cells
    data = "第二十条第(一)项\n|\n信息内容\n|\n本年新\n制作数量\n|\n规章\n|\n0\n|\n0\n|\n".encode()
    assert blocks(data) == [
        ("P", "第二十条第(一)项"),
        ("P", "信息内容"),
        ("P", "本年新"),
        ("P", "制作数量"),
        ("P", "规章"),
        ("P", "0"),
        ("P", "0"),
    ]


def test_one_cell_per_line_with_blank_lines():
    # 科左后旗卫健委 2022: cells separated by empty lines
    data = "规章\n\n0\n\n0\n\n0\n\n行政规范性文件\n\n1\n".encode()
    assert blocks(data) == [("P", t) for t in ["规章", "0", "0", "0", "行政规范性文件", "1"]]


def test_double_pipe_lines_dropped():
    assert blocks("规章\n||\n0\n".encode()) == [("P", "规章"), ("P", "0")]


def test_gbk_input_decoded():
    text = "二、主动公开政府信息情况\n行政许可\t12\n本年度内单位行政处罚处理决定数量39件。\n"
    doc = read_text("gbk.txt", text.encode("gbk"))
    assert doc.status == "ok"
    assert doc.encoding and doc.encoding.lower().replace("-", "").startswith("gb")
    out = blocks(text.encode("gbk"), "gbk.txt")
    assert out == [
        ("P", "二、主动公开政府信息情况"),
        ("T", [["行政许可", "12"]]),
        ("P", "本年度内单位行政处罚处理决定数量39件。"),
    ]


def test_utf8_bom_and_crlf():
    data = "\ufeff规章\t0\r\n行政许可\t5\r\n".encode()
    assert blocks(data) == [("T", [["规章", "0"], ["行政许可", "5"]])]


def test_split_lines_classification():
    lines = split_lines("a\tb\n|---|---|\n| c | d |\n|\nplain\n")
    assert lines == [["a", "b"], ["c", "d"], "plain"]


def test_space_separated_lines_stay_paragraphs():
    # PDF text lines: the mapper splits them, the reader does not
    data = "规章 0 0 0\n一、本年新收政府信息公开申请数量 21 0 0 0 0 0 21\n".encode()
    assert blocks(data) == [("P", "规章 0 0 0"), ("P", "一、本年新收政府信息公开申请数量 21 0 0 0 0 0 21")]


def test_tab_only_line_is_not_a_row():
    data = "规章\t0\n\t\t\t\n行政许可\t5\n".encode()
    out = blocks(data)
    rows = [r for kind, item in out if kind == "T" for r in item]
    assert ["规章", "0"] in rows and ["行政许可", "5"] in rows
    assert all(any(c for c in r) for r in rows)
