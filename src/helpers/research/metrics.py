"""The metric dictionary and its one implementation.

Every metric is one row of ``helpers/data/metrics.csv``: an id, a group, a
kind, a numerator and a denominator written as sums of *terms*, English and
Chinese names, a unit and a definition.  Terms are

``t3:ROW``            a Table 3 row, 总计 column (derived layer, :mod:`helpers.derive`)
``t3:ROW@COLUMN``     a Table 3 row, one applicant column
``t4:GROUP.COLUMN``   a Table 4 value
``@METRIC``           another metric's numerator (a count metric)

joined by ``+`` and ``-``.  Kinds:

``count``   the numerator itself (no denominator, no interval)
``share``   numerator / denominator with a 95 % Wilson interval; the
            numerator is a subset of the denominator by construction
``per100``  100 × numerator / denominator with an exact Poisson interval
            (the numerator is not a subset of the denominator)

Rules applied everywhere, once:

* a rate whose denominator is 0 is **missing** (NaN), never 0; its
  numerator and denominator are still shown;
* a term that is missing (table not filled, N/A marker, ambiguous cell) makes
  the metric missing for that report;
* a share whose numerator exceeds its denominator, or any negative value (a
  printed arithmetic error makes ``substantive`` negative, say) is missing and
  carries a ``note``;
* every value says which layer it read: ``printed`` when every cell it used
  was printed as a number, ``derived`` when at least one blank was read as 0
  or a blank total was recomputed (``n_derived_cells`` counts the rows
  concerned);
* every value carries ``identity_errors``: the template identities that fail
  in the tables it reads (``issues`` of severity error, rules ``t3.*`` /
  ``t4.*``); ``compute(..., exclude_failing=True)`` leaves those reports out,
  so every headline number can be given with and without them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from . import stats
from .load import load, member

T3_VALUE_COLUMNS = ["natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total"]
T4_GROUPS = ["review", "litigation_direct", "litigation_after_review"]
T4_COLUMNS = ["upheld", "corrected", "other", "pending", "total"]
KINDS = ("count", "share", "per100")
RESULT_COLUMNS = [
    "report",
    "agency",
    "year",
    "edition",
    "metric",
    "kind",
    "numerator",
    "denominator",
    "estimate",
    "ci_low",
    "ci_high",
    "unit",
    "layer",
    "n_derived_cells",
    "identity_errors",
    "note",
]

_TERM = re.compile(r"^(t3:[a-z_]+(?:@[a-z_]+)?|t4:[a-z_]+\.[a-z_]+|@[a-z0-9_]+)$")


@dataclass(frozen=True)
class Metric:
    id: str
    group: str
    kind: str
    numerator: str
    denominator: str
    name_en: str
    name_zh: str
    unit: str
    definition: str


@functools.cache
def dictionary() -> pd.DataFrame:
    """The metric dictionary as a table (one row per metric, in the file's order)."""
    with resources.files("helpers").joinpath("data/metrics.csv").open(encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    _check(df)
    return df


def metric(metric_id: str) -> Metric:
    d = dictionary()
    row = d[d["id"] == metric_id]
    if row.empty:
        raise KeyError(f"unknown metric {metric_id!r}; see helpers/data/metrics.csv")
    return Metric(**row.iloc[0].to_dict())


def parse(expr: str) -> list[tuple[int, str]]:
    """``"t3:a+t3:b-@c"`` → ``[(1, "t3:a"), (1, "t3:b"), (-1, "@c")]``."""
    out: list[tuple[int, str]] = []
    for sign, term in re.findall(r"([+-]?)\s*([^+\-\s]+)", expr.strip()):
        if not _TERM.match(term):
            raise ValueError(f"bad term {term!r} in metric expression {expr!r}")
        out.append((-1 if sign == "-" else 1, term))
    if not out:
        raise ValueError(f"empty metric expression {expr!r}")
    return out


def _check(df: pd.DataFrame) -> None:
    ids = set(df["id"])
    if len(ids) != len(df):
        dup = df["id"][df["id"].duplicated()].tolist()
        raise ValueError(f"metrics.csv: duplicate ids {dup}")
    for row in df.itertuples(index=False):
        if row.kind not in KINDS:
            raise ValueError(f"metrics.csv: {row.id}: kind {row.kind!r} is not one of {KINDS}")
        if (row.kind == "count") != (row.denominator == ""):
            raise ValueError(f"metrics.csv: {row.id}: a count has no denominator, a rate needs one")
        for expr in (row.numerator, row.denominator):
            for _, term in parse(expr) if expr else []:
                if term.startswith("@") and term[1:] not in ids:
                    raise ValueError(f"metrics.csv: {row.id}: refers to unknown metric {term}")


def expand(expr: str) -> dict[str, int]:
    """The base terms of an expression with their net coefficients, ``@`` references resolved."""
    return dict(_expand(expr))


@functools.cache
def _expand(expr: str) -> tuple[tuple[str, int], ...]:
    d = dictionary().set_index("id")
    coef: dict[str, int] = {}

    def walk(e: str, sign: int, depth: int) -> None:
        if depth > 20:
            raise ValueError(f"metric references nest too deep in {expr!r}")
        for s, term in parse(e):
            if term.startswith("@"):
                walk(d.loc[term[1:], "numerator"], sign * s, depth + 1)
            else:
                coef[term] = coef.get(term, 0) + sign * s

    walk(expr, 1, 0)
    return tuple((t, c) for t, c in coef.items() if c != 0)


def tables_read(m: Metric) -> set[str]:
    terms = set(expand(m.numerator)) | (set(expand(m.denominator)) if m.denominator else set())
    return {t.split(":")[0] for t in terms}


# ---------------------------------------------------------------- base values


def base_values(t3: pd.DataFrame, t4: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per report: the value of every base term (columns ``t3:row``,
    ``t3:row@col``, ``t4:group.col``) and, in a frame of the same shape, the
    number of derived (blank-read-as-0 or recomputed) rows behind it."""
    frames, flags = [], []
    if len(t3):
        t3 = t3.copy()
        t3["_derived"] = (t3["n_blank_as_zero"].astype(int) > 0).astype(int) + t3["total_recomputed"].astype(bool).astype(int)
        # the derived （六） row (sum of three sub-rows) inherits its sub-rows' flags
        subs = t3[t3["row"].str.startswith("other_")].groupby("report")["_derived"].sum()
        is_sum = t3["derived_row"].astype(bool) & (t3["row"] == "other")
        t3.loc[is_sum, "_derived"] = t3.loc[is_sum, "report"].map(subs).fillna(0).astype(int)
        wide = t3.pivot(index="report", columns="row", values=T3_VALUE_COLUMNS)
        names = [f"t3:{row}" if col == "total" else f"t3:{row}@{col}" for col, row in wide.columns]
        vals = pd.DataFrame(wide.to_numpy(dtype=float), index=wide.index, columns=names)
        fl = t3.pivot(index="report", columns="row", values="_derived").reindex(wide.index)
        flag = pd.DataFrame({name: fl[row] for name, (_, row) in zip(names, wide.columns)}, index=wide.index)
        frames.append(vals)
        flags.append(flag)
    if len(t4):
        t4i = t4.set_index("report")
        derived = (t4i["n_blank_as_zero"].astype(int) > 0).astype(int) + (t4i["totals_recomputed"].astype(int) > 0).astype(int)
        vals = pd.DataFrame({f"t4:{g}.{c}": t4i[f"{g}.{c}"] for g in T4_GROUPS for c in T4_COLUMNS}, index=t4i.index)
        frames.append(vals)
        flags.append(pd.DataFrame({c: derived for c in vals.columns}, index=t4i.index))
    if not frames:
        return pd.DataFrame(), pd.DataFrame()
    values = pd.concat(frames, axis=1).sort_index()
    flag = pd.concat(flags, axis=1).reindex(values.index)
    return values.astype(float), flag.fillna(0).astype(int)


def _evaluate(terms: dict[str, int], values: pd.DataFrame, flags: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    n = len(values)
    total = np.zeros(n)
    derived = np.zeros(n, dtype=int)
    for term, c in terms.items():
        if term in values.columns:
            total = total + c * values[term].to_numpy(dtype=float)
            derived = derived + flags[term].to_numpy(dtype=int)
        else:  # the term's row or table is absent from every report
            total = total + np.nan
    return total, derived


def _identity_errors(issues: pd.DataFrame | None) -> pd.DataFrame:
    if issues is None or issues.empty:
        return pd.DataFrame(columns=["t3", "t4"])
    err = issues[issues["severity"] == "error"].copy()
    err["table"] = err["rule"].str.extract(r"^(t3|t4)\.", expand=False)
    err = err.dropna(subset=["table"])
    return err.groupby(["report", "table"]).size().unstack(fill_value=0).reindex(columns=["t3", "t4"], fill_value=0)


def compute(
    metrics: list[str] | None = None,
    *,
    t3: pd.DataFrame | None = None,
    t4: pd.DataFrame | None = None,
    reports: pd.DataFrame | None = None,
    issues: pd.DataFrame | None = None,
    exclude_failing: bool = False,
    level: float = 0.95,
    processed=None,
) -> pd.DataFrame:
    """Every metric asked for (all when None), one row per report × metric.

    Tables not passed are loaded from ``data/processed`` (canonical records
    only).  ``reports`` restricts the computation to its ``report`` ids (the
    notebook's corpus filter) and supplies agency, year and edition.
    """
    reports = load("reports", ["report", "agency", "year", "edition"], processed=processed) if reports is None else reports
    t3 = load("t3", processed=processed) if t3 is None else t3
    t4 = load("t4", processed=processed) if t4 is None else t4
    issues = load("issues", ["report", "severity", "rule"], processed=processed) if issues is None else issues
    ids = set(reports["report"])
    values, flags = base_values(t3[member(t3["report"], ids)], t4[member(t4["report"], ids)])
    values = values.reindex(sorted(ids))
    flags = flags.reindex(values.index).fillna(0).astype(int)
    errs = _identity_errors(issues).reindex(values.index).fillna(0).astype(int)
    meta = reports.set_index("report").reindex(values.index)
    d = dictionary()
    chosen = d if metrics is None else d.set_index("id").loc[list(metrics)].reset_index()
    n, m_count = len(values), len(chosen)
    shape = (m_count, n)
    num, den, est, lo, hi = (np.full(shape, np.nan) for _ in range(5))
    derived = np.zeros(shape, dtype=np.int64)
    ierr = np.zeros(shape, dtype=np.int64)
    notes = np.full(shape, "", dtype=object)
    for i, m in enumerate(chosen.itertuples(index=False)):  # one pass per metric, vectorised over reports
        num[i], num_der = _evaluate(expand(m.numerator), values, flags)
        den_der = 0
        if m.denominator:
            den[i], den_der = _evaluate(expand(m.denominator), values, flags)
        est[i], lo[i], hi[i], notes[i] = _rate(m.kind, num[i], den[i], level)
        derived[i] = num_der + den_der
        tables = sorted(tables_read(Metric(**m._asdict())))
        if tables:
            ierr[i] = errs[tables].sum(axis=1).to_numpy()
    # the long table (metric-major, reports sorted within a metric); text columns
    # are taken from short arrays by position instead of being built row by row
    per_report = np.tile(np.arange(n), m_count)
    per_metric = np.repeat(np.arange(m_count), n)
    note_codes, note_values = pd.factorize(notes.ravel())
    res = pd.DataFrame(
        {
            "report": _take(values.index, per_report),
            "agency": _take(meta["agency"], per_report),
            "year": _take(meta["year"], per_report),
            "edition": _take(meta["edition"].astype(str), per_report),
            "metric": _take(chosen["id"], per_metric),
            "kind": _take(chosen["kind"], per_metric),
            "numerator": num.ravel(),
            "denominator": den.ravel(),
            "estimate": est.ravel(),
            "ci_low": lo.ravel(),
            "ci_high": hi.ravel(),
            "unit": _take(chosen["unit"], per_metric),
            "layer": _take(pd.Series(["printed", "derived"], dtype="str"), (derived.ravel() > 0).astype(np.intp)),
            "n_derived_cells": derived.ravel(),
            "identity_errors": ierr.ravel(),
            "note": _take(pd.Series(note_values, dtype="str"), note_codes),
        },
        columns=RESULT_COLUMNS,
    )
    if exclude_failing:
        res = res[res["identity_errors"] == 0]
    res = res[RESULT_COLUMNS].reset_index(drop=True)
    res["year"] = res["year"].astype("Int64")
    res["identity_errors"] = res["identity_errors"].astype("int64")
    res["n_derived_cells"] = res["n_derived_cells"].astype("int64")
    return res


def _take(column, positions: np.ndarray):
    """``column[positions]`` as an array of the column's own dtype (no per-row Python objects)."""
    arr = column.array if hasattr(column, "array") else pd.array(column)
    return arr.take(positions)


def _rate(kind: str, num: np.ndarray, den: np.ndarray, level: float):
    n = len(num)
    note = np.full(n, "", dtype=object)
    if kind == "count":
        bad = num < 0
        note[bad] = "negative value (printed arithmetic error)"
        est = np.where(bad, np.nan, num)
        return est, np.full(n, np.nan), np.full(n, np.nan), note
    valid = ~np.isnan(num) & ~np.isnan(den)
    neg = valid & ((num < 0) | (den < 0))
    note[neg] = "negative value (printed arithmetic error)"
    over = valid & ~neg & (num > den) if kind == "share" else np.zeros(n, dtype=bool)
    note[over] = "numerator exceeds denominator (printed arithmetic error)"
    zero = valid & ~neg & ~over & (den == 0)
    note[zero] = "denominator 0: rate missing"
    ok = valid & ~neg & ~zero & ~over
    est = np.full(n, np.nan)
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    if ok.any():
        k, d = num[ok], den[ok]
        if kind == "share":
            est[ok] = k / d
            lo[ok], hi[ok] = stats.wilson(k, d, level=level)
        else:
            est[ok] = 100.0 * k / d
            _, lo[ok], hi[ok] = stats.poisson_rate_ci(k, d, per=100, level=level)
    return est, lo, hi, note


def pooled(results: pd.DataFrame, by: str | list[str] | None = None, level: float = 0.95) -> pd.DataFrame:
    """Pooled rates: Σ numerator / Σ denominator over the reports of
    ``results`` (rows of :func:`compute`), per metric and ``by`` group.

    Reports whose rate is missing for a reason other than a zero denominator
    (missing terms, printed arithmetic errors) are left out and counted in
    ``m_excluded``.  Beside the Wilson interval of the pooled share stands the
    interval widened for between-report overdispersion (Pearson φ) and the
    unweighted mean of the per-report rates.
    """
    keys = ["metric"] + ([by] if isinstance(by, str) else list(by or []))
    rows = []
    for key, g in results.groupby(keys, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        kind = g["kind"].iloc[0]
        usable = g["estimate"].notna() | (g["note"] == "denominator 0: rate missing")
        u = g[usable]
        rec = dict(zip(keys, key))
        rec.update(kind=kind, unit=g["unit"].iloc[0], m_reports=int(len(u)), m_excluded=int((~usable).sum()))  # rates: reports with n > 0
        k = u["numerator"].to_numpy(dtype=float)
        n = u["denominator"].to_numpy(dtype=float)
        if kind == "count":
            rec.update(numerator=float(np.nansum(g["estimate"])) if g["estimate"].notna().any() else np.nan, denominator=np.nan, estimate=np.nan)
            rec.update(ci_low=np.nan, ci_high=np.nan, phi=np.nan, ci_low_overdispersed=np.nan, ci_high_overdispersed=np.nan, mean_of_rates=np.nan)
        elif kind == "share":
            p = stats.pooled(k, n, level=level)
            rec.update(m_reports=p["m_units"], numerator=p["k"], denominator=p["n"], estimate=p["estimate"], ci_low=p["ci_low"], ci_high=p["ci_high"])
            rec.update(phi=p["phi"], ci_low_overdispersed=p["ci_low_overdispersed"], ci_high_overdispersed=p["ci_high_overdispersed"], mean_of_rates=p["mean_of_rates"])
        else:
            sk, sn = float(k.sum()), float(n.sum())
            est, lo, hi = stats.poisson_rate_ci(sk, sn, per=100, level=level) if sn > 0 else (np.nan, np.nan, np.nan)
            rates = 100 * k[n > 0] / n[n > 0]
            rec.update(numerator=sk, denominator=sn, estimate=est, ci_low=lo, ci_high=hi, m_reports=int((n > 0).sum()))
            rec.update(phi=np.nan, ci_low_overdispersed=np.nan, ci_high_overdispersed=np.nan, mean_of_rates=float(rates.mean()) if len(rates) else np.nan)
        rows.append(rec)
    cols = keys + ["kind", "unit", "m_reports", "m_excluded", "numerator", "denominator", "estimate", "ci_low", "ci_high", "phi", "ci_low_overdispersed", "ci_high_overdispersed", "mean_of_rates"]
    return pd.DataFrame(rows, columns=cols)


def stock_flow(t2: pd.DataFrame, items: tuple[str, ...] = ("regulations", "normative_documents")) -> pd.DataFrame:
    """Documents in force as printed against those implied by the previous
    year's stock and this year's flows (``in_force[Y-1] + issued - repealed``),
    one row per agency, year and item where the agency reported year Y-1 too;
    ordered by agency, year and item."""
    cols = ["agency", "year", "item", "in force Y-1", "issued", "repealed", "implied", "printed", "difference"]
    prev = t2[["agency", "year"] + [f"{i}.in_force" for i in items]].assign(year=t2["year"] + 1)
    both = t2.merge(prev, on=["agency", "year"], suffixes=("", ".prev"))
    parts = []
    for rank, item in enumerate(items):
        was, iss, rep, now = (both[f"{item}.{c}"] for c in ("in_force.prev", "issued", "repealed", "in_force"))
        implied = was + iss - rep
        parts.append(pd.DataFrame({"agency": both["agency"], "year": both["year"], "item": item, "in force Y-1": was, "issued": iss,
                                   "repealed": rep, "implied": implied, "printed": now, "difference": now - implied, "_rank": rank}))
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True).sort_values(["agency", "year", "_rank"], kind="stable")
    return out[cols].reset_index(drop=True)


def carry_over_pairs(t3: pd.DataFrame, columns: list[str] = T3_VALUE_COLUMNS) -> pd.DataFrame:
    """Cross-year chain of open requests: per agency and year Y, the row
    carried over into Y (columns ``COLUMN.over``) beside the row carried
    forward out of Y-1 (``COLUMN.forward``), for every agency-year whose
    previous year is in ``t3`` (which needs ``agency`` and ``year``); in the
    order of the carried-over rows."""
    fw = t3.loc[t3["row"] == "carried_forward", ["agency", "year", *columns]]
    ov = t3.loc[t3["row"] == "carried_over", ["agency", "year", *columns]]
    fw = fw.assign(year=fw["year"] + 1)
    return ov.merge(fw, on=["agency", "year"], how="inner", suffixes=(".over", ".forward")).reset_index(drop=True)


def sensitivity(metrics: list[str], **kwargs) -> pd.DataFrame:
    """Pooled values of ``metrics`` with all reports and without the reports
    that fail a template identity in the tables each metric reads."""
    kwargs.pop("exclude_failing", None)
    allr = compute(metrics, **kwargs)
    a = pooled(allr)
    b = pooled(allr[allr["identity_errors"] == 0])
    cols = ["metric", "m_reports", "numerator", "denominator", "estimate", "ci_low", "ci_high"]
    return a[cols].merge(b[cols], on="metric", suffixes=("_all", "_identities_hold"))


__all__ = [
    "Metric",
    "base_values",
    "carry_over_pairs",
    "compute",
    "dictionary",
    "expand",
    "metric",
    "parse",
    "pooled",
    "sensitivity",
    "stock_flow",
    "tables_read",
]
