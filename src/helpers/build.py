"""``python -m helpers build``: data/raw → data/processed.

Layers written (each as CSV and Parquet, rows in a fixed order so that the
same raw data gives byte-identical files):

``reports``   one row per raw file: provenance (sources.csv), detected
              metadata, edition, status, issue counts, and the report's
              identity: which file is canonical for its agency-year and which
              files duplicate it (see :mod:`helpers.identity`)
``cells``     the extracted layer, long: report, key, value, status, printed —
              exactly what was printed; a blank stays blank
``issues``    one row per failed rule or extraction problem
``narrative`` one row per number a report states in its prose (received,
              handled, carried over, review and litigation counts, outcome
              percentages), with the table value it was checked against
              (see :mod:`helpers.narrative`)
``t2``        Table 2 wide, one row per canonical report (printed values)
``t3``        Table 3 wide, one row per canonical report and template row,
              with the derived reading of blanks (see :mod:`helpers.derive`)
``t4``        Table 4 wide, one row per canonical report (derived reading of
              blanks)

One agency-year, one record: files of the same identity (agency, year) are
grouped, one is chosen as canonical by the rule of :mod:`helpers.identity`,
and only it enters the wide tables; ``cells`` keeps every file, and the other
files are compared with the canonical one cell by cell (``source.*`` issues).

Each table is written as CSV, as one Parquet file, and as Parquet partitioned
by report year (``cells/year=2023/part-0.parquet``, see
:mod:`helpers.partitions` and :mod:`helpers.outputs`); ``cells``, about 200
rows per report, is written in batches of reports and never held whole.

A raw file may hold several reports (a compilation): each gets its own report
id, the file name when the file holds one report, ``name#k`` when it holds
several; the agency and year of sources.csv (one row per file) are then not
applied to the parts, each keeps its detected agency and year.

Scale: per-file results are cached by content (see :mod:`helpers.cache`), so a
rebuild extracts only new or changed files, or everything after a change of
the extractor; when neither the inputs nor the code changed and the outputs
are as the last build left them, the build writes nothing.  The per-file step
runs in this process, in ``jobs`` worker processes, or on a dask.distributed
cluster (:mod:`helpers.executors`); results are taken in the order of the
files whatever the executor, so the outputs are byte-identical for any
``jobs`` and executor.

Safety: raw files are opened read-only and checked against their sha256 in
sources.csv (a changed file is refused and recorded); a file that breaks the
extractor is recorded and the build goes on.  Outputs are written to a
sibling staging folder, flushed to disk (fsync), and swapped in as a whole:
on Linux the two folders are exchanged in one atomic ``renameat2`` call,
elsewhere the old folder is moved aside and the new one moved in with
SIGINT/SIGTERM held back, and moved back if that fails.  So at every moment
the output folder holds either the complete previous outputs or the complete
new ones.  An interrupted build (SIGINT, SIGTERM: the staging folder is
removed; SIGKILL, power loss: it is left behind) is cleaned up by the next
build (:func:`recover`), which also puts the previous outputs back if a kill
fell between the two moves.  A lock file (a POSIX record lock, which worker
processes do not inherit) serialises concurrent builds; worker processes
ignore SIGINT (the main process stops them) and die with the main process.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import astuple, dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from . import codebook as _codebook
from .cache import Cache, code_version, decode, result_key
from .derive import t3_wide, t4_wide
from .executors import encoded_item, run as run_items
from .identity import Resolution, SourceRecord, resolve
from .limits import Limits, current
from .outputs import TableWriter, write_table
from .result import ExtractResult, Issue
from .sources import load_sources, sha256_file
from .validate import check_chain, sort_issues
from .narrative import narrative_rows

OUTPUTS = ("reports", "cells", "issues", "narrative", "t2", "t3", "t4")
RAW_SKIP = {"sources.csv", "README.md"}


@dataclass
class BuildSummary:
    n_files: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_severity: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    n_duplicates: int = 0
    seconds: float = 0.0
    out_dir: str = ""
    n_extracted: int = 0  # files extracted by this build (the others came from the cache)
    n_hashed: int = 0  # raw files read and hashed (the others were trusted by their stat)
    up_to_date: bool = False  # nothing changed: the outputs were left as they were

    def to_json(self) -> str:
        return json.dumps({"by_status": self.by_status, "by_severity": self.by_severity,
                           "refused": self.refused, "n_duplicates": self.n_duplicates}, sort_keys=True)

    def text(self) -> str:
        st = ", ".join(f"{k} {v}" for k, v in sorted(self.by_status.items()))
        sv = ", ".join(f"{k} {v}" for k, v in sorted(self.by_severity.items()))
        what = "up to date:" if self.up_to_date else "built"
        lines = [
            f"{what} {self.out_dir} from {self.n_files} raw file(s) in {self.seconds:.2f} s "
            f"({self.n_extracted} extracted, {self.n_files - self.n_extracted} from the cache; {self.n_hashed} hashed)",
            f"  reports: {st or 'none'}; {self.n_duplicates} duplicate(s) set aside",
            f"  issues:  {sv or 'none'}",
        ]
        if self.refused:
            lines.append(f"  refused: {', '.join(self.refused)}")
        return "\n".join(lines)


def raw_files(raw_dir: Path) -> list[Path]:
    """The raw files of ``raw_dir``, by name (hidden files, sources.csv and README.md left out)."""
    with os.scandir(raw_dir) as it:
        names = sorted(e.name for e in it if e.is_file() and not e.name.startswith(".") and e.name not in RAW_SKIP)
    return [raw_dir / n for n in names]


_THREAD_LOCK = threading.Lock()


@contextlib.contextmanager
def _lock(out_dir: Path):
    """Serialise builds into ``out_dir``: a POSIX record lock on a file next to
    it (released by the kernel when the process dies, and not inherited by
    forked worker processes), plus a lock for threads of this process."""
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with _THREAD_LOCK, open(lock_path, "a+") as fh:
        try:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            print(f"another build is writing {out_dir}; waiting for it to finish…", file=sys.stderr)
            fcntl.lockf(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(fh, fcntl.LOCK_UN)


def recover(out_dir: Path) -> None:
    """Undo what an interrupted build left behind (call it holding the lock).

    * the output folder is missing but a moved-aside old one exists (a kill
      between the two moves of a non-atomic swap): the old one is put back;
    * staging folders (a build interrupted while writing; or, right after an
      atomic exchange, the previous outputs awaiting removal) and remaining
      old folders are removed.
    """
    parent = out_dir.parent
    if not parent.exists():
        return
    olds = sorted(parent.glob(f".{out_dir.name}-old-*"), key=lambda p: p.stat().st_mtime_ns)
    if not out_dir.exists() and olds:
        os.replace(olds[-1], out_dir)
        _fsync_dir(parent)
        olds = olds[:-1]
    for p in olds + sorted(parent.glob(f".{out_dir.name}-staging-*")):
        shutil.rmtree(p, ignore_errors=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse directory fsync
        pass
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Flush every file under ``folder``, and the folders, to disk."""
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False
    where that is not available (other systems, old kernels or C libraries,
    file systems without it)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM back (delivered at the end) around a few renames."""
    if hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread():
        held = {signal.SIGINT, signal.SIGTERM}
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    else:
        yield


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by the complete ``staging`` folder (see the module
    documentation); never leaves ``out_dir`` missing or mixed."""
    keep = [p for p in out_dir.iterdir() if p.name.startswith(".git") or p.name == "README.md"] if out_dir.exists() else []
    for p in keep:  # files kept under version control in the folder stay
        shutil.copy2(p, staging / p.name)
    _fsync_tree(staging)
    parent = out_dir.parent
    if not out_dir.exists():
        os.replace(staging, out_dir)
        _fsync_dir(parent)
        return
    if _exchange(staging, out_dir):
        _fsync_dir(parent)
        shutil.rmtree(staging, ignore_errors=True)  # now the previous outputs
        return
    old = parent / f".{out_dir.name}-old-{os.getpid()}"
    with _signals_held():
        os.replace(out_dir, old)
        try:
            os.replace(staging, out_dir)
        except BaseException:
            os.replace(old, out_dir)
            raise
    _fsync_dir(parent)
    shutil.rmtree(old, ignore_errors=True)


