"""The build's cache: per-file extraction results and raw-file hashes.

A rebuild after a fix, or after adding a few files to a large corpus, should
extract only what changed.  Each raw file's results (every report it holds)
are stored under a key made of

* the sha256 of the raw bytes,
* the extractor version (:func:`extractor_version`: a hash of the source files
  and data tables extraction depends on, so that changing the extractor
  invalidates every entry, and changing only the build, the identity rules or
  the research layer invalidates none),
* the limits in force (:class:`helpers.limits.Limits`), the file's level
  (``sources.csv``; validation uses it) and the path as given (it is part of
  every message).

The cache is one SQLite database (``data/cache/build.sqlite`` by default,
gitignored): every write is a transaction, so an interrupted build leaves
whole entries or none.  An entry that cannot be decoded is ignored and
recomputed; a database that cannot be opened at all is moved aside and a new
one started.  Entries are written by the build's main process only.

Hashing every raw file is what a no-change rebuild of a large corpus would
spend its time on, so the cache also keeps a *stat cache*: for each raw file,
its (size, mtime_ns, inode, ctime_ns) and the sha256 computed when those were
seen.  A file whose stat is unchanged is trusted to have unchanged bytes
(``--rehash`` reads and hashes every file again).  See docs/design-notes.md,
"Building at national scale".
"""

from __future__ import annotations

import ast
import hashlib
import os
import pickle
import sqlite3
import sys
import zlib
from array import array
from dataclasses import astuple
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

from .limits import Limits
from .result import CellValue, ExtractResult, Issue, NarrativeValue

__all__ = ["Cache", "extractor_version", "code_version", "result_key", "encode", "decode", "FORMAT"]

FORMAT = 3  # 2: the narrative layer is kept; 3: cells as keys, distinct cells and an index
"""Version of the entry encoding (:func:`encode`); part of every key."""

# data tables that only the build, the identity rules or the research layer read
_NOT_EXTRACTION_DATA = {"metrics.csv", "crosswalk.csv", "plot_labels.csv", "plot_style.json", "agency_aliases.csv", "agency_rules.csv"}
_ENTRY = "extract.py"


def _imports(path: Path, root: Path) -> set[Path]:
    """The modules of the package that ``path`` imports (anywhere in it, lazy
    imports inside functions included)."""
    found: set[Path] = set()
    here = path.parent
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here
                for _ in range(node.level - 1):
                    base = base.parent
            elif (node.module or "").split(".")[0] == "helpers":
                base = root.parent
            else:
                continue
            mod = (node.module or "").split(".") if node.module else []
            names = [".".join(mod)] + [".".join(mod + [a.name]) for a in node.names]
        elif isinstance(node, ast.Import):
            base = root.parent
            names = [a.name for a in node.names if a.name.split(".")[0] == "helpers"]
        for name in names:
            target = base.joinpath(*[x for x in name.split(".") if x])
            for cand in (target.with_suffix(".py"), target / "__init__.py"):
                if cand.is_file() and root in cand.parents:
                    found.add(cand)
    return found


def _package_files(extraction_only: bool) -> list[tuple[str, Path]]:
    """The files a version hashes: with ``extraction_only``, the modules
    extraction imports (from :mod:`helpers.extract`, transitively) and the
    data tables but those of the build and research layers; else every module
    and data table but the research layer's."""
    root = Path(str(resources.files("helpers")))
    data = [p for p in sorted((root / "data").iterdir()) if p.is_file() and not p.name.startswith(".")]
    if extraction_only:
        todo, seen = [root / _ENTRY], set()
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            todo.extend(_imports(p, root) - seen)
        modules = sorted(seen)
        data = [p for p in data if p.name not in _NOT_EXTRACTION_DATA]
    else:
        modules = sorted(p for p in root.rglob("*.py") if "research" not in p.relative_to(root).parts[:1])
    return [(p.relative_to(root).as_posix(), p) for p in modules + data]


