"""The table mapper on small hand-made documents (text run through read_text).

Each document is a made-up report written in one of the layouts found in the
wild (tab-separated dump, PDF text lines, Markdown pieces); each test changes
one thing that real reports do and checks what the mapper makes of it.
"""

from __future__ import annotations

import pytest

from helpers.codebook import load
from helpers.extract import extract_document
from helpers.read.text import read_text

CB = load()
COLS = CB.t3_cols  # natural_person … other_org, total

# (row id, label as printed in the template, group heading printed before it)
T3_ROWS = [
    ("new_received", "一、本年新收政府信息公开申请数量", None),
    ("carried_over", "二、上年结转政府信息公开申请数量", None),
    ("granted", "（一）予以公开", "三、本年度办理结果"),
    ("partially_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", None),
    ("withheld_state_secret", "1.属于国家秘密", "（三）不予公开"),
    ("withheld_prohibited_by_law", "2.其他法律行政法规禁止公开", None),
    ("withheld_three_securities", "3.危及“三安全一稳定”", None),
    ("withheld_third_party", "4.保护第三方合法权益", None),
    ("withheld_internal_affairs", "5.属于三类内部事务信息", None),
    ("withheld_process_info", "6.属于四类过程性信息", None),
    ("withheld_enforcement_files", "7.属于行政执法案卷", None),
    ("withheld_query_matters", "8.属于行政查询事项", None),
    ("unable_not_held", "1.本机关不掌握相关政府信息", "（四）无法提供"),
    ("unable_needs_creation", "2.没有现成信息需要另行制作", None),
    ("unable_unclear", "3.补正后申请内容仍不明确", None),
    ("not_processed_complaint", "1.信访举报投诉类申请", "（五）不予处理"),
    ("not_processed_duplicate", "2.重复申请", None),
    ("not_processed_publication", "3.要求提供公开出版物", None),
    ("not_processed_repetitive", "4.无正当理由大量反复申请", None),
    ("not_processed_confirmation", "5.要求行政机关确认或重新出具已获取信息", None),
    ("other", "（六）其他处理", None),
    ("other_no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "（六）其他处理"),
    ("other_unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", None),
    ("other_other", "3.其他", None),
    ("total_processed", "（七）总计", None),
    ("carried_forward", "四、结转下年度继续办理", None),
]
LABEL = {r: label for r, label, _ in T3_ROWS}
GROUP = {r: g for r, _, g in T3_ROWS}
SUMS = ("new_received", "carried_over", "total_processed", "carried_forward")


def leaves(split_other: bool) -> list[str]:
    out = []
    for r, _, _ in T3_ROWS:
        if r == "other" and split_other or r.startswith("other_") and not split_other:
            continue
        out.append(r)
    return out


def t3_values(split_other: bool = True) -> dict[str, list[int]]:
    """A valid Table 3 in which every outcome row differs from every other."""
    rows = leaves(split_other)
    outcomes = [r for r in rows if r not in SUMS]
    vals: dict[str, list[int]] = {}
    for i, r in enumerate(outcomes):
        parts = [i + 1, i % 2, 0, i % 3, 0, (i * 7) % 5]
        vals[r] = [*parts, sum(parts)]
    tp = [sum(vals[r][c] for r in outcomes) for c in range(7)]
    co = [2, 0, 0, 1, 0, 0]
    co.append(sum(co))
    cf = [3, 1, 0, 0, 0, 2]
    cf.append(sum(cf))
    vals["total_processed"] = tp
    vals["carried_over"] = co
    vals["carried_forward"] = cf
    vals["new_received"] = [tp[c] + cf[c] - co[c] for c in range(7)]
    return vals


T2_2021 = {
    "t2.regulations.issued": 0,
    "t2.regulations.repealed": 0,
    "t2.regulations.in_force": 0,
    "t2.normative_documents.issued": 3,
    "t2.normative_documents.repealed": 1,
    "t2.normative_documents.in_force": 12,
    "t2.licensing.decisions": 45,
    "t2.punishment.decisions": 7,
    "t2.coercion.decisions": 2,
    "t2.fees.amount": 9116.36,
}
T4 = [1, 0, 2, 0, 3, 4, 0, 0, 1, 5, 0, 0, 0, 0, 0]
T4_KEYS = [f"t4.{g}.{c}" for g in CB.t4_groups for c in CB.t4_cols]


# --------------------------------------------------------------------------- PDF-style text


def pdf_t2() -> list[str]:
    v = T2_2021
    return [
        "二、主动公开政府信息情况",
        "第二十条第（一）项",
        "信息内容 本年制发件数 本年废止件数 现行有效件数",
        f"规章 {v['t2.regulations.issued']} {v['t2.regulations.repealed']} {v['t2.regulations.in_force']}",
        "行政规范性文件 {} {} {}".format(
            v["t2.normative_documents.issued"], v["t2.normative_documents.repealed"], v["t2.normative_documents.in_force"]
        ),
        "第二十条第（五）项",
        "信息内容 本年处理决定数量",
        f"行政许可 {v['t2.licensing.decisions']}",
        "第二十条第（六）项",
        "信息内容 本年处理决定数量",
        f"行政处罚 {v['t2.punishment.decisions']}",
        f"行政强制 {v['t2.coercion.decisions']}",
        "第二十条第（八）项",
        "信息内容 本年收费金额（单位：万元）",
        f"行政事业性收费 {v['t2.fees.amount']}",
    ]


def pdf_t3(vals: dict[str, list[int]], split_other: bool = True) -> list[str]:
    lines = [
        "三、收到和处理政府信息公开申请情况",
        "（本列数据的勾稽关系为：第一项加第二项之和， 等",
        "于第三项加第四项之和）",
        "申请人情况",
        "自然人",
        "法人或其他组织",
        "总计",
        "商业",
        "企业",
        "科研",
        "机构",
        "社会",
        "公益",
        "组织",
        "法律",
        "服务",
        "机构",
        "其他",
    ]
    for r in leaves(split_other):
        g = GROUP[r]
        if g == "三、本年度办理结果":
            lines.extend(g)  # the rotated group label: one character per line
        elif g:
            lines.append(g)
        lines.append(LABEL[r] + " " + " ".join(map(str, vals[r])))
    return lines


def pdf_t4(values=T4) -> list[str]:
    head = ["结果", "维持", "结果", "纠正", "其他", "结果", "尚未", "审结", "总 计"]
    return [
        "四、政府信息公开行政复议、行政诉讼情况",
        "行政复议 行政诉讼",
        *head,
        "未经复议直接起诉 复议后起诉",
        *head,
        *head,
        " ".join(map(str, values)),
        "五、存在的主要问题及改进情况",
        "无。",
    ]


def pdf_doc(t3_lines: list[str] | None = None, vals=None, split_other: bool = True) -> list[str]:
    vals = vals or t3_values(split_other)
    return [
        "一、总体情况",
        "2023 年全区受理政府信息公开申请 21 件。",
        *pdf_t2(),
        *(t3_lines if t3_lines is not None else pdf_t3(vals, split_other)),
        *pdf_t4(),
    ]


# --------------------------------------------------------------------------- tab-separated text


def tab_t3(vals: dict[str, list[int]], split_other: bool = True, cells=None) -> list[str]:
    """Table 3 in the layout of data/raw/yindu_office_2024.txt (10 fields a row)."""
    cells = cells or {r: [str(x) for x in vals[r]] for r in vals}
    lines = [
        "### 三、收到和处理政府信息公开申请情况",
        "(本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和)\t\t申请人情况\t\t\t\t\t\t总计\t",
        "\t\t自然人\t法人或其他组织\t\t\t\t\t\t",
        "\t\t\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t\t",
    ]
    for r in leaves(split_other):
        v = cells[r]
        g = GROUP[r]
        if r in ("new_received", "carried_over", "carried_forward", "total_processed"):
            fields = [LABEL[r], "", *v, ""]
        elif r == "granted":
            fields = ["三、本年度办理结果", LABEL[r], *v, ""]
        elif r in ("partially_granted", "other") and not (r == "other" and split_other):
            fields = ["", LABEL[r], *v, ""]
        else:
            fields = ["", g or "", LABEL[r], *v]
        lines.append("\t".join(fields))
    return lines


def tab_doc(t3_lines: list[str], t4_values=T4) -> list[str]:
    v = T2_2021
    return [
        "## 二、主动公开政府信息情况",
        "第二十条第（一）项\t\t\t",
        "信息内容\t本年制发件数\t本年废止件数\t现行有效件数",
        f"规章\t{v['t2.regulations.issued']}\t{v['t2.regulations.repealed']}\t{v['t2.regulations.in_force']}",
        "行政规范性文件\t{}\t{}\t{}".format(
            v["t2.normative_documents.issued"], v["t2.normative_documents.repealed"], v["t2.normative_documents.in_force"]
        ),
        "第二十条第（五）项\t\t\t",
        "信息内容\t本年处理决定数量\t\t",
        f"行政许可\t{v['t2.licensing.decisions']}\t\t",
        "第二十条第（六）项\t\t\t",
        "信息内容\t本年处理决定数量\t\t",
        f"行政处罚\t{v['t2.punishment.decisions']}\t\t",
        f"行政强制\t{v['t2.coercion.decisions']}\t\t",
        "第二十条第（八）项\t\t\t",
        "信息内容\t本年收费金额（单位：万元）\t\t",
        f"行政事业性收费\t{v['t2.fees.amount']}\t\t",
        "",
        *t3_lines,
        "",
        "#### 四、政府信息公开行政复议、行政诉讼情况",
        "行政复议\t\t\t\t\t行政诉讼\t\t\t\t\t\t\t\t\t",
        "结果 维持\t结果 纠正\t其他 结果\t尚未 审结\t总计\t未经复议直接起诉\t\t\t\t\t复议后起诉\t\t\t\t",
        "\t\t\t\t\t" + "\t".join(["结果 维持", "结果 纠正", "其他 结果", "尚未 审结", "总计"] * 2),
        "\t".join(map(str, t4_values)),
        "",
        "#### 五、存在的主要问题及改进情况",
        "无。",
    ]


# --------------------------------------------------------------------------- helpers


def extract(lines: list[str], path: str = "made_up.txt"):
    return extract_document(read_text(path, "\n".join(lines).encode("utf-8")))


def rules(result) -> list[str]:
    return [i.rule for i in result.issues]


def assert_t3_rows(result, vals, rows=None):
    for r in rows if rows is not None else vals:
        got = [result.cells[f"t3.{r}.{c}"].value for c in COLS]
        assert got == vals[r], r


def assert_t2_t4(result):
    for k, v in T2_2021.items():
        assert result.cells[k].value == v, k
    assert [result.cells[k].value for k in T4_KEYS] == T4


def all_values(result) -> set:
    return {c.value for c in result.cells.values() if c.value is not None}


# --------------------------------------------------------------------------- baselines


def test_pdf_baseline():
    vals = t3_values()
    r = extract(pdf_doc(vals=vals))
    assert r.edition == "2021"
    assert r.status == "ok", r.issues
    assert_t3_rows(r, vals)
    assert_t2_t4(r)


def test_tab_baseline():
    vals = t3_values()
    r = extract(tab_doc(tab_t3(vals)))
    assert r.edition == "2021"
    assert r.status == "ok", r.issues
    assert_t3_rows(r, vals)
    assert_t2_t4(r)
    assert not [i for i in r.issues if i.rule.startswith("extract.")]


# --------------------------------------------------------------------------- labels broken over lines


def test_label_broken_over_two_lines_then_values_line():
    vals = t3_values()
    lines = pdf_t3(vals)
    i = lines.index(LABEL["partially_granted"] + " " + " ".join(map(str, vals["partially_granted"])))
    lines[i : i + 1] = [
        "（二）部分公开（区分处理的，只计这一情 形，不",
        "计其他情形）",
        " ".join(map(str, vals["partially_granted"])),
    ]
    j = lines.index(LABEL["not_processed_confirmation"] + " " + " ".join(map(str, vals["not_processed_confirmation"])))
    lines[j : j + 1] = [
        "5.要求行政机关确认或重 新出具",
        "已获取信息",
        " ".join(map(str, vals["not_processed_confirmation"])),
    ]
    r = extract(pdf_doc(lines))
    assert r.status == "ok", r.issues
    assert_t3_rows(r, vals)


def _wrap_partially_granted(values_on_second_line: bool) -> tuple[list[str], dict]:
    # 洪泽区 2023 PDF text: the （二） label wraps after "不", the values follow
    vals = t3_values()
    lines = pdf_t3(vals)
    printed = " ".join(map(str, vals["partially_granted"]))
    i = lines.index(LABEL["partially_granted"] + " " + printed)
    if values_on_second_line:
        lines[i : i + 1] = ["（二）部分公开（区分处理的，只计这一情 形，不", "计其他情形） " + printed]
    else:
        lines[i : i + 1] = ["（二）部分公开（区分处理的，只计这一情 形，不", "计其他情形）", printed]
    return lines, vals


def test_broken_label_is_read_as_the_label():
    """The two halves are one printed label: its row is labelled, not placed as a
    row without label (an unlabelled row is only placed when its gap is unique)."""
    lines, vals = _wrap_partially_granted(values_on_second_line=False)
    r = extract(pdf_doc(lines))
    assert_t3_rows(r, vals)
    assert "extract.unlabelled_row" not in rules(r), [i.message for i in r.issues]


def test_broken_label_with_values_on_its_second_line():
    lines, vals = _wrap_partially_granted(values_on_second_line=True)
    r = extract(pdf_doc(lines))
    assert r.status == "ok", [i.message for i in r.issues]
    assert_t3_rows(r, vals)


def test_broken_numbered_label_with_values_on_its_second_line():
    vals = t3_values()
    lines = pdf_t3(vals)
    printed = " ".join(map(str, vals["not_processed_confirmation"]))
    j = lines.index(LABEL["not_processed_confirmation"] + " " + printed)
    lines[j : j + 1] = ["5.要求行政机关确认或重 新出具", "已获取信息 " + printed]
    r = extract(pdf_doc(lines))
    assert r.status == "ok"
    assert_t3_rows(r, vals)
    assert "extract.unlabelled_row" not in rules(r)


def test_label_with_inner_spaces_on_one_line():
    vals = t3_values()
    lines = pdf_t3(vals)
    i = lines.index(LABEL["not_processed_repetitive"] + " " + " ".join(map(str, vals["not_processed_repetitive"])))
    lines[i] = "4.无正当理由大量反复 申请 " + " ".join(map(str, vals["not_processed_repetitive"]))
    r = extract(pdf_doc(lines))
    assert_t3_rows(r, vals)


# --------------------------------------------------------------------------- hybrid edition


def test_hybrid_revised_t2_with_single_other_row():
    vals = t3_values(split_other=False)
    r = extract(pdf_doc(pdf_t3(vals, split_other=False), vals=vals))
    assert r.edition == "2021"
    assert r.status == "ok", r.issues
    assert_t3_rows(r, vals)
    assert [r.cells[f"t3.other.{c}"].status for c in COLS] == ["number"] * 7
    for sub in ("other_no_correction", "other_unpaid_fee", "other_other"):
        for c in COLS:
            cell = r.cells[f"t3.{sub}.{c}"]
            assert cell.status == "absent"
            assert cell.value is None
    assert_t2_t4(r)


def test_hybrid_in_tab_layout():
    vals = t3_values(split_other=False)
    r = extract(tab_doc(tab_t3(vals, split_other=False)))
    assert r.edition == "2021"
    assert_t3_rows(r, vals)
    assert all(r.cells[f"t3.other_other.{c}"].status == "absent" for c in COLS)


def test_split_other_leaves_single_row_absent():
    vals = t3_values(split_other=True)
    r = extract(tab_doc(tab_t3(vals)))
    assert all(r.cells[f"t3.other.{c}"].status == "absent" for c in COLS)


# --------------------------------------------------------------------------- unknown labels


SPAM = [97, 0, 0, 0, 0, 0, 97]


def reported_unrecognised(result, label: str) -> bool:
    return any(i.rule == "extract.unrecognised_row" and label in i.message for i in result.issues)


def test_unrecognised_row_label_adds_nothing():
    vals = t3_values()
    lines = tab_t3(vals)
    i = next(k for k, line in enumerate(lines) if "1.属于国家秘密" in line)
    lines.insert(i, "\t\t365体育官网申请\t" + "\t".join(map(str, SPAM)))
    r = extract(tab_doc(lines))
    assert_t3_rows(r, vals)
    assert 97 not in all_values(r)
    assert_t2_t4(r)
    assert reported_unrecognised(r, "365体育官网申请")


def test_unrecognised_row_label_in_place_of_a_row_is_not_placed():
    vals = t3_values()
    lines = tab_t3(vals)
    i = next(k for k, line in enumerate(lines) if "1.信访举报投诉类申请" in line)
    lines[i] = "\t\t1.信访举报投诉类365体育官网申请\t" + "\t".join(map(str, SPAM))
    r = extract(tab_doc(lines))
    for c in COLS:
        assert r.cells[f"t3.not_processed_complaint.{c}"].value is None
    assert 97 not in all_values(r)
    others = [x for x in vals if x != "not_processed_complaint"]
    assert_t3_rows(r, vals, others)
    assert r.status == "partial"
    assert any("not_processed_complaint" in i.message for i in r.issues if i.rule == "extract.partial")
    assert reported_unrecognised(r, "365体育官网申请")


def test_unrecognised_label_pdf_line():
    vals = t3_values()
    lines = pdf_t3(vals)
    i = next(k for k, line in enumerate(lines) if line.startswith("1.属于国家秘密"))
    lines.insert(i, "365体育官网申请 " + " ".join(map(str, SPAM)))
    r = extract(pdf_doc(lines))
    assert 97 not in all_values(r)
    assert_t3_rows(r, vals)
    assert reported_unrecognised(r, "365体育官网申请")


# --------------------------------------------------------------------------- rows without labels


def _unlabel(lines: list[str], label: str) -> int:
    i = next(k for k, line in enumerate(lines) if label in line)
    fields = lines[i].split("\t")
    lines[i] = "\t".join("" if label in f or f.startswith("（") else f for f in fields)
    return i


def test_unlabelled_row_fills_the_only_gap():
    vals = t3_values()
    lines = tab_t3(vals)
    _unlabel(lines, "3.危及")
    r = extract(tab_doc(lines))
    assert_t3_rows(r, vals)
    issues = [i for i in r.issues if i.rule == "extract.unlabelled_row"]
    assert len(issues) == 1
    assert issues[0].severity == "info"
    assert "withheld_three_securities" in issues[0].message
    assert r.status == "ok"


def test_unlabelled_row_pdf_layout():
    vals = t3_values()
    lines = pdf_t3(vals)
    i = next(k for k, line in enumerate(lines) if line.startswith("2.重复申请"))
    lines[i] = " ".join(map(str, vals["not_processed_duplicate"]))
    r = extract(pdf_doc(lines))
    assert_t3_rows(r, vals)
    assert "extract.unlabelled_row" in rules(r)


def test_two_unlabelled_rows_around_one_gap_are_not_placed():
    vals = t3_values()
    lines = tab_t3(vals)
    i = _unlabel(lines, "3.危及")
    lines.insert(i + 1, "\t\t\t" + "\t".join(map(str, SPAM)))  # a second row without label
    r = extract(tab_doc(lines))
    assert "extract.unplaced_rows" in rules(r)
    assert "extract.unlabelled_row" not in rules(r)
    for c in COLS:
        assert r.cells[f"t3.withheld_three_securities.{c}"].value is None
    assert 97 not in all_values(r)
    others = [x for x in vals if x != "withheld_three_securities"]
    assert_t3_rows(r, vals, others)


def test_unlabelled_rows_filling_a_gap_of_two():
    vals = t3_values()
    lines = tab_t3(vals)
    _unlabel(lines, "3.危及")
    _unlabel(lines, "4.保护第三方")
    r = extract(tab_doc(lines))
    assert_t3_rows(r, vals)
    assert rules(r).count("extract.unlabelled_row") == 2


# --------------------------------------------------------------------------- prose


PROSE = "本年度内单位行政处罚处理决定数量39件，行政强制措施决定6件。"


def test_prose_in_table_two_region_is_no_value():
    vals = t3_values()
    lines = tab_doc(tab_t3(vals))
    i = lines.index("第二十条第（六）项\t\t\t")
    lines.insert(i, PROSE)
    lines.insert(2, "该部分以表格形式报告。表格如下:")
    r = extract(lines)
    assert_t2_t4(r)
    assert 39 not in all_values(r) and 6 not in {r.cells[k].value for k in T2_2021}


def test_prose_after_a_row_label_does_not_fill_it():
    vals = t3_values()
    t2 = pdf_t2()
    i = t2.index(f"行政处罚 {T2_2021['t2.punishment.decisions']}")
    t2[i : i + 1] = ["行政处罚", PROSE]
    lines = ["一、总体情况", *t2, *pdf_t3(vals), *pdf_t4()]
    r = extract(lines)
    assert r.cells["t2.punishment.decisions"].value is None
    assert 39 not in all_values(r)
    assert r.cells["t2.coercion.decisions"].value == T2_2021["t2.coercion.decisions"]


def test_prose_inside_table_three_is_no_value():
    vals = t3_values()
    lines = pdf_t3(vals)
    i = next(k for k, line in enumerate(lines) if line.startswith("（四）无法提供"))
    lines.insert(i, "其中依申请公开办结39件，结转下年度3件。")
    r = extract(pdf_doc(lines))
    assert_t3_rows(r, vals)
    assert 39 not in all_values(r)


# --------------------------------------------------------------------------- Table 4 in pieces


def test_table_four_split_over_three_small_tables():
    vals = t3_values()
    lines = tab_doc(tab_t3(vals))
    start = lines.index("#### 四、政府信息公开行政复议、行政诉讼情况")
    end = lines.index("#### 五、存在的主要问题及改进情况")
    head = "| 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 |"
    rule = "|----------|----------|----------|----------|------|"
    t4 = [
        "## 四、政府信息公开行政复议、行政诉讼情况",
        "",
        "### 行政复议",
        head,
        rule,
        "| " + " | ".join(map(str, T4[0:5])) + " |",
        "",
        "### 行政诉讼（未经复议直接起诉）",
        head,
        rule,
        "| " + " | ".join(map(str, T4[5:10])) + " |",
        "",
        "### 行政诉讼（复议后起诉）",
        head,
        rule,
        "| " + " | ".join(map(str, T4[10:15])) + " |",
        "",
    ]
    lines[start:end] = t4
    r = extract(lines)
    assert [r.cells[k].value for k in T4_KEYS] == T4
    assert_t3_rows(r, vals)


# --------------------------------------------------------------------------- blanks


def test_blank_total_stays_blank():
    vals = t3_values()
    cells = {r: [str(x) for x in vals[r]] for r in vals}
    cells["withheld_state_secret"][6] = ""  # a sub-row: 7 fields
    cells["granted"][6] = ""  # a row with a trailing empty field
    r = extract(tab_doc(tab_t3(vals, cells=cells)))
    for row in ("withheld_state_secret", "granted"):
        total = r.cells[f"t3.{row}.total"]
        assert total.status == "blank"
        assert total.value is None
        got = [r.cells[f"t3.{row}.{c}"].value for c in COLS[:6]]
        assert got == vals[row][:6]
    others = [x for x in vals if x not in ("withheld_state_secret", "granted")]
    assert_t3_rows(r, vals, others)


def test_blank_applicant_cells_stay_blank():
    vals = t3_values()
    vals["withheld_third_party"] = [0, 0, 0, 0, 0, 0, 0]
    # keep the table valid: rebuild the totals
    outcomes = [x for x in leaves(True) if x not in SUMS]
    tp = [sum(vals[x][c] for x in outcomes) for c in range(7)]
    vals["new_received"] = [vals["new_received"][c] - vals["total_processed"][c] + tp[c] for c in range(7)]
    vals["total_processed"] = tp
    cells = {x: [str(v) for v in vals[x]] for x in vals}
    cells["withheld_third_party"] = ["", "", "", "", "", "", "0"]
    r = extract(tab_doc(tab_t3(vals, cells=cells)))
    assert [r.cells[f"t3.withheld_third_party.{c}"].status for c in COLS] == ["blank"] * 6 + ["number"]
    assert r.cells["t3.withheld_third_party.total"].value == 0
    others = [x for x in vals if x != "withheld_third_party"]
    assert_t3_rows(r, vals, others)


# --------------------------------------------------------------------------- duplicates


def test_same_row_printed_twice():
    vals = t3_values()
    lines = tab_t3(vals)
    i = next(k for k, line in enumerate(lines) if "6.属于四类过程性信息" in line)
    lines.insert(i + 1, lines[i])
    r = extract(tab_doc(lines))
    assert "extract.duplicate_row" in rules(r)
    assert_t3_rows(r, vals)


def test_same_row_printed_twice_with_other_values_keeps_the_first():
    vals = t3_values()
    lines = pdf_t3(vals)
    i = next(k for k, line in enumerate(lines) if line.startswith("2.重复申请"))
    lines.insert(i + 1, "2.重复申请 " + " ".join(map(str, SPAM)))
    r = extract(pdf_doc(lines))
    dup = [x for x in r.issues if x.rule == "extract.duplicate_row"]
    assert dup and dup[0].severity == "warning"
    assert_t3_rows(r, vals)
    assert 97 not in all_values(r)


@pytest.mark.parametrize("split_other", [True, False])
def test_every_codebook_key_of_the_edition_is_listed(split_other):
    vals = t3_values(split_other)
    r = extract(tab_doc(tab_t3(vals, split_other=split_other)))
    assert set(CB.keys_for("2021")) <= set(r.cells)


# --------------------------------------------------------------------------- digits run together


def _run_together_t3(rows: dict[str, str]) -> str:
    """Table 3 and Table 4 as one line, digits run together (平潭 ``*.txt``)."""
    text = "三、收到和处理政府信息公开申请情况"
    for r in ("new_received", "carried_over", "granted", "total_processed", "carried_forward"):
        if r == "granted":
            text += "三、本年度办理结果"
        text += LABEL[r] + rows.get(r, "0000000")
    text += (
        "四、政府信息公开行政复议、行政诉讼情况行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计"
        "未经复议直接起诉复议后起诉结果维持结果纠正其他结果尚未审结总计结果维持结果纠正其他结果尚未审结总计"
        + rows.get("t4", "000000000000000")
        + "五、存在的主要问题及改进情况"
    )
    return text


def test_run_together_rows_are_split():
    # 平潭 2021 style: 64 0 0 2 0 4 | 70 received, 63 0 0 2 0 4 | 69 handled, 1 carried forward
    text = _run_together_t3({"new_received": "640020470", "granted": "630020469", "total_processed": "630020469",
                             "carried_forward": "1000001", "t4": "10203120001200000"})
    r = extract([text])
    assert [r.cells[f"t3.new_received.{c}"].value for c in COLS] == [64, 0, 0, 2, 0, 4, 70]
    assert [r.cells[f"t3.carried_forward.{c}"].value for c in COLS] == [1, 0, 0, 0, 0, 0, 1]
    for row in ("granted", "total_processed"):
        got = [r.cells[f"t3.{row}.{c}"].value for c in COLS]
        # right, or left unset where the digits allow several readings
        assert all(g is None or g == w for g, w in zip(got, [63, 0, 0, 2, 0, 4, 69])), (row, got)
    assert [r.cells[k].value for k in T4_KEYS] == [1, 0, 2, 0, 3, 12, 0, 0, 0, 12, 0, 0, 0, 0, 0]


def test_easy_rows_are_read_after_hard_ones():
    """Rows of large counts take a long digit search; the rows after them, whose
    digits have one reading only ("0000000"), must still be read."""
    big = "1289167919051391143416079305"  # 1289 1679 1905 1391 1434 1607 | 9305, one reading
    r = extract([_run_together_t3({"new_received": big, "granted": big, "total_processed": big})])
    assert [r.cells[f"t3.carried_over.{c}"].value for c in COLS] == [0] * 7
    assert [r.cells[f"t3.carried_forward.{c}"].value for c in COLS] == [0] * 7
    assert [r.cells[k].value for k in T4_KEYS] == [0] * 15


def test_run_together_row_of_large_counts_with_one_reading():
    big = "1289167919051391143416079305"
    r = extract([_run_together_t3({"new_received": big, "granted": big, "total_processed": big})])
    for row in ("new_received", "granted", "total_processed"):
        assert [r.cells[f"t3.{row}.{c}"].value for c in COLS] == [1289, 1679, 1905, 1391, 1434, 1607, 9305], row