def report_id(r: ExtractResult) -> str:
    """A report's id: its file's name, with ``#k`` for the k-th report of a
    file holding several (:func:`attach_meta` sets the path so)."""
    return os.path.basename(r.path)


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


def source_records(results: list[ExtractResult], meta: dict[str, dict]) -> list[SourceRecord]:
    """What the identity grouping needs of each report: agency and year
    (sources.csv first, else detected), kind, status and completeness, cells."""
    out = []
    for r in results:
        rid = report_id(r)
        m = meta.get(rid, {})
        out.append(
            SourceRecord(
                report=rid,
                agency=m.get("agency") or r.agency or None,
                year=m.get("year") or r.year,
                kind=m.get("kind", "") or "",
                status=r.status,
                n_numbers=sum(c.status == "number" for c in r.cells.values()),
                n_errors=sum(i.severity == "error" for i in r.issues),
                path=rid,
                cells=r.cells,
            )
        )
    return out


def chain_issues(results: list[ExtractResult], meta: dict[str, dict], resolution: Resolution) -> list[Issue]:
    """Cross-year checks over the canonical reports, grouped by the normalised
    agency (sources.csv first, else detected); reports without an agency and
    duplicates are left out."""
    chain_key = {}
    for r in results:
        res = resolution.by_report[report_id(r)]
        chain_key[r.path] = res.agency_key if res.canonical else ""
    return check_chain(results, key=lambda r: chain_key[r.path])


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


