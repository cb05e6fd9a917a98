"""Label normalisation and codebook lookups of printed label variants.

norm_label must make two printings of the same label compare equal whatever
their bracket width, spacing, line breaks, quote style or enumerator
punctuation; fold_variants handles mirror-site damage (Traditional characters,
injected pinyin).  The variants tested are those of template.md §5.
"""

from __future__ import annotations

import pytest

from helpers.codebook import load
from helpers.normalize import fold_variants, norm_label, strip_enumerator


@pytest.fixture(scope="module")
def cb():
    return load()


def targets(cb, printed: str, kind: str | None = None) -> set[str]:
    entries = cb.lookup(norm_label(printed))
    return {e.target for e in entries if kind is None or e.kind == kind}


# --------------------------------------------------------------------------- norm_label


@pytest.mark.parametrize(
    "a, b",
    [
        ("（一）予以公开", "(一)予以公开"),
        ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "(二)部分公开(区分处理的,只计这一情形,不计其他情形)"),
        ("第二十条第（一）项", "第二十条第(一)项"),
        ("第二十条第【一】项", "第二十条第(一)项"),
        ("本年收费金额（单位：万元）", "本年收费金额(单位:万元)"),
        ("（七）总计", "(七)总计"),
    ],
)
def test_full_and_half_width_brackets_and_punctuation_fold(a, b):
    assert norm_label(a) == norm_label(b)


