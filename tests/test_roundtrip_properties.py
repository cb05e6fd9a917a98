"""Round-trip properties: a random valid report, printed in each layout found in
the wild, must be read back cell for cell.

``reports()`` generates a valid report of either edition:

* 2019 edition: 22 Table 2 values, including signed 本年增/减 changes (``-185``,
  ``减4``) and a 采购总金额 printed with its unit (元 or 万元);
* 2021 edition: 10 Table 2 values, including a fee in 万元 with up to 6 decimals;
* Table 3 with 23 (2019) or 25 (2021) leaf rows whose values satisfy every
  identity of template.md §2c: the outcome rows are drawn per applicant
  column, the 总计 column and （七）总计 are derived, and the balance is met by
  choosing 结转下年度 and 上年结转; zero applicant cells are printed blank in
  some reports, and in the 上海 2019 style the 总计 of every 办理结果 row too;
* Table 4 with 15 values satisfying its three totals.

The printing varies as in the wild: full- or halfwidth brackets, a space after
enumerators, full-width digits, thousands separators, 规章 printed as an N/A
marker, labels broken over lines, digits split over ``<span>`` s.

The renderers below print such a report as

(a) the tab-separated layout of ``data/raw/yindu_office_2024.txt``,
(b) Markdown pipe tables,
(c) one cell per line (桃江/科左后旗 fragments),
(d) space-separated lines like PDF text (洪泽 2023 through the PDF reader),
(e) HTML with rowspan/colspan, read by ``read_html``,
(f) digits run together in one long line (平潭 ``*.txt``).

(a), (b) and (e) can print a blank cell; (c), (d) and (f) cannot, so there a
blank is printed as its value (0 for an applicant cell) and that is expected.
For (a)–(e) every codebook cell of the edition must come back exactly; for (f)
a cell must be right or left unset with the ambiguity reported, and a row whose
digits allow one reading only must come back right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from helpers.codebook import load
from helpers.extract import extract_document
from helpers.read.html import read_html
from helpers.read.text import read_text

CB = load()
COLS = CB.t3_cols
T4_KEYS = [f"t4.{g}.{c}" for g in CB.t4_groups for c in CB.t4_cols]

SETTINGS = dict(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
N_EXAMPLES = 100  # per layout (a)–(e)
N_RUN_TOGETHER = 40  # (f): splitting digits is the slow part

# --------------------------------------------------------------------------- the template, as printed

T2_TEMPLATE = {
    "2021": [
        ("第二十条第（一）项", ["本年制发件数", "本年废止件数", "现行有效件数"],
         [("规章", "regulations"), ("行政规范性文件", "normative_documents")], ["issued", "repealed", "in_force"]),
        ("第二十条第（五）项", ["本年处理决定数量"], [("行政许可", "licensing")], ["decisions"]),
        ("第二十条第（六）项", ["本年处理决定数量"], [("行政处罚", "punishment"), ("行政强制", "coercion")], ["decisions"]),
        ("第二十条第（八）项", ["本年收费金额（单位：万元）"], [("行政事业性收费", "fees")], ["amount"]),
    ],
    "2019": [
        ("第二十条第（一）项", ["本年新制作数量", "本年新公开数量", "对外公开总数量"],
         [("规章", "regulations"), ("规范性文件", "normative_documents")], ["made", "published", "published_total"]),
        ("第二十条第（五）项", ["上一年项目数量", "本年增/减", "处理决定数量"],
         [("行政许可", "licensing"), ("其他对外管理服务事项", "other_services")], ["items_prev_year", "items_change", "decisions"]),
        ("第二十条第（六）项", ["上一年项目数量", "本年增/减", "处理决定数量"],
         [("行政处罚", "punishment"), ("行政强制", "coercion")], ["items_prev_year", "items_change", "decisions"]),
        ("第二十条第（八）项", ["上一年项目数量", "本年增/减"], [("行政事业性收费", "fees")], ["items_prev_year", "items_change"]),
        ("第二十条第（九）项", ["采购项目数量", "采购总金额"], [("政府集中采购", "procurement")], ["projects", "amount"]),
    ],
}

# (row id, printed label, group label printed before the row when a group starts there)
T3_TEMPLATE = [
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
T3_LABEL = {r: label for r, label, _ in T3_TEMPLATE}
T3_GROUP = {r: g for r, _, g in T3_TEMPLATE}
SUM_ROWS = ("new_received", "carried_over", "total_processed", "carried_forward")
# rows whose label spans all three label columns, and rows spanning two
SPAN3 = ("new_received", "carried_over", "carried_forward")
SPAN2 = ("granted", "partially_granted", "other", "total_processed")

T3_ANCHOR = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
T3_ORGS = ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
T4_RESULTS = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]

SECTIONS = {
    "t2": "二、主动公开政府信息情况",
    "t3": "三、收到和处理政府信息公开申请情况",
    "t4": "四、政府信息公开行政复议、行政诉讼情况",
    "end": "五、存在的主要问题及改进情况",
}
INTRO = "一、总体情况"
PROSE = "本年度共主动公开政府信息1002条，受理政府信息公开申请21件，均在法定期限内答复。"
OUTRO = "依申请公开办理质量仍需提高。"


def subgroups(leaves: list[str]) -> dict[str, str]:
    """The sub-group label （三）…（六） of each leaf row printed under one."""
    out: dict[str, str] = {}
    group = None
    for r in leaves:
        if r in SPAN2 or r in SPAN3:
            group = None
        elif T3_GROUP[r]:
            group = T3_GROUP[r]
        if group:
            out[r] = group
    return out


def t3_leaves(split_other: bool) -> list[str]:
    out = []
    for r, _, _ in T3_TEMPLATE:
        if r == "other" and split_other or r.startswith("other_") and not split_other:
            continue
        out.append(r)
    return out


# --------------------------------------------------------------------------- the report model


@dataclass(frozen=True)
class T2Cell:
    key: str
    value: int | float  # the value the codebook cell must hold (元 for 采购总金额)
    printed: str  # as printed in a cell or a line
    run: str  # as printed when digits run together (no 减, +, thousands separators)


@dataclass(frozen=True)
class Report:
    edition: str
    t2: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str, tuple[T2Cell, ...]], ...]], ...]
    t3: dict  # row -> [7 ints]
    blank: dict  # row -> [7 bools]: printed blank (zero applicant cells; 总计 in the 上海 style)
    t4: tuple[int, ...]

    @property
    def split_other(self) -> bool:
        return self.edition == "2021"

    @property
    def leaves(self) -> list[str]:
        return t3_leaves(self.split_other)

    def t3_cells(self, row: str, blanks: bool) -> list[str]:
        """The printed cells of a row; where a layout cannot print a blank, the
        value is printed instead (0 for a blank applicant cell)."""
        return ["" if blanks and b else str(v) for v, b in zip(self.t3[row], self.blank[row])]

    def expected(self, blanks: bool, na_rows: tuple[str, ...] = ()) -> dict[str, tuple[int | float | None, str]]:
        out: dict[str, tuple[int | float | None, str]] = {}
        for _, _, rows in self.t2:
            for _, row, cells in rows:
                for c in cells:
                    out[c.key] = (None, "na_marker") if row in na_rows else (c.value, "number")
        for r in self.leaves:
            for c, v, b in zip(COLS, self.t3[r], self.blank[r]):
                out[f"t3.{r}.{c}"] = (None, "blank") if blanks and b else (v, "number")
        if self.split_other:
            for c in COLS:
                out[f"t3.other.{c}"] = (None, "absent")
        for k, v in zip(T4_KEYS, self.t4):
            out[k] = (v, "number")
        return out


# --------------------------------------------------------------------------- strategies

counts = st.one_of(st.just(0), st.integers(0, 12), st.integers(0, 400))
# run-together text: the 平潭 reports print Table 3 counts below 100; three-digit
# counts make the digit search slow, so they are rarer here
run_counts = st.one_of(st.just(0), st.integers(0, 12), st.integers(0, 99), st.integers(0, 57).map(lambda n: 7 * n))
big_counts = st.one_of(st.just(0), st.integers(0, 50), st.integers(0, 2_000_000))


@st.composite
def count_cell(draw, key: str, values=big_counts):
    n = draw(values)
    printed = f"{n:,}" if n >= 1000 and draw(st.booleans()) else str(n)
    return T2Cell(key, n, printed, str(n))


@st.composite
def change_cell(draw, key: str):
    n = draw(st.integers(-500, 500))
    if n < 0:
        printed = draw(st.sampled_from([f"-{-n}", f"减{-n}", f"－{-n}"]))
    elif n > 0:
        printed = draw(st.sampled_from([str(n), f"+{n}", f"增{n}"]))
    else:
        printed = "0"
    return T2Cell(key, n, printed, str(n))


@st.composite
def decimal_text(draw, max_whole: int, max_places: int) -> str:
    whole = draw(st.integers(0, max_whole))
    places = draw(st.integers(0, max_places))
    if not places:
        return str(whole)
    frac = draw(st.integers(0, 10**places - 1))
    return f"{whole}.{frac:0{places}d}"


@st.composite
def fee_cell(draw, key: str):
    """2021 fee: an amount in 万元, up to 6 decimals (24252.311082)."""
    text = draw(decimal_text(100_000, 6))
    value = float(text) if "." in text else int(text)
    printed = text + ("万元" if draw(st.integers(0, 4)) == 0 else "")
    return T2Cell(key, value, printed, printed)


@st.composite
def amount_cell(draw, key: str):
    """2019 采购总金额 with its unit in the cell: 251000元, 5394432.52元, 52.15万元."""
    unit = draw(st.sampled_from(["元", "元", "万元"]))
    text = draw(decimal_text(10_000_000 if unit == "元" else 10_000, 2 if unit == "元" else 4))
    amount = Decimal(text) * (10_000 if unit == "万元" else 1)
    value = int(amount) if amount == amount.to_integral_value() and "." not in text else float(amount)
    return T2Cell(key, value, text + unit, text + unit)


@st.composite
def t2_tables(draw, edition: str):
    blocks = []
    for heading, header, rows, cols in T2_TEMPLATE[edition]:
        out_rows = []
        for label, row in rows:
            cells = []
            for col in cols:
                key = f"t2.{row}.{col}"
                if col == "items_change":
                    cells.append(draw(change_cell(key)))
                elif col == "amount" and edition == "2021":
                    cells.append(draw(fee_cell(key)))
                elif col == "amount":
                    cells.append(draw(amount_cell(key)))
                elif row in ("regulations", "normative_documents"):
                    cells.append(draw(count_cell(key, counts)))
                else:
                    cells.append(draw(count_cell(key)))
            out_rows.append((label, row, tuple(cells)))
        blocks.append((heading, tuple(header), tuple(out_rows)))
    return tuple(blocks)


@st.composite
def reports(draw, editions=("2019", "2021"), counts=counts):
    edition = draw(st.sampled_from(editions))
    t2 = draw(t2_tables(edition))
    leaves = t3_leaves(edition == "2021")
    outcomes = [r for r in leaves if r not in SUM_ROWS]
    parts: dict[str, list[int]] = {r: [draw(counts) for _ in range(6)] for r in outcomes}
    total_processed = [sum(parts[r][c] for r in outcomes) for c in range(6)]
    carried_forward = [draw(counts) for _ in range(6)]
    carried_over = [draw(st.integers(0, total_processed[c] + carried_forward[c])) for c in range(6)]
    parts["total_processed"] = total_processed
    parts["carried_forward"] = carried_forward
    parts["carried_over"] = carried_over
    parts["new_received"] = [total_processed[c] + carried_forward[c] - carried_over[c] for c in range(6)]
    t3 = {r: [*parts[r], sum(parts[r])] for r in leaves}

    # blank cells: none; some zero applicant cells; every zero applicant cell;
    # or as 上海市政府办公厅 2019: zero applicant cells and the 总计 of every
    # 办理结果 row left blank
    mode = draw(st.sampled_from(["none", "some", "all", "shanghai"]))
    blank = {}
    for r in leaves:
        flags = []
        for c in range(6):
            zero = t3[r][c] == 0
            flags.append(zero and (mode in ("all", "shanghai") or mode == "some" and draw(st.booleans())))
        blank[r] = [*flags, mode == "shanghai" and r not in SUM_ROWS]

    t4: list[int] = []
    for _ in range(3):
        four = [draw(st.one_of(st.just(0), st.integers(0, 9), st.integers(0, 60))) for _ in range(4)]
        t4 += [*four, sum(four)]
    report = Report(edition, t2, t3, blank, tuple(t4))
    check_valid(report)
    return report


def check_valid(report: Report) -> None:
    """The generator's own promise: every identity of the template holds."""
    t3 = report.t3
    outcomes = [r for r in report.leaves if r not in SUM_ROWS]
    for r in report.leaves:
        assert t3[r][6] == sum(t3[r][:6])
        assert all(v >= 0 for v in t3[r])
    for c in range(7):
        assert t3["total_processed"][c] == sum(t3[r][c] for r in outcomes)
        assert t3["new_received"][c] + t3["carried_over"][c] == t3["total_processed"][c] + t3["carried_forward"][c]
    for g in range(3):
        assert report.t4[5 * g + 4] == sum(report.t4[5 * g: 5 * g + 4])
    keys = set(report.expected(True))
    assert keys == set(CB.keys_for(report.edition)), keys ^ set(CB.keys_for(report.edition))