def tables(
    results: list[ExtractResult],
    meta: dict[str, dict],
    extra_issues: list[Issue],
    resolution: Resolution | None = None,
    with_cells: bool = True,
) -> dict[str, pd.DataFrame]:
    """The processed tables as DataFrames (no I/O).

    ``resolution`` is the identity grouping of ``results``
    (:func:`helpers.identity.resolve`); computed here when not given.  Its
    issues are added to ``extra_issues``.  ``with_cells=False`` leaves out
    ``cells`` (the build writes it in batches, :func:`cell_batches`).
    """
    cb = _codebook.load()
    if resolution is None:
        resolution = resolve(source_records(results, meta))
    extra_issues = list(extra_issues) + resolution.issues
    report_rows, issue_rows = [], []
    rid_of_path = {r.path: report_id(r) for r in results}
    for r in results:
        rid = report_id(r)
        m = meta[rid]
        res = resolution.by_report[rid]
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
                "identity": res.identity,
                "canonical": res.canonical,
                "duplicate_of": res.duplicate_of,
                "n_sources": res.n_sources,
                "agreement": res.agreement,
                "agency_known": res.agency_known,
            }
        )
    all_issues = [(i, report_id(r)) for r in results for i in r.issues]
    all_issues += [(i, rid_of_path.get(i.path, i.path)) for i in extra_issues]
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
    issues = pd.DataFrame(issue_rows, columns=["report", "severity", "rule", "cells", "expected", "actual", "message"])
    issues["expected"] = issues["expected"].astype("float64")
    issues["actual"] = issues["actual"].astype("float64")

    # the wide tables hold one record per identity: the canonical file's
    keep = resolution.canonical_reports()
    by_report = {report_id(r): r for r in results if report_id(r) in keep}
    ident = (
        reports.loc[reports["report"].isin(keep), ["report", "agency", "year", "edition"]].reset_index(drop=True)
        if len(reports)
        else pd.DataFrame(columns=["report", "agency", "year", "edition"])
    )
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
    frames = {"reports": reports, "issues": issues, "narrative": narrative_table(results), "t2": t2, "t3": t3, "t4": t4}
    if with_cells:
        frames["cells"] = pa.concat_tables(cell_batches(results)).to_pandas()
    return frames


