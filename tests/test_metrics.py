"""The metric dictionary and its implementation, on hand-made reports with
hand-computed values, and on the real corpus against the hand-verified
expected cells of ``../shared/corpus/expected``."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from pathlib import Path
from scipy.stats import binomtest

from helpers.research import metrics as M
from helpers.research.export import rate_view

ROWS_2021 = [
    "new_received", "carried_over", "granted", "partially_granted",
    "withheld_state_secret", "withheld_prohibited_by_law", "withheld_three_securities", "withheld_third_party",
    "withheld_internal_affairs", "withheld_process_info", "withheld_enforcement_files", "withheld_query_matters",
    "unable_not_held", "unable_needs_creation", "unable_unclear",
    "not_processed_complaint", "not_processed_duplicate", "not_processed_publication", "not_processed_repetitive",
    "not_processed_confirmation", "other", "total_processed", "carried_forward",
]  # fmt: skip
APPLICANTS = ["natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org"]


def _t3(report: str, totals: dict[str, float], natural: dict[str, float] | None = None, blanks: dict[str, int] | None = None, recomputed=()) -> list[dict]:
    """Table 3 rows of one made-up report: the 总计 column from ``totals``
    (0 where not given), all of it natural persons unless ``natural`` says
    otherwise (the rest goes to commercial enterprises)."""
    out = []
    for row in ROWS_2021:
        tot = totals.get(row, 0.0)
        nat = (natural or {}).get(row, tot)
        rec = {"report": report, "row": row, **{c: 0.0 for c in APPLICANTS}, "total": tot}
        rec["natural_person"], rec["commercial"] = nat, tot - nat
        rec.update(n_blank_as_zero=(blanks or {}).get(row, 0), total_recomputed=row in recomputed, derived_row=False)
        out.append(rec)
    return out


def _t4(report: str, review=(0, 0, 0, 0), direct=(0, 0, 0, 0), after=(0, 0, 0, 0), totals=None) -> dict:
    rec = {"report": report}
    for g, parts in (("review", review), ("litigation_direct", direct), ("litigation_after_review", after)):
        for c, v in zip(("upheld", "corrected", "other", "pending"), parts):
            rec[f"{g}.{c}"] = float(v)
        rec[f"{g}.total"] = float(sum(parts)) if totals is None or g not in totals else float(totals[g])
    rec.update(n_blank_as_zero=0, totals_recomputed=0)
    return rec


@pytest.fixture
def corpus():
    """Two made-up reports.

    A: 一 90 + 二 10 = 100 to handle; handled 80 = granted 30 + partial 10 +
       withheld (third party 4 + process 6 = 10) + unable (not held 15 +
       needs creation 5 = 20) + not processed (duplicate 6) + other 4;
       carried forward 20.  Natural persons 60 of the 90 new requests.
       Review 3 upheld + 1 corrected + 0 other + 2 pending = 6; direct suits
       1 upheld + 1 corrected = 2; after review 1 pending.
    B: handled 0 (nothing received): every share over handled is missing.
    """
    a = {"new_received": 90, "carried_over": 10, "granted": 30, "partially_granted": 10, "withheld_third_party": 4,
         "withheld_process_info": 6, "unable_not_held": 15, "unable_needs_creation": 5, "not_processed_duplicate": 6,
         "other": 4, "total_processed": 80, "carried_forward": 20}  # fmt: skip
    t3 = pd.DataFrame(_t3("A", a, natural={"new_received": 60}, blanks={"granted": 2}) + _t3("B", {}))
    t4 = pd.DataFrame([_t4("A", review=(3, 1, 0, 2), direct=(1, 1, 0, 0), after=(0, 0, 0, 1)), _t4("B")])
    reports = pd.DataFrame({"report": ["A", "B"], "agency": ["甲局", "乙局"], "year": [2023, 2023], "edition": ["2021", "2021"]})
    issues = pd.DataFrame(columns=["report", "severity", "rule"])
    return {"t3": t3, "t4": t4, "reports": reports, "issues": issues}


def _one(res: pd.DataFrame, report: str, metric: str) -> pd.Series:
    row = res[(res["report"] == report) & (res["metric"] == metric)]
    assert len(row) == 1, (report, metric)
    return row.iloc[0]


def test_dictionary_is_complete_and_well_formed():
    d = M.dictionary()
    assert d["id"].is_unique
    assert set(d["kind"]) == {"count", "share", "per100"}
    for col in ("name_en", "name_zh", "unit", "definition"):
        assert (d[col] != "").all(), col
    # every refusal reason over each of its denominators
    for r in ("withheld_state_secret", "withheld_query_matters", "unable_not_held", "unable_unclear"):
        for den in ("handled", "substantive", "group"):
            assert f"reason_{r}_{den}" in set(d["id"])
    for r in ("not_processed_complaint", "not_processed_confirmation", "other_no_correction", "other_unpaid_fee", "other_other"):
        assert {f"reason_{r}_handled", f"reason_{r}_group"} <= set(d["id"])
        # 不予处理 / 其他处理 are excluded from the substantive denominator: no share of it
        assert f"reason_{r}_substantive" not in set(d["id"])


def test_expand_resolves_references():
    assert M.expand("@disclosed") == {"t3:granted": 1, "t3:partially_granted": 1}
    sub = M.expand("@substantive")
    assert sub["t3:total_processed"] == 1 and sub["t3:other"] == -1 and sub["t3:not_processed_duplicate"] == -1
    assert M.tables_read(M.metric("complaint_rate")) == {"t3", "t4"}
    with pytest.raises(ValueError, match="bad term"):
        M.parse("t3:granted+1")


def test_hand_computed_values(corpus):
    res = M.compute(**corpus)
    # volumes
    assert _one(res, "A", "handled")["estimate"] == 80
    assert _one(res, "A", "to_handle")["estimate"] == 100
    assert _one(res, "A", "withheld")["estimate"] == 10
    assert _one(res, "A", "unable")["estimate"] == 20
    # substantive = 80 − 6 (不予处理) − 4 (其他处理) = 70
    assert _one(res, "A", "substantive")["estimate"] == 70
    # disclosure rate = (30 + 10) / 80 = 0.5 and / 70
    d = _one(res, "A", "disclosure_rate")
    assert (d["numerator"], d["denominator"], d["estimate"]) == (40, 80, 0.5)
    lo, hi = binomtest(40, 80).proportion_ci(method="wilson")
    assert d["ci_low"] == pytest.approx(lo, abs=1e-12) and d["ci_high"] == pytest.approx(hi, abs=1e-12)
    assert _one(res, "A", "disclosure_rate_substantive")["estimate"] == pytest.approx(40 / 70)
    # reason shares over the three denominators: not held 15 / 80, / 70, / 20
    assert _one(res, "A", "reason_unable_not_held_handled")["estimate"] == pytest.approx(15 / 80)
    assert _one(res, "A", "reason_unable_not_held_substantive")["estimate"] == pytest.approx(15 / 70)
    assert _one(res, "A", "reason_unable_not_held_group")["estimate"] == pytest.approx(15 / 20)
    assert _one(res, "A", "reason_withheld_process_info_group")["estimate"] == pytest.approx(6 / 10)
    assert _one(res, "A", "reason_not_processed_duplicate_group")["estimate"] == 1.0
    # applicant mix: 60 of 90 new requests from natural persons
    assert _one(res, "A", "applicant_natural_person_received")["estimate"] == pytest.approx(60 / 90)
    assert _one(res, "A", "applicant_commercial_received")["estimate"] == pytest.approx(30 / 90)
    # complaints: review 6 + direct 2 + after review 1 = 9 per 80 handled → 11.25 per 100
    c = _one(res, "A", "complaint_rate")
    assert (c["numerator"], c["denominator"], c["estimate"]) == (9, 80, 11.25)
    # exact Poisson interval for 9 events: chi2 quantiles / 2 → [4.1154, 17.0848] events, per 80 × 100
    assert c["ci_low"] == pytest.approx(4.115373 / 80 * 100, rel=1e-5)
    assert c["ci_high"] == pytest.approx(17.084803 / 80 * 100, rel=1e-5)
    # review correction: 1 of 4 concluded (pending 2 apart); pending-inclusive 1 of 6
    r = _one(res, "A", "review_correction_rate")
    assert (r["numerator"], r["denominator"], r["estimate"]) == (1, 4, 0.25)
    assert _one(res, "A", "review_correction_rate_incl_pending")["estimate"] == pytest.approx(1 / 6)
    assert _one(res, "A", "review_pending_share")["estimate"] == pytest.approx(2 / 6)
    # all lawsuits: corrected 1 of concluded 2 (the after-review suit is pending)
    lit = _one(res, "A", "litigation_correction_rate")
    assert (lit["numerator"], lit["denominator"]) == (1, 2)
    assert _one(res, "A", "backlog_share")["estimate"] == pytest.approx(20 / 100)


def test_zero_denominator_is_missing_not_zero(corpus):
    res = M.compute(**corpus)
    d = _one(res, "B", "disclosure_rate")
    assert (d["numerator"], d["denominator"]) == (0, 0)
    assert math.isnan(d["estimate"]) and math.isnan(d["ci_low"]) and d["note"] == "denominator 0: rate missing"
    assert math.isnan(_one(res, "B", "review_correction_rate")["estimate"])
    view = rate_view(res[(res["report"] == "B") & (res["metric"] == "disclosure_rate")])
    assert view.loc[0, "estimate"] == "–" and view.loc[0, "n"] == "0"


def test_layer_and_flags(corpus):
    res = M.compute(**corpus)
    # A's 予以公开 row had two blanks read as 0: the disclosure rate is derived, the complaint count printed
    assert _one(res, "A", "disclosure_rate")["layer"] == "derived"
    assert _one(res, "A", "disclosure_rate")["n_derived_cells"] == 1
    assert _one(res, "A", "review_correction_rate")["layer"] == "printed"
    assert _one(res, "A", "handled")["layer"] == "printed"


def test_identity_errors_and_sensitivity(corpus):
    corpus["issues"] = pd.DataFrame({"report": ["A"], "severity": ["error"], "rule": ["t4.review_total"]})
    res = M.compute(**corpus)
    assert _one(res, "A", "review_correction_rate")["identity_errors"] == 1
    assert _one(res, "A", "disclosure_rate")["identity_errors"] == 0  # Table 3 only
    kept = M.compute(**corpus, exclude_failing=True)
    assert kept[(kept["report"] == "A") & (kept["metric"] == "review_correction_rate")].empty
    assert not kept[(kept["report"] == "A") & (kept["metric"] == "disclosure_rate")].empty


def test_printed_arithmetic_errors_never_give_a_rate(corpus):
    t3 = corpus["t3"]
    # handled printed 5 while the outcome rows sum to 80: shares over handled exceed 1
    t3.loc[(t3["report"] == "A") & (t3["row"] == "total_processed"), "total"] = 5.0
    res = M.compute(**corpus)
    g = _one(res, "A", "outcome_unable_handled")  # 20 / 5
    assert math.isnan(g["estimate"]) and "exceeds" in g["note"]
    s = _one(res, "A", "substantive")  # 5 − 6 − 4 < 0
    assert math.isnan(s["estimate"]) and "negative" in s["note"]


def test_a_positive_count_over_a_printed_zero_total_is_an_error_not_a_missing_rate(corpus):
    # 洪泽区 2023 style: review total printed 0 while a part says 1 corrected
    t4 = corpus["t4"]
    t4.loc[t4["report"] == "A", "review.total"] = 0.0
    res = M.compute(**corpus)
    r = _one(res, "A", "review_correction_rate_incl_pending")
    assert math.isnan(r["estimate"]) and "exceeds" in r["note"]
    p = M.pooled(res[res["metric"] == "review_correction_rate_incl_pending"])
    assert p.loc[0, "m_excluded"] == 1


def test_missing_term_makes_the_metric_missing(corpus):
    t3 = corpus["t3"]
    t3.loc[(t3["report"] == "A") & (t3["row"] == "granted"), "total"] = np.nan  # e.g. an ambiguous cell
    res = M.compute(**corpus)
    assert math.isnan(_one(res, "A", "disclosure_rate")["estimate"])
    assert _one(res, "A", "reason_unable_not_held_handled")["estimate"] == pytest.approx(15 / 80)


def test_pooled_sums_numerators_and_denominators(corpus):
    a = _t3("C", {"new_received": 20, "granted": 5, "unable_not_held": 15, "total_processed": 20})
    corpus["t3"] = pd.concat([corpus["t3"], pd.DataFrame(a)], ignore_index=True)
    corpus["t4"] = pd.concat([corpus["t4"], pd.DataFrame([_t4("C")])], ignore_index=True)
    corpus["reports"] = pd.concat([corpus["reports"], pd.DataFrame({"report": ["C"], "agency": ["丙局"], "year": [2024], "edition": ["2021"]})], ignore_index=True)
    res = M.compute(["disclosure_rate", "complaint_rate", "received"], **corpus)
    p = M.pooled(res).set_index("metric")
    # A 40/80, B 0/0 (adds nothing), C 5/20 → 45/100
    assert (p.loc["disclosure_rate", "numerator"], p.loc["disclosure_rate", "denominator"]) == (45, 100)
    assert p.loc["disclosure_rate", "estimate"] == pytest.approx(0.45)
    lo, hi = binomtest(45, 100).proportion_ci(method="wilson")
    assert p.loc["disclosure_rate", "ci_low"] == pytest.approx(lo) and p.loc["disclosure_rate", "ci_high"] == pytest.approx(hi)
    # mean of per-report rates: (0.5 + 0.25) / 2; B has no rate
    assert p.loc["disclosure_rate", "mean_of_rates"] == pytest.approx(0.375)
    assert p.loc["complaint_rate", "estimate"] == pytest.approx(100 * 9 / 100)
    assert p.loc["received", "numerator"] == 110
    by_year = M.pooled(res[res["metric"] == "disclosure_rate"], by="year").set_index("year")
    assert by_year.loc[2024, "estimate"] == pytest.approx(0.25)


# ------------------------------------------------------------ real corpus


EXPECTED_OF = {  # data/raw transcription → expected file of the same report
    "pingtan_2019.transcribed.txt": "pingtan_2019.json",
    "pingtan_2021.transcribed.txt": "pingtan_2021.json",
    "pingtan_2024.transcribed.txt": "pingtan_2024.json",
    "hongze_2024.transcribed.txt": "hongze_2024.json",
    "sh_kewei_2024.transcribed.txt": "sh_kewei_2024.json",
    "shuyang_2025.transcribed.txt": "shuyang_2025.json",
    "yindu_office_2024.txt": "yindu_office_2024.json",
}


@pytest.fixture(scope="module")
def real_metrics(tmp_path_factory):
    from helpers.build import build

    out = tmp_path_factory.mktemp("processed")
    build(Path(__file__).resolve().parents[1] / "data" / "raw", out, progress=False)
    return M.compute(processed=out), out


def _value(cells: dict, expr: str) -> float:
    """A metric term evaluated on expected cells (total column; None → 0 as the
    derived layer reads a blank applicant cell in a filled table)."""
    total = 0.0
    for term, c in M.expand(expr).items():
        table, rest = term.split(":")
        if table == "t3":
            row, _, col = rest.partition("@")
            if row == "other" and cells.get(f"t3.other.{col or 'total'}") is None:
                v = sum(cells.get(f"t3.{r}.{col or 'total'}") or 0 for r in ("other_no_correction", "other_unpaid_fee", "other_other"))
            else:
                v = cells.get(f"t3.{row}.{col or 'total'}") or 0
        else:
            v = cells.get(f"t4.{rest}") or 0
        total += c * v
    return total


@pytest.mark.parametrize("report", sorted(EXPECTED_OF))
def test_metrics_agree_with_hand_verified_cells(report, real_metrics, shared_dir):
    res, _ = real_metrics
    cells = json.loads((shared_dir / "corpus" / "expected" / EXPECTED_OF[report]).read_text(encoding="utf-8"))["cells"]
    sample = ["handled", "received", "substantive", "disclosure_rate", "reason_unable_not_held_group", "outcome_withheld_handled", "complaint_rate", "review_correction_rate", "applicant_natural_person_received"]
    for mid in sample:
        m = M.metric(mid)
        row = _one(res, report, mid)
        assert row["numerator"] == _value(cells, m.numerator), (report, mid)
        if m.denominator:
            assert row["denominator"] == _value(cells, m.denominator), (report, mid)


def test_real_corpus_known_facts(real_metrics):
    res, _ = real_metrics
    # 洪泽区 2023 prints a Table 4 review total of 0 against parts 10 + 1 + 0 + 0: the correction
    # rate is over the 11 concluded cases and carries the identity errors
    r = _one(res, "hongze_2023.transcribed.txt", "review_correction_rate")
    assert (r["numerator"], r["denominator"], r["identity_errors"]) == (1, 11, 2)
    # 上海市政府办公厅 2019 left its 总计 column blank: its rates are derived, not printed
    assert _one(res, "shanghai_office_2019.transcribed.txt", "disclosure_rate")["layer"] == "derived"
    # 平潭 2019 had no review case: its correction rate is missing, not 0
    assert math.isnan(_one(res, "pingtan_2019.transcribed.txt", "review_correction_rate")["estimate"])


def _independent(expr: str, rows: dict[str, float], t4: dict[str, float], dic: dict[str, dict]) -> float:
    """Evaluate a dictionary expression directly from its text (a second,
    independent reading of metrics.csv): split on + and -, look up rows."""
    total, sign, term = 0.0, 1, ""
    for ch in expr + "+":
        if ch in "+-":
            if term:
                if term.startswith("@"):
                    v = _independent(dic[term[1:]]["numerator"], rows, t4, dic)
                elif term.startswith("t3:"):
                    row, _, col = term[3:].partition("@")
                    v = rows[row] if not col else (rows[row] * 0.75 if col == "natural_person" else rows[row] * 0.25 if col == "commercial" else 0.0)
                else:
                    v = t4[term[3:]]
                total += sign * v
            sign, term = (1 if ch == "+" else -1), ""
        else:
            term += ch
    return total


def test_every_metric_of_the_dictionary_against_its_definition():
    """All metrics, each computed by ``compute`` and by reading its definition
    independently, on one made-up report whose Table 3 rows are 4, 8, 12, …
    (each split 3:1 between natural persons and commercial enterprises)."""
    totals = {row: 4.0 * (i + 1) for i, row in enumerate(ROWS_2021)}
    totals["total_processed"] = 2000.0  # large enough for every share of handled and a positive substantive
    totals["new_received"] = 2000.0
    t3 = pd.DataFrame(_t3("X", totals, natural={r: 0.75 * v for r, v in totals.items()}))
    t4rec = _t4("X", review=(5, 3, 2, 1), direct=(2, 1, 1, 0), after=(1, 1, 0, 2))
    t4 = pd.DataFrame([t4rec])
    reports = pd.DataFrame({"report": ["X"], "agency": ["某局"], "year": [2024], "edition": ["2021"]})
    res = M.compute(t3=t3, t4=t4, reports=reports, issues=pd.DataFrame(columns=["report", "severity", "rule"])).set_index("metric")
    dic = M.dictionary().set_index("id").to_dict("index")
    t4v = {k: v for k, v in t4rec.items() if "." in k}
    assert len(res) == len(dic)
    for mid, d in dic.items():
        row = res.loc[mid]
        try:
            num = _independent(d["numerator"], totals, t4v, dic)
            den = _independent(d["denominator"], totals, t4v, dic) if d["denominator"] else None
        except KeyError:  # the three （六） sub-rows are not printed in this report: missing, not 0
            assert math.isnan(row["estimate"]), mid
            continue
        assert row["numerator"] == pytest.approx(num), mid
        if d["kind"] == "count":
            assert row["estimate"] == pytest.approx(num), mid
            continue
        assert row["denominator"] == pytest.approx(den), mid
        scale = 100.0 if d["kind"] == "per100" else 1.0
        assert row["estimate"] == pytest.approx(scale * num / den), mid
        assert row["ci_low"] <= row["estimate"] <= row["ci_high"], mid