@dataclass(frozen=True)
class Style:
    halfwidth: bool  # web copies normalise （）：，“” to halfwidth
    spaced: bool  # "(一) 予以公开", "1. 属于国家秘密" as in the yindu dump
    fullwidth_digits: bool
    na_marker: str | None = None  # 规章 printed "/" or "—" by units that issue none

    def t2(self, cell: T2Cell) -> str:
        if self.na_marker and cell.key.startswith("t2.regulations."):
            return self.na_marker
        return cell.printed


styles = st.builds(
    Style, st.booleans(), st.booleans(), st.booleans(), st.sampled_from([None, None, "/", "—", "-", "／", "无"])
)
PLAIN = Style(False, False, False)

_HALF = str.maketrans("（）：，“”", "():,\"\"")
_FULLDIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
_ENUM = re.compile(r"^(（[一二三四五六七]）|\([一二三四五六七]\)|\d\.)")


def lab(text: str, style: Style) -> str:
    if style.halfwidth:
        text = text.translate(_HALF)
    if style.spaced:
        text = _ENUM.sub(r"\1 ", text)
    return text


def num(text: str, style: Style) -> str:
    return text.translate(_FULLDIGITS) if style.fullwidth_digits else text


# --------------------------------------------------------------------------- grid model shared by (a), (b), (c), (f)