CELL_SCHEMA = pa.Schema.from_pandas(
    pd.DataFrame({"report": pd.Series(dtype="str"), "key": pd.Series(dtype="str"), "table": pd.Series(dtype="str"),
                  "value": pd.Series(dtype="float64"), "status": pd.Series(dtype="str"), "printed": pd.Series(dtype="str")}),
    preserve_index=False,
)


def cell_batches(results: list[ExtractResult], reports_per_batch: int = 1000) -> Iterator[pa.Table]:
    """The ``cells`` table (the printed layer: one row per report and cell, in
    codebook order) as Arrow tables of ``reports_per_batch`` reports each, so
    that the build never holds the whole table."""
    cb = _codebook.load()
    order = {k: i for i, k in enumerate(cb.keys)}
    table_of = {k: k.split(".")[0] for k in cb.keys}
    for start in range(0, max(len(results), 1), reports_per_batch):
        cols: dict[str, list] = {c: [] for c in CELL_SCHEMA.names}
        for r in results[start : start + reports_per_batch]:
            keys = sorted(r.cells, key=lambda k: order.get(k, 10**6))
            cells = [r.cells[k] for k in keys]
            cols["report"].extend([report_id(r)] * len(keys))
            cols["key"].extend(keys)
            cols["table"].extend([table_of.get(k) or k.split(".")[0] for k in keys])
            cols["value"].extend([None if c.value is None else float(c.value) for c in cells])
            cols["status"].extend([c.status for c in cells])
            cols["printed"].extend([c.printed for c in cells])
        yield pa.table(cols, schema=CELL_SCHEMA)


NARRATIVE_COLUMNS = ["report", "pattern", "sentence", "printed", "value", "unit", "key", "table_value", "agrees", "denominators", "where"]


def narrative_table(results: list[ExtractResult]) -> pd.DataFrame:
    """The numbers every report states in its prose, one row each, with the
    table value they were checked against (:mod:`helpers.narrative`)."""
    rows = []
    for r in results:
        rid = report_id(r)
        for row in narrative_rows([r]):
            row["report"] = rid
            rows.append(row)
    df = pd.DataFrame(rows, columns=NARRATIVE_COLUMNS)
    df["value"] = df["value"].astype("float64")
    df["table_value"] = df["table_value"].astype("float64")
    df["agrees"] = df["agrees"].astype("boolean")
    return df


CACHE_AUTO = "auto"
"""``cache_dir`` default: ``cache`` next to the output folder (``data/cache``)."""


def _build_fingerprint(out: Path, limits: Limits, keys: list[tuple[str, str]], refused: list[str], raw: Path) -> str:
    """What the outputs are a function of: the code, the limits, sources.csv,
    and every raw file's name and cache key."""
    h = hashlib.sha256()
    h.update(f"{code_version()}\0{astuple(limits)!r}\0{out.resolve()}\0".encode())
    src = raw / "sources.csv"
    h.update(src.read_bytes() if src.exists() else b"-")
    for name, key in keys:
        h.update(f"\0{name}\0{key}".encode())
    h.update(("\0refused\0" + "\0".join(refused)).encode())
    return h.hexdigest()


