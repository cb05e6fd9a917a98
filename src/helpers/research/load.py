"""Read the processed tables for analysis: only the columns asked for, canonical records only.

The notebooks never read ``data/processed`` by hand; they call :func:`load`
(one table) or :func:`corpus` (the reports table with the notebook's filter
applied).  Both say clearly what to do when the processed data are missing or
were built from other raw files than those now in ``data/raw``.

Where the data live:

* ``GIDR_PROCESSED`` (environment) or the ``processed`` argument, else
  ``<repository>/data/processed``;
* ``GIDR_RAW`` or ``<repository>/data/raw`` for the staleness check.

A processed folder is *stale* when the set of sha256 sums of the raw files
listed in ``data/raw/sources.csv`` differs from the set recorded in
``reports``: a raw file was added, removed or replaced since the last build.
Content, not modification times, decides, so a fresh clone (whose files all
carry the clone's time) is judged correctly.
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..partitions import read_partitioned

TABLES = ("reports", "cells", "issues", "t2", "t3", "t4")
BUILD_HINT = "run `make build` (or `python -m helpers build`) in the repository first"


class ProcessedDataMissing(FileNotFoundError):
    """The processed table asked for does not exist."""


class StaleProcessedData(UserWarning):
    """``data/processed`` was built from other raw files than those in ``data/raw``."""


def repo_root() -> Path:
    """The repository holding this package (``src/helpers/research`` → three levels up),
    else the first parent of the working directory that has ``data/processed`` or
    ``data/raw``."""
    here = Path(__file__).resolve().parents[3]
    if (here / "data").is_dir():
        return here
    cwd = Path.cwd().resolve()
    for p in (cwd, *cwd.parents):
        if (p / "data" / "raw").is_dir() or (p / "data" / "processed").is_dir():
            return p
    return here


def processed_dir(processed: str | os.PathLike[str] | None = None) -> Path:
    if processed is not None:
        return Path(processed)
    env = os.environ.get("GIDR_PROCESSED")
    return Path(env) if env else repo_root() / "data" / "processed"


def raw_dir(raw: str | os.PathLike[str] | None = None) -> Path:
    if raw is not None:
        return Path(raw)
    env = os.environ.get("GIDR_RAW")
    return Path(env) if env else repo_root() / "data" / "raw"


def reports_dir(reports: str | os.PathLike[str] | None = None) -> Path:
    """Where notebooks export figures and tables: ``GIDR_REPORTS`` or ``<repository>/reports``."""
    if reports is not None:
        return Path(reports)
    env = os.environ.get("GIDR_REPORTS")
    return Path(env) if env else repo_root() / "reports"


def _table_path(name: str, folder: Path) -> Path:
    if name not in TABLES:
        raise ValueError(f"unknown processed table {name!r}; the build writes {', '.join(TABLES)}")
    path = folder / f"{name}.parquet"
    if not path.exists():
        raise ProcessedDataMissing(f"{path} does not exist: the processed data have not been built; {BUILD_HINT}")
    return path


def stale_reason(processed: str | os.PathLike[str] | None = None, raw: str | os.PathLike[str] | None = None) -> str | None:
    """Why ``processed`` does not reflect ``raw`` (None when it does, or when
    there is no ``sources.csv`` to compare with)."""
    src = raw_dir(raw) / "sources.csv"
    if not src.exists():
        return None
    with open(src, newline="", encoding="utf-8") as fh:
        listed = {row["sha256"] for row in csv.DictReader(fh) if row.get("sha256")}
    built = set(pd.read_parquet(_table_path("reports", processed_dir(processed)), columns=["sha256"])["sha256"].dropna())
    if listed == built:
        return None
    added, gone = len(listed - built), len(built - listed)
    return (
        f"{processed_dir(processed)} is older than {raw_dir(raw)}: {added} raw file(s) not yet built, "
        f"{gone} built file(s) no longer in data/raw; {BUILD_HINT}"
    )


_checked: set[tuple[str, str]] = set()


def check_fresh(processed=None, raw=None) -> None:
    """Warn once per folder pair (:class:`StaleProcessedData`) when the data are stale."""
    key = (str(processed_dir(processed)), str(raw_dir(raw)))
    if key in _checked:
        return
    _checked.add(key)
    reason = stale_reason(processed, raw)
    if reason:
        warnings.warn(reason, StaleProcessedData, stacklevel=3)


def load(
    table: str,
    columns: Sequence[str] | None = None,
    *,
    processed: str | os.PathLike[str] | None = None,
    canonical: bool = True,
    years: Iterable[int] | int | None = None,
) -> pd.DataFrame:
    """One processed table, reading only ``columns`` (all when None).

    ``years``: read only the year partitions of these report years
    (``<table>/year=Y/part-0.parquet``, written by the build beside the flat
    file); rows come in year order, in their build order within a year.
    Without ``years`` the flat file is read.

    With ``canonical`` (the default) the rows of files that duplicate another
    file of the same agency-year are left out (tables that carry a ``report``
    column are restricted to the reports marked canonical), so every pooled
    figure counts an agency-year once.
    """
    folder = processed_dir(processed)
    path = _table_path(table, folder)
    check_fresh(processed)
    cols = None if columns is None else list(dict.fromkeys(columns))
    parts = folder / table
    if years is not None and not parts.is_dir():
        raise ProcessedDataMissing(f"{parts} does not exist: the processed data have no year partitions; {BUILD_HINT}")
    df = pd.read_parquet(path, columns=cols) if years is None else read_partitioned(parts, cols, _as_set(years))
    if canonical and table != "reports" and "report" in df.columns:
        keep = canonical_reports(processed)
        if keep is not None:
            df = df[member(df["report"], keep)].reset_index(drop=True)
    elif canonical and table == "reports" and "canonical" in _columns(path):
        flags = pd.read_parquet(path, columns=["canonical"]) if years is None else read_partitioned(parts, ["canonical"], _as_set(years))
        flag = flags["canonical"].astype(bool).to_numpy()
        df = df[flag].reset_index(drop=True)
    return df


def member(column: pd.Series, values: Iterable[str]) -> np.ndarray:
    """``column.isin(values)`` for a text column, computed by Arrow (pandas
    turns every value into an Arrow scalar first: seconds for 100,000 ids)."""
    values = list(values)
    if not values or not isinstance(column.dtype, pd.StringDtype) or column.dtype.storage != "pyarrow":
        return column.isin(values).to_numpy()
    return np.asarray(pc.is_in(pa.array(column), value_set=pa.array(values, type=pa.large_string())), dtype=bool)


def _columns(path: Path) -> list[str]:
    """Column names of a Parquet file, read from its schema only."""
    return pq.read_schema(path).names


def canonical_reports(processed=None) -> set[str] | None:
    """Report ids marked canonical, or None when the build records no duplicates."""
    path = _table_path("reports", processed_dir(processed))
    if "canonical" not in _columns(path):
        return None
    rep = pd.read_parquet(path, columns=["report", "canonical"])
    return set(rep.loc[rep["canonical"].astype(bool), "report"])


def duplicates_set_aside(processed=None) -> pd.DataFrame:
    """Files set aside as duplicates of a canonical file (empty when there are none)."""
    rep = pd.read_parquet(_table_path("reports", processed_dir(processed)))
    if "canonical" not in rep.columns:
        return rep.iloc[0:0]
    cols = [c for c in ("report", "agency", "year", "duplicate_of", "agreement") if c in rep.columns]
    return rep.loc[~rep["canonical"].astype(bool), cols].reset_index(drop=True)


def _as_set(values) -> set | None:
    if values is None:
        return None
    if isinstance(values, (str, int)):
        values = [values]
    return set(values)


def filter_reports(
    reports: pd.DataFrame,
    years: Iterable[int] | int | None = None,
    provinces: Iterable[str] | str | None = None,
    levels: Iterable[str] | str | None = None,
    agencies: Iterable[str] | str | None = None,
) -> pd.DataFrame:
    """The notebooks' corpus filter (their ``parameters`` cell); None keeps everything."""
    mask = pd.Series(True, index=reports.index)
    for col, allowed in (("year", _as_set(years)), ("province", _as_set(provinces)), ("level", _as_set(levels)), ("agency", _as_set(agencies))):
        if allowed is not None:
            if col == "year":
                allowed = {int(y) for y in allowed}
            mask &= reports[col].isin(allowed)
    return reports[mask].reset_index(drop=True)


def corpus(years=None, provinces=None, levels=None, agencies=None, *, processed=None) -> pd.DataFrame:
    """The canonical reports table restricted by the notebook's parameters."""
    return filter_reports(load("reports", processed=processed), years, provinces, levels, agencies)


__all__ = [
    "BUILD_HINT",
    "ProcessedDataMissing",
    "StaleProcessedData",
    "canonical_reports",
    "check_fresh",
    "corpus",
    "duplicates_set_aside",
    "filter_reports",
    "load",
    "member",
    "processed_dir",
    "raw_dir",
    "reports_dir",
    "repo_root",
    "stale_reason",
]
