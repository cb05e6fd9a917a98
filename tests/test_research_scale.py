"""The research layer gives the same numbers on a corpus replicated many times.

The processed tables of the 17 canonical reports (built from data/raw into a
temporary folder) are copied ``COPIES`` times under synthetic names (report
``synthetic-…``, agency ``<agency>#copy<j>``): a synthetic corpus of a few
thousand reports, kept in tmp_path only, for correctness, not for timing.
Pooled rates must not move; counts scale by ``COPIES``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.research import metrics as M
from helpers.research import plots
from helpers.research.export import LISTING_ROWS, PER_UNIT_LIMIT, listing, names
from helpers.research.notebook import Study

COPIES = 200
TABLES = ("reports", "cells", "issues", "t2", "t3", "t4")


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    from helpers.build import build

    small = tmp_path_factory.mktemp("processed")
    build(Path(__file__).resolve().parents[1] / "data" / "raw", small, progress=False)
    rep = pd.read_parquet(small / "reports.parquet")
    canon = rep[rep["canonical"].astype(bool)] if "canonical" in rep.columns else rep
    ids = canon["report"].tolist()
    # copy j of report i: synthetic-j-i, agency "<agency>#copy<j>" (an agency's years stay together)
    names = pd.DataFrame(
        [(r, f"synthetic-{j:04d}-{i:02d}.txt", j) for j in range(COPIES) for i, r in enumerate(ids)],
        columns=["orig", "new", "copy"],
    )
    big = tmp_path_factory.mktemp("replicated")
    for table in TABLES:
        df = pd.read_parquet(small / f"{table}.parquet")
        df = df[df["report"].isin(ids)]
        out = names.merge(df, left_on="orig", right_on="report").drop(columns=["orig", "report"]).rename(columns={"new": "report"})
        if "agency" in out.columns:
            out["agency"] = out["agency"] + "#copy" + out["copy"].astype(str)
        out.drop(columns="copy")[df.columns].to_parquet(big / f"{table}.parquet", index=False)
    return small, big, len(ids)


def test_replicated_corpus_has_copies_times_the_reports(corpora):
    small, big, n = corpora
    assert len(Study("99", processed=big).reports) == COPIES * n == COPIES * len(Study("99", processed=small).reports)


def test_pooled_rates_equal_and_counts_scaled(corpora):
    small, big, _ = corpora
    a = M.pooled(Study("99", processed=small).metrics())
    b = M.pooled(Study("99", processed=big).metrics())
    assert len(a) == len(b) == len(M.dictionary())
    assert a["metric"].tolist() == b["metric"].tolist()
    np.testing.assert_allclose(b["numerator"], COPIES * a["numerator"], rtol=1e-12)
    np.testing.assert_allclose(b["denominator"], COPIES * a["denominator"], rtol=1e-12)
    np.testing.assert_allclose(b["estimate"], a["estimate"], rtol=1e-12)
    np.testing.assert_allclose(b["mean_of_rates"], a["mean_of_rates"], rtol=1e-9)
    assert (b["m_reports"] == COPIES * a["m_reports"]).all()
    assert (b["m_excluded"] == COPIES * a["m_excluded"]).all()
    # a real rate, not NaN everywhere: the disclosure rate has k and n > 0
    d = b.set_index("metric").loc["disclosure_rate"]
    assert d["numerator"] > 0 and d["denominator"] > d["numerator"] and 0 < d["ci_low"] < d["estimate"] < d["ci_high"] < 1
    # more reports, narrower interval around the same rate
    s = a.set_index("metric").loc["disclosure_rate"]
    assert d["ci_high"] - d["ci_low"] < s["ci_high"] - s["ci_low"]


def test_per_report_values_are_the_originals(corpora):
    small, big, n = corpora
    a = Study("99", processed=small).metrics()
    b = Study("99", processed=big).metrics()
    assert len(b) == COPIES * len(a)
    # the copy of each report (its synthetic id ends in its index) carries the original's values
    order = sorted(Study("99", processed=small).reports["report"])
    copy = b[b["report"].str.startswith("synthetic-0007-")].copy()
    copy["report"] = [order[int(r[-6:-4])] for r in copy["report"]]
    cols = ["metric", "numerator", "denominator", "estimate", "layer", "n_derived_cells", "identity_errors", "note"]
    pd.testing.assert_frame_equal(
        copy.sort_values(["metric", "report"])[["report", *cols]].reset_index(drop=True),
        a.sort_values(["metric", "report"])[["report", *cols]].reset_index(drop=True),
    )


def test_cell_status_counts_scale(corpora):
    small, big, _ = corpora
    where = {"table": ["t3", "t4"]}
    a = Study("99", processed=small).counts("cells", ["report", "status"], where=where).unstack(fill_value=0)
    b = Study("99", processed=big).counts("cells", ["report", "status"], where=where).unstack(fill_value=0)
    assert list(a.columns) == list(b.columns) and "number" in a.columns
    assert (b.sum() == COPIES * a.sum()).all()
    # against a plain pandas count of the same rows
    cells = pd.read_parquet(small / "cells.parquet", columns=["report", "table", "status"])
    cells = cells[cells["table"].isin(["t3", "t4"]) & cells["report"].isin(a.index)]
    pd.testing.assert_frame_equal(a, cells.groupby(["report", "status"]).size().unstack(fill_value=0), check_names=False)


def test_cross_year_tables_scale(corpora):
    small, big, _ = corpora
    for fn, table in ((M.stock_flow, "t2"), (M.carry_over_pairs, "t3")):
        a = fn(Study("99", processed=small).load(table))
        b = fn(Study("99", processed=big).load(table))
        assert len(a) > 0 and len(b) == COPIES * len(a)
        num = a.select_dtypes("number").columns
        np.testing.assert_allclose(b[num].sum().to_numpy(), COPIES * a[num].sum().to_numpy())


def test_stock_flow_matches_a_direct_reading():
    t2 = pd.DataFrame({
        "agency": ["A", "A", "A", "B"], "year": [2021, 2022, 2024, 2022],
        "regulations.issued": [1.0, 2, 0, 5], "regulations.repealed": [0.0, 1, 0, 0], "regulations.in_force": [10.0, 12, 11, 3],
        "normative_documents.issued": [3.0, 4, 1, 0], "normative_documents.repealed": [1.0, 0, 0, 0], "normative_documents.in_force": [20.0, 23, 1, 0],
    })  # fmt: skip
    f = M.stock_flow(t2)
    # only A 2022 has its previous year: 10 + 2 - 1 = 11 (printed 12), 20 + 4 - 0 = 24 (printed 23)
    assert f[["agency", "year", "item"]].values.tolist() == [["A", 2022, "regulations"], ["A", 2022, "normative_documents"]]
    assert f["implied"].tolist() == [11.0, 24.0] and f["difference"].tolist() == [1.0, -1.0]


def test_views_adapt_to_corpus_size(capsys):
    plots.setup("en")
    small = pd.DataFrame({"number": [8, 6], "blank": [2, 4]}, index=["a 2023", "b 2024"])
    fig, ax, note = plots.report_shares(small, pd.Series([2023, 2024]), report_label="Report", group_label="Year", ylabel="Share (%)")
    assert note is None and [t.get_text() for t in ax.get_xticklabels()] == ["a 2023", "b 2024"]
    n = PER_UNIT_LIMIT + 1
    large = pd.DataFrame({"number": np.arange(n) + 1, "blank": np.ones(n, int)}, index=[f"r{i}" for i in range(n)])
    years = pd.Series(np.where(np.arange(n) < 10, 2023, 2024))
    fig, ax, note = plots.report_shares(large, years, report_label="Report", group_label="Year", ylabel="Share (%)")
    assert note is not None and str(n) in note
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2023", "2024"]
    # the 2023 bar: number 1..10 = 55 against blank 10
    heights = [p.get_height() for p in ax.patches]
    assert heights[0] == pytest.approx(55 / 65)
    assert listing(large) is not large and len(listing(large)) == LISTING_ROWS
    assert f"{n} rows" in capsys.readouterr().out
    assert listing(small) is small


def test_names_are_cut_above_the_limit():
    few = [f"机构{i}" for i in range(PER_UNIT_LIMIT)]
    assert names(few) == ", ".join(few)
    many = [f"机构{i}" for i in range(PER_UNIT_LIMIT + 5)]
    assert names(many) == ", ".join(many[:LISTING_ROWS]) + f", … and {PER_UNIT_LIMIT + 5 - LISTING_ROWS} more"
    assert names([]) == ""