def grid_lines(report: Report, style: Style, blanks: bool, t2_text=None) -> list[str | list[str]]:
    """The report as a list of paragraphs (str) and table rows (list of fields),
    in the layout of data/raw/yindu_office_2024.txt."""
    L = lambda s: lab(s, style)  # noqa: E731
    N = lambda s: num(s, style) if s else s  # noqa: E731
    t2_text = t2_text or style.t2
    out: list[str | list[str]] = [INTRO, PROSE, SECTIONS["t2"]]
    for heading, header, rows in report.t2:
        out.append([L(heading), "", "", ""])
        out.append([L("信息内容"), *[L(h) for h in header], *[""] * (3 - len(header))])
        for label, _, cells in rows:
            out.append([L(label), *[N(t2_text(c)) for c in cells], *[""] * (3 - len(cells))])
    out.append(SECTIONS["t3"])
    out.append([L(T3_ANCHOR), "", L("申请人情况"), "", "", "", "", "", L("总计"), ""])
    out.append(["", "", L("自然人"), L("法人或其他组织"), "", "", "", "", "", ""])
    out.append(["", "", "", *[L(o) for o in T3_ORGS], "", ""])
    for r in report.leaves:
        v = [N(x) for x in report.t3_cells(r, blanks)]
        label = L(T3_LABEL[r])
        if r in SPAN3 or r == "total_processed":
            out.append([label, "", *v, ""])
        elif r == "granted":
            out.append([L("三、本年度办理结果"), label, *v, ""])
        elif r in SPAN2:
            out.append(["", label, *v, ""])
        else:
            out.append(["", L(T3_GROUP[r] or ""), label, *v])
    out.append(SECTIONS["t4"])
    out.append([L("行政复议"), "", "", "", "", L("行政诉讼"), *[""] * 9])
    out.append([*[L(x) for x in T4_RESULTS], L("未经复议直接起诉"), "", "", "", "", L("复议后起诉"), "", "", "", ""])
    out.append(["", "", "", "", "", *[L(x) for x in T4_RESULTS * 2]])
    out.append([N(str(v)) for v in report.t4])
    out.append(SECTIONS["end"])
    out.append(OUTRO)
    return out


