"""Damaged layouts of real reports, rebuilt from values: every cell must be read exactly.

Each fixture here is synthetic: a report of the 2021 edition is written from
values chosen by the test (they satisfy the template identities), rendered as
the text layer of a PDF, as plain text or as Markdown, and then damaged the way
real renderings are damaged:

* Table 4 header words broken over lines and spaced inside (``结 果``,
  ``尚未审`` / ``结``), a heading that reuses a section number, page markers
  and bare page numbers between the header and the values;
* Table 3 sub-rows numbered ``1、`` ``（1）`` ``1）`` ``①`` ``１．``, the short
  sub-row ``3、其他`` on one line with its values;
* Markdown: page markers inside a table, row labels broken over two rows or two
  cells or interleaved with a neighbour's label, a cell whose number was pulled
  out of the table with its note, mangled header rows, extra empty cells, a
  Table 4 row with more cells than values or split over two rows;
* the agency of a provincial general office named only in the opening sentence.

A fixture passes only when every one of the 207 cells equals the value written
(or, where the damage destroys information, when the cells are unset and the
problem is reported, never wrong).
"""

from __future__ import annotations

import random
import re

import pytest

from helpers.extract import extract_document
from helpers.read import read_document

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

T3_ROWS = [
    ("new_received", "一、本年新收政府信息公开申请数量"),
    ("carried_over", "二、上年结转政府信息公开申请数量"),
    (None, "三、本年度办理结果"),
    ("granted", "（一）予以公开"),
    ("partially_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    (None, "（三）不予公开"),
    ("withheld_state_secret", "1.属于国家秘密"),
    ("withheld_prohibited_by_law", "2.其他法律行政法规禁止公开"),
    ("withheld_three_securities", "3.危及“三安全一稳定”"),
    ("withheld_third_party", "4.保护第三方合法权益"),
    ("withheld_internal_affairs", "5.属于三类内部事务信息"),
    ("withheld_process_info", "6.属于四类过程性信息"),
    ("withheld_enforcement_files", "7.属于行政执法案卷"),
    ("withheld_query_matters", "8.属于行政查询事项"),
    (None, "（四）无法提供"),
    ("unable_not_held", "1.本机关不掌握相关政府信息"),
    ("unable_needs_creation", "2.没有现成信息需要另行制作"),
    ("unable_unclear", "3.补正后申请内容仍不明确"),
    (None, "（五）不予处理"),
    ("not_processed_complaint", "1.信访举报投诉类申请"),
    ("not_processed_duplicate", "2.重复申请"),
    ("not_processed_publication", "3.要求提供公开出版物"),
    ("not_processed_repetitive", "4.无正当理由大量反复申请"),
    ("not_processed_confirmation", "5.要求行政机关确认或重新出具已获取信息"),
    (None, "（六）其他处理"),
    ("other_no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other_unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other_other", "3.其他"),
    ("total_processed", "（七）总计"),
    ("carried_forward", "四、结转下年度继续办理"),
]
T3_COLS = ["natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total"]
OUTCOMES = [r for r, _ in T3_ROWS if r and r not in ("new_received", "carried_over", "total_processed", "carried_forward")]
T4_KEYS = [f"t4.{g}.{c}" for g in ("review", "litigation_direct", "litigation_after_review")
           for c in ("upheld", "corrected", "other", "pending", "total")]
T2_COLS = {"regulations": ["issued", "repealed", "in_force"], "normative_documents": ["issued", "repealed", "in_force"],
           "licensing": ["decisions"], "punishment": ["decisions"], "coercion": ["decisions"], "fees": ["amount"]}
T4_HEAD = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
T4_HEAD_BROKEN = ["结 果", "维 持", "结 果", "纠 正", "其 他", "结 果", "尚未审", "结", "总 计"]
TITLE = "某某县人民政府2024年政府信息公开工作年度报告"
TAIL = ["五、存在的主要问题及改进情况", "一是公开质量有待提高。", "六、其他需要报告的事项", "本年度未收取信息处理费。"]


class Report:
    """Synthetic values of one report (2021 edition) that satisfy the template identities."""

    def __init__(self, seed: int):
        rng = random.Random(seed)
        t3: dict[str, list[int]] = {}
        for r in OUTCOMES:
            six = [rng.choice([0, 0, 1, 2, 3, 5, 8, 13, 21, 40]) for _ in range(6)]
            t3[r] = [*six, sum(six)]
        tot = [sum(t3[r][i] for r in OUTCOMES) for i in range(7)]
        fw = [min(v, rng.choice([0, 1, 2])) for v in tot[:6]]
        co = [min(a - b, rng.choice([0, 1, 3])) for a, b in zip(tot[:6], fw)]
        t3["total_processed"] = tot
        t3["carried_forward"] = [*fw, sum(fw)]
        t3["carried_over"] = [*co, sum(co)]
        t3["new_received"] = [a + b - c for a, b, c in zip(tot, t3["carried_forward"], t3["carried_over"])]
        t4: list[int] = []
        for _ in range(3):
            four = [rng.choice([0, 1, 2, 4, 7]) for _ in range(4)]
            t4 += [*four, sum(four)]
        self.t2 = {"regulations": [1, 2, 30], "normative_documents": [12, 3, 140], "licensing": [4529],
                   "punishment": [1100], "coercion": [65], "fees": ["18651.06"]}
        self.t3, self.t4 = t3, t4

    def expected(self) -> dict[str, float]:
        cells: dict[str, float] = {}
        for r, vs in self.t2.items():
            cells.update({f"t2.{r}.{c}": float(v) for c, v in zip(T2_COLS[r], vs)})
        for r, vs in self.t3.items():
            cells.update({f"t3.{r}.{c}": float(v) for c, v in zip(T3_COLS, vs)})
        cells.update({k: float(v) for k, v in zip(T4_KEYS, self.t4)})
        return cells

    # ---------------------------------------------------------------- text (a PDF's text layer)
    def t2_lines(self) -> list[str]:
        t2 = self.t2
        return [
            "二、主动公开政府信息情况", "第二十条第（一）项", "信息内容 本年制发件数 本年废止件数 现行有效件数",
            f"规章 {_j(t2['regulations'])}", f"行政规范性文件 {_j(t2['normative_documents'])}",
            "第二十条第（五）项", "信息内容 本年处理决定数量", f"行政许可 {_j(t2['licensing'])}",
            "第二十条第（六）项", "信息内容 本年处理决定数量", f"行政处罚 {_j(t2['punishment'])}",
            f"行政强制 {_j(t2['coercion'])}", "第二十条第（八）项", "信息内容 本年收费金额（单位：万元）",
            f"行政事业性收费 {_j(t2['fees'])}",
        ]

    def t3_lines(self, label=lambda row, text: text) -> list[str]:
        out = ["三、收到和处理政府信息公开申请情况", "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
               "申请人情况", "自然人", "法人或其他组织", "总计", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
        for r, text in T3_ROWS:
            out.append(label(r, text) if r is None else f"{label(r, text)} {_j(self.t3[r])}")
        return out

    def t4_lines(self, head=T4_HEAD, heading="四、政府信息公开行政复议、行政诉讼情况", between=()) -> list[str]:
        return [heading, "行政复议 行政诉讼", *head, "未经复议直接起诉 复议后起诉", *head, *head, *between, _j(self.t4)]

    def text(self, title=TITLE, opening="2024年，本县认真贯彻落实《条例》。", t3=None, t4=None) -> str:
        lines = [title, "一、总体情况", opening, *self.t2_lines(), *(t3 or self.t3_lines()), *(t4 or self.t4_lines()), *TAIL]
        return "\n".join(lines) + "\n"

    # ---------------------------------------------------------------- Markdown
    def md_t3(self) -> list[str]:
        out = ["### 三、收到和处理政府信息公开申请情况", "",
               _md(["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况", "", "", "", "", "", ""]),
               _md(["---"] * 8),
               _md(["", "自然人", "法人或其他组织", "", "", "", "", "总计"]),
               _md(["", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""])]
        out += [_md([text, *([""] * 7 if r is None else self.t3[r])]) for r, text in T3_ROWS]
        return [*out, ""]

    def md_t4(self) -> list[str]:
        return ["#### 四、政府信息公开行政复议、行政诉讼情况", "",
                _md(["行政复议", "", "", "", "", "行政诉讼", *[""] * 9]), _md(["---"] * 15),
                _md([*[""] * 5, "未经复议直接起诉", "", "", "", "", "复议后起诉", "", "", "", ""]),
                _md(T4_HEAD * 3), _md(self.t4), ""]

    def markdown(self, t3=None, t4=None) -> str:
        lines = [f"# {TITLE}", "", "## 一、总体情况", "", "2024年，本县认真贯彻落实《条例》。", "", *self.t2_lines(), "",
                 *(t3 or self.md_t3()), *(t4 or self.md_t4()), *TAIL]
        return "\n".join(lines) + "\n"


def _j(values) -> str:
    return " ".join(str(v) for v in values)


def _md(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _at(lines: list[str], text: str) -> int:
    return next(i for i, line in enumerate(lines) if text in line)


def extract(data: str | bytes, name: str):
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return extract_document(read_document(name, data=raw))


def assert_exact(result, rep: Report) -> None:
    want = rep.expected()
    got = {k: (result.cells[k].value if k in result.cells else None) for k in want}
    wrong = {k: (want[k], got[k]) for k in want if got[k] is None or abs(float(got[k]) - want[k]) > 1e-9}
    assert not wrong, f"{len(wrong)} cell(s) not read exactly: {dict(list(wrong.items())[:8])}"
    assert result.status == "ok", [i.message for i in result.issues if i.severity != "info"]


def assert_never_wrong(result, rep: Report) -> set[str]:
    """No cell holds a value other than the one written; returns the unset keys."""
    want = rep.expected()
    unset = set()
    for k, v in want.items():
        cell = result.cells.get(k)
        if cell is None or cell.value is None:
            unset.add(k)
        else:
            assert abs(float(cell.value) - v) < 1e-9, f"{k}: wrote {v}, read {cell.value}"
    return unset


# ------------------------------------------------------------------------ Table 4 in a PDF's text layer

def test_undamaged_text_is_read_exactly():
    rep = Report(1)
    assert_exact(extract(rep.text(), "r.txt"), rep)


@pytest.mark.parametrize("heading", [
    "四、政府信息公开行政复议、行政诉讼情况",
    "四、政府信息公开行政复议和行政诉讼情况",  # a wording the label tables do not hold
])
@pytest.mark.parametrize("between", [(), ("— 5 —",), ("- 5 -",), ("第 5 页",), ("5",), ("·5·",), (TITLE,)])
def test_t4_header_words_broken_and_page_furniture(heading, between):
    """Header words broken and spaced, with page furniture between header and
    values: still 15 values, never 16."""
    rep = Report(2)
    t4 = rep.t4_lines(head=T4_HEAD_BROKEN, heading=heading, between=between)
    assert_exact(extract(rep.text(t4=t4), "r.txt"), rep)


def test_heading_reusing_a_section_number():
    """A sub-heading numbered 四、 in the narrative before the tables and one
    in section 五 after them: Table 4 is still its 15 values."""
    rep = Report(3)
    text = rep.text(opening="2024年，本县认真贯彻落实《条例》。\n四、加强平台建设\n全年更新栏目12个。",
                    t4=rep.t4_lines(head=T4_HEAD_BROKEN))
    text = text.replace("一是公开质量有待提高。", "一是公开质量有待提高。\n四、下一步工作计划\n3")
    assert_exact(extract(text, "r.txt"), rep)


# ------------------------------------------------------------------------ Table 3 enumerators

_CIRCLED = "①②③④⑤⑥⑦⑧⑨"
_FULL = "０１２３４５６７８９"


@pytest.mark.parametrize("style", [
    lambda n: f"{n}、", lambda n: f"（{n}）", lambda n: f"({n})", lambda n: f"{n}）",
    lambda n: _CIRCLED[n - 1], lambda n: _FULL[n] + "．", lambda n: _FULL[n] + "、", lambda n: f"{n}. ",
], ids=["1、", "（1）", "(1)", "1）", "①", "１．", "１、", "1. "])
@pytest.mark.parametrize("tabs", [False, True], ids=["spaces", "tabs"])
def test_t3_enumerator_styles(style, tabs):
    """Sub-rows numbered in any enumerator style, ``3、其他`` on one line with its values."""
    rep = Report(4)

    def label(row, text):
        m = re.match(r"^(\d)\.(.*)$", text)
        return style(int(m.group(1))) + m.group(2) if m else text

    lines = rep.t3_lines(label)
    if tabs:
        lines = [re.sub(r" (?=\d+(?: |$))", "\t", line) if re.search(r" \d+$", line) else line for line in lines]
    assert_exact(extract(rep.text(t3=lines), "r.txt"), rep)


def test_t3_short_row_without_enumerator_placed_by_structure():
    """``其他 8 13 …`` (enumerator lost): a column word, not a row label; the row is
    the only unfilled template row between its neighbours and its values satisfy
    the column identities, so it is placed there and said so."""
    rep = Report(4)
    lines = [line.replace("3.其他", "其他") for line in rep.t3_lines()]
    result = extract(rep.text(t3=lines), "r.txt")
    assert_exact(result, rep)
    assert any(i.rule == "extract.unlabelled_row" and "other_other" in i.message for i in result.issues)


# ------------------------------------------------------------------------ Markdown renderings

def test_undamaged_markdown_is_read_exactly():
    rep = Report(5)
    assert_exact(extract(rep.markdown(), "r.md"), rep)


@pytest.mark.parametrize("marker", ["— 5 —", "- 5 -", "第 5 页", "5/8"])
@pytest.mark.parametrize("where", ["row", "loose"])
def test_md_page_marker_inside_table(marker, where):
    rep = Report(5)
    lines = rep.md_t3()
    i = _at(lines, "2.重复申请")
    lines[i:i] = [_md([marker, *[""] * 7])] if where == "row" else ["", marker, ""]
    t4 = rep.md_t4()
    t4[-2:-2] = [_md([marker, *[""] * 14])] if where == "row" else []
    assert_exact(extract(rep.markdown(t3=lines, t4=t4), "r.md"), rep)


def test_md_label_broken_over_two_rows():
    rep = Report(5)
    lines = rep.md_t3()
    i = _at(lines, "5.要求行政机关确认")
    lines[i:i + 1] = [_md(["5.要求行政机关确认或重新出具", *[""] * 7]),
                      _md(["已获取信息", *rep.t3["not_processed_confirmation"]])]
    assert_exact(extract(rep.markdown(t3=lines), "r.md"), rep)


def test_md_label_broken_over_two_cells():
    rep = Report(5)
    lines = rep.md_t3()
    i = _at(lines, "5.要求行政机关确认")
    lines[i] = _md(["5.要求行政机关确认或重新出具", "已获取信息", *rep.t3["not_processed_confirmation"]])
    assert_exact(extract(rep.markdown(t3=lines), "r.md"), rep)


@pytest.mark.parametrize("values_on", ["second", "first"])
def test_md_label_interleaved_with_neighbour(values_on):
    """``1.申请人…不再`` / the whole label of row 2 with its values / ``处理其…申请``:
    the broken label is joined across its neighbour."""
    rep = Report(5)
    lines = rep.md_t3()
    i = _at(lines, "1.申请人无正当理由")
    first, second = "1.申请人无正当理由逾期不补正、行政机关不再", "处理其政府信息公开申请"
    v1 = rep.t3["other_no_correction"]
    row2 = _md(["2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", *rep.t3["other_unpaid_fee"]])
    if values_on == "second":
        lines[i:i + 2] = [_md([first, *[""] * 7]), row2, _md([second, *v1])]
    else:
        lines[i:i + 2] = [_md([first, *v1]), row2, _md([second, *[""] * 7])]
    assert_exact(extract(rep.markdown(t3=lines), "r.md"), rep)


@pytest.mark.parametrize("pos", [6, 0, 3])
@pytest.mark.parametrize("side", ["after", "before"])
def test_md_cell_with_note_pulled_out_of_the_row(pos, side):
    """A cell ``111`` with a note on a second line, pulled out of the table as a
    loose line: the row is one cell short; the loose number goes back to the one
    position where the row's total holds."""
    rep = Report(5)
    lines = rep.md_t3()
    i = _at(lines, "3.其他")
    v = rep.t3["other_other"]
    short = _md(["3.其他", *v[:pos], *v[pos + 1:]])
    loose = ["", str(v[pos]), "（含转办件）", ""] if side == "after" else ["", f"{v[pos]}（含转办件）", ""]
    lines[i:i + 1] = [short, *loose] if side == "after" else [*loose, short]
    result = extract(rep.markdown(t3=lines), "r.md")
    unset = assert_never_wrong(result, rep)
    if v.count(v[pos]) == 1 or pos == 6:
        assert not unset
    else:  # the same number at two positions: reported, never guessed
        assert unset <= {f"t3.other_other.{c}" for c in T3_COLS}


def test_md_header_rows_mangled():
    rep = Report(5)
    lines = rep.md_t3()
    lines[4:6] = [_md(["业", "构", "益组织", "务机构", "", "", "", "", ""]), _md(["自然人总计", "商业企", "科研机", "", "", "", "", ""])]
    assert_exact(extract(rep.markdown(t3=lines), "r.md"), rep)


@pytest.mark.parametrize("at", [0, 3, 7])
def test_md_row_with_an_extra_empty_cell(at):
    rep = Report(5)
    lines = rep.md_t3()
    i = _at(lines, "2.重复申请")
    v = [str(x) for x in rep.t3["not_processed_duplicate"]]
    lines[i] = _md(["2.重复申请", *v[:at], "", *v[at:]])
    assert_exact(extract(rep.markdown(t3=lines), "r.md"), rep)


@pytest.mark.parametrize("shape", ["mid", "ends", "two_rows", "two_rows_padded"])
def test_md_t4_row_with_more_cells_than_values(shape):
    rep = Report(5)
    t4 = rep.md_t4()
    v = [str(x) for x in rep.t4]
    if shape == "mid":
        t4[-2] = _md([*v[:5], "", *v[5:]])
    elif shape == "ends":
        t4[-2] = _md(["", *v, "", ""])
    elif shape == "two_rows":
        t4[-2:-1] = [_md(v[:5]), _md(v[5:])]
    else:
        t4[-2:-1] = [_md([*v[:5], *[""] * 10]), _md([*[""] * 5, *v[5:]])]
    assert_exact(extract(rep.markdown(t4=t4), "r.md"), rep)


def test_md_t4_values_that_break_the_identities_are_not_moved():
    """A stray number before a Table 4 row whose totals do not hold: no window is
    chosen by the identities; the cells are reported, never shifted."""
    rep = Report(6)
    rep.t4[4] += 1  # a misprinted total
    t4 = rep.md_t4()
    t4[-2] = _md(["5", *rep.t4])
    result = extract(rep.markdown(t4=t4), "r.md")
    for k in T4_KEYS:
        assert result.cells[k].value is None
    assert any(i.rule == "extract.row_width" for i in result.issues)


# ------------------------------------------------------------------------ a PDF made here

def _pdf(rep: Report, spaced: bool, footer: bool) -> bytes:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF(format="A4")
    pdf.add_font("cjk", fname=FONT, collection_font_number=2)
    pdf.set_font("cjk", size=9)
    if footer:
        pdf.footer = lambda: (pdf.set_y(-15), pdf.cell(0, 10, f"— {pdf.page_no()} —", align="C"))
    pdf.add_page()

    def para(text):
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")

    for line in [TITLE, "一、总体情况", "2024年，本县认真贯彻落实《条例》。", *rep.t2_lines(), "三、收到和处理政府信息公开申请情况"]:
        para(line)
    with pdf.table(col_widths=(40, 12, 12, 12, 12, 12, 12, 12), text_align="LEFT", first_row_as_headings=False) as table:
        for r, text in T3_ROWS:
            row = table.row()
            row.cell(text)
            for v in rep.t3[r] if r else [""] * 7:
                row.cell(str(v))
    para("四、政府信息公开行政复议、行政诉讼情况")
    head = [" ".join(w) if spaced else w for w in T4_HEAD]
    with pdf.table(col_widths=[10] * 15, text_align="CENTER", first_row_as_headings=False) as table:
        row = table.row()
        row.cell("行政复议", colspan=5)
        row.cell("行政诉讼", colspan=10)
        row = table.row()
        for w in head:
            row.cell(w, rowspan=2)
        row.cell("未经复议直接起诉", colspan=5)
        row.cell("复议后起诉", colspan=5)
        row = table.row()
        for w in head * 2:
            row.cell(w)
        row = table.row()
        for v in rep.t4:
            row.cell(str(v))
    for line in TAIL:
        para(line)
    return bytes(pdf.output())


@pytest.mark.parametrize("spaced", [False, True], ids=["plain", "spaced"])
def test_pdf_made_with_fpdf(spaced):
    rep = Report(7)
    result = extract(_pdf(rep, spaced=spaced, footer=True), "r.pdf")
    assert_exact(result, rep)


# ------------------------------------------------------------------------ metadata

@pytest.mark.parametrize("head, agency", [
    (["广东省人民政府办公厅2023年政府信息公开工作年度报告"], "广东省人民政府办公厅"),
    (["2023年广东省人民政府办公厅政府信息公开工作年度报告"], "广东省人民政府办公厅"),
    (["山东省人民政府办公厅", "2023年政府信息公开工作年度报告"], "山东省人民政府办公厅"),
    (["2023年政府信息公开工作年度报告", "2023年，山东省人民政府办公厅以习近平新时代中国特色社会主义思想为指导，深入推进政务公开。"],
     "山东省人民政府办公厅"),
    (["本年度报告中所列数据统计期限从2023年1月1日到2023年12月31日。",
      "2023年，山东省人民政府办公厅坚持以人民为中心，不断提升公开质量。"], "山东省人民政府办公厅"),
])
def test_agency_of_a_general_office(head, agency):
    from helpers.document import Document, Paragraph
    from helpers.metadata import report_year_and_agency

    doc = Document(path="r.txt", kind="text", blocks=[Paragraph(t) for t in [*head, "一、总体情况"]])
    assert report_year_and_agency(doc) == (2023, agency)


def test_t3_column_word_row_not_placed_when_the_columns_do_not_hold():
    """``其他`` with values that break the column identities: not placed, reported."""
    rep = Report(4)
    lines = [line.replace("3.其他 " + _j(rep.t3["other_other"]), "其他 " + _j([9, 0, 0, 0, 0, 0, 9])) for line in rep.t3_lines()]
    result = extract(rep.text(t3=lines), "r.txt")
    assert all(result.cells[f"t3.other_other.{c}"].value is None for c in T3_COLS)
    assert_never_wrong(result, rep)
    assert any(i.rule == "extract.unrecognised_row" and "其他" in i.message for i in result.issues)
    assert not any(i.rule == "extract.unlabelled_row" for i in result.issues)


@pytest.mark.parametrize("opening", [
    "2022年，我局主动通过市人民政府门户网站公开信息。",
    "2022年，全区各级行政机关认真贯彻落实《条例》。",
    "2022年，本委员会坚持以人民为中心。",
])
def test_opening_sentence_that_names_no_agency(opening):
    from helpers.document import Document, Paragraph
    from helpers.metadata import report_year_and_agency

    doc = Document(path="r.txt", kind="text", blocks=[Paragraph("2022年政府信息公开工作年度报告"), Paragraph(opening)])
    assert report_year_and_agency(doc) == (2022, None)


# ------------------------------------------------------------------------ empty cells a text layer dropped

def test_t2_digits_that_may_be_empty_cells_are_not_split():
    """In a PDF's text layer (which drops empty cells) ``行政规范性文件 104`` for
    three columns is ``1|0|4``, or empty cells and ``104``: Table 2 has no
    identity to tell, so the row is reported, not read; ``规章 000`` can only be
    ``0|0|0``."""
    from helpers.document import Document, Paragraph

    rep = Report(8)
    text = rep.text().replace("规章 1 2 30", "规章 000").replace("行政规范性文件 12 3 140", "行政规范性文件 104")
    doc = Document(path="r.pdf", kind="pdf", blocks=[Paragraph(line, page=1) for line in text.splitlines() if line])
    result = extract_document(doc)
    assert [result.cells[f"t2.regulations.{c}"].value for c in T2_COLS["regulations"]] == [0, 0, 0]
    assert all(result.cells[f"t2.normative_documents.{c}"].value is None for c in T2_COLS["normative_documents"])
    assert any(i.rule == "extract.ambiguous_split" and "104" in i.message for i in result.issues)


def test_md_label_spilled_before_the_row_of_its_group():
    """The first sub-row's label printed as a loose line above the table part whose
    first row holds only the group cell ``（六）其他处理`` and the values: the values
    are that sub-row's, not the single row （六） of the 2019 edition."""
    rep = Report(9)
    lines = rep.md_t3()
    i = _at(lines, "（六）其他处理")
    j = _at(lines, "1.申请人无正当理由")
    lines[i:j + 1] = ["", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公", "开申请",
                      _md(["（六）其他处理", *rep.t3["other_no_correction"]]), _md(["---"] * 8)]
    result = extract(rep.markdown(t3=lines), "r.md")
    assert_exact(result, rep)
    assert not any(k.startswith("t3.other.") and v.value is not None for k, v in result.cells.items())


def test_md_line_breaks_inside_cells():
    """``本年废止件<br>数``: a Markdown cell broken over lines is one cell."""
    rep = Report(10)
    text = rep.markdown().replace("信息内容 本年制发件数 本年废止件数 现行有效件数",
                                  "| 信息<br>内容 | 本年制发<br>件数 | 本年废止件<br>数 | 现行有效<br/>件数 |")
    text = text.replace("规章 1 2 30\n", "| 规章 | 1 | 2 | 30 |\n").replace("行政规范性文件 12 3 140\n", "| 行政规范性文件 | 12 | 3 | 140 |\n")
    assert_exact(extract(text, "r.md"), rep)


def test_md_group_cell_in_a_middle_sub_row_whose_label_was_spilled():
    rep = Report(9)
    lines = rep.md_t3()
    i = _at(lines, "（六）其他处理")
    lines[i:i + 4] = [_md(["1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", *rep.t3["other_no_correction"]]), "",
                      "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其", "政府信息公开申请",
                      _md(["（六）其他处理", *rep.t3["other_unpaid_fee"]]), _md(["---"] * 8),
                      _md(["3.其他", *rep.t3["other_other"]])]
    assert_exact(extract(rep.markdown(t3=lines), "r.md"), rep)


def test_t4_spacer_cells_among_empty_cells_never_shift_values():
    """A Table 4 row with zeros printed as empty cells and spacer cells: where the
    spacers may stand in several places the cells that differ are unset, never
    shifted."""
    rep = Report(11)
    rep.t4 = [3, 1, 0, 0, 4, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2]
    shown = ["" if v == 0 else str(v) for v in rep.t4]
    t4 = rep.md_t4()
    t4[-2] = _md([*shown[:5], "", *shown[5:10], "", *shown[10:]])
    result = extract(rep.markdown(t4=t4), "r.md")
    for k, v in zip(T4_KEYS, rep.t4):
        got = result.cells[k].value
        assert got is None or got == v, (k, got, v)


def test_md_spilled_label_with_a_spaced_enumerator_over_four_lines():
    """``1. 申请人无正当理由`` / … / ``请`` above the row of its group cell: the
    enumerator set off by a space is no value, and the four lines are one label."""
    rep = Report(12)
    lines = rep.md_t3()
    i = _at(lines, "（六）其他处理")
    j = _at(lines, "1.申请人无正当理由")
    lines[i:j + 1] = ["", "1. 申请人无正当理由", "逾期不补正、行政机关不", "再处理其政府信息公开申", "请",
                      _md(["（六）其他处理", *rep.t3["other_no_correction"]]), _md(["---"] * 8)]
    assert_exact(extract(rep.markdown(t3=lines), "r.md"), rep)


@pytest.mark.parametrize("row, pieces", [
    ("withheld_prohibited_by_law", ["2.其他法律行政法规禁", "止公开"]),
    ("other_unpaid_fee", ["2.申请人逾", "期未按收费通", "知要求缴纳费", "用、行政机关不再处理其政府信息公开申请"]),
])
def test_tab_label_wrapped_over_rows_after_its_values(row, pieces):
    """A label wrapped inside its cell over several grid rows, the values on the
    first: the pieces are joined (a column word such as 其他 inside a piece does
    not cut it)."""
    rep = Report(13)
    lines = rep.t3_lines()
    text = dict((r, t) for r, t in T3_ROWS)[row]
    i = _at(lines, text)
    lines[i:i + 1] = ["\t".join(["", "", pieces[0], *map(str, rep.t3[row])]),
                      *("\t".join(["", "", p, *[""] * 7]) for p in pieces[1:])]
    assert_exact(extract(rep.text(t3=lines), "r.txt"), rep)


def test_header_cells_broken_over_two_grid_rows():
    """Table 2 column headers broken column by column over two grid rows
    (``本年制`` over ``发件数``): joined per column, in their columns' order."""
    rep = Report(14)
    text = rep.text().replace(
        "信息内容 本年制发件数 本年废止件数 现行有效件数",
        "信\t本年制\t本年废\t现行有\n息内容\t发件数\t止件数\t效件数",
    ).replace("规章 1 2 30", "规章\t1\t2\t30").replace("行政规范性文件 12 3 140", "行政规范性文件\t12\t3\t140")
    assert_exact(extract(text, "r.txt"), rep)