def _digest(files: list[tuple[str, Path]]) -> str:
    h = hashlib.sha256(f"format {FORMAT}\n".encode())
    for rel, p in files:
        h.update(rel.encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


@cache
def extractor_version() -> str:
    """sha256 over the names and bytes of the files extraction depends on:
    every module of :mod:`helpers` except those that run after it (build,
    identity, derive, research …) and the data tables it reads."""
    return _digest(_package_files(extraction_only=True))


@cache
def code_version() -> str:
    """sha256 over every module and data table of :mod:`helpers` but the
    research layer: what the processed tables as a whole depend on."""
    return _digest(_package_files(extraction_only=False))


@lru_cache(maxsize=16)
def _limits_text(limits: Limits) -> str:
    return repr(astuple(limits))


def result_key(sha256: str, path: str, level: str | None, limits: Limits, version: str | None = None) -> str:
    """The cache key of one raw file's results (see the module documentation)."""
    parts = [version or extractor_version(), sha256, path, level or "", _limits_text(limits)]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ encoding
# Plain tuples pickle and load several times faster than the dataclasses, and
# leave out what the build does not use (a cell's location in the source).


def encode(results: list[ExtractResult]) -> bytes:
    rows = []
    for r in results:
        # the keys, the report's distinct (value, status, printed), and which one each key has
        distinct: dict[tuple, int] = {}
        index = [distinct.setdefault((c.value, c.status, c.printed, type(c.value)), len(distinct)) for c in r.cells.values()]
        cells = (tuple(r.cells), tuple(d[:3] for d in distinct), array("H", index).tobytes())
        issues = tuple((i.rule, i.severity, i.message, tuple(i.cells), i.expected, i.actual, i.path) for i in r.issues)
        narrative = tuple(
            (n.pattern, n.sentence, n.printed, n.value, n.unit, n.target, n.where, n.table, n.agrees, tuple(n.denominators))
            for n in r.narrative
        )
        rows.append((r.path, r.status, r.edition, r.agency, r.year, r.kind, r.part, r.parts, cells, issues, narrative))
    return zlib.compress(pickle.dumps((FORMAT, rows), protocol=pickle.HIGHEST_PROTOCOL), 1)


def _shared_cell(shared: dict, v, st: str, pr: str) -> CellValue:
    t = (v, st, pr, type(v))
    c = shared.get(t)
    if c is None:
        c = shared[t] = CellValue(v, st, pr)
    return c


def decode(blob: bytes, shared: dict | None = None) -> list[ExtractResult]:
    """The results of :func:`encode`; raises ``ValueError`` for a damaged entry.

    Every cell is one shared object per distinct (value, status, printed)
    through ``shared`` — most cells of a corpus print the same few numbers —
    so a large corpus costs a dict per report, not an object per cell."""
    try:
        fmt, rows = pickle.loads(zlib.decompress(blob))
        if fmt != FORMAT:
            raise ValueError(f"entry format {fmt}, expected {FORMAT}")
        shared = {} if shared is None else shared
        out = []
        for path, status, edition, agency, year, kind, part, parts, cells, issues, narrative in rows:
            keys, distinct, index = cells
            objs = [_shared_cell(shared, v, st, pr) for v, st, pr in distinct]
            cv = dict(zip(map(sys.intern, keys), map(objs.__getitem__, array("H", index))))
            iss = [Issue(rule, sev, msg, list(cl), e, a, p) for rule, sev, msg, cl, e, a, p in issues]
            nar = [NarrativeValue(*n[:9], denominators=list(n[9])) for n in narrative]
            out.append(ExtractResult(path, status, edition, agency, year, kind, cv, iss, part, parts, narrative=nar))
        return out
    except Exception as exc:  # noqa: BLE001 - any damage means: recompute
        raise ValueError(f"damaged cache entry ({type(exc).__name__}: {exc})") from None


# ------------------------------------------------------------------ store


class Cache:
    """The SQLite store (see the module documentation).  ``folder=None``: no
    cache (every lookup misses, nothing is written)."""

    def __init__(self, folder: str | os.PathLike[str] | None):
        self.path = None if folder is None else Path(folder) / "build.sqlite"
        self.db: sqlite3.Connection | None = None
        self.damaged = 0
        self._pending = 0
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.db = self._open()
            except sqlite3.DatabaseError as exc:
                aside = self.path.with_name(f"{self.path.name}.damaged-{os.getpid()}")
                os.replace(self.path, aside)
                print(f"{self.path}: not a usable cache ({exc}); moved to {aside.name}, starting a new one", file=sys.stderr)
                self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, data BLOB NOT NULL)")
        db.execute(
            "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
            " ino INTEGER, ctime_ns INTEGER, sha256 TEXT)"
        )
        db.execute("CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT)")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a file that is not a database fails here
        db.execute("BEGIN")
        return db

    # -- extraction results
    def get_encoded(self, key: str) -> bytes | None:
        """The entry of ``key`` as stored, not checked (None when missing or
        unreadable); :func:`decode` raises ``ValueError`` for a damaged one."""
        if self.db is None:
            return None
        try:
            row = self.db.execute("SELECT data FROM results WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError:  # a damaged page: recompute
            self.damaged += 1
            return None
        return None if row is None else row[0]

    def put_encoded(self, key: str, blob: bytes) -> None:
        """Store results already encoded (:func:`encode`, e.g. by a worker)."""
        if self.db is None:
            return
        self.db.execute("INSERT OR REPLACE INTO results (key, data) VALUES (?, ?)", (key, blob))
        self._tick()

    # -- stat cache
    def hashes(self) -> dict[str, tuple[int, int, int, int, str]]:
        if self.db is None:
            return {}
        return {r[0]: r[1:] for r in self.db.execute("SELECT path, size, mtime_ns, ino, ctime_ns, sha256 FROM files")}

    def put_hashes(self, rows: Iterable[tuple[str, int, int, int, int, str]]) -> None:
        if self.db is None:
            return
        self.db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.commit()

    # -- build state (fingerprint of the last build's inputs per output folder)
    def state(self, name: str) -> str | None:
        if self.db is None:
            return None
        row = self.db.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def set_state(self, name: str, value: str) -> None:
        if self.db is not None:
            self.db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (name, value))

    def _tick(self) -> None:
        self._pending += 1
        if self._pending >= 2000:  # commit in batches: an interrupted build keeps what it did
            self.commit()

    def commit(self) -> None:
        if self.db is not None:
            self.db.execute("COMMIT")
            self.db.execute("BEGIN")
            self._pending = 0

    def close(self) -> None:
        """Commit what was written (entries are whole even when the build was
        interrupted) and close."""
        if self.db is not None:
            try:
                if self.db.in_transaction:
                    self.db.execute("COMMIT")
            finally:
                self.db.close()
                self.db = None

    def __enter__(self) -> "Cache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