@pytest.mark.parametrize(
    "broken, whole",
    [
        ("总 计", "总计"),
        ("总\u3000计", "总计"),
        ("总\u00a0计", "总计"),
        ("只计这一情 形", "只计这一情形"),
        ("（二）部分公开（区分处理的，只计这一情 形，不计其他情形）", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
        ("商业\n企业", "商业企业"),
        ("本年新\r\n制作数量", "本年新制作数量"),
        ("三、本年度办 理结果", "三、本年度办理结果"),
        ("5.要求行政机关确认或重\n新出具已获取信息", "5.要求行政机关确认或重新出具已获取信息"),
        ("  规章  ", "规章"),
        ("结果 维持", "结果维持"),
    ],
)
def test_whitespace_inside_labels_is_dropped(broken, whole):
    assert norm_label(broken) == norm_label(whole)


@pytest.mark.parametrize(
    "quoted",
    ["3.危及“三安全一稳定”", '3.危及"三安全一稳定"', "3.危及'三安全一稳定'", "3.危及「三安全一稳定」", "3.危及『三安全一稳定』", "3.危及三安全一稳定"],
)
def test_quote_styles_fold(quoted):
    assert norm_label(quoted) == "3.危及三安全一稳定"


@pytest.mark.parametrize(
    "printed",
    ["1、属于国家秘密", "1．属于国家秘密", "1.属于国家秘密", "1. 属于国家秘密", "(1)属于国家秘密", "（1）属于国家秘密", "１．属于国家秘密", "1)属于国家秘密"],
)
def test_enumerators_fold(printed):
    assert norm_label(printed) == "1.属于国家秘密"


def test_chinese_numeral_enumerators_keep_their_form():
    assert norm_label("（三）不予公开") == "(三)不予公开"
    assert norm_label("一、本年新收政府信息公开申请数量") == "一、本年新收政府信息公开申请数量"


def test_trailing_colon_dropped():
    assert norm_label("信息内容：") == norm_label("信息内容")


def test_norm_label_is_idempotent():
    for s in ["（二）部分公开（区分处理的，只计这一情 形）", "1、属于国家秘密", "危及“三安全一稳定”", "总 计"]:
        n = norm_label(s)
        assert norm_label(n) == n


# --------------------------------------------------------------------------- strip_enumerator


@pytest.mark.parametrize(
    "printed, stripped",
    [
        ("1.属于国家秘密", "属于国家秘密"),
        ("1、属于国家秘密", "属于国家秘密"),
        ("(1)属于国家秘密", "属于国家秘密"),
        ("（三）不予公开", "不予公开"),
        ("三、本年度办理结果", "本年度办理结果"),
        ("（三）1.属于国家秘密", "属于国家秘密"),
        ("十二、其他事项", "其他事项"),
        ("规章", "规章"),
    ],
)
def test_strip_enumerator(printed, stripped):
    assert strip_enumerator(norm_label(printed)) == stripped


def test_strip_enumerator_leaves_inner_numbers():
    assert strip_enumerator(norm_label("第二十条第（一）项")) == norm_label("第二十条第（一）项")


# --------------------------------------------------------------------------- fold_variants


def test_fold_variants_traditional_to_simplified(cb):
    trad = "本年新收政府信息公開申請數量"
    assert norm_label(fold_variants(trad)) == "本年新收政府信息公开申请数量"
    assert not cb.lookup(norm_label(trad))  # as printed it is unknown
    assert targets(cb, fold_variants(trad), "t3_row") == {"new_received"}
    assert targets(cb, fold_variants("一、本年新收政府信息公開申請數量"), "t3_row") == {"new_received"}


def test_fold_variants_drops_injected_pinyin(cb):
    assert fold_variants("區(qū)") == "区"
    assert fold_variants("数(shù)量") == "数量"
    assert targets(cb, fold_variants("一、本年新收政(zhèng)府信息公开申请数(shù)量"), "t3_row") == {"new_received"}


def test_fold_variants_pinyin_and_traditional_together(cb):
    printed = "二、上年結(jié)轉(zhuǎn)政府信息公開申請數量"
    assert targets(cb, fold_variants(printed), "t3_row") == {"carried_over"}


def test_fold_variants_keeps_simplified_text():
    s = "三、本年度办理结果（一）予以公开 (1) 12"
    assert fold_variants("三、本年度办理结果") == "三、本年度办理结果"
    assert "(1)" in fold_variants(s)  # digits in brackets are no pinyin


# --------------------------------------------------------------------------- codebook lookups


def test_typo_label_maps_to_its_row(cb):
    # 洪泽区 2023/2024 print 2.其他法律行政止公开
    assert targets(cb, "2.其他法律行政止公开", "t3_row") == {"withheld_prohibited_by_law"}
    assert targets(cb, "2.其他法律行政法规禁止公开", "t3_row") == {"withheld_prohibited_by_law"}
    assert targets(cb, "2、其他法律、行政法规禁止公开", "t3_row") == {"withheld_prohibited_by_law"}


@pytest.mark.parametrize("printed", ["规范性文件", "行政规范性文件", " 行政规范性 文件 "])
def test_normative_documents_both_editions(cb, printed):
    assert targets(cb, printed, "t2_row") == {"normative_documents"}


@pytest.mark.parametrize("printed", ["（六）其他处理", "(六)其他处理", "（六） 其他处理", "（六）其他"])
def test_other_handling_single_row(cb, printed):
    assert "other" in targets(cb, printed, "t3_row")


@pytest.mark.parametrize("printed", ["3.其他", "3、其他", "3. 其他", "（3）其他"])
def test_numbered_other_is_the_sub_row(cb, printed):
    assert targets(cb, printed, "t3_row") == {"other_other"}


def test_bare_other_is_a_column_not_the_sub_row(cb):
    entries = cb.lookup(norm_label("其他"))
    assert entries
    assert {(e.kind, e.target) for e in entries} == {("t3_col", "other_org")}
    assert not targets(cb, "其他", "t3_row")


@pytest.mark.parametrize(
    "printed, kind, target",
    [
        ("（二）部分公开（区分处理的，只计这一情 形，不计其他情形）", "t3_row", "partially_granted"),
        ("（二）部分公开", "t3_row", "partially_granted"),
        ("3.危及“三安全一稳定”", "t3_row", "withheld_three_securities"),
        ("5.要求行政机关确认或重新出具已获取信息", "t3_row", "not_processed_confirmation"),
        ("（七）总计", "t3_row", "total_processed"),
        ("四、结转下年度继续办理", "t3_row", "carried_forward"),
        ("商业\n企业", "t3_col", "commercial"),
        ("总 计", "t3_col", "total"),
        ("本年新\n制作数量", "t2_col", "made"),
        ("本年增/减", "t2_col", "items_change"),
        ("本年收费金额(单位:万元)", "t2_col", "amount"),
        ("第二十条第(九)项", "t2_block", "第二十条第(九)项"),
    ],
)
def test_printed_variants_lookup(cb, printed, kind, target):
    assert target in targets(cb, printed, kind)


def test_every_codebook_label_finds_itself(cb):
    """The labels of the codebook's own paths, in full-width print, are found."""
    for key in cb.keys.values():
        row, _, col = key.label_zh.partition(" × ")
        parts = [p.strip() for p in row.split(" / ")]
        if key.table == "t3":
            assert key.row in targets(cb, parts[-1], "t3_row"), key.key
            assert key.col in targets(cb, col.split(" / ")[-1], "t3_col"), key.key
        elif key.table == "t2":
            block, row_label, col_label = parts
            assert key.row in targets(cb, row_label, "t2_row"), key.key
            assert key.col in targets(cb, col_label, "t2_col"), key.key


def test_nfkc_pieces_split_only_at_stable_characters():
    """normalize.nfkc normalises text piece by piece between the characters of
    STABLE; each must be left alone by NFKC and never compose with a neighbour."""
    import random
    import re
    import unicodedata

    from helpers.normalize import STABLE, nfkc

    pairs = set()  # characters of canonical decompositions into two or more
    for c in range(0x110000):
        d = unicodedata.decomposition(chr(c))
        if d and not d.startswith("<") and len(d.split()) > 1:
            pairs.update(int(h, 16) for h in d.split())
    stable = re.compile(f"[{STABLE}]")
    for c in range(0x110000):
        ch = chr(c)
        if stable.match(ch):
            assert unicodedata.normalize("NFKC", ch) == ch and unicodedata.combining(ch) == 0, hex(c)
            assert c not in pairs and not 0x1100 <= c <= 0x11FF and not 0xAC00 <= c <= 0xD7A3, hex(c)
    rng = random.Random(1)
    pool = [chr(c) for c in range(0x20, 0x3100)] + list("年件，（）：１２") * 40 + ["\u0301", "\u3099", "\u0327"] * 20
    for _ in range(3000):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 60)))
        assert nfkc(text) == unicodedata.normalize("NFKC", text)