# --------------------------------------------------------------------------- (a) tab-separated


def render_tab(report: Report, style: Style) -> str:
    lines = []
    for item in grid_lines(report, style, blanks=True):
        if isinstance(item, list):
            lines.append("\t".join(item))
        else:
            prefix = {SECTIONS["t2"]: "## ", SECTIONS["t3"]: "### ", SECTIONS["t4"]: "#### ", SECTIONS["end"]: "#### "}
            lines.extend(["", prefix.get(item, "") + item, ""])
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- (b) Markdown


def render_markdown(report: Report, style: Style) -> str:
    lines: list[str] = []
    in_table = False
    for item in grid_lines(report, style, blanks=True):
        if isinstance(item, list):
            lines.append("| " + " | ".join(item) + " |")
            if not in_table:
                lines.append("|" + "---|" * len(item))
                in_table = True
        else:
            if in_table:
                lines.append("")
            in_table = False
            lines.extend([f"## {item}" if item in SECTIONS.values() else item, ""])
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- (c) one cell per line


# header cells that narrow columns break over lines (桃江 2020: 本年新 / 制作数量)
BROKEN = {
    "本年新制作数量": ["本年新", "制作数量"],
    "本年新公开数量": ["本年新", "公开数量"],
    "上一年项目数量": ["上一年", "项目数量"],
    "商业企业": ["商业", "企业"],
    "科研机构": ["科研", "机构"],
    "社会公益组织": ["社会", "公益组织"],
    "本年处理决定数量": ["本年处理", "决定数量"],
}


def render_cells(report: Report, style: Style, sep: str, break_labels: bool = False) -> str:
    lines: list[str] = []
    for item in grid_lines(report, style, blanks=False):
        if isinstance(item, list):
            for field in item:
                if field:
                    lines.extend([*(BROKEN.get(field, [field]) if break_labels else [field]), sep])
        else:
            lines.extend([item, ""])
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- (d) PDF-like text lines


def render_spaces(report: Report, style: Style, rotate_group: bool, wrap: bool) -> str:
    L = lambda s: lab(s, style)  # noqa: E731
    N = lambda s: num(s, style)  # noqa: E731
    lines = [INTRO, PROSE, SECTIONS["t2"]]
    for heading, header, rows in report.t2:
        lines.append(L(heading))
        lines.append(" ".join([L("信息内容"), *[L(h) for h in header]]))
        for label, _, cells in rows:
            lines.append(" ".join([L(label), *[N(style.t2(c)) for c in cells]]))
    lines.append(SECTIONS["t3"])
    lines += [L("（本列数据的勾稽关系为：第一项加第二项之和， 等"), L("于第三项加第四项之和）")]
    lines += [L(x) for x in ["申请人情况", "自然人", "法人或其他组织", "总计"]]
    lines += ["商业", "企业", "科研", "机构", "社会", "公益", "组织", "法律", "服务", "机构", "其他"]
    for r in report.leaves:
        group = T3_GROUP[r]
        if group == "三、本年度办理结果" and rotate_group:
            lines.extend(L(group))  # rotated text: one character per line
        elif group:
            lines.append(L(group))
        label = L(T3_LABEL[r])
        values = " ".join(N(x) for x in report.t3_cells(r, blanks=False))
        if wrap and len(label) > 20:
            # a long label wraps inside its cell; the values follow on their own line
            lines += [label[:20], label[20:], values]
        else:
            lines.append(f"{label} {values}")
    lines.append(SECTIONS["t4"])
    lines.append(" ".join([L("行政复议"), L("行政诉讼")]))
    head = ["结果", "维持", "结果", "纠正", "其他", "结果", "尚未", "审结", "总 计"]
    lines += head
    lines.append(" ".join([L("未经复议直接起诉"), L("复议后起诉")]))
    lines += head + head
    lines.append(" ".join(N(str(v)) for v in report.t4))
    lines += [SECTIONS["end"], OUTRO]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- (e) HTML with spans


