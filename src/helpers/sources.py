"""Provenance of the raw reports: ``data/raw/sources.csv``.

Every file in ``data/raw`` is kept exactly as received and is listed once in
``sources.csv`` with its agency, year, level, province, source, retrieval date,
sha256, kind (``original`` or ``transcription``), edition and a note.

* :func:`load_sources` reads the table.
* :func:`verify_sources` checks that every listed file exists with the listed
  hash and that no unlisted file sits in ``data/raw``.  A changed file is
  refused with a message naming the file and both hashes.
* :func:`add_report` copies reports a researcher has downloaded — files,
  folders of them, zip archives (:mod:`helpers.bulk`) — into ``data/raw``
  under a clear name and appends their rows, refusing exact duplicates and
  never overwriting an existing file; :func:`summary` says what it did.

Raw files are never modified by anything in this module.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import hashlib
import io
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Sequence

SOURCES_NAME = "sources.csv"

FIELDS: tuple[str, ...] = (
    "file",
    "agency",
    "year",
    "level",
    "province",
    "source",
    "retrieved",
    "sha256",
    "kind",
    "edition",
    "note",
)

KINDS = ("original", "transcription")

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row of ``sources.csv``; every field is the string as written."""

    file: str
    agency: str = ""
    year: str = ""
    level: str = ""
    province: str = ""
    source: str = ""
    retrieved: str = ""
    sha256: str = ""
    kind: str = ""
    edition: str = ""
    note: str = ""

    @property
    def year_int(self) -> int | None:
        """The report year as an integer, or ``None`` when it is not a plain year."""
        y = self.year.strip()
        return int(y) if re.fullmatch(r"\d{4}", y) else None

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


AddStatus = Literal["added", "duplicate", "missing", "failed", "skipped", "refused"]


@dataclass(frozen=True, slots=True)
class AddOutcome:
    """What :func:`add_report` did with one input path.

    ``status``: ``added`` (copied and listed), ``duplicate`` (same sha256 is
    already listed; nothing copied), ``missing`` (no such file), ``skipped``
    (inside a folder or archive, not a report file), ``refused`` (an unsafe or
    oversized archive entry) or ``failed``.  ``path`` is what was given (for an
    archive member: ``archive.zip!member``).
    ``file`` is the name inside ``data/raw`` (the new one, or for a duplicate
    the one already listed).  ``identity`` is the report identity of an added
    file (:func:`helpers.identity.identity`; empty when its agency or year is
    unknown), ``same_identity`` the files already in ``data/raw`` with that
    identity, and ``warnings`` what the user should know (printed on stderr).
    """

    path: Path
    status: AddStatus
    file: str | None = None
    sha256: str | None = None
    message: str = ""
    row: SourceRow | None = None
    identity: str = ""
    same_identity: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    parts: int = 1


# --------------------------------------------------------------------------
# reading and hashing


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _sources_path(raw_dir: str | os.PathLike[str]) -> Path:
    return Path(raw_dir) / SOURCES_NAME


def _read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    # utf-8-sig tolerates a byte-order mark left by a spreadsheet program.
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = [{k: (v or "") for k, v in r.items() if k is not None} for r in reader]
    return header, rows


def load_sources(raw_dir: str | os.PathLike[str]) -> list[SourceRow]:
    """Rows of ``<raw_dir>/sources.csv`` in file order.

    Missing columns read as empty strings; unknown columns are ignored.
    Raises ``FileNotFoundError`` when there is no ``sources.csv``.
    """
    _, rows = _read_table(_sources_path(raw_dir))
    return [SourceRow(**{k: r.get(k, "").strip() for k in FIELDS}) for r in rows]


