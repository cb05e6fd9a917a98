"""Tables for papers: CSV and LaTeX (booktabs), and the text form the notebooks print.

Every exported table is written twice into ``<reports>/tables/``: ``NAME.csv``
(UTF-8, ``\\n`` line ends, full precision) and ``NAME.tex`` (a ``booktabs``
``table`` environment: ``\\toprule``/``\\midrule``/``\\bottomrule``, LaTeX
special characters escaped; Chinese text needs ``xeCJK`` or ``ctex`` in the
paper's preamble).  Files are written to a temporary name and renamed, so a
failed export never leaves half a table; the same DataFrame gives the same
bytes.

The notebooks print rates through :func:`rate_view`: numerator, denominator,
the estimate in per cent and its interval, as text with a fixed number of
decimals, so stored outputs compare exactly under nbval.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .load import reports_dir

PER_UNIT_LIMIT = 40
"""A per-report (per-agency) listing or chart is shown as such up to this many
rows; a larger corpus gets a summary view instead (a chart aggregated by year,
the first rows of a listing), and the notebook prints which view it shows."""
LISTING_ROWS = 20
"""Rows of a long listing shown in a notebook (and in its LaTeX table); the CSV holds all."""


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_latex(df: pd.DataFrame, caption: str | None = None, label: str | None = None, float_format: str = "{:.1f}") -> str:
    """A booktabs LaTeX table of ``df`` (index dropped, specials escaped)."""
    body = df.reset_index(drop=True)
    styler = body.style.hide(axis="index").format(float_format, subset=body.select_dtypes("float").columns, na_rep="--", escape="latex")
    styler = styler.format_index(escape="latex", axis=1)
    other = [c for c in body.columns if c not in body.select_dtypes("float").columns]
    styler = styler.format(subset=other, escape="latex", na_rep="--")
    return styler.to_latex(hrules=True, caption=caption, label=label, position_float="centering", environment="table")


def export_table(
    df: pd.DataFrame,
    name: str,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    caption: str | None = None,
    label: str | None = None,
    float_format: str = "{:.1f}",
    latex: pd.DataFrame | None = None,
) -> tuple[Path, Path]:
    """Write ``df`` as ``tables/NAME.csv`` and ``tables/NAME.tex``; return both paths.

    ``latex`` may give a presentation version (rounded, fewer columns) for
    the .tex file; the CSV always holds ``df`` at full precision.
    """
    folder = Path(out_dir) if out_dir is not None else reports_dir() / "tables"
    csv_path, tex_path = folder / f"{name}.csv", folder / f"{name}.tex"
    _atomic_write(csv_path, df.to_csv(index=False, lineterminator="\n"))
    _atomic_write(tex_path, to_latex(df if latex is None else latex, caption=caption, label=label or f"tab:{name}", float_format=float_format))
    return csv_path, tex_path


def listing(df: pd.DataFrame, *, limit: int = PER_UNIT_LIMIT, rows: int = LISTING_ROWS) -> pd.DataFrame:
    """``df`` itself when it has at most ``limit`` rows, else its first ``rows``
    rows, after printing how many rows there are and that only these are shown."""
    if len(df) <= limit:
        return df
    print(f"{len(df)} rows, more than {limit}: the first {rows} are shown (the exported CSV holds every row)")
    return df.head(rows)


def names(items: list[str], *, limit: int = PER_UNIT_LIMIT, rows: int = LISTING_ROWS) -> str:
    """Names joined by commas: all of them up to ``limit``, else the first ``rows`` and how many more."""
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:rows]) + f", … and {len(items) - rows} more"


def pct(x: float, digits: int = 1) -> str:
    """``0.4705`` → ``"47.1"``; missing → ``"–"`` (never 0)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.{digits}f}"


def count(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{int(round(x)):d}" if float(x).is_integer() else f"{x:.2f}"


def rate_view(df: pd.DataFrame, label: str | None = "metric", digits: int = 1, extra: list[str] | None = None) -> pd.DataFrame:
    """Rates as text for printing: k, n, estimate and the 95 % interval.

    Shares are shown in per cent, ``per100`` rates as they are; a missing
    rate shows ``–`` with its k and n.  Columns named in ``extra`` are kept
    in front.
    """
    scale = np.where(df.get("kind", pd.Series("share", index=df.index)).eq("per100"), 0.01, 1.0)
    out = pd.DataFrame(index=df.index)
    for col in (extra or []) + ([label] if label else []):
        out[col] = df[col]
    out["k"] = [count(v) for v in df["numerator"]]
    out["n"] = [count(v) for v in df["denominator"]]
    out["estimate"] = [pct(e * s, digits) for e, s in zip(df["estimate"], scale)]
    out["95% CI"] = [
        "–" if (isinstance(lo, float) and math.isnan(lo)) else f"[{pct(max(lo, 0.0) * s, digits)}, {pct(hi * s, digits)}]"
        for lo, hi, s in zip(df["ci_low"], df["ci_high"], scale)
    ]
    return out.reset_index(drop=True)


__all__ = ["LISTING_ROWS", "PER_UNIT_LIMIT", "count", "export_table", "listing", "names", "pct", "rate_view", "to_latex"]