def _td(text: str, rowspan: int = 1, colspan: int = 1) -> str:
    attrs = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (f' colspan="{colspan}"' if colspan > 1 else "")
    return f"<td{attrs}>{text}</td>"


def render_html(report: Report, style: Style, blank_html: str, split_spans: bool) -> bytes:
    L = lambda s: lab(s, style)  # noqa: E731

    def V(text: str, colspan: int = 1) -> str:
        if not text:
            return _td(blank_html, colspan=colspan)
        text = num(text, style)
        if split_spans and len(text) >= 2:
            # Word exports split one number over several <span>s
            text = f"<span>{text[:1]}</span><span>{text[1:]}</span>"
        return _td(f'<p align="center">{text}</p>', colspan=colspan)

    h = ['<html><head><meta charset="utf-8"><title>年度报告</title></head><body>']
    h.append(f"<p>{INTRO}</p><p>{PROSE}</p><p>{SECTIONS['t2']}</p>")
    h.append('<table border="1" cellspacing="0">')
    for heading, header, rows in report.t2:
        h.append("<tr>" + _td(L(heading), colspan=4) + "</tr>")
        if len(header) == 1:
            h.append("<tr>" + _td(L("信息内容")) + _td(L(header[0]), colspan=3) + "</tr>")
        elif len(header) == 2:
            h.append("<tr>" + _td(L("信息内容")) + _td(L(header[0])) + _td(L(header[1]), colspan=2) + "</tr>")
        else:
            h.append("<tr>" + _td(L("信息内容")) + "".join(_td(L(x)) for x in header) + "</tr>")
        for label, _, cells in rows:
            if len(cells) == 1:
                h.append("<tr>" + _td(L(label)) + V(style.t2(cells[0]), colspan=3) + "</tr>")
            elif len(cells) == 2:
                h.append("<tr>" + _td(L(label)) + V(style.t2(cells[0])) + V(style.t2(cells[1]), colspan=2) + "</tr>")
            else:
                h.append("<tr>" + _td(L(label)) + "".join(V(style.t2(c)) for c in cells) + "</tr>")
    h.append("</table>")

    h.append(f"<p>{SECTIONS['t3']}</p>")
    h.append('<table border="1">')
    h.append("<tr>" + _td(L(T3_ANCHOR), rowspan=3, colspan=3) + _td(L("申请人情况"), colspan=7) + "</tr>")
    h.append("<tr>" + _td(L("自然人"), rowspan=2) + _td(L("法人或其他组织"), colspan=5) + _td(L("总计"), rowspan=2) + "</tr>")
    h.append("<tr>" + "".join(_td(L(o)) for o in T3_ORGS) + "</tr>")
    leaves = report.leaves
    results_span = leaves.index("total_processed") - leaves.index("granted") + 1
    group_of = subgroups(leaves)
    group_size = {g: list(group_of.values()).count(g) for g in set(group_of.values())}
    for r in leaves:
        v = "".join(V(x) for x in report.t3_cells(r, blanks=True))
        label = L(T3_LABEL[r])
        if r in SPAN3:
            h.append("<tr>" + _td(label, colspan=3) + v + "</tr>")
            continue
        lead = _td(L("三、本年度办理结果"), rowspan=results_span) if r == "granted" else ""
        if r in SPAN2:
            h.append("<tr>" + lead + _td(label, colspan=2) + v + "</tr>")
        else:
            g = T3_GROUP[r]
            lead += _td(L(g), rowspan=group_size[g]) if g else ""
            h.append("<tr>" + lead + _td(label) + v + "</tr>")
    h.append("</table>")

    h.append(f"<p>{SECTIONS['t4']}</p>")
    h.append("<table>")
    h.append("<tr>" + _td(L("行政复议"), colspan=5) + _td(L("行政诉讼"), colspan=10) + "</tr>")
    h.append("<tr>" + "".join(_td(L(x), rowspan=2) for x in T4_RESULTS)
             + _td(L("未经复议直接起诉"), colspan=5) + _td(L("复议后起诉"), colspan=5) + "</tr>")
    h.append("<tr>" + "".join(_td(L(x)) for x in T4_RESULTS * 2) + "</tr>")
    h.append("<tr>" + "".join(V(str(x)) for x in report.t4) + "</tr>")
    h.append("</table>")
    h.append(f"<p>{SECTIONS['end']}</p><p>{OUTRO}</p></body></html>")
    return "\n".join(h).encode("utf-8")


