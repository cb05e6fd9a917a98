"""Validation rules: made-up reports that break one rule at a time, and the
identity failures known from real reports (docs/template.md, corpus/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.codebook import load
from helpers.result import CellValue, ExtractResult, Issue
from helpers.validate import (
    check_chain,
    check_report,
    infer_split_other,
    level_cannot_issue_regulations,
    sort_issues,
    summarize,
)

COLS = ["natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org"]
NA = "/"  # marker value in the builders: an N/A cell
TEXT = "?"  # marker value: a cell whose text could not be read as a number


def make(values: dict[str, object], path: str = "made_up/agency_2023.pdf", **meta) -> ExtractResult:
    """An ExtractResult from key → value: a number is printed, None is blank,
    ``NA`` an N/A marker, ``TEXT`` unreadable text; keys not given are absent."""
    cells: dict[str, CellValue] = {}
    for k, v in values.items():
        if v is None:
            cells[k] = CellValue(None, "blank", "")
        elif v == NA:
            cells[k] = CellValue(None, "na_marker", "/")
        elif v == TEXT:
            cells[k] = CellValue(None, "text", "见附件")
        else:
            cells[k] = CellValue(v, "number", str(v))  # type: ignore[arg-type]
    meta.setdefault("edition", "2021")
    meta.setdefault("agency", "某某县某某局")
    meta.setdefault("year", 2023)
    return ExtractResult(path=path, status="ok", cells=cells, **meta)


def t3_row(row: str, parts: list[int]) -> dict[str, object]:
    out: dict[str, object] = {f"t3.{row}.{c}": v for c, v in zip(COLS, parts)}
    out[f"t3.{row}.total"] = sum(parts)
    return out


def consistent_2021() -> dict[str, object]:
    """A 2021-edition report whose every identity holds (three （六） sub-rows)."""
    cb = load()
    v: dict[str, object] = {
        "t2.regulations.issued": 0,
        "t2.regulations.repealed": 0,
        "t2.regulations.in_force": 0,
        "t2.normative_documents.issued": 3,
        "t2.normative_documents.repealed": 1,
        "t2.normative_documents.in_force": 10,
        "t2.licensing.decisions": 100,
        "t2.punishment.decisions": 50,
        "t2.coercion.decisions": 2,
        "t2.fees.amount": 12.34,
    }
    rows = {
        "new_received": [10, 2, 0, 0, 1, 0],
        "carried_over": [1, 0, 0, 0, 0, 0],
        "granted": [5, 1, 0, 0, 0, 0],
        "partially_granted": [2, 0, 0, 0, 1, 0],
        "unable_not_held": [2, 1, 0, 0, 0, 0],
        "other_no_correction": [1, 0, 0, 0, 0, 0],
        "total_processed": [10, 2, 0, 0, 1, 0],
        "carried_forward": [1, 0, 0, 0, 0, 0],
    }
    for row in cb.t3_leaves(True):
        v.update(t3_row(row, rows.get(row, [0] * 6)))
    t4 = {"review": [1, 1, 0, 0], "litigation_direct": [0, 0, 0, 1], "litigation_after_review": [0] * 4}
    for group, parts in t4.items():
        for c, x in zip(["upheld", "corrected", "other", "pending"], parts):
            v[f"t4.{group}.{c}"] = x
        v[f"t4.{group}.total"] = sum(parts)
    return v


def consistent_2019() -> dict[str, object]:
    """A first-edition report (single （六） row) whose every identity holds."""
    v = {k: x for k, x in consistent_2021().items() if not k.startswith("t2.") and not k.startswith("t3.other_")}
    v.update(t3_row("other", [1, 0, 0, 0, 0, 0]))
    v.update(
        {
            "t2.regulations.made": 0,
            "t2.regulations.published": 0,
            "t2.regulations.published_total": 0,
            "t2.normative_documents.made": 10,
            "t2.normative_documents.published": 10,
            "t2.normative_documents.published_total": 40,
            "t2.licensing.items_prev_year": 396,
            "t2.licensing.items_change": 0,
            "t2.licensing.decisions": 181,
            "t2.other_services.items_prev_year": 10,
            "t2.other_services.items_change": 0,
            "t2.other_services.decisions": 153,
            "t2.punishment.items_prev_year": 2648,
            "t2.punishment.items_change": -18,
            "t2.punishment.decisions": 430,
            "t2.coercion.items_prev_year": 126,
            "t2.coercion.items_change": 0,
            "t2.coercion.decisions": 25,
            "t2.fees.items_prev_year": 35,
            "t2.fees.items_change": -15,
            "t2.procurement.projects": 135,
            "t2.procurement.amount": 75394432.52,
        }
    )
    return v


def summary(issues: list[Issue]) -> list[tuple]:
    """(rule, severity, first cell, expected, actual) for exact comparisons."""
    return sorted((i.rule, i.severity, i.cells[0] if i.cells else "", i.expected, i.actual) for i in issues)


# ---------------------------------------------------------------------------
# made-up reports


def test_consistent_reports_have_no_issues():
    assert check_report(make(consistent_2021())) == []
    assert check_report(make(consistent_2019(), edition="2019")) == []
    assert check_report(make(consistent_2021()), level="township government") == []


def test_row_total_failure():
    v = consistent_2021()
    v["t3.granted.total"] = 7  # parts say 6
    issues = check_report(make(v))
    assert summary(issues) == [
        ("t3.outcome_total", "error", "t3.total_processed.total", 14, 13),  # 7 now counted in 总计's column
        ("t3.row_total", "error", "t3.granted.total", 6, 7),
    ]
    row = next(i for i in issues if i.rule == "t3.row_total")
    assert row.cells == ["t3.granted.total"] + [f"t3.granted.{c}" for c in COLS]
    assert row.path == "made_up/agency_2023.pdf"
    for part in (
        "made_up/agency_2023.pdf",
        "Table 3",
        "（一）予以公开",
        "Granted in full",
        "总计",
        "printed 7",
        "sum to 6",
        "(5 + 1 + 0 + 0 + 0 + 0)",
    ):
        assert part in row.message


def test_outcome_total_failure_with_balance_holding():
    # the Pingtan 2020 pattern: （七）总计 too small in 自然人 and 总计, 四 larger, balance still holds
    v = consistent_2021()
    v["t3.total_processed.natural_person"] = 9
    v["t3.total_processed.total"] = 12
    v["t3.carried_forward.natural_person"] = 2
    v["t3.carried_forward.total"] = 2
    issues = check_report(make(v))
    assert summary(issues) == [
        ("t3.outcome_total", "error", "t3.total_processed.natural_person", 10, 9),
        ("t3.outcome_total", "error", "t3.total_processed.total", 13, 12),
    ]
    np_issue = issues[0] if issues[0].cells[0].endswith("natural_person") else issues[1]
    assert "t3.granted.natural_person" in np_issue.cells
    assert "t3.other_no_correction.natural_person" in np_issue.cells
    assert "t3.other.natural_person" not in np_issue.cells
    assert "t3.new_received.natural_person" not in np_issue.cells
    assert "自然人" in np_issue.message and "Natural persons" in np_issue.message


def test_balance_failure():
    v = consistent_2021()
    v["t3.carried_over.commercial"] = 1
    v["t3.carried_over.total"] = 2
    issues = check_report(make(v))
    assert summary(issues) == [
        ("t3.balance", "error", "t3.new_received.commercial", 3, 2),
        ("t3.balance", "error", "t3.new_received.total", 15, 14),
    ]
    com = next(i for i in issues if i.cells[0] == "t3.new_received.commercial")
    assert com.cells == [
        "t3.new_received.commercial",
        "t3.carried_over.commercial",
        "t3.total_processed.commercial",
        "t3.carried_forward.commercial",
    ]
    assert "商业企业" in com.message and "一 + 二" in com.message


@pytest.mark.parametrize(
    "group, rule, printed, parts",
    [
        ("review", "t4.review_total", 3, 2),
        ("litigation_direct", "t4.litigation_direct_total", 0, 1),
        ("litigation_after_review", "t4.litigation_after_review_total", 1, 0),
    ],
)
def test_t4_total_failures(group, rule, printed, parts):
    v = consistent_2021()
    v[f"t4.{group}.total"] = printed
    issues = check_report(make(v))
    assert summary(issues) == [(rule, "error", f"t4.{group}.total", parts, printed)]
    assert issues[0].cells == [f"t4.{group}.{c}" for c in ("total", "upheld", "corrected", "other", "pending")]
    assert "Table 4" in issues[0].message


def test_blank_total_next_to_nonzero_parts_is_missing_not_an_error():
    v = consistent_2021()
    v["t3.carried_forward.total"] = None  # parts: 1 + 0 + … ; also in the 总计 balance
    v["t4.review.total"] = None  # parts 1 + 1 + 0 + 0
    issues = check_report(make(v))
    assert summary(issues) == [
        ("t3.blank_total", "warning", "t3.carried_forward.total", 1, None),
        ("t4.blank_total", "warning", "t4.review.total", 2, None),
    ]
    assert all("printed blank" in i.message and "sum to" in i.message for i in issues)


def test_blank_outcome_total_reported_once_and_identities_around_it_skipped():
    v = consistent_2021()
    v["t3.total_processed.natural_person"] = None  # lhs of the outcome total and a part of its row total
    issues = check_report(make(v))
    assert summary(issues) == [("t3.blank_total", "warning", "t3.total_processed.natural_person", 10, None)]


def test_blank_total_with_zero_parts_and_blank_parts_read_as_zero():
    v = consistent_2021()
    v["t4.litigation_after_review.total"] = None  # parts all 0
    for c in ("research", "social_welfare", "other_org"):  # zero applicant cells left blank
        for row in ("new_received", "granted", "total_processed"):
            v[f"t3.{row}.{c}"] = None
    for k in [k for k in v if k.startswith("t3.withheld_state_secret.")]:
        v[k] = None  # a wholly blank row: not filled, skipped
    assert check_report(make(v)) == []


def test_blank_parts_still_count_as_zero_in_a_failure():
    v = consistent_2021()
    v["t3.granted.commercial"] = None  # was 1: the row's parts now sum to 5, the column's to 1
    issues = check_report(make(v))
    assert summary(issues) == [
        ("t3.outcome_total", "error", "t3.total_processed.commercial", 1, 2),
        ("t3.row_total", "error", "t3.granted.total", 5, 6),
    ]
    row = next(i for i in issues if i.rule == "t3.row_total")
    assert "(5 + blank + 0 + 0 + 0 + 0)" in row.message and "blank counted as 0" in row.message


def test_unreadable_cells_make_an_identity_uncheckable():
    v = consistent_2021()
    v["t4.review.total"] = 9
    v["t4.review.pending"] = TEXT
    v["t4.litigation_direct.total"] = 5
    v["t4.litigation_direct.other"] = NA
    assert check_report(make(v)) == []
    v = consistent_2021()
    v["t4.review.total"] = 9
    del v["t4.review.pending"]  # absent
    assert check_report(make(v)) == []


def test_negative_and_fractional_counts():
    v = consistent_2021()
    v["t4.review.upheld"] = -1
    v["t4.review.corrected"] = 1
    v["t4.review.total"] = 0
    issues = check_report(make(v))
    assert summary(issues) == [("t4.nonnegative_integer", "error", "t4.review.upheld", None, -1)]

    v = consistent_2021()
    v["t3.granted.research"] = 0.5
    v["t3.granted.other_org"] = -0.5
    issues = [i for i in check_report(make(v)) if i.rule == "t3.nonnegative_integer"]
    assert summary(issues) == [
        ("t3.nonnegative_integer", "error", "t3.granted.other_org", None, -0.5),
        ("t3.nonnegative_integer", "error", "t3.granted.research", None, 0.5),
    ]
    assert "not an integer" in issues[0].message or "not an integer" in issues[1].message


def test_table2_negative_is_a_warning():
    v = consistent_2021()
    v["t2.licensing.decisions"] = -3
    issues = check_report(make(v))
    assert summary(issues) == [("t2.nonnegative", "warning", "t2.licensing.decisions", None, -3)]


def test_first_edition_items_change_may_be_negative_but_nothing_else():
    v = consistent_2019()
    assert v["t2.punishment.items_change"] == -18
    assert check_report(make(v, edition="2019")) == []
    v["t2.fees.items_prev_year"] = -1
    issues = check_report(make(v, edition="2019"))
    assert summary(issues) == [("t2.nonnegative", "warning", "t2.fees.items_prev_year", None, -1)]


def test_first_edition_published_total_and_made_gt_published():
    v = consistent_2019()
    v["t2.normative_documents.published_total"] = 8  # published 10
    issues = check_report(make(v, edition="2019"))
    assert summary(issues) == [
        ("t2.published_total_ge_published", "warning", "t2.normative_documents.published_total", 10, 8)
    ]
    v = consistent_2019()
    v["t2.normative_documents.made"] = 12  # published 10
    issues = check_report(make(v, edition="2019"))
    assert summary(issues) == [("t2.made_gt_published", "info", "t2.normative_documents.made", 12, 10)]
    v["t2.normative_documents.made"] = 8  # fewer made than published: plausible
    assert check_report(make(v, edition="2019")) == []


@pytest.mark.parametrize(
    "level, flagged",
    [
        ("township government", True),
        ("street office", True),
        ("county department", True),
        ("province-level department", True),
        ("乡镇人民政府", True),
        ("city government", False),
        ("county/district government", False),
        ("province-level general office", False),
        ("county government office", False),
        ("national ministry", False),
        ("", False),
        (None, False),
    ],
)
def test_regulations_plausibility_by_level(level, flagged):
    assert level_cannot_issue_regulations(level) is flagged
    v = consistent_2021()
    v["t2.regulations.issued"] = 2
    v["t2.regulations.in_force"] = 2
    issues = check_report(make(v), level=level)
    if flagged:
        assert summary(issues) == [("t2.regulations_plausibility", "warning", "t2.regulations.issued", 0, None)]
        assert issues[0].cells == ["t2.regulations.issued", "t2.regulations.in_force"]
        assert "规章" in issues[0].message
    else:
        assert issues == []


def test_blank_tables_are_flagged_once_each():
    v = consistent_2021()
    for k in [k for k in v if k.startswith("t4.")]:
        v[k] = None
    issues = check_report(make(v))
    assert summary(issues) == [("table.blank", "warning", "t4.review.upheld", None, None)]
    assert len(issues[0].cells) == 15 and "Table 4" in issues[0].message

    every = {k: None for k in consistent_2021()}
    issues = check_report(make(every))
    assert sorted((i.rule, i.cells[0].split(".")[0]) for i in issues) == [
        ("table.blank", "t2"),
        ("table.blank", "t3"),
        ("table.blank", "t4"),
    ]


def test_hybrid_report_with_single_other_row():
    # revised Table 2, but （六） printed as one row: sub-rows absent
    v = {k: x for k, x in consistent_2021().items() if not k.startswith("t3.other_")}
    v.update(t3_row("other", [1, 0, 0, 0, 0, 0]))
    r = make(v)
    assert infer_split_other(r) is False
    assert check_report(r) == []
    # the single row is what the outcome total counts
    v["t3.other.natural_person"] = 2
    v["t3.other.total"] = 2
    issues = check_report(make(v))
    assert summary(issues) == [
        ("t3.outcome_total", "error", "t3.total_processed.natural_person", 11, 10),
        ("t3.outcome_total", "error", "t3.total_processed.total", 14, 13),
    ]
    # forced to the split form, the outcome totals involve absent sub-rows: not checkable
    assert check_report(make(v), split_other=True) == []


def test_infer_split_other():
    assert infer_split_other(make(consistent_2021())) is True
    assert infer_split_other(make(consistent_2019(), edition="2019")) is False
    assert infer_split_other(make({"t3.other_other.total": NA})) is True  # printed, even if not a number
    assert infer_split_other(make({})) is False


def test_sort_and_summarize():
    issues = [
        Issue("chain.in_force", "info", "m", path="b"),
        Issue("t3.blank_total", "warning", "m", path="a"),
        Issue("t3.row_total", "error", "m2", path="b"),
        Issue("t3.row_total", "error", "m1", path="a"),
        Issue("t3.row_total", "error", "m0", path="a"),
    ]
    out = sort_issues(issues)
    assert [(i.severity, i.path, i.message) for i in out] == [
        ("error", "a", "m1"),
        ("error", "a", "m0"),
        ("error", "b", "m2"),
        ("warning", "a", "m"),
        ("info", "b", "m"),
    ]
    assert summarize(issues) == {
        "total": 5,
        "by_severity": {"error": 3, "warning": 1, "info": 1},
        "by_rule": {"chain.in_force": 1, "t3.blank_total": 1, "t3.row_total": 3},
    }
    assert summarize([]) == {"total": 0, "by_severity": {"error": 0, "warning": 0, "info": 0}, "by_rule": {}}


# ---------------------------------------------------------------------------
# chains


def year_pair(**changes) -> tuple[dict[str, object], dict[str, object]]:
    """Two consecutive 2021-edition years that chain correctly; ``changes`` maps
    "prev:key" / "cur:key" to new values."""
    prev = consistent_2021()
    cur = consistent_2021()
    for c in COLS + ["total"]:
        cur[f"t3.carried_over.{c}"] = prev[f"t3.carried_forward.{c}"]
    cur["t3.new_received.natural_person"] = 10  # keep cur balanced: 10 + 1 = 10 + 1
    cur["t2.normative_documents.in_force"] = 10 + 3 - 1
    for k, x in changes.items():
        side, key = k.split(":")
        (prev if side == "prev" else cur)[key] = x
    return prev, cur


def chain(prev: dict, cur: dict, **kw) -> list[Issue]:
    a = make(prev, path="x/agency_2022.html", year=2022)
    b = make(cur, path="x/agency_2023.html", year=2023)
    return check_chain([b, a], **kw)


def test_chain_consistent_years():
    prev, cur = year_pair()
    assert chain(prev, cur) == []


def test_chain_carried_over_mismatch():
    prev, cur = year_pair(**{"prev:t3.carried_forward.natural_person": 3, "prev:t3.carried_forward.total": 3})
    issues = chain(prev, cur)
    assert summary(issues) == [
        ("chain.carried_over", "warning", "t3.carried_forward.natural_person", 3, 1),
        ("chain.carried_over", "warning", "t3.carried_forward.total", 3, 1),
    ]
    i = issues[0]
    assert i.cells == ["t3.carried_forward.natural_person", "t3.carried_over.natural_person"]
    assert i.path == "x/agency_2023.html"
    for part in ("x/agency_2022.html", "x/agency_2023.html", "2022", "2023", "自然人"):
        assert part in i.message


def test_chain_carried_over_blanks_and_absent():
    # blank against 0: consistent
    prev, cur = year_pair(**{"prev:t3.carried_forward.commercial": None})
    assert chain(prev, cur) == []
    # blank against a non-zero count: cannot tell, skipped
    prev, cur = year_pair(**{"cur:t3.carried_over.natural_person": None, "cur:t3.carried_over.total": None})
    assert [i for i in chain(prev, cur) if i.rule.startswith("chain.")] == []
    # absent on one side: skipped
    prev, cur = year_pair(**{"cur:t3.carried_over.natural_person": 5})
    del prev["t3.carried_forward.natural_person"]
    assert [i for i in chain(prev, cur) if i.rule.startswith("chain.")] == []


def test_chain_only_same_agency_and_consecutive_years():
    prev, cur = year_pair(**{"prev:t3.carried_forward.natural_person": 3})
    a = make(prev, path="a_2021.html", year=2021)
    b = make(cur, path="b_2023.html", year=2023)
    assert check_chain([a, b]) == []  # a gap year
    a = make(prev, path="a_2022.html", year=2022, agency="甲县")
    b = make(cur, path="b_2023.html", year=2023, agency="乙县")
    assert check_chain([a, b]) == []  # different agencies
    issues = check_chain([a, b], key=lambda r: "same")
    assert [i.rule for i in issues] == ["chain.carried_over"]
    a = make(prev, path="a_2022.html", year=2022, agency="某某县 某某局")
    b = make(cur, path="b_2023.html", year=2023, agency="某某县某某局")
    assert [i.rule for i in check_chain([a, b])] == ["chain.carried_over"]  # default key ignores spaces


def test_chain_in_force():
    prev, cur = year_pair(**{"cur:t2.normative_documents.in_force": 20})  # 10 + 3 - 1 = 12
    issues = chain(prev, cur)
    assert summary(issues) == [("chain.in_force", "info", "t2.normative_documents.in_force", 12, 20)]
    assert issues[0].cells == [
        "t2.normative_documents.in_force",
        "t2.normative_documents.issued",
        "t2.normative_documents.repealed",
        "t2.normative_documents.in_force",
    ]


def test_chain_items_first_edition():
    prev = consistent_2019()
    cur = consistent_2019()
    cur["t2.punishment.items_prev_year"] = 2648 - 18
    cur["t2.fees.items_prev_year"] = 35 - 15
    a = make(prev, path="p_2019.html", year=2019, edition="2019")
    b = make(cur, path="p_2020.html", year=2020, edition="2019")
    assert check_chain([a, b]) == []
    cur["t2.licensing.items_prev_year"] = 400  # 396 + 0
    issues = check_chain([a, make(cur, path="p_2020.html", year=2020, edition="2019")])
    assert summary(issues) == [("chain.items", "info", "t2.licensing.items_prev_year", 396, 400)]


# ---------------------------------------------------------------------------
# real reports (hand-verified values in the shared corpus)


def from_expected(path: Path) -> ExtractResult:
    """An ExtractResult from an expected/*.json file: null is blank, except the
    three （六） sub-rows of a report printing （六） as one row, which are absent."""
    d = json.loads(path.read_text(encoding="utf-8"))
    cells = d["cells"]
    single = any(v is not None for k, v in cells.items() if k.startswith("t3.other."))
    values: dict[str, object] = {}
    for k, v in cells.items():
        if v is None and single and k.startswith("t3.other_"):
            continue  # absent
        values[k] = v
    return make(values, path=d["files"][0], edition=d["edition"], agency=d["agency"], year=d["year"])


@pytest.fixture(scope="module")
def expected_dir(shared_dir: Path) -> Path:
    return shared_dir / "corpus" / "expected"


def test_hongze_2023_table4_totals(expected_dir):
    r = from_expected(expected_dir / "hongze_2023.json")
    assert infer_split_other(r) is False
    issues = check_report(r)
    errors = [i for i in issues if i.severity == "error"]
    assert summary(errors) == [
        ("t4.litigation_after_review_total", "error", "t4.litigation_after_review.total", 5, 0),
        ("t4.review_total", "error", "t4.review.total", 11, 0),
    ]
    review = next(i for i in errors if i.rule == "t4.review_total")
    assert "hongze_2023.pdf" in review.message
    assert "行政复议 总计" in review.message
    assert "printed 0 but its parts sum to 11 (10 + 1 + 0 + 0)" in review.message
    assert issues == errors  # nothing else either


def test_pingtan_2020_outcome_total(expected_dir):
    r = from_expected(expected_dir / "pingtan_2020.json")
    issues = check_report(r)
    assert summary([i for i in issues if i.severity == "error"]) == [
        ("t3.outcome_total", "error", "t3.total_processed.natural_person", 26, 20),
        ("t3.outcome_total", "error", "t3.total_processed.total", 27, 21),
    ]
    assert not [i for i in issues if i.rule == "t3.balance"]
    assert issues == [i for i in issues if i.severity == "error"]


def test_sh_kewei_2024_blank_carried_forward_total(expected_dir):
    r = from_expected(expected_dir / "sh_kewei_2024.json")
    assert r.cells["t3.carried_forward.total"].status == "blank"
    issues = check_report(r)
    assert summary(issues) == [("t3.blank_total", "warning", "t3.carried_forward.total", 1, None)]


@pytest.mark.parametrize(
    "name",
    [
        "hongze_2024",
        "pingtan_2019",
        "pingtan_2021",
        "pingtan_2022",
        "pingtan_2023",
        "pingtan_2024",
        "pingtan_2025",
        "shuyang_2025",
        "yindu_office_2024",
    ],
)
def test_reports_whose_identities_hold(expected_dir, name):
    # their notes say every identity holds as printed
    assert check_report(from_expected(expected_dir / f"{name}.json")) == []


def test_blank_template_is_three_blank_tables(expected_dir):
    issues = check_report(from_expected(expected_dir / "blank_template.json"))
    assert sorted((i.rule, i.cells[0].split(".")[0]) for i in issues) == [
        ("table.blank", "t2"),
        ("table.blank", "t3"),
        ("table.blank", "t4"),
    ]


def test_pingtan_chain_2019_2025(expected_dir):
    results = [from_expected(expected_dir / f"pingtan_{y}.json") for y in range(2019, 2026)]
    issues = check_chain(results)
    assert [i for i in issues if i.rule == "chain.carried_over"] == []
    assert [i for i in issues if i.rule == "chain.items"] == []  # 2019 → 2020, first edition
    # 现行有效件数 of 行政规范性文件 does not chain after 2022 (info only)
    assert summary(issues) == [
        ("chain.in_force", "info", "t2.normative_documents.in_force", 453, 546),
        ("chain.in_force", "info", "t2.normative_documents.in_force", 499, 440),
        ("chain.in_force", "info", "t2.normative_documents.in_force", 643, 470),
    ]
    # the carried-over check did compare every column: change one and it fails
    for col in COLS + ["total"]:
        changed = [from_expected(expected_dir / f"pingtan_{y}.json") for y in range(2019, 2026)]
        cell = changed[2].cells[f"t3.carried_forward.{col}"]  # 2021
        changed[2].cells[f"t3.carried_forward.{col}"] = CellValue(cell.value + 1, "number", "")
        found = [i for i in check_chain(changed) if i.rule == "chain.carried_over"]
        key = f"t3.carried_forward.{col}"
        assert summary(found) == [("chain.carried_over", "warning", key, cell.value + 1, cell.value)]
        assert "pingtan_2021.html (2021)" in found[0].message and "pingtan_2022.html (2022)" in found[0].message


def test_hongze_chain_with_key(expected_dir):
    # the two reports print different agency names (洪泽区人民政府 / 淮安市洪泽区人民政府)
    results = [from_expected(expected_dir / f"hongze_{y}.json") for y in (2023, 2024)]
    assert check_chain(results) == []  # not grouped by default
    assert check_chain(results, key=lambda r: "洪泽区") == []  # grouped: 0 → 0 carried, 5 + 3 − 0 = 8 in force
    results[1].cells["t3.carried_over.total"] = CellValue(2, "number", "2")
    assert [i.rule for i in check_chain(results, key=lambda r: "洪泽区")] == ["chain.carried_over"]
