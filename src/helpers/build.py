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
:mod:`helpers.partitions` and :mod:`helpers.outputs`).  Every table but
``issues`` is written a batch of files at a time and never held whole; the
results are kept encoded between the two passes (see :mod:`helpers.assemble`).

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
from dataclasses import astuple, dataclass, field
from pathlib import Path

from .cache import Cache, code_version, result_key
from .assemble import (
    EncodedResults,
    FirstPass,
    attach_meta,
    batch_frames,
    chain_issues,
    chain_issues_encoded,
    issue_frame,
    report_id,
    schema,
    source_records,
    tables,
)
from .executors import encoded_item, run as run_items
from .identity import resolve
from .limits import Limits, current
from .outputs import TableWriter, write_table
from .result import Issue
from .sources import load_sources, sha256_file
from .validate import sort_issues

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
        blobs: list[bytes | None] = [store.get_encoded(k) for _name, k in keys]
        missing = [i for i, b in enumerate(blobs) if b is None]
        summary.n_extracted = len(missing)
        n_jobs = jobs or (1 if len(missing) < 32 else os.cpu_count() or 1)
        bar = None
        if progress and missing:
            from tqdm import tqdm

            bar = tqdm(total=len(missing), unit="report", desc="extract", file=sys.stderr)
        data = EncodedResults([name for name, _k in keys], blobs, listed, hashes, shared)
        # pass 1, file by file as the workers deliver them: what the grouping, the
        # cross-year checks and the issues table need of each report
        first = FirstPass()
        extracted = run_items([todo[i] for i in missing], executor, n_jobs, scheduler, fn=encoded_item)
        try:
            for i in range(len(data)):
                if blobs[i] is None:  # the next file the workers deliver (in file order) is this one
                    _j, blobs[i] = next(extracted)
                    store.put_encoded(keys[i][1], blobs[i])
                    if bar:
                        bar.update()
                try:
                    rs, meta = data.file(i)
                except ValueError:  # a damaged cache entry: extract the file again
                    store.damaged += 1
                    summary.n_extracted += 1
                    blobs[i] = encoded_item(todo[i])
                    store.put_encoded(keys[i][1], blobs[i])
                    rs, meta = data.file(i)
                first.add(i, rs, meta, data.cells)
        finally:
            extracted.close()
        if bar:
            bar.close()
        store.commit()
        # one record per agency-year: group the reports, choose the canonical one
        resolution = resolve(first.records)
        first.records.clear()
        extra.extend(chain_issues_encoded(data, first.where, resolution))
        first.add_issues(extra + resolution.issues)
        summary.by_status = first.by_status
        staging = out.parent / f".{out.name}-staging-{os.getpid()}"
        try:
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir(parents=True)
            # pass 2: the tables, a batch of files at a time
            streamed = [n for n in OUTPUTS if n != "issues"]
            writers = {n: TableWriter(staging, n, schema(n), first.year_of) for n in streamed}
            try:
                for results, meta in data.batches():
                    for name, frame in batch_frames(results, meta, resolution).items():
                        writers[name].write(frame)
            finally:
                for w in writers.values():
                    w.close()
            issues = issue_frame(first.issue_rows)
            write_table(issues, staging, "issues", first.year_of)
            _swap_in(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        summary.n_duplicates = resolution.n_duplicates
        for sev in issues["severity"]:
            summary.by_severity[sev] = summary.by_severity.get(sev, 0) + 1
        store.set_state(state_name, json.dumps([fingerprint, _outputs_stat(out), summary.to_json(), quick]))
    summary.seconds = time.perf_counter() - t0
    return summary


__all__ = ["build", "tables", "attach_meta", "report_id", "source_records", "chain_issues", "hash_files", "recover", "BuildSummary", "sort_issues"]
