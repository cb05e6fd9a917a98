"""The processed tables assembled from the extraction results.

:func:`tables` gives them as DataFrames from results held in memory.  The build
uses the same pieces on results held *encoded* (:class:`EncodedResults`, one
:func:`helpers.cache.encode` blob per raw file, about 2.5 KB per report
instead of about 16 KB decoded), in two passes, so that its memory does not
grow with the corpus beyond the blobs and a few fields per report:

1. every file is decoded once for what the identity grouping needs (agency,
   year, kind, status, completeness; the cells only for files that share an
   identity, decoded when compared: :class:`LazyCells`) and for its issues;
   the cross-year checks then decode the canonical reports of each agency
   that has more than one (:func:`chain_issues_encoded`);
2. the files are decoded again a batch at a time and each batch's rows of
   ``reports``, ``cells``, ``narrative``, ``t2``, ``t3`` and ``t4`` are written
   (:func:`batch_frames`), so no table is held whole but ``issues``.

Both ways give the same rows in the same order: the order of the raw files,
and of the reports within a file.  Every table has a fixed column list and
dtypes (:data:`DTYPES`), whatever a batch holds.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, Callable

import pandas as pd
import pyarrow as pa

from . import codebook as _codebook
from .cache import decode
from .derive import T3_COLUMNS, T4_COLUMNS, t3_wide, t4_wide
from .identity import Resolution, SourceRecord, resolve
from .narrative import narrative_rows
from .result import ExtractResult, Issue
from .validate import check_chain

__all__ = [
    "report_id",
    "attach_meta",
    "source_meta",
    "source_records",
    "chain_issues",
    "tables",
    "batch_frames",
    "issue_frame",
    "schema",
    "EncodedResults",
    "LazyCells",
    "FirstPass",
    "report_year",
    "chain_issues_encoded",
    "NARRATIVE_COLUMNS",
]

NARRATIVE_COLUMNS = ["report", "pattern", "sentence", "printed", "value", "unit", "key", "table_value", "agrees", "denominators", "where"]
REPORT_COLUMNS = [
    "report", "agency", "agency_detected", "year", "year_detected", "level", "province", "kind", "format", "edition", "status",
    "n_errors", "n_warnings", "n_info", "sha256", "identity", "canonical", "duplicate_of", "n_sources", "agreement", "agency_known",
]  # fmt: skip
CELL_COLUMNS = ["report", "key", "table", "value", "status", "printed"]
ISSUE_COLUMNS = ["report", "severity", "rule", "cells", "expected", "actual", "message"]
IDENT_COLUMNS = ["report", "agency", "year", "edition"]

# the dtype of every column of every table; a column not named here is a count read from the tables (float64)
DTYPES: dict[str, str] = {
    **{c: "str" for c in (
        "report", "agency", "agency_detected", "level", "province", "kind", "format", "edition", "status", "sha256",
        "identity", "duplicate_of", "agreement", "row", "pattern", "sentence", "printed", "unit", "key", "denominators",
        "where", "table", "severity", "rule", "cells", "message",
    )},  # fmt: skip
    "year": "Int64",
    "year_detected": "Int64",
    **{c: "int64" for c in ("n_errors", "n_warnings", "n_info", "n_sources", "n_blank_as_zero", "totals_recomputed")},
    **{c: "bool" for c in ("canonical", "agency_known", "total_recomputed", "derived_row")},
    "agrees": "boolean",
}


def _t2_columns() -> list[str]:
    return [k.removeprefix("t2.") for k, v in _codebook.load().keys.items() if v.table == "t2"]


def columns(name: str) -> list[str]:
    """The columns of table ``name``, in order."""
    return {
        "reports": REPORT_COLUMNS,
        "cells": CELL_COLUMNS,
        "issues": ISSUE_COLUMNS,
        "narrative": NARRATIVE_COLUMNS,
        "t2": IDENT_COLUMNS + _t2_columns(),
        "t3": IDENT_COLUMNS + T3_COLUMNS[1:],
        "t4": IDENT_COLUMNS + T4_COLUMNS[1:],
    }[name]


def typed(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """``df`` with the columns of ``name`` in their order and dtypes."""
    cols = columns(name)
    df = df.reindex(columns=cols)
    for c in cols:
        want = DTYPES.get(c, "float64")
        if str(df[c].dtype) != want:
            df[c] = df[c].astype(want)
    return df


def schema(name: str) -> pa.Schema:
    """The Arrow schema table ``name`` is written with."""
    return pa.Schema.from_pandas(typed(pd.DataFrame(), name), preserve_index=False)


# ----------------------------------------------------------------- provenance


def report_id(r: ExtractResult) -> str:
    """A report's id: its file's name, with ``#k`` for the k-th report of a
    file holding several (:func:`attach_meta` sets the path so)."""
    return os.path.basename(r.path)


def source_meta(name: str, src) -> dict:
    """The provenance of one raw file as the output tables record it (empty when
    ``src``, its row of sources.csv, is None)."""
    return {
        "report": name,
        "agency": src.agency if src else "",
        "year": src.year_int if src else None,
        "level": src.level if src else "",
        "province": src.province if src else "",
        "kind": src.kind if src else "",
        "sha256": src.sha256 if src else "",
    }


def attach_meta(
    files: list[tuple[str, list[ExtractResult]]], listed: dict, hashes: dict[str, str] | None = None
) -> tuple[list[ExtractResult], dict[str, dict]]:
    """The reports of the raw files and their provenance, keyed by report id.

    ``files`` pairs each file's name with its results; ``listed`` maps file
    names to their rows of sources.csv.  The k-th report of a file holding
    several gets the path ``<file>#k`` (so issues and ids name the part) and
    provenance without the agency and year of sources.csv (one row per file):
    each part keeps its detected agency and year.  A report with no detected
    year takes the year of sources.csv.  ``hashes`` gives the sha256 of files
    not listed in sources.csv.
    """
    results: list[ExtractResult] = []
    meta: dict[str, dict] = {}
    for name, rs in files:
        src = listed.get(name)
        for r in rs:
            if len(rs) > 1:
                r.path = f"{r.path}#{r.part}"
                m = source_meta(report_id(r), src)
                m.update(agency="", year=None)
            else:
                m = source_meta(name, src)
            if src is None and hashes:
                m["sha256"] = hashes.get(name, "")
            meta[m["report"]] = m
            r.year = r.year or m["year"]
            results.append(r)
    return results, meta


def report_year(r: ExtractResult, m: Mapping[str, Any]) -> int | None:
    """A report's year as the tables give it: sources.csv first, else detected."""
    return m.get("year") or r.year