def _outputs_stat(out: Path) -> str:
    """(path, size, mtime_ns) of every output file: cheap evidence that the
    outputs are still those the last build wrote."""
    if not out.is_dir():
        return ""
    rows = []
    for dirpath, dirs, files in os.walk(out):
        dirs.sort()
        for f in sorted(files):
            st = os.stat(os.path.join(dirpath, f))
            rows.append(f"{os.path.relpath(os.path.join(dirpath, f), out)}\0{st.st_size}\0{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def _stat_fingerprint(out: Path, limits: Limits, files: list[Path], raw: Path) -> str:
    """What the outputs are a function of, as far as a stat of every raw file
    tells (the same trust as the stat cache, see :func:`hash_files`): the
    code, the limits, sources.csv and each file's (name, size, mtime_ns,
    inode, ctime_ns).  Checked before any file is hashed or sources.csv parsed,
    so that a no-change rebuild of a large corpus costs one stat per file."""
    h = hashlib.sha256()
    h.update(f"{code_version()}\0{astuple(limits)!r}\0{out.resolve()}\0".encode())
    src = raw / "sources.csv"
    h.update(hashlib.sha256(src.read_bytes() if src.exists() else b"-").digest())
    for p in files:
        st = os.stat(p)
        h.update(f"\0{p.name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\0{st.st_ctime_ns}".encode())
    return h.hexdigest()


def _unchanged(state: list, at: int, fingerprint: str, out: Path, summary: BuildSummary) -> bool:
    """Whether the last build's state (``[fingerprint, outputs stat, summary,
    stat fingerprint]``) has ``fingerprint`` at position ``at`` and the outputs
    are as it left them; if so ``summary`` is filled from it."""
    if len(state) <= at or state[at] != fingerprint or state[1] != _outputs_stat(out):
        return False
    done = json.loads(state[2])
    summary.by_status, summary.by_severity = done["by_status"], done["by_severity"]
    summary.n_duplicates, summary.refused = done["n_duplicates"], done["refused"]
    summary.up_to_date = True
    return True


def hash_files(files: list[Path], cache: Cache, rehash: bool = False) -> tuple[dict[str, str], int]:
    """The sha256 of each file (by name), trusting the stat cache for files
    whose (size, mtime_ns, inode, ctime_ns) are unchanged unless ``rehash``;
    also the number of files read and hashed."""
    known = {} if rehash else cache.hashes()
    out: dict[str, str] = {}
    fresh = []
    folders: dict[Path, str] = {}  # each folder resolved once, not each file
    for p in files:
        st = os.stat(p)
        parent = p.parent
        if parent not in folders:
            folders[parent] = str(parent.resolve())
        key = os.path.join(folders[parent], p.name)
        sig = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
        seen = known.get(key)
        if seen is not None and tuple(seen[:4]) == sig:
            out[p.name] = seen[4]
            continue
        out[p.name] = sha256_file(p)
        fresh.append((key, *sig, out[p.name]))
    cache.put_hashes(fresh)
    return out, len(fresh)


def build(
    raw_dir: str | os.PathLike[str] = "data/raw",
    out_dir: str | os.PathLike[str] = "data/processed",
    jobs: int | None = None,
    progress: bool = True,
    limits: Limits | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = CACHE_AUTO,
    rehash: bool = False,
    executor: str = "local",
    scheduler=None,
) -> BuildSummary:
    """Build ``out_dir`` from ``raw_dir`` (see the module documentation).

    ``limits`` apply to every raw file (default: :func:`helpers.limits.current`).
    ``cache_dir``: where per-file results and raw-file hashes are kept
    (default ``cache`` next to ``out_dir``; None: no cache).  ``rehash``: hash
    every raw file instead of trusting unchanged (size, mtime, inode, ctime).
    ``executor`` ``local`` (``jobs`` worker processes; default: 1 for fewer
    than 32 files to extract, else one per core) or ``dask`` (``scheduler``:
    the address of a dask.distributed scheduler, or a Client).
    """
    t0 = time.perf_counter()
    limits = limits if limits is not None else current()
    raw = Path(raw_dir)
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = BuildSummary(out_dir=str(out))
    folder = out.parent / "cache" if cache_dir == CACHE_AUTO else cache_dir
    with _lock(out), Cache(folder) as store:
        recover(out)
        extra: list[Issue] = []
        listed = {s.file: s for s in load_sources(raw)} if (raw / "sources.csv").exists() else {}
        files = raw_files(raw)
        summary.n_files = len(files)
        state_name = f"outputs {out.resolve()}"
        last = store.state(state_name)
        # taken before anything is read: a file changed during this build will not look built next time
        quick = _stat_fingerprint(out, limits, files, raw)
        if last is not None and not rehash and _unchanged(json.loads(last), 3, quick, out, summary):
            summary.seconds = time.perf_counter() - t0
            return summary
        hashes, summary.n_hashed = hash_files(files, store, rehash)
        keys: list[tuple[str, str]] = []  # (file name, cache key) of the files built
        todo = []  # (path, level, limits) of the files built
        for p in files:
            src = listed.get(p.name)
            rel = str(p)
            if src is None:
                extra.append(Issue("raw.unlisted", "warning", f"{p}: not listed in sources.csv; add it with `python -m helpers add`", path=p.name))
            elif src.sha256 and hashes[p.name] != src.sha256:
                msg = (
                    f"{p.name}: changed since it was recorded: expected sha256 {src.sha256}, actual {hashes[p.name]}. "
                    "Raw files are never edited; restore the original or add the new version as a new file."
                )
                extra.append(Issue("raw.sha256_mismatch", "error", f"{msg}; the file is refused", path=p.name))
                summary.refused.append(p.name)
                continue
            level = src.level if src else None
            keys.append((p.name, result_key(hashes[p.name], rel, level, limits)))
            todo.append((rel, level, limits))

        fingerprint = _build_fingerprint(out, limits, keys, summary.refused, raw)
        if last is not None and _unchanged(json.loads(last), 0, fingerprint, out, summary):
            summary.seconds = time.perf_counter() - t0
            return summary

        shared: dict = {}  # one CellValue object per distinct printed cell, across all reports
        per_file: list[list[ExtractResult] | None] = [store.get(k, shared) for _name, k in keys]
        missing = [i for i, rs in enumerate(per_file) if rs is None]
        summary.n_extracted = len(missing)
        n_jobs = jobs or (1 if len(missing) < 32 else os.cpu_count() or 1)
        bar = None
        if progress and missing:
            from tqdm import tqdm

            bar = tqdm(total=len(missing), unit="report", desc="extract", file=sys.stderr)
        for j, blob in run_items([todo[i] for i in missing], executor, n_jobs, scheduler, fn=encoded_item):
            i = missing[j]
            store.put_encoded(keys[i][1], blob)
            per_file[i] = decode(blob, shared)
            if bar:
                bar.update()
        if bar:
            bar.close()
        store.commit()
        results, meta = attach_meta([(name, rs) for (name, _k), rs in zip(keys, per_file)], listed, hashes)
        del per_file
        # one record per agency-year: group the reports, choose the canonical one
        resolution = resolve(source_records(results, meta))
        extra.extend(chain_issues(results, meta, resolution))
        frames = tables(results, meta, extra, resolution=resolution, with_cells=False)
        year_of = dict(zip(frames["reports"]["report"], frames["reports"]["year"])) if len(frames["reports"]) else {}
        staging = out.parent / f".{out.name}-staging-{os.getpid()}"
        try:
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir(parents=True)
            for name in OUTPUTS:
                if name == "cells":
                    with TableWriter(staging, name, CELL_SCHEMA, year_of) as w:
                        for batch in cell_batches(results):
                            w.write(batch)
                else:
                    write_table(frames[name], staging, name, year_of)
            _swap_in(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        summary.n_duplicates = resolution.n_duplicates
        for r in results:
            summary.by_status[r.status] = summary.by_status.get(r.status, 0) + 1
        for sev in frames["issues"]["severity"]:
            summary.by_severity[sev] = summary.by_severity.get(sev, 0) + 1
        store.set_state(state_name, json.dumps([fingerprint, _outputs_stat(out), summary.to_json(), quick]))
    summary.seconds = time.perf_counter() - t0
    return summary


__all__ = ["build", "tables", "attach_meta", "report_id", "source_records", "chain_issues", "hash_files", "recover", "BuildSummary", "sort_issues"]
