"""The known facts of the reference corpus (corpus/README.md, "Known facts worth a
test") as they must appear in the processed data built from data/raw, and the
平潭 2019–2025 chain on the HTML originals."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest

from helpers.build import build
from helpers.codebook import load as load_codebook
from helpers.extract import extract_path
from helpers.validate import check_chain

REPO_ROOT = Path(__file__).resolve().parent.parent
RAW = REPO_ROOT / "data" / "raw"
T3_COLS = load_codebook().t3_cols


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("known_facts") / "processed"
    build(RAW, out, progress=False)
    return out


@pytest.fixture(scope="module")
def issues(processed) -> list[dict[str, str]]:
    return _read_csv(processed / "issues.csv")


@pytest.fixture(scope="module")
def cells(processed) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["report"], r["key"]): r for r in _read_csv(processed / "cells.csv")}


def _num(s: str) -> float | None:
    return None if s == "" else float(s)


def _find(issues, report: str, rule: str, first_cell: str | None = None) -> list[dict[str, str]]:
    return [
        i
        for i in issues
        if i["report"] == report and i["rule"] == rule and (first_cell is None or i["cells"].split(";")[0] == first_cell)
    ]


def _one(issues, report, rule, first_cell=None) -> dict[str, str]:
    found = _find(issues, report, rule, first_cell)
    mine = [(i["rule"], i["cells"].split(";")[0], i["expected"], i["actual"]) for i in issues if i["report"] == report]
    assert len(found) == 1, f"{report}: want one {rule} on {first_cell}, found {len(found)}; issues of the report: {mine}"
    return found[0]


# ---------------------------------------------------------------------------
# 洪泽区 2023: Table 4 totals contradict their parts


def test_hongze_2023_table4_totals(issues):
    rep = "hongze_2023.transcribed.txt"
    review = _one(issues, rep, "t4.review_total", "t4.review.total")
    assert (review["severity"], _num(review["expected"]), _num(review["actual"])) == ("error", 11, 0)
    after = _one(issues, rep, "t4.litigation_after_review_total", "t4.litigation_after_review.total")
    assert (after["severity"], _num(after["expected"]), _num(after["actual"])) == ("error", 5, 0)
    assert not _find(issues, rep, "t4.litigation_direct_total")
    # the parts are those printed in the report
    parts = review["cells"].split(";")[1:]
    assert set(parts) == {"t4.review.upheld", "t4.review.corrected", "t4.review.other", "t4.review.pending"}


def test_hongze_2023_matches_expected_file(shared_dir, cells):
    """The same contradiction seen from the hand-verified values of the original PDF."""
    exp = json.loads((shared_dir / "corpus" / "expected" / "hongze_2023.json").read_text(encoding="utf-8"))["cells"]
    rep = "hongze_2023.transcribed.txt"
    for group, want_parts in (("review", 11), ("litigation_after_review", 5)):
        parts = sum(exp[f"t4.{group}.{c}"] or 0 for c in ("upheld", "corrected", "other", "pending"))
        assert (parts, exp[f"t4.{group}.total"]) == (want_parts, 0)
        assert _num(cells[(rep, f"t4.{group}.total")]["value"]) == 0


# ---------------------------------------------------------------------------
# 平潭 2020: 办理结果 totals below the sum of their rows; the balance holds


def test_pingtan_2020_outcome_totals(issues):
    rep = "pingtan_2020.transcribed.txt"
    person = _one(issues, rep, "t3.outcome_total", "t3.total_processed.natural_person")
    assert (person["severity"], _num(person["expected"]), _num(person["actual"])) == ("error", 26, 20)
    total = _one(issues, rep, "t3.outcome_total", "t3.total_processed.total")
    assert (total["severity"], _num(total["expected"]), _num(total["actual"])) == ("error", 27, 21)
    assert len(_find(issues, rep, "t3.outcome_total")) == 2
    assert not _find(issues, rep, "t3.balance")


# ---------------------------------------------------------------------------
# 上海市科委 2024: 四、结转下年度继续办理 总计 printed blank (its parts say 1)


def test_sh_kewei_2024_blank_carried_forward_total(issues, cells):
    rep = "sh_kewei_2024.transcribed.txt"
    i = _one(issues, rep, "t3.blank_total", "t3.carried_forward.total")
    assert i["severity"] == "warning"
    assert _num(i["expected"]) == 1 and i["actual"] == ""
    c = cells[(rep, "t3.carried_forward.total")]
    assert (c["status"], c["value"]) == ("blank", "")
    # read as missing, not as 0: no arithmetic error involves it
    assert not [x for x in issues if x["report"] == rep and x["severity"] == "error"]


# ---------------------------------------------------------------------------
# 金湖县 2023: 未经复议直接起诉 total 0 against 2+0+1+0


def test_jinhu_2023_direct_litigation_total(issues):
    rep = "jinhu_2023.transcribed.txt"
    i = _one(issues, rep, "t4.litigation_direct_total", "t4.litigation_direct.total")
    assert (i["severity"], _num(i["expected"]), _num(i["actual"])) == ("error", 3, 0)


# ---------------------------------------------------------------------------
# 上海市政府办公厅 2019: 总计 blank in every 办理结果 row

# row → sum of its printed parts, added up by hand from the transcription
SHANGHAI_2019_BLANK_TOTALS = {
    "granted": 272,  # 258 + 12 + 1 + 1
    "partially_granted": 3,
    "withheld_state_secret": 14,
    "withheld_internal_affairs": 5,
    "withheld_process_info": 4,  # 3 + 1
    "withheld_query_matters": 12,  # 10 + 2
    "unable_not_held": 265,  # 252 + 12 + 1
    "unable_needs_creation": 47,  # 44 + 3
    "unable_unclear": 25,
    "not_processed_complaint": 149,  # 148 + 1
    "not_processed_duplicate": 9,  # 5 + 4
}


def test_shanghai_office_2019_blank_totals(issues, cells):
    rep = "shanghai_office_2019.transcribed.txt"
    found = {i["cells"].split(";")[0]: i for i in _find(issues, rep, "t3.blank_total")}
    want = {f"t3.{row}.total": total for row, total in SHANGHAI_2019_BLANK_TOTALS.items()}
    assert set(found) == set(want), f"blank_total on {sorted(found)}"
    for key, total in want.items():
        assert found[key]["severity"] == "warning"
        assert (_num(found[key]["expected"]), found[key]["actual"]) == (total, ""), key
        assert (cells[(rep, key)]["status"], cells[(rep, key)]["value"]) == ("blank", "")
    # blank totals are missing, not 0: no arithmetic error in the report
    assert not [i for i in issues if i["report"] == rep and i["severity"] == "error"]


# ---------------------------------------------------------------------------
# 平潭 2019–2025: carried over (Y) = carried forward (Y−1) in every column


def test_pingtan_chain_in_processed_data(issues, cells, processed):
    reps = {int(r["year"]): r["report"] for r in _read_csv(processed / "reports.csv") if r["report"].startswith("pingtan_")}
    assert sorted(reps) == list(range(2019, 2026))
    assert not [i for i in issues if i["report"] in reps.values() and i["rule"] == "chain.carried_over"]
    # the fact itself, on the cells layer (so the absence above is not vacuous)
    for y in range(2020, 2026):
        for col in T3_COLS:
            fwd = cells[(reps[y - 1], f"t3.carried_forward.{col}")]
            over = cells[(reps[y], f"t3.carried_over.{col}")]
            assert fwd["status"] == over["status"] == "number", (y, col)
            assert fwd["value"] == over["value"], (y, col, fwd["value"], over["value"])


def test_pingtan_chain_on_html_originals(shared_dir):
    results = [extract_path(str(shared_dir / "corpus" / "originals" / f"pingtan_{y}.html")) for y in range(2019, 2026)]
    assert [r.year for r in results] == list(range(2019, 2026))

    def same_agency(r):  # one agency in all seven files, whatever name the page header yields
        return "平潭综合实验区"

    chain = [i for i in check_chain(results, key=same_agency) if i.rule == "chain.carried_over"]
    assert not chain, [i.message for i in chain]
    # the check does compare these reports: one changed cell is reported
    cur = results[3]
    broken = dict(cur.cells)
    c = broken["t3.carried_over.total"]
    broken["t3.carried_over.total"] = dataclasses.replace(c, value=c.value + 1, printed=str(c.value + 1))
    changed = dataclasses.replace(cur, cells=broken)
    chain = [i for i in check_chain(results[:3] + [changed] + results[4:], key=same_agency) if i.rule == "chain.carried_over"]
    assert len(chain) == 1 and chain[0].cells == ["t3.carried_forward.total", "t3.carried_over.total"]