def source_record(r: ExtractResult, m: Mapping[str, Any], cells: Mapping[str, Any] | None = None) -> SourceRecord:
    """What the identity grouping needs of one report (``cells``: its cells,
    or a stand-in that fetches them when compared)."""
    rid = report_id(r)
    return SourceRecord(
        report=rid,
        agency=m.get("agency") or r.agency or None,
        year=report_year(r, m),
        kind=m.get("kind", "") or "",
        status=r.status,
        n_numbers=sum(c.status == "number" for c in r.cells.values()),
        n_errors=sum(i.severity == "error" for i in r.issues),
        path=rid,
        cells=r.cells if cells is None else cells,
    )


def source_records(results: list[ExtractResult], meta: dict[str, dict]) -> list[SourceRecord]:
    """What the identity grouping needs of each report: agency and year
    (sources.csv first, else detected), kind, status and completeness, cells."""
    return [source_record(r, meta.get(report_id(r), {})) for r in results]


def _chain_keys(resolution: Resolution) -> dict[str, str]:
    """report id -> the agency its cross-year checks group it by ("" for
    duplicates: only canonical reports are chained)."""
    return {rid: (res.agency_key if res.canonical else "") for rid, res in resolution.by_report.items()}


def chain_issues(results: list[ExtractResult], meta: dict[str, dict], resolution: Resolution) -> list[Issue]:
    """Cross-year checks over the canonical reports, grouped by the normalised
    agency (sources.csv first, else detected); reports without an agency and
    duplicates are left out."""
    key_of = _chain_keys(resolution)
    return check_chain(results, key=lambda r: key_of[report_id(r)])


# ----------------------------------------------------------------- the rows


def _report_row(r: ExtractResult, m: Mapping[str, Any], res) -> dict:
    sev = {"error": 0, "warning": 0, "info": 0}
    for i in r.issues:
        sev[i.severity] = sev.get(i.severity, 0) + 1
    return {
        "report": report_id(r),
        "agency": m.get("agency") or r.agency or "",
        "agency_detected": r.agency or "",
        "year": report_year(r, m),
        "year_detected": r.year,
        "level": m.get("level", ""),
        "province": m.get("province", ""),
        "kind": m.get("kind", ""),
        "format": r.kind or "",
        "edition": r.edition or "",
        "status": r.status,
        "n_errors": sev["error"],
        "n_warnings": sev["warning"],
        "n_info": sev["info"],
        "sha256": m.get("sha256", ""),
        "identity": res.identity,
        "canonical": res.canonical,
        "duplicate_of": res.duplicate_of,
        "n_sources": res.n_sources,
        "agreement": res.agreement,
        "agency_known": res.agency_known,
    }


