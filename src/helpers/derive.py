"""The derived layer: analysis-ready Table 3 and Table 4 with blanks read explicitly.

The extracted layer keeps a blank as a blank.  Analyses need numbers, so this
module applies one documented reading (``docs/template.md`` §5) and records
every place where it changed anything:

* a wholly blank table was not filled: its values stay missing (``NaN``);
* otherwise a blank applicant cell counts as 0 (counted in ``n_blank_as_zero``);
* a blank 总计 next to filled parts is recomputed as their sum
  (``total_recomputed`` is True); a printed 总计 is never changed, even when it
  contradicts its parts (validation reports that);
* N/A markers and text stay missing;
* when （六）其他处理 is printed as three sub-rows, a derived row ``other``
  (their sum, ``derived_row`` True) makes reports of both layouts comparable.
"""

from __future__ import annotations

import math
from functools import lru_cache

import pandas as pd

from . import codebook as _codebook
from .result import ExtractResult

T3_COLUMNS = [
    "report",
    "row",
    "natural_person",
    "commercial",
    "research",
    "social_welfare",
    "legal_services",
    "other_org",
    "total",
    "n_blank_as_zero",
    "total_recomputed",
    "derived_row",
]
T4_COLUMNS = ["report"] + [f"{g}.{c}" for g in ("review", "litigation_direct", "litigation_after_review") for c in ("upheld", "corrected", "other", "pending", "total")] + ["n_blank_as_zero", "totals_recomputed"]


@lru_cache(maxsize=8)
def _table_keys(table: str) -> tuple[str, ...]:
    return tuple(k for k in _codebook.load().keys if k.startswith(table + "."))


def _is_filled(r: ExtractResult, table: str) -> bool:
    """Some cell of ``table`` (a codebook table) was read as a number."""
    get = r.cells.get
    if any((c := get(k)) is not None and c.status == "number" for k in _table_keys(table)):
        return True
    prefix = table + "."  # a key the codebook does not list
    return any(c.status == "number" and k.startswith(prefix) for k, c in r.cells.items())


def _read(c, filled: bool) -> tuple[float, bool]:
    """(derived value, whether a blank was read as 0)."""
    if c is None or c.status == "absent":
        return math.nan, False
    if c.status == "number":
        return float(c.value), False
    if c.status == "blank" and filled:
        return 0.0, True
    return math.nan, False


def _split_other(r: ExtractResult) -> bool:
    return any(r.cells.get(f"t3.other_no_correction.{c}") is not None and r.cells[f"t3.other_no_correction.{c}"].status != "absent" for c in ("natural_person", "total"))


@lru_cache(maxsize=4)
def _t3_keys(split: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(row, the cell keys of its columns) of every Table 3 leaf row."""
    cb = _codebook.load()
    return tuple((row, tuple(f"t3.{row}.{c}" for c in cb.t3_cols)) for row in cb.t3_leaves(split))


def t3_rows(r: ExtractResult, report: str) -> list[dict]:
    cb = _codebook.load()
    filled = _is_filled(r, "t3")
    if not filled:
        return []
    split = _split_other(r)
    out: list[dict] = []
    parts_cols = cb.t3_cols[:-1]
    get = r.cells.get
    for row, keys in _t3_keys(split):
        cells = [get(k) for k in keys]
        if all(c is None or c.status == "absent" for c in cells):
            continue
        rec: dict = {"report": report, "row": row}
        n_zero = 0
        for col, c in zip(parts_cols, cells[:-1]):
            v, z = _read(c, filled)
            rec[col] = v
            n_zero += z
        tot = cells[-1]
        recomputed = False
        parts = [rec[c] for c in parts_cols]
        if tot is not None and tot.status == "blank" and any(p > 0 for p in parts if not math.isnan(p)):
            rec["total"] = math.nan if any(math.isnan(p) for p in parts) else float(sum(parts))
            recomputed = not math.isnan(rec["total"])
        else:
            v, z = _read(tot, filled)
            rec["total"] = v
            n_zero += z
        rec["n_blank_as_zero"] = n_zero
        rec["total_recomputed"] = recomputed
        rec["derived_row"] = False
        out.append(rec)
    if split:
        subs = [x for x in out if x["row"].startswith("other_")]
        if len(subs) == 3:
            derived = {"report": report, "row": "other"}
            for col in parts_cols + ["total"]:
                derived[col] = float(sum(x[col] for x in subs))
            derived["n_blank_as_zero"] = 0
            derived["total_recomputed"] = False
            derived["derived_row"] = True
            idx = out.index(subs[-1]) + 1
            out.insert(idx, derived)
    return out


def t3_wide(results: dict[str, ExtractResult]) -> pd.DataFrame:
    rows: list[dict] = []
    for report, r in results.items():
        rows.extend(t3_rows(r, report))
    df = pd.DataFrame(rows, columns=T3_COLUMNS)
    df["n_blank_as_zero"] = df["n_blank_as_zero"].astype("int64")
    df["total_recomputed"] = df["total_recomputed"].astype("bool")
    df["derived_row"] = df["derived_row"].astype("bool")
    return df


def t4_row(r: ExtractResult, report: str) -> dict | None:
    cb = _codebook.load()
    if not _is_filled(r, "t4"):
        return None
    rec: dict = {"report": report}
    n_zero = 0
    recomputed = 0
    for g in cb.t4_groups:
        parts = []
        for c in cb.t4_cols[:-1]:
            v, z = _read(r.cells.get(f"t4.{g}.{c}"), True)
            rec[f"{g}.{c}"] = v
            parts.append(v)
            n_zero += z
        tot = r.cells.get(f"t4.{g}.total")
        if tot is not None and tot.status == "blank" and any(p > 0 for p in parts if not math.isnan(p)):
            rec[f"{g}.total"] = math.nan if any(math.isnan(p) for p in parts) else float(sum(parts))
            recomputed += 1
        else:
            v, z = _read(tot, True)
            rec[f"{g}.total"] = v
            n_zero += z
    rec["n_blank_as_zero"] = n_zero
    rec["totals_recomputed"] = recomputed
    return rec


def t4_wide(results: dict[str, ExtractResult]) -> pd.DataFrame:
    rows = [x for report, r in results.items() if (x := t4_row(r, report)) is not None]
    df = pd.DataFrame(rows, columns=T4_COLUMNS)
    df["n_blank_as_zero"] = df["n_blank_as_zero"].astype("int64")
    df["totals_recomputed"] = df["totals_recomputed"].astype("int64")
    return df
