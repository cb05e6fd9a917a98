"""The narrative layer: numbers stated in the prose, and their check against the tables.

Sentences are written here by hand, one or more per pattern, with the traps a
reader must avoid (numbers of other things, comparisons with last year, other
years).  Table checks run on real transcriptions (read in place from
``../shared``) with a sentence of our own put where the narrative was left
out; the counts on the real originals are asserted at the end.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest

from helpers.document import Document, Paragraph
from helpers.extract import extract_file
from helpers.narrative import chinese_number, find, narrative_rows, patterns, reproduces, terms


def stated(sentence: str, year: int | None = 2024) -> list[tuple[str, str, str]]:
    doc = Document("narrative.txt", "text", [Paragraph(line) for line in sentence.split("\n")])
    return [(v.pattern, v.printed, v.target) for v in find(doc, year)]


ORGS = "t3:new_received@commercial+t3:new_received@research+t3:new_received@social_welfare+t3:new_received@legal_services+t3:new_received@other_org"
WITHHELD = patterns().values[[p.id for p in patterns().values].index("withheld")].target


@pytest.mark.parametrize(
    "sentence, want",
    [
        ("全年共受理政府信息公开申请81件，均在法定期限内答复。", [("received", "81", "t3:new_received")]),
        ("本年度全区共收到70件申请，及时依法依规办结69件，1件结转下年度继续办理。", [
            ("received_before", "70", "t3:new_received"),
            ("handled", "69", "t3:total_processed"),
            ("carried_forward_before", "1", "t3:carried_forward"),
        ]),
        ("依申请公开受理6件，办结6件。", [("received_after", "6", "t3:new_received"), ("handled", "6", "t3:total_processed")]),
        ("全年收到政府信息公开申请 34 件，上年结转政府信息公开\n申请 2 件。", [
            ("received", "34", "t3:new_received"),
            ("carried_over", "2", "t3:carried_over"),
        ]),
        ("共收到政府信息公开申请154件，共办结148件，结转至2026年6件。", [
            ("received", "154", "t3:new_received"),
            ("handled", "148", "t3:total_processed"),
            ("carried_forward", "6", "t3:carried_forward"),
        ]),
        ("全县共受理政府信息公开申请 749 件，其中自然人申请 741 件，法人或其他组织申请 8 件；共办理 718 件。", [
            ("received", "749", "t3:new_received"),
            ("handled_done", "718", "t3:total_processed"),
            ("applicant_person", "741", "t3:new_received@natural_person"),
            ("applicant_organisations", "8", ORGS),
        ]),
        ("全区收到政府信息公开申请75件，涉及自然人72件、商业企业3件。", [
            ("received", "75", "t3:new_received"),
            ("applicant_person", "72", "t3:new_received@natural_person"),
            ("applicant_business", "3", "t3:new_received@commercial"),
        ]),
        ("办结申请81件，其中予以公开及部分公开42件，占51.85%；不予公开5件，占6.17%。", [
            ("handled", "81", "t3:total_processed"),
            ("disclosed", "42", "t3:granted+t3:partially_granted"),
            ("disclosed", "51.85%", "t3:granted+t3:partially_granted"),
            ("withheld", "5", WITHHELD),
            ("withheld", "6.17%", WITHHELD),
        ]),
        ("办结的申请中同意公开答复 9 件，部分公开答复 0 件，无法提供的 10 件，不予处理 0 件，其他处理 14 件。", [
            ("granted", "9", "t3:granted"),
            ("partially_granted", "0", "t3:partially_granted"),
            ("unable", "10", "t3:unable_not_held+t3:unable_needs_creation+t3:unable_unclear"),
            ("not_processed", "0", patterns().values[[p.id for p in patterns().values].index("not_processed")].target),
            ("other_handling", "14", "t3:other"),
        ]),
        ("所有申请中转下一年度办理答复的有 1 件。", [("carried_forward", "1", "t3:carried_forward")]),
        ("因政府信息公开引起的行政复议案件2件、行政诉讼案件7件。", [
            ("review", "2", "t4:review.total"),
            ("litigation", "7", "t4:litigation_direct.total+t4:litigation_after_review.total"),
        ]),
        ("本机关有 1 件涉及政府信息公开工作的行政复议，涉及的行政诉讼数为0 件。", [
            ("review_before", "1", "t4:review.total"),
            ("litigation", "0", "t4:litigation_direct.total+t4:litigation_after_review.total"),
        ]),
        ("全年办理行政复议36起，行政诉讼9起。", [
            ("review", "36", "t4:review.total"),
            ("litigation", "9", "t4:litigation_direct.total+t4:litigation_after_review.total"),
        ]),
        # a heading is no part of the next sentence, and 收到 does not reach over 办结
        ("## 三、收到和处理政府信息公开申请情况\n本年度共办结政府信息公开申请308件，均在法定期限内予以答复。", [
            ("handled", "308", "t3:total_processed"),
        ]),
        ("收到和处理政府信息公开申请情况：本年度共办结政府信息公开申请308件。", [("handled", "308", "t3:total_processed")]),
        # Chinese numerals
        ("全年共收到政府信息公开申请十二件，办结十二件。", [
            ("received", "十二", "t3:new_received"),
            ("handled", "十二", "t3:total_processed"),
        ]),
    ],
)
def test_patterns_read_the_stated_numbers(sentence, want):
    assert sorted(stated(sentence)) == sorted(want)


@pytest.mark.parametrize(
    "sentence",
    [
        "收到群众诉求348件，现场解决162件，办结率100%。",  # not requests for disclosure
        "公开各类建议提案答复12件。",
        "依法做好相关行政复议、行政诉讼案件的应诉工作，全县共办理相关案件74件。",  # review and litigation together
        "全年收到政府信息公开申请同比增长12件。",  # a comparison
        "受理政府信息公开申请较上年减少3件。",
        "上年收到政府信息公开申请80件。",  # last year's figure
        "去年共办结申请60件。",
        "2023年，本机关共收到政府信息公开申请80件。",  # another year, in a 2024 report
        "截至目前共收到15564件咨询投诉件，已办结15042件。",  # no request in the sentence
        "全年发布政府信息1002条，其中概况类信息9条。",
    ],
)
def test_traps_state_no_number(sentence):
    assert stated(sentence) == []


def test_the_report_year_is_kept_and_other_years_skipped_in_one_sentence():
    s = "2023年收到政府信息公开申请80件，2024年收到政府信息公开申请95件。"
    assert stated(s, 2024) == [("received", "95", "t3:new_received")]
    assert stated(s, 2023) == [("received", "80", "t3:new_received")]
    # without a known report year nothing is skipped for its year
    assert [p for p, _, _ in stated(s, None)] == ["received", "received"]


def test_chinese_numerals_and_values():
    assert [chinese_number(x) for x in ("三", "十", "十五", "一百零八", "两千零二十")] == [3, 10, 15, 108, 2020]
    doc = Document("n.txt", "text", [Paragraph("全年共收到政府信息公开申请一百零八件。")])
    (v,) = find(doc, 2024)
    assert (v.printed, v.value, v.unit) == ("一百零八", 108, "件")


def test_percentages_are_reproduced_to_their_printed_precision():
    assert reproduces("51.85", 42, 81)
    assert not reproduces("51.84", 42, 81)
    assert reproduces("52", 42, 81)  # 51.85… rounds half up to 52
    assert reproduces("6.2", 5, 81)
    assert not reproduces("6.1", 5, 81)
    assert not reproduces("50", 1, 0)


def test_expressions_parse():
    assert terms("t3:total_processed-t3:other+t4:review.total") == [
        (1, "t3:total_processed"),
        (-1, "t3:other"),
        (1, "t4:review.total"),
    ]


def test_pattern_targets_are_the_metric_dictionary_numerators():
    """Where a pattern names a metric of data/metrics.csv, it reads the same cells."""
    from helpers.research.metrics import dictionary, expand

    ids = set(dictionary()["id"])
    with resources.files("helpers").joinpath("data", "narrative_patterns.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["metric"]]
    assert len(rows) >= 20
    for r in rows:
        assert r["metric"] in ids, r["id"]
        want = expand(dictionary().set_index("id").loc[r["metric"], "numerator"])
        got: dict[str, int] = {}
        for sign, t in terms(r["target"]):
            got[t] = got.get(t, 0) + sign
        assert got == want, (r["id"], r["metric"])


# ---------------------------------------------------------------------------
# against the tables (real transcriptions, with a sentence of ours as narrative)


def with_narrative(shared: Path, tmp_path: Path, name: str, sentence: str):
    text = (shared / "corpus" / "transcribed" / f"{name}.txt").read_text(encoding="utf-8")
    assert "（从略）" in text
    p = tmp_path / f"{name}.txt"
    p.write_text(text.replace("（从略）", sentence, 1), encoding="utf-8")
    (r,) = extract_file(str(p))
    return r


def test_agreement_and_mismatch(shared_dir, tmp_path):
    # 洪泽区 2024: 95 new requests, 95 handled (50 granted, 9 partial), 2 reviews, 4 lawsuits
    r = with_narrative(
        shared_dir, tmp_path, "hongze_2024",
        "2024年共受理政府信息公开申请96件，办结95件，其中予以公开50件；行政复议2件，行政诉讼4件。",
    )
    got = {(v.pattern, v.value): (v.table, v.agrees) for v in r.narrative}
    assert got == {
        ("received", 96): (95, False),
        ("handled", 95): (95, True),
        ("granted", 50): (50, True),
        ("review", 2): (2, True),
        ("litigation", 4): (4, True),
    }
    (mis,) = [i for i in r.issues if i.rule == "narrative.mismatch"]
    assert (mis.severity, mis.expected, mis.actual, mis.cells) == ("warning", 95, 96, ["t3.new_received.total"])
    assert mis.message.startswith(f"{r.path}: the narrative at line 5 states 96 (received: t3:new_received)")
    assert "table prints 95" in mis.message and "2024年共受理政府信息公开申请96件" in mis.message
    assert mis.to_json()["expected"] == 95 and mis.to_json()["actual"] == 96
    # the JSON line carries the narrative
    js = r.to_json()["narrative"]
    assert js[0] == {
        "pattern": "received", "sentence": "2024年共受理政府信息公开申请96件，办结95件，其中予以公开50件；行政复议2件，行政诉讼4件",
        "printed": "96", "value": 96, "unit": "件", "key": "t3:new_received", "table": 95, "agrees": False, "where": "line 5",
    }


def test_percent_denominators_are_a_finding(shared_dir, tmp_path):
    # 洪泽区 2024: handled 95, received 95, to handle 95, substantive 95 − 1 不予处理 = 94
    r = with_narrative(
        shared_dir, tmp_path, "hongze_2024",
        "办结申请95件，予以公开50件，占52.63%；部分公开9件，占9.57%；无法提供32件，占比为34%；不予公开3件，占5%。",
    )
    pct = {v.pattern: (v.printed, v.table, v.denominators, v.agrees) for v in r.narrative if v.unit == "%"}
    assert pct == {
        "granted": ("52.63%", 50, ["handled", "received", "to_handle"], True),
        "partially_granted": ("9.57%", 9, ["substantive"], True),  # 9 / 94
        "unable": ("34%", 32, ["handled", "received", "to_handle", "substantive"], True),  # 33.7 and 34.0
        "withheld": ("5%", 3, [], False),
    }
    unmatched = [i for i in r.issues if i.rule == "narrative.percent_unmatched"]
    assert len(unmatched) == 1 and unmatched[0].severity == "info"
    assert "prints 5% for" in unmatched[0].message and "handled 95" in unmatched[0].message
    assert not [i for i in r.issues if i.rule == "narrative.mismatch"]


def test_blank_table_cells_are_not_compared(shared_dir, tmp_path):
    # 上海市科委 2024 prints 结转下年度 总计 blank: the narrative's 1 is recorded, not compared
    r = with_narrative(shared_dir, tmp_path, "sh_kewei_2024", "所有申请中转下一年度办理答复的有 1 件。")
    (v,) = r.narrative
    assert (v.pattern, v.value, v.table, v.agrees) == ("carried_forward", 1, None, None)
    assert not [i for i in r.issues if i.rule.startswith("narrative.")]


# ---------------------------------------------------------------------------
# an ambiguous cell settled by the narrative (a synthetic fragment)

AMBIGUOUS = """某区人民政府2024年政府信息公开工作年度报告
2024年共收到政府信息公开申请22件，其中自然人{n}件。
三、收到和处理政府信息公开申请情况
一、本年新收政府信息公开申请数量 220000022
二、上年结转政府信息公开申请数量 0000000
"""


def test_the_narrative_settles_an_ambiguous_cell(tmp_path):
    p = tmp_path / "ambiguous.txt"
    p.write_text(AMBIGUOUS.format(n=22), encoding="utf-8")
    (r,) = extract_file(str(p))
    # 220000022 is 22|0|0|0|0|0|22 or 2|20|0|0|0|0|22: the narrative says 22 natural persons
    cell = r.cells["t3.new_received.natural_person"]
    assert (cell.value, cell.status, cell.printed) == (22, "number", "220000022")
    assert r.cells["t3.new_received.commercial"].status == "text"  # not stated, stays unset
    (s,) = [i for i in r.issues if i.rule == "extract.settled_by_narrative"]
    assert s.severity == "info" and s.cells == ["t3.new_received.natural_person"]
    assert "can be split in 2 ways" in s.message


@pytest.mark.parametrize("n", [2, 5])
def test_the_narrative_does_not_settle_against_the_printed_digits(tmp_path, n):
    p = tmp_path / "ambiguous.txt"
    p.write_text(AMBIGUOUS.format(n=n), encoding="utf-8")
    (r,) = extract_file(str(p))
    cell = r.cells["t3.new_received.natural_person"]
    if n == 2:  # a valid split (2|20|…): settled to 2
        assert (cell.value, cell.status) == (2, "number")
    else:  # 5 is no split of 220000022: left unset, and nothing is compared
        assert (cell.value, cell.status) == (None, "text")
        assert not [i for i in r.issues if i.rule == "extract.settled_by_narrative"]
        v = [v for v in r.narrative if v.pattern == "applicant_person"][0]
        assert (v.table, v.agrees) == (None, None)


# ---------------------------------------------------------------------------
# the real originals (2019 and later)

MISMATCHES = [
    # (file, pattern, narrative, table): verified by reading each original
    ("hongze_2024.pdf", "received", 17, 95),  # 区政府办's own requests, the table is the 区政府's
    ("pingtan_2022.html", "received", 75, 74),  # 74 new + 1 carried over
    ("pingtan_2022.html", "applicant_person", 72, 71),  # 71 + 1 carried over
    ("pingtan_2022.txt", "received", 75, 74),
    ("pingtan_2022.txt", "applicant_person", 72, 71),
    ("shuyang_2025.txt", "received", 749, 713),  # 713 new + 36 carried over
    ("shuyang_2025.txt", "applicant_person", 741, 705),  # 705 + 36 carried over
]


def test_real_originals(shared_dir):
    results = []
    for f in sorted((shared_dir / "corpus" / "originals").iterdir()):
        results += [r for r in extract_file(str(f)) if r.year is not None and r.year >= 2019]
    values = [v for r in results for v in r.narrative]
    assert len(values) == 81
    assert sum(1 for v in values if v.agrees) == 73
    assert sum(1 for v in values if v.agrees is None) == 1  # 上海市科委 2024 结转下年度: table blank
    mism = [
        (Path(r.path).name, v.pattern, v.value, v.table) for r in results for v in r.narrative if v.agrees is False
    ]
    assert mism == MISMATCHES
    issues = [(Path(r.path).name, i) for r in results for i in r.issues if i.rule == "narrative.mismatch"]
    assert [(f, i.actual, i.expected) for f, i in issues] == [(f, n, t) for f, _, n, t in MISMATCHES]
    # every percentage of 平潭 2023 is a share of the 81 handled (= received = to handle)
    pt = [v for r in results if r.path.endswith("pingtan_2023.html") for v in r.narrative if v.unit == "%"]
    assert [(v.printed, v.denominators) for v in pt] == [
        (p, ["handled", "received", "to_handle"]) for p in ("51.85%", "6.17%", "38.27%", "1.23%", "2.47%")
    ]
    rows = narrative_rows(results)
    assert len(rows) == 81
    assert list(rows[0]) == [
        "path", "part", "pattern", "sentence", "printed", "value", "unit", "key", "table_value", "agrees", "denominators", "where",
    ]
    assert rows == narrative_rows(results)  # deterministic


def test_long_digit_runs_cost_one_scan():
    """A mutated text with thousands of digits before 件 (a fuzzing case that once took 7 s)."""
    import time

    run = "7" * 5000
    doc = Document("n.txt", "text", [Paragraph(f"{run}件结转下年度，{run}起行政复议，共收到政府信息公开申请1,234件。" * 20)])
    t = time.perf_counter()
    got = [(v.pattern, v.value) for v in find(doc, 2024)]
    assert time.perf_counter() - t < 1.0
    assert got == [("received", 1234)] * 20  # the runs are no numbers of this report (more than 15 digits)