def _listed_files(raw_dir: Path) -> list[str]:
    """Every non-hidden file under ``raw_dir`` (posix relative paths), except sources.csv."""
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(raw_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            rel = Path(dirpath, name).relative_to(raw_dir).as_posix()
            if rel == SOURCES_NAME:
                continue
            out.append(rel)
    return out


def verify_sources(raw_dir: str | os.PathLike[str]) -> list[str]:
    """Check ``data/raw`` against ``sources.csv``; return one string per problem.

    An empty list means: every listed file exists and has its listed sha256,
    and every file in ``raw_dir`` (other than ``sources.csv`` and hidden files)
    is listed exactly once.
    """
    raw = Path(raw_dir)
    problems: list[str] = []
    table = _sources_path(raw)
    if not raw.is_dir():
        return [f"{raw}: raw data directory does not exist"]
    if not table.is_file():
        return [f"{table}: missing; every raw file must be listed there with its sha256"]
    try:
        header, dict_rows = _read_table(table)
    except (UnicodeDecodeError, csv.Error) as exc:
        return [f"{table}: cannot be read as UTF-8 CSV ({exc})"]
    missing_cols = [c for c in FIELDS if c not in header]
    if missing_cols:
        problems.append(f"{table}: missing column(s) {', '.join(missing_cols)}")
    if "file" not in header or "sha256" not in header:
        return problems

    seen: dict[str, int] = {}
    for line_no, r in enumerate(dict_rows, start=2):
        name = (r.get("file") or "").strip()
        expected = (r.get("sha256") or "").strip().lower()
        where = f"{SOURCES_NAME} line {line_no}"
        if not name:
            problems.append(f"{where}: empty file name")
            continue
        if name in seen:
            problems.append(f"{name}: listed twice in {SOURCES_NAME} (lines {seen[name]} and {line_no})")
            continue
        seen[name] = line_no
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or name == SOURCES_NAME:
            problems.append(f"{name}: {where} must name a file inside {raw}")
            continue
        kind = (r.get("kind") or "").strip()
        if "kind" in header and kind not in KINDS:
            problems.append(f"{name}: kind {kind!r} is not one of {', '.join(KINDS)}")
        if not re.fullmatch(r"[0-9a-f]{64}", expected):
            problems.append(f"{name}: {where} has no valid sha256 ({expected!r})")
            continue
        path = raw / rel
        if not path.is_file():
            problems.append(f"{name}: listed in {SOURCES_NAME} but missing from {raw}")
            continue
        actual = sha256_file(path)
        if actual != expected:
            problems.append(
                f"{name}: changed since it was recorded: expected sha256 {expected}, "
                f"actual {actual}. Raw files are never edited; restore the original "
                f"or add the new version as a new file."
            )

    for rel in _listed_files(raw):
        if rel not in seen:
            problems.append(
                f"{rel}: in {raw} but not listed in {SOURCES_NAME} "
                f"(add it with `python -m helpers add`)"
            )
    return problems


# --------------------------------------------------------------------------
# adding reports

_UNSAFE = re.compile(r"[^a-z0-9]+")


def slug_name(path: str | os.PathLike[str], year: int | str | None = None) -> str:
    """The name a downloaded report gets in ``data/raw``: ``<stem>_<year>.<ext>``.

    The stem is lowercased and every run of characters outside ``a-z0-9`` is
    replaced by one ``_`` (so names stay ASCII-safe on every file system); a
    stem with no letter left (e.g. an all-Chinese file name) becomes
    ``report``/``report_<digits>``.  ``_<year>`` is appended when the year is
    known and not already in the stem.
    """
    p = Path(path)
    stem = _UNSAFE.sub("_", p.stem.lower()).strip("_")
    if not re.search(r"[a-z]", stem):
        stem = "report" + (f"_{stem}" if stem else "")
    y = str(year).strip() if year is not None else ""
    if y and y not in stem:
        stem = f"{stem}_{y}"
    ext = _UNSAFE.sub("", p.suffix.lower())
    return f"{stem}.{ext}" if ext else stem


def _detected(detect: Callable[[Path], Any] | None, path: Path) -> tuple[dict[str, str], str]:
    """agency/year/edition (and ``parts``, the number of reports the file
    holds) from ``detect(path)``; empty strings when unknown.  A file holding
    several reports gets agency and year empty: each part has its own."""
    out = {"agency": "", "year": "", "edition": "", "parts": "1"}
    if detect is None:
        return out, ""
    try:
        info = detect(path)
    except Exception as exc:  # a detector failure must not lose the file
        return out, f"detection failed ({type(exc).__name__}: {exc}); agency/year/edition left empty"
    if info is None:
        return out, ""
    for key in ("agency", "year", "edition"):
        value = getattr(info, key, None)
        out[key] = "" if value is None else str(value).strip()
    parts = getattr(info, "parts", 1)
    if isinstance(parts, int) and parts > 1:
        out.update(agency="", year="", parts=str(parts))
    return out, ""


def _row_line(header: Sequence[str], row: SourceRow) -> str:
    buf = io.StringIO()
    values = row.as_dict()
    csv.writer(buf, lineterminator="\n").writerow([values.get(h, "") for h in header])
    return buf.getvalue()


def _append_row_atomically(table: Path, row: SourceRow) -> None:
    """Append one row to ``table`` by writing a complete new file and renaming it.

    The existing bytes are kept as they are; readers never see a half-written
    table.  A missing table is created with the standard header.
    """
    if table.exists():
        old = table.read_bytes()
        header, _ = _read_table(table)
        if not header:  # an empty file: start it again with the standard header
            header = list(FIELDS)
            old = (",".join(FIELDS) + "\n").encode("utf-8")
    else:
        header = list(FIELDS)
        old = ",".join(FIELDS).encode("utf-8") + b"\n"
    if old and not old.endswith(b"\n"):
        old += b"\n"
    new = old + _row_line(header, row).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".tmp-sources-", suffix=".csv", dir=table.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(new)
            f.flush()
            os.fsync(f.fileno())
        if table.exists():
            shutil.copymode(table, tmp)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, table)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _place_copy(src: Path, raw: Path, name: str, taken: set[str]) -> str:
    """Copy ``src`` into ``raw`` under ``name`` or ``name`` with ``_2``, ``_3``…; never overwrite.

    The bytes go to a hidden temporary file first and are then linked into
    place, so a name either holds the complete copy or does not exist.
    """
    stem, dot, ext = name.partition(".")
    fd, tmp = tempfile.mkstemp(prefix=".tmp-add-", dir=raw)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        n = 1
        while True:
            candidate = name if n == 1 else f"{stem}_{n}{dot}{ext}"
            n += 1
            if candidate in taken or candidate == SOURCES_NAME or (raw / candidate).exists():
                continue
            try:
                os.link(tmp, raw / candidate)
            except FileExistsError:
                continue
            except OSError:
                # file systems without hard links: exclusive create, then copy
                try:
                    with open(raw / candidate, "xb") as out, open(tmp, "rb") as inp:
                        shutil.copyfileobj(inp, out, _CHUNK)
                except FileExistsError:
                    continue
            return candidate
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def add_report(
    raw_dir: str | os.PathLike[str],
    paths: Iterable[str | os.PathLike[str]],
    source_url: str | None = None,
    detect: Callable[[Path], Any] | None = None,
    kind: str = "original",
    *,
    limits: Any = None,
    level: str = "",
    province: str = "",
    note: str = "",
) -> list[AddOutcome]:
    """Copy downloaded reports into ``raw_dir`` and list them in ``sources.csv``.

    ``paths`` are files, folders (every report file under them) or zip
    archives (every report file inside, within ``limits``; see
    :mod:`helpers.bulk`).  For each report file: one whose sha256 is already
    listed is refused as ``duplicate`` (nothing copied); otherwise it is
    copied byte for byte under :func:`slug_name` (with ``_2``, ``_3``… when
    that name is taken — an existing file is never overwritten) and one row
    is appended to ``sources.csv`` (written to a temporary file, then renamed
    into place): kind ``kind`` (``original`` unless told ``transcription``),
    retrieved = today, source = ``source_url`` or ``added by hand from
    <path>``, level, province and note as given, and agency/year/edition from
    ``detect(path)`` — any callable returning an object with those attributes
    (and optionally ``parts``, the number of reports the file holds), or
    ``None`` — left empty when unknown, and agency/year left empty for a file
    holding several reports (each report has its own; the build reads them).

    A file with the identity (agency, year; :mod:`helpers.identity`) of a
    file already listed is still added — a second source of the same report
    is worth keeping; the build compares them and uses one — but the outcome
    carries a warning naming the file(s) already present.  A file whose agency
    is unknown gets a warning saying how to give it (``--agency``).
    """
    from .bulk import expand

    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    raw = Path(raw_dir)
    raw.mkdir(parents=True, exist_ok=True)
    table = _sources_path(raw)
    existing = load_sources(raw) if table.exists() else []
    by_hash = {r.sha256.lower(): r.file for r in existing if r.sha256}
    known = [(r.file, r.agency, r.year) for r in existing if r.agency and r.year_int is not None]
    taken = {r.file for r in existing}
    today = _dt.date.today().isoformat()
    outcomes: list[AddOutcome] = []

    for item in expand(list(paths), limits):
        label = Path(item.label)
        if item.path is None:
            outcomes.append(AddOutcome(label, item.status, message=f"{item.label}: {item.reason}"))  # type: ignore[arg-type]
            continue
        src = item.path
        digest = sha256_file(src)
        if digest in by_hash:
            outcomes.append(
                AddOutcome(
                    label,
                    "duplicate",
                    file=by_hash[digest],
                    sha256=digest,
                    message=f"{item.label}: identical to {by_hash[digest]} (sha256 {digest}); not added",
                )
            )
            continue
        info, warning = _detected(detect, src)
        name = slug_name(src, info["year"] or None)
        try:
            placed = _place_copy(src, raw, name, taken)
        except OSError as exc:
            outcomes.append(AddOutcome(label, "failed", sha256=digest, message=f"{item.label}: copy failed: {exc}"))
            continue
        copied = sha256_file(raw / placed)
        if copied != digest:  # the source changed while we copied it
            os.unlink(raw / placed)
            outcomes.append(
                AddOutcome(label, "failed", sha256=digest, message=f"{item.label}: changed while being copied; try again")
            )
            continue
        origin = f"{Path(item.label.split('!')[0]).resolve()}!{item.member}" if item.member else str(src.resolve())
        parts = int(info["parts"])
        row = SourceRow(
            file=placed,
            agency=info["agency"],
            year=info["year"],
            level=level,
            province=province,
            source=source_url or f"added by hand from {origin}",
            retrieved=today,
            sha256=digest,
            kind=kind,
            edition=info["edition"],
            note=note or (f"holds {parts} reports (a compilation); each has its own agency and year" if parts > 1 else ""),
        )
        try:
            _append_row_atomically(table, row)
        except BaseException:
            os.unlink(raw / placed)  # keep data/raw and sources.csv consistent
            raise
        by_hash[digest] = placed
        taken.add(placed)
        msg = f"{item.label} -> {raw / placed}"
        if parts > 1:
            msg += f" (holds {parts} reports; the build reads each one's agency and year)"
        if warning:
            msg += f" ({warning})"
        if parts > 1:
            key, same, notes = "", (), ()
        else:
            key, same, notes = _identity_notes(label, placed, row, known, raw)
        if row.agency and row.year_int is not None:
            known.append((placed, row.agency, row.year))
        outcomes.append(
            AddOutcome(
                label, "added", file=placed, sha256=digest, message=msg, row=row,
                identity=key, same_identity=same, warnings=notes, parts=parts,
            )
        )
    return outcomes