@lru_cache(maxsize=256)
def _key_order(keys: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A report's cell keys in codebook order (unknown keys last, as found)
    and the table of each; reports of one edition share their key set."""
    cb = _codebook.load()
    order = {k: i for i, k in enumerate(cb.keys)}
    ordered = tuple(sorted(keys, key=lambda k: order.get(k, 10**6)))
    return ordered, tuple(k.split(".")[0] for k in ordered)


def cell_table(results: list[ExtractResult]) -> pa.Table:
    """The printed layer of ``results``: one row per report and cell, in
    codebook order."""
    cols: dict[str, list] = {c: [] for c in CELL_COLUMNS}
    for r in results:
        keys, tables = _key_order(tuple(r.cells))
        cells = list(map(r.cells.__getitem__, keys))
        cols["report"].extend([report_id(r)] * len(keys))
        cols["key"].extend(keys)
        cols["table"].extend(tables)
        cols["value"].extend([None if c.value is None else float(c.value) for c in cells])
        cols["status"].extend([c.status for c in cells])
        cols["printed"].extend([c.printed for c in cells])
    return pa.table(cols, schema=schema("cells"))


def narrative_table(results: list[ExtractResult]) -> pd.DataFrame:
    """The numbers every report states in its prose, one row each, with the
    table value they were checked against (:mod:`helpers.narrative`)."""
    rows = []
    for r in results:
        rid = report_id(r)
        for row in narrative_rows([r]):
            row["report"] = rid
            rows.append(row)
    return typed(pd.DataFrame(rows, columns=NARRATIVE_COLUMNS), "narrative")


def batch_frames(results: list[ExtractResult], meta: dict[str, dict], resolution: Resolution) -> dict[str, pd.DataFrame | pa.Table]:
    """The rows of ``reports``, ``narrative``, ``t2``, ``t3``, ``t4`` (DataFrames)
    and ``cells`` (an Arrow table) of some reports, in their order."""
    reports = typed(pd.DataFrame([_report_row(r, meta[report_id(r)], resolution.by_report[report_id(r)]) for r in results],
                                 columns=REPORT_COLUMNS), "reports")
    # the wide tables hold one record per identity: the canonical file's
    keep = resolution.canonical_reports()
    by_report = {report_id(r): r for r in results if report_id(r) in keep}
    ident = reports.loc[reports["report"].isin(keep), IDENT_COLUMNS].reset_index(drop=True)
    t2_keys = [k for k, v in _codebook.load().keys.items() if v.table == "t2"]
    t2_rows = []
    for rid, r in by_report.items():
        row: dict[str, Any] = {"report": rid}
        for k in t2_keys:
            c = r.cells.get(k)
            row[k.removeprefix("t2.")] = None if c is None or c.value is None else float(c.value)
        t2_rows.append(row)
    t2 = ident.merge(pd.DataFrame(t2_rows, columns=["report"] + [k.removeprefix("t2.") for k in t2_keys]), on="report", how="left")
    t3 = ident.merge(t3_wide(by_report), on="report", how="inner")
    t4 = ident.merge(t4_wide(by_report), on="report", how="inner")
    return {
        "reports": reports,
        "cells": cell_table(results),
        "narrative": narrative_table(results),
        "t2": typed(t2, "t2"),
        "t3": typed(t3, "t3"),
        "t4": typed(t4, "t4"),
    }


_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def issue_row(i: Issue, rid: str) -> tuple:
    """(sort key, row) of one issue in the ``issues`` table."""
    return (
        (_SEVERITY_ORDER[i.severity], rid, i.rule, i.message),
        (rid, i.severity, i.rule, ";".join(i.cells), i.expected, i.actual, i.message),
    )


def issue_frame(rows: list[tuple]) -> pd.DataFrame:
    """The ``issues`` table from :func:`issue_row` pairs: errors first, then
    by report, rule and message."""
    rows = sorted(rows, key=lambda x: x[0])
    return typed(pd.DataFrame([r for _k, r in rows], columns=ISSUE_COLUMNS), "issues")


class FirstPass:
    """What is kept of each report after one look at it: its identity record,
    where it is (file index, index within the file), its year, its issues as
    rows of the ``issues`` table, and the count of each status.  The build
    adds the files one by one as they arrive; :func:`tables` adds all at once."""

    def __init__(self) -> None:
        self.records: list[SourceRecord] = []
        self.where: dict[str, tuple[int, int]] = {}
        self.year_of: dict[str, int | None] = {}
        self.rid_of_path: dict[str, str] = {}
        self.issue_rows: list[tuple] = []
        self.by_status: dict[str, int] = {}

    def add(self, i: int, results: list[ExtractResult], meta: dict[str, dict],
            cells_of: Callable[[int, int], Mapping[str, Any]] | None = None) -> None:
        """The reports of file ``i``; ``cells_of(i, j)`` fetches the cells of
        its j-th report when compared (None: keep them)."""
        for j, r in enumerate(results):
            rid = report_id(r)
            self.where[rid] = (i, j)
            self.rid_of_path[r.path] = rid
            cells = None if cells_of is None else LazyCells(lambda i=i, j=j: cells_of(i, j))
            self.records.append(source_record(r, meta[rid], cells))
            self.year_of[rid] = report_year(r, meta[rid])
            self.issue_rows += [issue_row(x, rid) for x in r.issues]
            self.by_status[r.status] = self.by_status.get(r.status, 0) + 1

    def add_issues(self, issues: list[Issue]) -> None:
        """Issues of the whole corpus (raw files, grouping, cross-year checks),
        each given to the report its path names."""
        self.issue_rows += [issue_row(x, self.rid_of_path.get(x.path, x.path)) for x in issues]


def tables(
    results: list[ExtractResult],
    meta: dict[str, dict],
    extra_issues: list[Issue],
    resolution: Resolution | None = None,
) -> dict[str, pd.DataFrame]:
    """The processed tables as DataFrames (no I/O).

    ``resolution`` is the identity grouping of ``results``
    (:func:`helpers.identity.resolve`); computed here when not given.  Its
    issues are added to ``extra_issues``.
    """
    first = FirstPass()
    first.add(0, results, meta)
    if resolution is None:
        resolution = resolve(first.records)
    first.add_issues(list(extra_issues) + resolution.issues)
    frames = batch_frames(results, meta, resolution)
    frames["cells"] = frames["cells"].to_pandas()
    frames["issues"] = issue_frame(first.issue_rows)
    return frames


# ----------------------------------------------------------------- encoded


class LazyCells(Mapping):
    """A report's cells, decoded the first time they are looked at."""

    __slots__ = ("_load", "_cells")

    def __init__(self, load: Callable[[], Mapping[str, Any]]):
        self._load = load
        self._cells: Mapping[str, Any] | None = None

    def _get(self) -> Mapping[str, Any]:
        if self._cells is None:
            self._cells = self._load()
        return self._cells

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


class EncodedResults:
    """The results of a build's raw files, held as :func:`helpers.cache.encode`
    blobs (one per file, in file order) and decoded when needed, with the
    provenance of :func:`attach_meta` applied (``listed``: sources.csv rows
    by file name; ``hashes``: sha256 of files not listed)."""

    def __init__(self, names: list[str], blobs: list[bytes], listed: dict, hashes: dict[str, str] | None, shared: dict):
        self.names, self.blobs, self.listed, self.hashes, self.shared = names, blobs, listed, hashes, shared

    def __len__(self) -> int:
        return len(self.blobs)

    def file(self, i: int) -> tuple[list[ExtractResult], dict[str, dict]]:
        """The reports of file ``i`` and their provenance."""
        return attach_meta([(self.names[i], decode(self.blobs[i], self.shared))], self.listed, self.hashes)

    def cells(self, i: int, j: int) -> Mapping[str, Any]:
        """The cells of the j-th report of file ``i``."""
        return self.file(i)[0][j].cells

    def batches(self, files_per_batch: int = 1000) -> Iterator[tuple[list[ExtractResult], dict[str, dict]]]:
        for start in range(0, len(self.blobs), files_per_batch):
            results: list[ExtractResult] = []
            meta: dict[str, dict] = {}
            for i in range(start, min(start + files_per_batch, len(self.blobs))):
                rs, m = self.file(i)
                results += rs
                meta.update(m)
            yield results, meta


def chain_issues_encoded(data: EncodedResults, where: dict[str, tuple[int, int]], resolution: Resolution) -> list[Issue]:
    """:func:`chain_issues` over encoded results: only the canonical reports
    of agencies with more than one are decoded, one agency at a time.
    ``where``: report id -> (file index, index within the file)."""
    key_of = _chain_keys(resolution)
    groups: dict[str, list[str]] = defaultdict(list)
    for rid in where:  # file order
        if key_of.get(rid):
            groups[key_of[rid]].append(rid)
    issues: list[Issue] = []
    for key in sorted(groups):
        members = groups[key]
        if len(members) < 2:
            continue
        results = [data.file(where[rid][0])[0][where[rid][1]] for rid in members]
        issues += check_chain(results, key=lambda r, key=key: key)
    return issues
