"""Bugs found by the mutation fuzzer (tooling.fuzzing), each as a minimal reproduction.

Every test builds a small report (the tab-separated layout of the seed report
``yindu_office_2024.txt``) with one damaged cell, and asserts what the
fuzzer asserts for every input: extraction does not raise, reports no caught
crash, and every number it reports is printed in the input with the value the
print says (:func:`tooling.fuzzing.check`).
"""

from __future__ import annotations

import math

from helpers.extract import extract_document
from tooling.fuzzing import check, internal_errors
from helpers.numbers import parse_cell, to_wan_yuan
from helpers.read import read_document

T2 = """2024年某某区人民政府办公室政府信息公开工作年度报告
二、主动公开政府信息情况
第二十条第（一）项\t\t\t
信息内容\t本年制发件数\t本年废止件数\t现行有效件数
规章\t0\t0\t0
行政规范性文件\t3\t0\t3
第二十条第（五）项\t\t\t
信息内容\t本年处理决定数量\t\t
行政许可\t{licensing}\t\t
第二十条第（六）项\t\t\t
信息内容\t本年处理决定数量\t\t
行政处罚\t0\t\t
行政强制\t0\t\t
第二十条第（八）项\t\t\t
信息内容\t本年收费金额（单位：万元）\t\t
行政事业性收费\t{fees}\t\t
三、收到和处理政府信息公开申请情况
本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和\t\t申请人情况\t\t\t\t\t\t\t
\t\t自然人\t法人或其他组织\t\t\t\t\t总计
\t\t\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t
一、本年新收政府信息公开申请数量\t\t{new_received}\t0\t0\t0\t0\t0\t21
二、上年结转政府信息公开申请数量\t\t0\t0\t0\t0\t0\t0\t0
"""


def _report(licensing: str = "0", fees: str = "0", new_received: str = "21") -> bytes:
    return T2.format(licensing=licensing, fees=fees, new_received=new_received).encode("utf-8")


def _extract(data: bytes, name: str = "fuzz.txt"):
    r = extract_document(read_document(name, data))  # must not raise
    assert not internal_errors(r), internal_errors(r)
    assert not check(data, r), check(data, r)
    return r


def test_baseline_report_reads():
    r = _extract(_report())
    assert r.cells["t2.licensing.decisions"].value == 0
    assert r.cells["t3.new_received.natural_person"].value == 21


# --------------------------------------------------------------------------- huge digit runs


def test_digit_run_over_python_int_limit_is_text_not_a_crash():
    """numbers: int() refuses more than 4,300 digits (ValueError inside the mapper → extract.crash)."""
    assert parse_cell("9" * 5000).status == "text"
    r = _extract(_report(licensing="9" * 5000))
    assert r.cells["t2.licensing.decisions"].status != "number"


def test_huge_decimal_is_not_an_infinite_value():
    """float('9'*400 + '.5') is inf: the JSON output was not JSON any more."""
    p = parse_cell("9" * 400 + ".5")
    assert p.status == "text" and p.value is None
    r = _extract(_report(licensing="9" * 400 + ".5"))
    c = r.cells["t2.licensing.decisions"]
    assert c.value is None or math.isfinite(c.value)


def test_huge_table3_value_does_not_overflow_validation():
    """validate._close multiplied a 400-digit int by 1e-6: OverflowError escaped extract_document."""
    r = _extract(_report(new_received="9" * 400))
    assert r.cells["t3.new_received.natural_person"].status != "number"


def test_long_but_plausible_digit_runs_still_read():
    """The limit is well above any real cell: 80 digits still read as a number."""
    p = parse_cell("9" * 80)
    assert p.status == "number" and p.value == int("9" * 80)
    assert parse_cell("1" * 80 + ".25").status == "number"


# --------------------------------------------------------------------------- units


def test_fee_in_wan_yuan_printed_with_percent_sign():
    """to_wan_yuan looked up '%' in the 元/万元/亿元 factors: KeyError inside the mapper."""
    assert to_wan_yuan(parse_cell("5%")) is None
    r = _extract(_report(fees="5%"))
    c = r.cells["t2.fees.amount"]
    assert c.value is None and c.status != "number" and c.printed == "5%"


# --------------------------------------------------------------------------- hangs


def test_broken_label_before_long_digit_run_does_not_hang():
    """tokens._join_broken_lines: the pattern for "label end + values" on the next line
    backtracked exponentially over a digit run followed by text (2^n steps for n digits)."""
    from tooling.fuzzing import Case, run_one

    text = (
        "三、收到和处理政府信息公开申请情况\n"
        "（二）部分公开（区分处理的，只计这一情 形，不\n"
        "计其他情形） 5 " + "1" * 40 + "x\n"
    )
    data = text.encode("utf-8")
    o = run_one(Case(0, "regression", "broken.txt", data, []), timeout_s=5.0)
    assert o["hang"] is None, o["hang"]
    assert o["exception"] is None and not o["violations"], o