# --------------------------------------------------------------------------- (f) digits run together


def t3_run(report: Report, row: str, gaps: dict[str, int]) -> str:
    """A Table 3 row's digits as printed: run together, with one space after cell
    ``gaps[row]`` when there is one (平潭 2021 prints ``500000 5``)."""
    cells = [str(v) for v in report.t3[row]]
    k = gaps.get(row, 0)
    if k:
        return "".join(cells[:k]) + " " + "".join(cells[k:])
    return "".join(cells)


def render_run_together(report: Report, gaps: dict[str, int] | None = None) -> str:
    gaps = gaps or {}
    pieces: list[str] = []
    for item in grid_lines(report, PLAIN, blanks=False, t2_text=lambda c: c.run):
        if isinstance(item, list):
            fields = [f for f in item if f]
            row = next((r for r in report.leaves if T3_LABEL[r] in fields), None)
            if row is not None and len(fields) >= 7:
                fields = fields[:-7] + [t3_run(report, row, gaps)]
            pieces.extend(fields)
        else:
            pieces.append(item)
    return "".join(pieces) + "\n"


# --------------------------------------------------------------------------- checks


def _same(got, want) -> bool:
    gv, gs = got
    wv, ws = want
    if gs != ws:
        return False
    if wv is None or gv is None:
        return wv is gv
    return abs(gv - wv) <= 1e-6


def extract_text(text: str):
    return extract_document(read_text("roundtrip.txt", text.encode("utf-8")))


def assert_exact(result, report: Report, blanks: bool, style: Style = PLAIN) -> None:
    assert result.edition == report.edition, (result.edition, [i.message for i in result.issues])
    wrong = []
    na_rows = ("regulations",) if style.na_marker else ()
    for key, want in report.expected(blanks, na_rows).items():
        cell = result.cells.get(key)
        got = (cell.value, cell.status) if cell is not None else (None, "missing")
        if not _same(got, want):
            wrong.append((key, want, got))
    assert not wrong, f"{len(wrong)} cell(s) wrong, first ones: {wrong[:8]}; issues: " + "; ".join(
        i.message for i in result.issues if i.rule.startswith("extract.")
    )
    assert result.status == "ok", [i.message for i in result.issues]


# --------------------------------------------------------------------------- (a)–(e): exact


@settings(max_examples=N_EXAMPLES, **SETTINGS)
@given(report=reports(), style=styles)
def test_tab_separated_roundtrip(report, style):
    text = render_tab(report, style)
    note(text)
    assert_exact(extract_text(text), report, blanks=True, style=style)


@settings(max_examples=N_EXAMPLES, **SETTINGS)
@given(report=reports(), style=styles)
def test_markdown_roundtrip(report, style):
    text = render_markdown(report, style)
    note(text)
    assert_exact(extract_text(text), report, blanks=True, style=style)


@settings(max_examples=N_EXAMPLES, **SETTINGS)
@given(report=reports(), style=styles, sep=st.sampled_from(["|", ""]), break_labels=st.booleans())
def test_one_cell_per_line_roundtrip(report, style, sep, break_labels):
    text = render_cells(report, style, sep, break_labels)
    note(text)
    assert_exact(extract_text(text), report, blanks=False, style=style)


@settings(max_examples=N_EXAMPLES, **SETTINGS)
@given(report=reports(), style=styles, rotate=st.booleans(), wrap=st.booleans())
def test_space_separated_roundtrip(report, style, rotate, wrap):
    text = render_spaces(report, style, rotate, wrap)
    note(text)
    assert_exact(extract_text(text), report, blanks=False, style=style)


@settings(max_examples=N_EXAMPLES, **SETTINGS)
@given(
    report=reports(),
    style=styles,
    blank_html=st.sampled_from(["", "&nbsp;", "\u3000", " "]),
    split_spans=st.booleans(),
)
def test_html_roundtrip(report, style, blank_html, split_spans):
    data = render_html(report, style, blank_html, split_spans)
    note(data.decode("utf-8"))
    result = extract_document(read_html("roundtrip.html", data))
    assert_exact(result, report, blanks=True, style=style)


# --------------------------------------------------------------------------- (f): right or reported


def _parts_ok(part: str) -> bool:
    """A printed number as the template allows it: optional sign, no leading zero,
    a decimal point only inside."""
    return re.fullmatch(r"-?(0|[1-9]\d*)(\.\d+)?", part) is not None


def _splits(run: str, n: int) -> list[list[str]]:
    """Every cut of ``run`` into ``n`` well-formed parts (Table 2 rows have no identity)."""
    if n == 1:
        return [[run]] if _parts_ok(run) else []
    out = []
    for i in range(1, len(run)):
        head = run[:i]
        if _parts_ok(head):
            out += [[head, *rest] for rest in _splits(run[i:], n - 1)]
    return out


