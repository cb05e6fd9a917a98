"""``python -m helpers build``: data/raw → data/processed.

Layers written (each as CSV and Parquet, rows in a fixed order so that the
same raw data gives byte-identical files):

``reports``   one row per raw file: provenance (sources.csv), detected
              metadata, edition, status and issue counts
``cells``     the extracted layer, long: report, key, value, status, printed —
              exactly what was printed; a blank stays blank
``issues``    one row per failed rule or extraction problem
``t2``        Table 2 wide, one row per report (printed values)
``t3``        Table 3 wide, one row per report and template row, with the
              derived reading of blanks (see :mod:`helpers.derive`)
``t4``        Table 4 wide, one row per report (derived reading of blanks)

Safety: raw files are opened read-only and checked against their sha256 in
sources.csv (a changed file is refused and recorded); outputs are staged in a
sibling folder and swapped in as a whole, so an interrupted build leaves the
previous processed data in place; a lock file serialises concurrent builds;
a file that breaks the extractor is recorded and the build goes on.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import codebook as _codebook
from .derive import t3_wide, t4_wide
from .extract import extract_path
from .limits import Limits, current
from .result import ExtractResult, Issue
from .sources import load_sources, sha256_file, verify_sources
from .validate import check_chain, sort_issues

OUTPUTS = ("reports", "cells", "issues", "t2", "t3", "t4")
RAW_SKIP = {"sources.csv", "README.md"}


@dataclass
class BuildSummary:
    n_files: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_severity: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    out_dir: str = ""

    def text(self) -> str:
        st = ", ".join(f"{k} {v}" for k, v in sorted(self.by_status.items()))
        sv = ", ".join(f"{k} {v}" for k, v in sorted(self.by_severity.items()))
        lines = [
            f"built {self.out_dir} from {self.n_files} raw file(s) in {self.seconds:.2f} s",
            f"  reports: {st or 'none'}",
            f"  issues:  {sv or 'none'}",
        ]
        if self.refused:
            lines.append(f"  refused: {', '.join(self.refused)}")
        return "\n".join(lines)


def raw_files(raw_dir: Path) -> list[Path]:
    return sorted(
        p for p in raw_dir.iterdir() if p.is_file() and not p.name.startswith(".") and p.name not in RAW_SKIP
    )


def _extract_one(args: tuple[str, str | None, Limits | None]) -> ExtractResult:
    path, level, limits = args
    return extract_path(path, level=level, limits=limits)


@contextlib.contextmanager
def _lock(out_dir: Path):
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"another build is writing {out_dir}; waiting for it to finish…", file=sys.stderr)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def recover(out_dir: Path) -> None:
    """Undo what an interrupted build left behind: restore the previous outputs
    if the swap was cut short, and remove stale staging folders."""
    parent = out_dir.parent
    if not parent.exists():
        return
    olds = sorted(parent.glob(f".{out_dir.name}-old-*"))
    if not out_dir.exists() and olds:
        os.replace(olds[-1], out_dir)
        olds = olds[:-1]
    for p in olds + sorted(parent.glob(f".{out_dir.name}-staging-*")):
        shutil.rmtree(p, ignore_errors=True)


def _swap_in(staging: Path, out_dir: Path) -> None:
    old = out_dir.parent / f".{out_dir.name}-old-{os.getpid()}"
    keep = [p for p in out_dir.iterdir() if p.name.startswith(".git") or p.name == "README.md"] if out_dir.exists() else []
    for p in keep:  # files kept under version control in the folder stay
        shutil.copy2(p, staging / p.name)
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(staging, out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _write_table(df: pd.DataFrame, folder: Path, name: str) -> None:
    df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n", encoding="utf-8")
    df.to_parquet(folder / f"{name}.parquet", index=False, engine="pyarrow", compression="zstd")


def _fmt(v) -> str:
    return "" if v is None else repr(v) if isinstance(v, float) else str(v)


def tables(results: list[ExtractResult], meta: dict[str, dict], extra_issues: list[Issue]) -> dict[str, pd.DataFrame]:
    """The processed tables as DataFrames (no I/O)."""
    cb = _codebook.load()
    order = {k: i for i, k in enumerate(cb.keys)}
    report_rows, cell_rows, issue_rows = [], [], []
    for r in results:
        rid = meta[r.path]["report"]
        m = meta[r.path]
        sev = {"error": 0, "warning": 0, "info": 0}
        for i in r.issues:
            sev[i.severity] = sev.get(i.severity, 0) + 1
        report_rows.append(
            {
                "report": rid,
                "agency": m.get("agency") or r.agency or "",
                "agency_detected": r.agency or "",
                "year": m.get("year") or r.year,
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
            }
        )
        for key in sorted(r.cells, key=lambda k: order.get(k, 10**6)):
            c = r.cells[key]
            cell_rows.append(
                {
                    "report": rid,
                    "key": key,
                    "table": key.split(".")[0],
                    "value": None if c.value is None else float(c.value),
                    "status": c.status,
                    "printed": c.printed,
                }
            )
    all_issues = [(i, meta.get(i.path, {}).get("report", i.path)) for r in results for i in r.issues]
    all_issues += [(i, meta.get(i.path, {}).get("report", i.path)) for i in extra_issues]
    for i, rid in sorted(all_issues, key=lambda x: ({"error": 0, "warning": 1, "info": 2}[x[0].severity], x[1], x[0].rule, x[0].message)):
        issue_rows.append(
            {
                "report": rid,
                "severity": i.severity,
                "rule": i.rule,
                "cells": ";".join(i.cells),
                "expected": i.expected,
                "actual": i.actual,
                "message": i.message,
            }
        )
    reports = pd.DataFrame(report_rows, columns=list(report_rows[0]) if report_rows else ["report"])
    if "year" in reports:
        reports["year"] = reports["year"].astype("Int64")
        reports["year_detected"] = reports["year_detected"].astype("Int64")
    cells = pd.DataFrame(cell_rows, columns=["report", "key", "table", "value", "status", "printed"])
    issues = pd.DataFrame(issue_rows, columns=["report", "severity", "rule", "cells", "expected", "actual", "message"])
    issues["expected"] = issues["expected"].astype("float64")
    issues["actual"] = issues["actual"].astype("float64")

    by_report = {meta[r.path]["report"]: r for r in results}
    ident = reports[["report", "agency", "year", "edition"]] if len(reports) else pd.DataFrame(columns=["report", "agency", "year", "edition"])
    t2_keys = [k for k, v in cb.keys.items() if v.table == "t2"]
    t2_rows = []
    for rid, r in by_report.items():
        row = {"report": rid}
        for k in t2_keys:
            c = r.cells.get(k)
            row[k.removeprefix("t2.")] = None if c is None or c.value is None else float(c.value)
        t2_rows.append(row)
    t2 = ident.merge(pd.DataFrame(t2_rows, columns=["report"] + [k.removeprefix("t2.") for k in t2_keys]), on="report", how="left")
    t3 = ident.merge(t3_wide(by_report), on="report", how="inner")
    t4 = ident.merge(t4_wide(by_report), on="report", how="inner")
    return {"reports": reports, "cells": cells, "issues": issues, "t2": t2, "t3": t3, "t4": t4}


def build(
    raw_dir: str | os.PathLike[str] = "data/raw",
    out_dir: str | os.PathLike[str] = "data/processed",
    jobs: int | None = None,
    progress: bool = True,
    limits: Limits | None = None,
) -> BuildSummary:
    """Build ``out_dir`` from ``raw_dir`` (see the module documentation).

    ``limits`` apply to every raw file (default: :func:`helpers.limits.current`).
    """
    t0 = time.perf_counter()
    limits = limits if limits is not None else current()
    raw = Path(raw_dir)
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = BuildSummary(out_dir=str(out))
    with _lock(out):
        recover(out)
        extra: list[Issue] = []
        problems = verify_sources(raw)
        listed = {s.file: s for s in load_sources(raw)} if (raw / "sources.csv").exists() else {}
        files = raw_files(raw)
        todo: list[tuple[str, str | None, Limits | None]] = []
        meta: dict[str, dict] = {}
        for p in files:
            src = listed.get(p.name)
            rel = str(p)
            meta[rel] = {
                "report": p.name,
                "agency": src.agency if src else "",
                "year": src.year_int if src else None,
                "level": src.level if src else "",
                "province": src.province if src else "",
                "kind": src.kind if src else "",
                "sha256": src.sha256 if src else "",
            }
            if src is None:
                extra.append(Issue("raw.unlisted", "warning", f"{p}: not listed in sources.csv; add it with `python -m helpers add`", path=rel))
                meta[rel]["sha256"] = sha256_file(p)
            elif src.sha256 and sha256_file(p) != src.sha256:
                msg = next((x for x in problems if p.name in x), f"{p}: sha256 differs from sources.csv")
                extra.append(Issue("raw.sha256_mismatch", "error", f"{msg}; the file is refused", path=rel))
                summary.refused.append(p.name)
                continue
            todo.append((rel, src.level if src else None, limits))
        n_jobs = jobs or (1 if len(todo) < 32 else os.cpu_count() or 1)
        results: list[ExtractResult] = []
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), unit="report", desc="extract", file=sys.stderr)
        if n_jobs > 1:
            with ProcessPoolExecutor(n_jobs) as ex:
                for r in ex.map(_extract_one, todo, chunksize=8):
                    results.append(r)
                    if bar:
                        bar.update()
        else:
            for item in todo:
                results.append(_extract_one(item))
                if bar:
                    bar.update()
        if bar:
            bar.close()
        # cross-year chains use the agency of sources.csv where it is known
        agency_of = {r.path: (meta[r.path]["agency"] or r.agency or "") for r in results}
        year_of = {r.path: (meta[r.path]["year"] or r.year) for r in results}
        for r in results:
            r.year = r.year or year_of[r.path]
        chain = check_chain(results, key=lambda r: agency_of[r.path])
        extra.extend(chain)
        frames = tables(results, meta, extra)
        staging = out.parent / f".{out.name}-staging-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        try:
            for name in OUTPUTS:
                _write_table(frames[name], staging, name)
            _swap_in(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    summary.n_files = len(files)
    for r in results:
        summary.by_status[r.status] = summary.by_status.get(r.status, 0) + 1
    for sev in frames["issues"]["severity"]:
        summary.by_severity[sev] = summary.by_severity.get(sev, 0) + 1
    summary.seconds = time.perf_counter() - t0
    return summary


__all__ = ["build", "tables", "recover", "BuildSummary", "sort_issues"]
