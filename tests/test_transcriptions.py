"""Extraction of the research corpus in data/raw (the seed report and 16 transcriptions).

Transcriptions print every table cell exactly as the published report, one
table row per tab-separated line, so nothing is ambiguous: where the corpus
has a hand-verified expected file every cell must match it exactly.  The five
transcriptions without one are checked against values read by eye from the
transcription itself (the spot checks below), blanks included.
"""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path

import pytest

from helpers.codebook import load as load_codebook
from helpers.extract import extract_path
from helpers.result import ExtractResult

REPO_ROOT = Path(__file__).resolve().parent.parent
RAW = REPO_ROOT / "data" / "raw"
RAW_FILES = sorted(p.name for p in RAW.iterdir() if p.is_file() and p.suffix == ".txt")
WITHOUT_EXPECTED = ["huaian_2024", "jinhu_2023", "sh_office_2025", "shanghai_office_2019", "shuyang_fgj_2023"]

T3_COLS = ("natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total")
T4_COLS = ("upheld", "corrected", "other", "pending", "total")
T4_GROUPS = ("review", "litigation_direct", "litigation_after_review")


def stem(fname: str) -> str:
    return fname.split(".")[0]


@cache
def sources() -> dict[str, dict[str, str]]:
    with open(RAW / "sources.csv", encoding="utf-8-sig", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


@cache
def extracted(fname: str) -> ExtractResult:
    return extract_path(str(RAW / fname))


def test_raw_folder_holds_the_seed_and_16_transcriptions():
    transcribed = [f for f in RAW_FILES if f.endswith(".transcribed.txt")]
    assert "yindu_office_2024.txt" in RAW_FILES
    assert len(transcribed) == 16, transcribed
    assert len(RAW_FILES) == 17
    for s in WITHOUT_EXPECTED:
        assert f"{s}.transcribed.txt" in RAW_FILES


# ---------------------------------------------------------------------------
# all 17: edition, year, status


@pytest.mark.parametrize("fname", RAW_FILES)
def test_edition_year_status(fname):
    src = sources()[fname]
    r = extracted(fname)
    assert r.status == "ok", f"{fname}: status {r.status}; issues {[i.message for i in r.issues if i.rule.startswith(('extract', 'read'))]}"
    assert r.edition == src["edition"], f"{fname}: edition {r.edition}, sources.csv says {src['edition']}"
    assert r.year == int(src["year"]), f"{fname}: year {r.year}, sources.csv says {src['year']}"
    keys = load_codebook().keys_for(r.edition)
    assert not [k for k in keys if k not in r.cells], f"{fname}: codebook keys missing"


# ---------------------------------------------------------------------------
# the 12 with a hand-verified expected file: every cell, exactly

WITH_EXPECTED = [f for f in RAW_FILES if stem(f) not in WITHOUT_EXPECTED]


@pytest.mark.parametrize("fname", WITH_EXPECTED)
def test_every_expected_cell(shared_dir, fname):
    ef = shared_dir / "corpus" / "expected" / f"{stem(fname)}.json"
    assert ef.is_file(), f"no expected file for {fname}"
    exp = json.loads(ef.read_text(encoding="utf-8"))
    r = extracted(fname)
    assert (r.edition, r.year) == (exp["edition"], exp["year"])
    wrong = []
    for key, want in exp["cells"].items():  # ambiguous_in concerns the originals only
        cell = r.cells.get(key)
        got = cell.value if cell is not None else None
        ok = got is None if want is None else (got is not None and abs(float(got) - float(want)) < 1e-9)
        if not ok:
            where = f"{cell.status} {cell.printed!r}" if cell is not None else "missing"
            wrong.append(f"{key}: expected {want!r}, got {got!r} ({where})")
    assert not wrong, f"{fname}: {len(wrong)} cells wrong:\n  " + "\n  ".join(wrong)


def test_the_five_without_expected_file_really_have_none(shared_dir):
    have = {p.stem for p in (shared_dir / "corpus" / "expected").glob("*.json")}
    assert not have & set(WITHOUT_EXPECTED)
    assert {stem(f) for f in WITH_EXPECTED} <= have


# ---------------------------------------------------------------------------
# the five without: values read by eye from the transcriptions
#
# B = printed blank (status "blank", no value).  A Table 3 row lists the seven
# columns 自然人, 商业企业, 科研机构, 社会公益组织, 法律服务机构, 其他, 总计; a
# Table 4 row the five columns 结果维持, 结果纠正, 其他结果, 尚未审结, 总计.

B = "blank"

SPOT: dict[str, dict[str, object]] = {}


def _rows(table: str, rows: dict[str, tuple], cols: tuple[str, ...]) -> dict[str, object]:
    out = {}
    for row, values in rows.items():
        assert len(values) == len(cols), (row, values)
        out.update({f"{table}.{row}.{c}": v for c, v in zip(cols, values)})
    return out


# 上海市人民政府办公厅 2019 (first edition): the 总计 column is blank in every
# 办理结果 row, applicant cells are blank for zero, （六）其他处理 is an empty row.
SPOT["shanghai_office_2019"] = {
    "t2.regulations.made": 13,
    "t2.regulations.published": 13,
    "t2.regulations.published_total": 524,
    "t2.normative_documents.made": 60,
    "t2.normative_documents.published": 60,
    "t2.normative_documents.published_total": 368,
    "t2.licensing.items_prev_year": 0,
    "t2.other_services.decisions": 0,
    "t2.punishment.items_change": 0,
    "t2.fees.items_prev_year": 0,
    "t2.procurement.projects": 6,
    "t2.procurement.amount": 251000,  # printed "251000元"
    **_rows(
        "t3",
        {
            "new_received": (821, 35, B, B, 2, 1, 859),
            "carried_over": (18, B, B, B, B, B, 18),
            "granted": (258, 12, B, B, 1, 1, B),
            "partially_granted": (3, B, B, B, B, B, B),
            "withheld_state_secret": (14, B, B, B, B, B, B),
            "withheld_prohibited_by_law": (B, B, B, B, B, B, B),
            "withheld_process_info": (3, 1, B, B, B, B, B),
            "withheld_query_matters": (10, 2, B, B, B, B, B),
            "unable_not_held": (252, 12, B, B, 1, B, B),
            "unable_needs_creation": (44, 3, B, B, B, B, B),
            "not_processed_complaint": (148, 1, B, B, B, B, B),
            "not_processed_duplicate": (5, 4, B, B, B, B, B),
            "other": (B, B, B, B, B, B, B),
            "total_processed": (767, 35, B, B, 2, 1, 805),
            "carried_forward": (72, B, B, B, B, B, 72),
        },
        T3_COLS,
    ),
    **_rows(
        "t4",
        {"review": (5, B, B, 2, 7), "litigation_direct": (8, B, B, 1, 9), "litigation_after_review": (B, B, B, B, B)},
        T4_COLS,
    ),
}

# 沭阳县发展和改革局 2023: the five 法人或其他组织 columns are blank in every
# Table 3 row, 自然人 and 总计 are printed in all of them (checked wholesale in
# test_shuyang_fgj_legal_person_columns_blank).
SPOT["shuyang_fgj_2023"] = {
    "t2.regulations.issued": 0,
    "t2.regulations.repealed": 0,
    "t2.regulations.in_force": 0,
    "t2.normative_documents.issued": 8,
    "t2.normative_documents.repealed": 0,
    "t2.normative_documents.in_force": 18,
    "t2.licensing.decisions": 0,
    "t2.punishment.decisions": 0,
    "t2.coercion.decisions": 0,
    "t2.fees.amount": 0,
    **_rows(
        "t3",
        {
            "new_received": (26, B, B, B, B, B, 26),
            "carried_over": (0, B, B, B, B, B, 0),
            "granted": (26, B, B, B, B, B, 26),
            "partially_granted": (0, B, B, B, B, B, 0),
            "withheld_state_secret": (0, B, B, B, B, B, 0),
            "unable_not_held": (0, B, B, B, B, B, 0),
            "not_processed_confirmation": (0, B, B, B, B, B, 0),
            "other_no_correction": (0, B, B, B, B, B, 0),
            "other_other": (0, B, B, B, B, B, 0),
            "total_processed": (26, B, B, B, B, B, 26),
            "carried_forward": (0, B, B, B, B, B, 0),
        },
        T3_COLS,
    ),
    **_rows("t4", {"review": (0, 0, 0, 1, 1), "litigation_direct": (0, 0, 0, 0, 0), "litigation_after_review": (0, 0, 0, 0, 0)}, T4_COLS),
}

# 金湖县人民政府 2023 (third-party numbers: no blanks; Table 4 直接起诉 总计 0 against 2+0+1+0)
SPOT["jinhu_2023"] = {
    "t2.regulations.in_force": 0,
    "t2.normative_documents.issued": 3,
    "t2.normative_documents.repealed": 6,
    "t2.normative_documents.in_force": 14,
    "t2.licensing.decisions": 54408,
    "t2.punishment.decisions": 2086,
    "t2.coercion.decisions": 1272,
    "t2.fees.amount": 14722.49,
    **_rows(
        "t3",
        {
            "new_received": (140, 1, 0, 0, 0, 2, 143),
            "carried_over": (0, 0, 0, 0, 0, 0, 0),
            "granted": (61, 1, 0, 0, 0, 0, 62),
            "partially_granted": (4, 0, 0, 0, 0, 0, 4),
            "withheld_third_party": (2, 0, 0, 0, 0, 0, 2),
            "unable_not_held": (44, 0, 0, 0, 0, 2, 46),
            "not_processed_confirmation": (2, 0, 0, 0, 0, 0, 2),
            "other_no_correction": (17, 0, 0, 0, 0, 0, 17),
            "other_other": (2, 0, 0, 0, 0, 0, 2),
            "total_processed": (140, 1, 0, 0, 0, 2, 143),
            "carried_forward": (0, 0, 0, 0, 0, 0, 0),
        },
        T3_COLS,
    ),
    **_rows("t4", {"review": (1, 0, 6, 0, 7), "litigation_direct": (2, 0, 1, 0, 0), "litigation_after_review": (0, 0, 1, 0, 1)}, T4_COLS),
}

# 淮安市人民政府 2024
SPOT["huaian_2024"] = {
    "t2.regulations.issued": 1,
    "t2.regulations.repealed": 0,
    "t2.regulations.in_force": 11,
    "t2.normative_documents.issued": 8,
    "t2.normative_documents.repealed": 26,
    "t2.normative_documents.in_force": 66,
    "t2.licensing.decisions": 447228,
    "t2.punishment.decisions": 3985758,
    "t2.coercion.decisions": 88283,
    "t2.fees.amount": 96171.6,
    **_rows(
        "t3",
        {
            "new_received": (3001, 53, 0, 0, 61, 4, 3119),
            "carried_over": (34, 0, 0, 0, 0, 0, 34),
            "granted": (1288, 21, 0, 0, 50, 3, 1362),
            "partially_granted": (447, 7, 0, 0, 0, 0, 454),
            "withheld_prohibited_by_law": (30, 1, 0, 0, 0, 0, 31),
            "withheld_query_matters": (105, 0, 0, 0, 0, 0, 105),
            "unable_not_held": (746, 12, 0, 0, 10, 1, 769),
            "not_processed_complaint": (56, 6, 0, 0, 0, 0, 62),
            "other_no_correction": (67, 3, 0, 0, 1, 0, 71),
            "other_unpaid_fee": (6, 0, 0, 0, 0, 0, 6),
            "other_other": (108, 2, 0, 0, 0, 0, 110),
            "total_processed": (2932, 53, 0, 0, 61, 4, 3050),
            "carried_forward": (103, 0, 0, 0, 0, 0, 103),
        },
        T3_COLS,
    ),
    **_rows(
        "t4",
        {"review": (72, 64, 178, 37, 351), "litigation_direct": (13, 4, 8, 1, 26), "litigation_after_review": (12, 1, 1, 6, 20)},
        T4_COLS,
    ),
}

# 上海市人民政府办公厅 2025
SPOT["sh_office_2025"] = {
    "t2.regulations.issued": 22,
    "t2.regulations.repealed": 22,
    "t2.regulations.in_force": 235,
    "t2.normative_documents.issued": 34,
    "t2.normative_documents.repealed": 55,
    "t2.normative_documents.in_force": 189,
    "t2.licensing.decisions": 0,
    "t2.punishment.decisions": 0,
    "t2.coercion.decisions": 0,
    "t2.fees.amount": 0,
    **_rows(
        "t3",
        {
            "new_received": (1259, 36, 0, 0, 0, 0, 1295),
            "carried_over": (170, 15, 0, 0, 4, 0, 189),
            "granted": (201, 5, 0, 0, 0, 0, 206),
            "withheld_state_secret": (4, 0, 0, 0, 0, 0, 4),
            "withheld_internal_affairs": (8, 0, 0, 0, 1, 0, 9),
            "unable_not_held": (484, 28, 0, 0, 1, 0, 513),
            "unable_needs_creation": (47, 1, 0, 0, 0, 0, 48),
            "not_processed_complaint": (61, 1, 0, 0, 0, 0, 62),
            "other_no_correction": (40, 1, 0, 0, 2, 0, 43),
            "other_other": (264, 12, 0, 0, 0, 0, 276),
            "total_processed": (1139, 48, 0, 0, 4, 0, 1191),
            "carried_forward": (290, 3, 0, 0, 0, 0, 293),
        },
        T3_COLS,
    ),
    **_rows(
        "t4",
        {"review": (40, 0, 10, 5, 55), "litigation_direct": (2, 0, 4, 6, 12), "litigation_after_review": (6, 0, 9, 7, 22)},
        T4_COLS,
    ),
}


@pytest.mark.parametrize("name", WITHOUT_EXPECTED)
def test_spot_checks_cover_all_three_tables(name):
    spot = SPOT[name]
    for table in ("t2", "t3", "t4"):
        assert sum(k.startswith(table + ".") for k in spot) >= 4, (name, table)
    assert len(spot) >= 12


@pytest.mark.parametrize("name", WITHOUT_EXPECTED)
def test_spot_checks(name):
    r = extracted(f"{name}.transcribed.txt")
    keys = set(load_codebook().keys_for(r.edition))
    wrong = []
    for key, want in SPOT[name].items():
        assert key in keys, f"{key} is not a codebook key of edition {r.edition}"
        c = r.cells.get(key)
        if c is None:
            wrong.append(f"{key}: missing")
        elif want is B:
            if c.status != "blank" or c.value is not None:
                wrong.append(f"{key}: expected blank, got {c.status} {c.value!r} ({c.printed!r})")
        elif c.status != "number" or c.value is None or abs(float(c.value) - float(want)) > 1e-9:
            wrong.append(f"{key}: expected {want!r}, got {c.status} {c.value!r} ({c.printed!r})")
    assert not wrong, f"{name}: {len(wrong)} of {len(SPOT[name])} spot checks wrong:\n  " + "\n  ".join(wrong)


def test_shanghai_office_2019_total_column_blank_in_every_outcome_row():
    """The 总计 column is blank in every 办理结果 row (（一）…（六）), printed in the other rows."""
    r = extracted("shanghai_office_2019.transcribed.txt")
    cb = load_codebook()
    outcome_rows = [
        row for row in cb.t3_rows if row not in ("new_received", "carried_over", "total_processed", "carried_forward")
        and f"t3.{row}.total" in r.cells and r.cells[f"t3.{row}.total"].status != "absent"
    ]
    assert len(outcome_rows) == 19  # first edition: （一）（二）, 8 + 3 + 5 sub-rows, single-row （六）
    not_blank = {row: r.cells[f"t3.{row}.total"].status for row in outcome_rows if r.cells[f"t3.{row}.total"].status != "blank"}
    assert not not_blank, not_blank
    for row in ("new_received", "carried_over", "total_processed", "carried_forward"):
        assert r.cells[f"t3.{row}.total"].status == "number"


def test_shuyang_fgj_legal_person_columns_blank():
    """The five 法人或其他组织 columns are blank in every Table 3 row; 自然人 never is."""
    r = extracted("shuyang_fgj_2023.transcribed.txt")
    cb = load_codebook()
    rows = [row for row in cb.t3_rows if r.cells.get(f"t3.{row}.natural_person") and r.cells[f"t3.{row}.natural_person"].status != "absent"]
    assert len(rows) == 25  # revised edition: 一, 二, （一）（二）, 8 + 3 + 5 + 3 sub-rows, （七）, 四
    bad = []
    for row in rows:
        for col in ("commercial", "research", "social_welfare", "legal_services", "other_org"):
            c = r.cells[f"t3.{row}.{col}"]
            if c.status != "blank" or c.value is not None:
                bad.append(f"t3.{row}.{col}: {c.status} {c.value!r}")
        if r.cells[f"t3.{row}.natural_person"].status != "number":
            bad.append(f"t3.{row}.natural_person: {r.cells[f't3.{row}.natural_person'].status}")
    assert not bad, bad


@pytest.mark.parametrize("name", ["huaian_2024", "jinhu_2023", "sh_office_2025"])
def test_fully_printed_transcriptions_have_no_blank(name):
    """These three print a value in every cell: nothing may come out blank or unread;
    only the single-row （六） keys, which the revised template does not print, are absent."""
    r = extracted(f"{name}.transcribed.txt")
    odd = {k: c.status for k, c in r.cells.items() if c.status != "number" and not k.startswith("t3.other.")}
    assert not odd, odd
    assert all(c.status == "absent" for k, c in r.cells.items() if k.startswith("t3.other."))