def _sum_cuts(s: str, k: int, target: int, cap: int = 2) -> int:
    """How many ways (capped) to cut ``s`` into ``k`` counts summing to ``target``."""

    @lru_cache(maxsize=None)
    def rec(pos: int, left: int, rest: int) -> int:
        if left == 0:
            return int(pos == len(s) and rest == 0)
        ways = 0
        for end in range(pos + 1, len(s) - left + 2):
            piece = s[pos:end]
            if len(piece) > 1 and piece[0] == "0":
                break
            value = int(piece)
            if value > rest:
                break
            ways += rec(end, left - 1, rest - value)
            if ways >= cap:
                return cap
        return ways

    return rec(0, k, target)


def _group_readings(s: str, k: int, cap: int = 2) -> int:
    """Readings of ``s`` as ``k`` counts followed by their printed sum (capped)."""
    ways = 0
    for i in range(k, len(s)):
        total = s[i:]
        if len(total) > 1 and total[0] == "0":
            continue
        ways += _sum_cuts(s[:i], k, int(total), cap)
        if ways >= cap:
            return cap
    return ways


def t3_readings(digits: str) -> int:
    """Independent count (0, 1 or 2 = "two or more") of the readings of a Table 3
    row printed as one run: six counts and their total."""
    return _group_readings(digits, 6)


def t4_readings(digits: str) -> int:
    """The same for Table 4: three groups of four counts and their total."""
    n = len(digits)
    ways = 0
    for a in range(5, n - 9):
        first = _group_readings(digits[:a], 4)
        if not first:
            continue
        for b in range(a + 5, n - 4):
            ways += first * _group_readings(digits[a:b], 4) * _group_readings(digits[b:], 4)
            if ways >= 2:
                return 2
    return ways


def _reported_ambiguous(result, digits: str) -> bool:
    """The row's digits are reported as having several readings (or, for a row
    that has several, as not decided within the search budget)."""
    rules = ("extract.ambiguous_split", "extract.split_budget")
    return any(i.rule in rules and repr(digits) in i.message for i in result.issues)


# Shrinking is switched off here: every step re-runs the digit search over a whole
# report, which takes minutes; failures found are minimised by hand into the
# explicit regression tests below.
@settings(max_examples=N_RUN_TOGETHER, phases=[Phase.explicit, Phase.generate], **SETTINGS)
@given(report=reports(counts=run_counts), gap_list=st.lists(st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5, 6]), min_size=25, max_size=25))
def test_digits_run_together(report, gap_list):
    gaps = dict(zip(report.leaves, gap_list))
    text = render_run_together(report, gaps)
    note(text)
    result = extract_text(text)
    check_run_together(result, report, gaps)


def check_run_together(result, report: Report, gaps: dict[str, int] | None = None) -> None:
    gaps = gaps or {}
    assert result.edition == report.edition
    expected = report.expected(blanks=False)
    problems = []

    # Table 3: a row is right, or its cells are unset and the row reported ambiguous;
    # a row whose digits have exactly one reading comes back right
    for r in report.leaves:
        digits = "".join(str(v) for v in report.t3[r])
        printed = t3_run(report, r, gaps)
        got = [result.cells[f"t3.{r}.{c}"].value for c in COLS]
        if got == report.t3[r]:
            continue
        for g, want in zip(got, report.t3[r]):
            if g is not None and g != want:
                problems.append(f"T3 {r}: {digits!r} read as {got}, printed {report.t3[r]}")
                break
        else:
            if t3_readings(digits) == 1:
                problems.append(f"T3 {r}: {printed!r} has one reading {report.t3[r]} but came back {got}")
            elif not _reported_ambiguous(result, printed):
                problems.append(f"T3 {r}: {printed!r} unset ({got}) without extract.ambiguous_split")

    # Table 4
    digits = "".join(str(v) for v in report.t4)
    got = [result.cells[k].value for k in T4_KEYS]
    if got != list(report.t4):
        if any(g is not None and g != w for g, w in zip(got, report.t4)):
            problems.append(f"T4: {digits!r} read as {got}, printed {list(report.t4)}")
        elif t4_readings(digits) == 1:
            problems.append(f"T4: {digits!r} has one reading {list(report.t4)} but came back {got}")
        elif not _reported_ambiguous(result, digits):
            problems.append(f"T4: {digits!r} unset ({got}) without extract.ambiguous_split")

    # Table 2: rows are cut without identities
    for _, _, rows in report.t2:
        for label, _, cells in rows:
            run = "".join(c.run for c in cells)
            unit = re.search(r"(万元|元)$", run)
            if unit:
                run = run[: unit.start()]
            got = [result.cells[c.key].value for c in cells]
            if all(g is not None and abs(g - c.value) <= 1e-6 for g, c in zip(got, cells)):
                continue
            if any(g is not None and abs(g - c.value) > 1e-6 for g, c in zip(got, cells)):
                problems.append(f"T2 {label}: {run!r} read as {got}, printed {[c.run for c in cells]}")
            elif len(_splits(run, len(cells))) == 1:
                problems.append(f"T2 {label}: {run!r} has one reading {[c.run for c in cells]} but came back {got}")
            elif not _reported_ambiguous(result, run):
                problems.append(f"T2 {label}: {run!r} unset ({got}) without extract.ambiguous_split")

    for key, (_, status) in expected.items():
        if status == "absent":
            assert result.cells[key].status == "absent", key
    assert not problems, "\n".join(problems)