# --------------------------------------------------------------------------- invented values


def test_quote_mark_between_digits_does_not_join_them():
    """tokens._compact dropped quote marks (kept out of labels such as 危及“三安全一稳定”)
    without leaving a break, so ``4821“739`` on a text line was read as 4821739."""
    for mark in ("“", "”", "'", '"', "「", "』"):
        text = _report().decode("utf-8").replace("行政许可\t0\t\t", f"行政许可 4821{mark}739")
        data = text.encode("utf-8")
        r = _extract(data)  # check(): no number that is not printed
        assert r.cells["t2.licensing.decisions"].value != 4821739, mark


def test_quote_marks_inside_labels_still_fold():
    """The break is only between digits: labels with quotes still read."""
    text = _report().decode("utf-8").replace("行政许可\t0\t\t", "“行政许可” 7")
    r = _extract(text.encode("utf-8"))
    assert r.cells["t2.licensing.decisions"].value == 7


# --------------------------------------------------------------------------- one damaged byte


def test_gb18030_report_with_one_bad_byte_still_reads():
    """decode_bytes: GB18030 bytes with one invalid byte went to the statistical
    guesser, which called them UTF-8: the whole report became replacement
    characters and nothing was read."""
    from helpers.read.encoding import decode_bytes

    base = _report().decode("utf-8").encode("gb18030")
    pos = len(base) // 3
    data = base[:pos] + b"\xff" + base[pos + 1 :]
    text, enc = decode_bytes(data, "x.txt")
    assert enc == "gb18030" and 1 <= text.count("\ufffd") <= 2
    r = _extract(data)
    assert r.cells["t2.normative_documents.issued"].value == 3


def test_utf8_page_with_one_bad_byte_still_reads(shared_dir):
    """A 225 KB UTF-8 page (declaring utf-8) with one flipped byte was guessed as
    ptcp154 (Kazakh): every label was lost and the report failed."""
    from helpers.read.encoding import decode_bytes

    data = bytearray((shared_dir / "corpus" / "originals" / "pingtan_2019.html").read_bytes())
    data[len(data) // 2] ^= 0x80
    data = bytes(data)
    assert decode_bytes(data, "x.html", "utf-8")[1] == "utf-8"
    r = _extract(data, "pingtan_2019.html")
    assert r.status == "ok"
    assert sum(c.status == "number" for c in r.cells.values()) >= 190


# --------------------------------------------------------------------------- value-preserving mutations


def test_utf32_be_text_with_bom_reads_like_utf8():
    """read_text took the NULs of UTF-32 BE (BOM 00 00 FE FF) for binary data,
    although decode_bytes reads that BOM; UTF-32 LE and UTF-16 were accepted."""
    import codecs

    from tooling.fuzzing import same_extraction

    text = _report().decode("utf-8")
    base = _extract(_report())
    for bom, enc in ((codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF32_LE, "utf-32-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF16_LE, "utf-16-le")):
        r = _extract(bom + text.encode(enc))
        assert same_extraction(base, r) == [], enc


def test_traditional_unit_keeps_its_printed_form():
    """tokens._scan read a Traditional/pinyin line in its folded form, and the
    values' printed strings came out folded too ("0億元" printed as "0亿元",
    "12.5萬(wàn)元(yuán)" as "12.5万元"): the printed string must be the input's."""
    for line, value in (("行政事業性收費 12.5萬元", 12.5), ("行政事業性收費 12.5萬(wàn)元(yuán)", 12.5),
                        ("行政(xíng)事(shì)業性收費 3萬元", 3), ("行政事業性收費 ７萬元", 7)):
        text = _report().decode("utf-8").replace("行政事业性收费\t0\t\t", line)
        r = _extract(text.encode("utf-8"))  # check(): printed strings occur in the input
        c = r.cells["t2.fees.amount"]
        assert (c.status, c.value) == ("number", value), (line, c)


def test_html_character_reference_to_a_control_character():
    """read_html: libxml2 turns ``&#5;`` (or ``&#x3`` without its semicolon) into a
    control character that lxml refuses to write back while the tree is marked
    up; the retry only removed literal control characters, so the page failed
    ("HTML could not be read: ValueError")."""
    rows = "".join(
        f"<tr><td>{label}</td><td>{v}</td><td>0</td><td>{v}</td></tr>"
        for label, v in (("规章", "0"), ("行政规范性文件", "3"))
    )
    page = (
        "<html><body><p>2024年某某区人民政府办公室政府信息公开工作年度报告</p>"
        "<p>二、主动公开政府信息情况 &#5; &#x3 &#xFFFE;</p>"
        "<table><tr><td colspan='4'>第二十条第（一）项</td></tr>"
        "<tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>"
        + rows + "</table></body></html>"
    )
    data = page.encode("utf-8")
    doc = read_document("page.html", data)
    assert doc.status == "ok", doc.message
    r = _extract(data, "page.html")
    assert r.cells["t2.normative_documents.issued"].value == 3