def summary(outcomes: Sequence[AddOutcome]) -> str:
    """One closing line: how many inputs were added, duplicates, skipped… and
    which added files hold several reports."""
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    order = ("added", "duplicate", "skipped", "refused", "missing", "failed")
    text = "add: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in order)
    multi = [o for o in outcomes if o.status == "added" and o.parts > 1]
    if multi:
        text += "; " + "; ".join(f"{o.file} holds {o.parts} reports" for o in multi)
    return text


def _identity_notes(
    src: Path, placed: str, row: SourceRow, known: list[tuple[str, str, str]], raw: Path
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The identity of a newly added file, the files already listed with it,
    and the warnings to print."""
    from .identity import identity, same_agency

    notes: list[str] = []
    if not row.agency or row.year_int is None:
        missing = " and ".join(x for x, v in (("agency", row.agency), ("year", row.year_int)) if not v)
        notes.append(
            f"{placed}: {missing} not detected; the report is kept out of per-agency figures until "
            f"the {missing} column(s) of its row in {raw / SOURCES_NAME} are filled in "
            f"(when adding a file: --agency NAME --year N)"
        )
        return "", (), tuple(notes)
    key = identity(row.agency, row.year)
    same = tuple(f for f, a, y in known if y == row.year and same_agency(a, row.agency))
    if same:
        listed = ", ".join(f"{f} ({a}, {y})" for f, a, y in known if f in same)
        notes.append(
            f"{src}: same report identity {key} as {listed} already in {raw}; added as {placed} "
            f"all the same (a second source of one report): the build compares them cell by cell "
            f"and counts the agency-year once"
        )
    return key, same, tuple(notes)


# --------------------------------------------------------------------------
# command line (``python -m helpers.sources``; ``python -m helpers add`` can delegate here)


@dataclass(frozen=True, slots=True)
class Given:
    agency: str | None
    year: str | None
    edition: str | None
    parts: int = 1


def combine(detect: Callable[[Path], Any] | None, given: Given) -> Callable[[Path], Any] | None:
    if detect is None and given == Given(None, None, None):
        return None

    def combined(path: Path) -> Given:
        found = detect(path) if detect is not None else None

        def pick(key: str) -> str | None:
            value = getattr(given, key)
            return value if value is not None else getattr(found, key, None)

        return Given(pick("agency"), pick("year"), pick("edition"), getattr(found, "parts", 1))

    return combined


def _year_arg(text: str) -> str:
    y = text.strip()
    if not re.fullmatch(r"\d{4}", y):
        raise argparse.ArgumentTypeError(f"{text!r} is not a four-digit year")
    return y


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``add`` command."""
    parser.add_argument(
        "paths", nargs="+", metavar="PATH",
        help="downloaded report files, folders of them or zip archives (every report inside is added once)",
    )
    parser.add_argument("--source", metavar="URL", help="where the files were downloaded from")
    parser.add_argument("--raw-dir", default="data/raw", help="raw data directory (default: data/raw)")
    parser.add_argument("--agency", metavar="NAME", help="reporting agency (overrides detection); recorded in sources.csv")
    parser.add_argument("--year", metavar="N", type=_year_arg, help="report year (overrides detection); recorded in sources.csv")
    parser.add_argument("--edition", help='template edition, "2019" or "2021" (overrides detection)')
    parser.add_argument(
        "--kind",
        choices=KINDS,
        default="original",
        help="original (as published, the default) or transcription (tables copied by hand)",
    )


def run_add(args: argparse.Namespace, detect: Callable[[Path], Any] | None = None, limits: Any = None) -> int:
    """Run ``add``; print one line per input and a summary; exit status 1 if
    any input was missing, refused or failed."""
    outcomes = add_report(
        args.raw_dir,
        args.paths,
        source_url=args.source,
        detect=combine(detect, Given(args.agency, args.year, args.edition)),
        kind=getattr(args, "kind", "original"),
        limits=limits,
    )
    for o in outcomes:
        print(f"{o.status}: {o.message}")
        for w in o.warnings:
            print(f"warning: {w}", file=sys.stderr)
    print(summary(outcomes))
    return 1 if any(o.status in ("missing", "failed", "refused") for o in outcomes) else 0


def run_verify(raw_dir: str | os.PathLike[str] = "data/raw") -> int:
    problems = verify_sources(raw_dir)
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f"{raw_dir}: {len(load_sources(raw_dir))} files, all listed and unchanged")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None, detect: Callable[[Path], Any] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.sources", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add_arguments(sub.add_parser("add", help="copy downloaded reports into data/raw and list them"))
    v = sub.add_parser("verify", help="check data/raw against sources.csv")
    v.add_argument("--raw-dir", default="data/raw")
    args = parser.parse_args(argv)
    if args.command == "add":
        return run_add(args, detect)
    return run_verify(args.raw_dir)


if __name__ == "__main__":
    raise SystemExit(main())