def _run_together_report(edition: str, rows: dict[str, list[int]], t4=(0,) * 15) -> Report:
    """A report whose Table 3 is all zeros except ``rows`` (outcome rows; the sum
    rows are derived), for regression tests of the run-together layout."""
    leaves = t3_leaves(edition == "2021")
    outcomes = [r for r in leaves if r not in SUM_ROWS]
    parts = {r: list(rows.get(r, [0] * 6)) for r in outcomes}
    tp = [sum(parts[r][c] for r in outcomes) for c in range(6)]
    parts.update(total_processed=tp, carried_forward=[0] * 6, carried_over=[0] * 6, new_received=tp)
    t3 = {r: [*parts[r], sum(parts[r])] for r in leaves}
    t2 = []
    for heading, header, trows, cols in T2_TEMPLATE[edition]:
        t2.append((heading, tuple(header), tuple(
            (label, row, tuple(T2Cell(f"t2.{row}.{c}", 0, "0", "0") for c in cols)) for label, row in trows
        )))
    t4 = list(t4)
    report = Report(edition, tuple(t2), t3, {r: [False] * 7 for r in leaves}, tuple(t4))
    check_valid(report)
    return report


def test_oracles_on_template_examples():
    assert t3_readings("801000081") == 1
    assert t3_readings("220000022") == 2
    assert t3_readings("640020470") == 1
    assert t3_readings("1111111") == 0
    assert t4_readings("10203120001200000") == 1


def test_digits_run_together_small_report():
    report = _run_together_report("2021", {"granted": [27, 0, 0, 2, 0, 1], "withheld_enforcement_files": [6, 0, 0, 0, 0, 0]},
                                  t4=(1, 0, 2, 0, 3, 12, 0, 0, 0, 12, 0, 0, 0, 0, 0))
    result = extract_text(render_run_together(report))
    check_run_together(result, report)


def test_digits_run_together_large_counts():
    """Rows of four-digit counts have one reading, found by search (the totals of a
    large agency: 1289 + 1679 + 1905 + 1391 + 1434 + 1607 = 9305)."""
    report = _run_together_report("2021", {"granted": [1289, 1679, 1905, 1391, 1434, 1607]})
    digits = "".join(map(str, report.t3["granted"]))
    assert digits == "1289167919051391143416079305"
    assert t3_readings(digits) == 1
    result = extract_text(render_run_together(report))
    check_run_together(result, report)


# --------------------------------------------------------------------------- the generator and renderers themselves


def test_renderers_on_a_fixed_report():
    """A fixed report in every layout (a quick smoke test with readable output)."""
    report = _fixed_report()
    style = PLAIN
    assert_exact(extract_text(render_tab(report, style)), report, True)
    assert_exact(extract_text(render_markdown(report, style)), report, True)
    assert_exact(extract_text(render_cells(report, style, "|", True)), report, False)
    assert_exact(extract_text(render_spaces(report, style, True, True)), report, False)
    assert_exact(extract_document(read_html("x.html", render_html(report, style, "&nbsp;", True))), report, True)
    check_run_together(extract_text(render_run_together(report)), report)


def _fixed_report() -> Report:
    edition = "2021"
    t2 = []
    n = 1
    for heading, header, rows, cols in T2_TEMPLATE[edition]:
        out_rows = []
        for label, row in rows:
            cells = []
            for col in cols:
                value = 7730.28 if col == "amount" else n
                cells.append(T2Cell(f"t2.{row}.{col}", value, str(value), str(value)))
                n += 1
            out_rows.append((label, row, tuple(cells)))
        t2.append((heading, tuple(header), tuple(out_rows)))
    leaves = t3_leaves(True)
    outcomes = [r for r in leaves if r not in SUM_ROWS]
    parts = {r: [i + 1, 0, 0, i % 2, 0, 0] for i, r in enumerate(outcomes)}
    tp = [sum(parts[r][c] for r in outcomes) for c in range(6)]
    parts["total_processed"] = tp
    parts["carried_forward"] = [1, 0, 0, 0, 0, 0]
    parts["carried_over"] = [2, 0, 0, 0, 0, 0]
    parts["new_received"] = [tp[c] + parts["carried_forward"][c] - parts["carried_over"][c] for c in range(6)]
    t3 = {r: [*parts[r], sum(parts[r])] for r in leaves}
    blank = {r: [v == 0 and c in (1, 2) for c, v in enumerate(t3[r][:6])] + [False] for r in leaves}
    report = Report(edition, tuple(t2), t3, blank, (1, 0, 2, 0, 3, 4, 0, 0, 1, 5, 0, 0, 0, 0, 0))
    check_valid(report)
    return report
