"""PDF tables whose zeros are printed as blank cells: rows rebuilt from the
ruling lines and character boxes (helpers.read.pdf_layout)."""

from __future__ import annotations

import pytest

from helpers.document import Paragraph, Table
from helpers.extract import extract_file
from helpers.read.pdf import page_lines, pdf_pages_text, read_pdf
from helpers.read.pdf_layout import page_blocks, resolve_rows
from tooling.synth import generate, render_ex, truth
from tooling.synth.compare import compare

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
T3_COLUMNS = ("natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total")
HEADER = ["", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
WIDTHS = [60.0] + [17.0] * 7


def ruled_pdf(rows, widths=WIDTHS, size=7.0, row_h=8.0, ruled=True):
    """One page: a table drawn cell by cell (a stroked rectangle per cell).

    A cell is a text (centred), ``""`` (empty), a ``(text, dx)`` pair (shifted
    ``dx`` mm to the right of centre) or a text with ``\\n`` (lines stacked
    from the top of the cell)."""
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.add_font("cjk", fname=FONT, collection_font_number=2)
    pdf.add_page()
    pdf.set_font("cjk", size=size)
    pdf.set_line_width(0.2)
    lh = size * 0.3528 * 1.3
    y = 20.0
    for row in rows:
        x = 15.0
        for cell, w in zip(row, widths):
            if ruled:
                pdf.rect(x, y, w, row_h)
            text, dx = cell if isinstance(cell, tuple) else (cell, 0.0)
            parts = text.split("\n") if text else []
            top = y + (row_h - lh) / 2 if len(parts) == 1 else y + 0.5
            for k, part in enumerate(parts):
                tw = pdf.get_string_width(part)
                pdf.text(x + (w - tw) / 2 + dx, top + lh * (k + 0.78), part)
            x += w
        y += row_h
    return bytes(pdf.output())


def _extract(tmp_path, data, name="t.pdf"):
    path = tmp_path / name
    path.write_bytes(data)
    return extract_file(str(path))[0]


def _row(result, key):
    out = []
    for col in T3_COLUMNS:
        cell = result.cells.get(f"t3.{key}.{col}")
        out.append(None if cell is None else (cell.value if cell.status == "number" else cell.status))
    return out


def _rows_of(doc):
    return [[c.text for c in b.rows[0]] for b in doc.blocks if isinstance(b, Table)]


# ------------------------------------------------------------------ hand-made tables


def test_t3_rows_with_blank_cells_read_exactly(tmp_path):
    data = ruled_pdf(
        [
            HEADER,
            ["一、本年新收政府信息公开申请数量", "9", "1", "", "", "3", "", "13"],
            ["二、上年结转政府信息公开申请数量", "", "", "", "", "", "", ""],
            ["（一）予以公开", "4", "1", "", "", "1", "", "6"],
            ["（七）总计", "", "", "2", "", "", "", "2"],
        ]
    )
    doc = read_pdf("t.pdf", data)
    assert _rows_of(doc) == [
        ["一、本年新收政府信息公开申请数量", "9", "1", "", "", "3", "", "13"],
        ["二、上年结转政府信息公开申请数量", "", "", "", "", "", "", ""],
        ["（一）予以公开", "4", "1", "", "", "1", "", "6"],
        ["（七）总计", "", "", "2", "", "", "", "2"],
    ]
    result = _extract(tmp_path, data)
    assert _row(result, "new_received") == [9, 1, "blank", "blank", 3, "blank", 13]
    assert _row(result, "carried_over") == ["blank"] * 7  # a row whose every value is blank
    assert _row(result, "granted") == [4, 1, "blank", "blank", 1, "blank", 6]
    assert _row(result, "total_processed") == ["blank", "blank", 2, "blank", "blank", "blank", 2]


def test_full_rows_stay_text_lines():
    data = ruled_pdf([HEADER, ["一、本年新收政府信息公开申请数量", "9", "1", "0", "0", "3", "0", "13"]])
    doc = read_pdf("t.pdf", data)
    assert not doc.tables
    assert [b.text for b in doc.blocks] == [
        "自然人 商业企业 科研机构 社会公益组织 法律服务机构 其他 总计",
        "一、本年新收政府信息公开申请数量 9 1 0 0 3 0 13",
    ]


def test_number_across_a_rule_leaves_the_row_unset(tmp_path):
    # the 3 is drawn over the rule between two columns: it belongs to neither
    data = ruled_pdf(
        [
            HEADER,
            ["一、本年新收政府信息公开申请数量", "9", "1", "", "", ("3", 8.5), "", "13"],
            ["（一）予以公开", "4", "1", "", "", "1", "", "6"],
        ]
    )
    doc = read_pdf("t.pdf", data)
    assert _rows_of(doc) == [["（一）予以公开", "4", "1", "", "", "1", "", "6"]]
    assert "一、本年新收政府信息公开申请数量 9 1 3 13" in [b.text for b in doc.paragraphs]
    result = _extract(tmp_path, data)
    assert _row(result, "granted") == [4, 1, "blank", "blank", 1, "blank", 6]
    assert all(v is None or v == "absent" for v in _row(result, "new_received"))


def test_unruled_table_stays_as_today(tmp_path):
    data = ruled_pdf([HEADER, ["一、本年新收政府信息公开申请数量", "9", "1", "", "", "3", "", "13"]], ruled=False)
    doc = read_pdf("t.pdf", data)
    assert not doc.tables
    result = _extract(tmp_path, data)
    assert all(v is None or v == "absent" for v in _row(result, "new_received"))


def test_number_beside_a_note_in_its_cell_is_not_a_blank(tmp_path):
    # the first cell's 8 stands on a line above the row's other numbers (a note
    # below it): the cell is not empty, so the line is not cut into cells
    data = ruled_pdf(
        [
            HEADER,
            ["一、本年新收政府信息公开申请数量", "8\n（含转办）\n件", "1", "", "", "3", "", "12"],
            ["（一）予以公开", "4", "1", "", "", "1", "", "6"],
        ],
        row_h=12.0,
    )
    doc = read_pdf("t.pdf", data)
    assert _rows_of(doc) == [["（一）予以公开", "4", "1", "", "", "1", "", "6"]]
    result = _extract(tmp_path, data)
    new = _row(result, "new_received")
    assert "blank" not in new[:1] and new[0] in (None, "absent", 8)


def test_blank_row_with_its_label_on_two_lines():
    # every value blank and the label wrapped in its cell: one row, the label joined
    # (a label line whose numbers stand below it in the same boxes: test_l1_reproduction_row)
    data = ruled_pdf(
        [
            HEADER,
            ["1.申请人无正当理由逾期不补正、\n行政机关不再处理其政府信息公开申请", "", "", "", "", "", "", ""],
            ["（一）予以公开", "4", "1", "", "", "1", "", "6"],
        ],
        widths=[60.0] + [17.0] * 7,
        row_h=12.0,
    )
    doc = read_pdf("t.pdf", data)
    rows = _rows_of(doc)
    assert ["1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "", "", "", "", "", "", ""] in rows
    assert ["（一）予以公开", "4", "1", "", "", "1", "", "6"] in rows


def test_page_number_lines_still_dropped():
    blocks, dropped, chars = page_blocks("— 2 —\n规章 3\n行政许可 1 2\n3/5", {}, 2)
    assert dropped == 2
    assert [b.text for b in blocks] == ["规章 3", "行政许可 1 2"]
    assert chars == len("规章3行政许可12")


# ------------------------------------------------------------------ resolve_rows on plain data

XS = [0.0, 100.0, 150.0] + [150.0 + 30 * k for k in range(1, 8)]  # label, spacer, 7 value columns


def test_spacer_cell_before_full_values_keeps_the_line():
    cells = ["（六）其他处理", "", "0", "0", "0", "0", "0", "0", "0"]
    full = ["1.信访举报投诉类申请", "", "1", "0", "0", "0", "0", "0", "1"]
    assert resolve_rows([{0: (XS, cells, {}), 1: (XS, full, {})}]) == [{}]


def test_spacer_cell_with_blank_values_keeps_the_line():
    # the spacer (100-150) never holds a value: the label's cell may be it or the
    # first text's, so the line is not cut into cells (its values stay unset)
    full = ["（一）予以公开", "", "1", "2", "3", "4", "5", "6", "21"]
    blanks = ["（七）总计", "", "", "2", "", "", "", "", "2"]
    assert resolve_rows([{0: (XS, full, None), 1: (XS, blanks, {})}]) == [{}]


def test_blank_values_after_the_label_cell():
    xs = [0.0, 100.0] + [100.0 + 30 * k for k in range(1, 8)]
    full = ["（一）予以公开", "1", "2", "3", "4", "5", "6", "21"]
    blanks = ["（七）总计", "", "2", "", "", "", "", "2"]
    assert resolve_rows([{0: (xs, full, None), 1: (xs, blanks, {})}]) == [{1: blanks}]


def test_empty_cell_that_is_neither_label_nor_value_leaves_the_line():
    # the first value column never holds a number: it could be a spacer
    xs = [0.0, 100.0] + [100.0 + 30 * k for k in range(1, 8)]
    row = ["二、上年结转政府信息公开申请数量", "", "", "", "", "", "", "5"]
    assert resolve_rows([{0: (xs, row, {})}]) == [{}]


def test_cell_box_with_print_elsewhere_leaves_the_line():
    full = ["（一）予以公开", "", "1", "2", "3", "4", "5", "6", "21"]
    row = ["（七）总计", "", None, "2", "", "", "", "", "2"]  # None: something printed in the box
    assert resolve_rows([{0: (XS, full, None), 1: (XS, row, {})}]) == [{}]


def test_wrapped_label_joined_and_its_lines_dropped():
    xs = [0.0, 100.0] + [100.0 + 30 * k for k in range(1, 8)]
    full = ["（一）予以公开", "1", "2", "3", "4", "5", "6", "21"]
    row = ["", "", "", "", "", "", "", "7"]
    label = "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"
    out = resolve_rows([{0: (xs, full, None), 6: (xs, row, {0: (label, (4, 5, 7))})}])
    assert out == [{6: [label, "", "", "", "", "", "", "7"], 4: None, 5: None, 7: None}]


# ------------------------------------------------------------------ synthetic reports


@pytest.mark.parametrize("seed", [3, 5, 10, 11, 12, 43])
def test_synthetic_blank_zeros_read_exactly(tmp_path, seed):
    report = generate(seed, blanks=True)
    r = render_ex(report, "pdf", seed=seed)
    result = _extract(tmp_path, r.data, f"s{seed}.pdf")
    c = compare(result, truth(report), r.unreadable)
    assert c.wrong == 0, c.wrong_cells
    assert c.unset == 0, c.unset_cells[:5]


def test_l1_reproduction_row():
    r = render_ex(generate(3, blanks=True), "pdf", seed=3)
    doc = read_pdf("s3.pdf", r.data)
    assert ["一、本年新收政府信息公开申请数量", "9", "1", "", "", "3", "", "13"] in _rows_of(doc)
    # a label wrapped in its cell is joined, and its first line is no longer a paragraph
    assert ["（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "", "", "0", "", "", "", "0"] in _rows_of(doc)
    assert "（二）部分公开（区分处理的，只计这一情形，不" not in [b.text for b in doc.paragraphs]


def test_synthetic_t2_and_t4_blank_cells(tmp_path):
    # seed 23: blanks in Table 2 and in the Table 4 row
    report = generate(23, blanks=True)
    want = truth(report)
    assert any(v is None for k, v in want.items() if k.startswith("t2."))
    assert any(v is None for k, v in want.items() if k.startswith("t4."))
    r = render_ex(report, "pdf", seed=23)
    result = _extract(tmp_path, r.data, "s23.pdf")
    for key, value in want.items():
        if not key.startswith(("t2.", "t4.")):
            continue
        cell = result.cells.get(key)
        assert cell is not None, key
        if value is None:
            assert cell.status == "blank", (key, cell.status, cell.value)
        else:
            assert cell.status == "number" and cell.value == value, (key, cell.value, value)


def test_synthetic_without_blanks_reads_as_before():
    r = render_ex(generate(3, blanks=False), "pdf", seed=3)
    doc = read_pdf("s3.pdf", r.data)
    assert not doc.tables
    want = [line for page in pdf_pages_text(r.data) for line in page_lines(page)[0]]
    assert [b.text for b in doc.blocks if isinstance(b, Paragraph)] == want


def test_no_blank_for_a_printed_number_in_mixed_damage(tmp_path):
    # extra empty cells and notes beside numbers, with blanks: nothing wrong,
    # and no printed number reported as a blank
    for seed in (1111, 1117, 1133):
        report = generate(seed, blanks=None)
        r = render_ex(report, "pdf", seed=seed, damage=True)
        result = _extract(tmp_path, r.data, f"m{seed}.pdf")
        c = compare(result, truth(report), r.unreadable)
        assert c.wrong == 0, (seed, c.wrong_cells)
        assert not [u for u in c.unset_cells if u[1] == "blank"], (seed, c.unset_cells)
