"""From a report file to canonical cells: read → tokenise → map → validate.

:func:`extract_file` is what ``python -m helpers extract`` calls for each
file: one result per report the file holds (a compilation or a year-on-year
comparison holds several; :mod:`helpers.parts` finds them).
:func:`extract_path` reads a file as one report.  Neither raises: a broken
file gives a result with status ``failed`` (or ``unsupported``) and an issue
that says why.
"""

from __future__ import annotations

import re
from typing import Callable

from . import codebook as _codebook
from . import narrative
from .document import Document
from .edition import detect
from .limits import BudgetExceeded, Limits, current, time_budget
from .metadata import report_year_and_agency
from .parts import describe, part_document, split_document
from .read import read_document
from .read.encoding import MOJIBAKE_NOTE
from .result import ABSENT, CellValue, ExtractResult, Issue
from .tables import Mapper
from .tokens import document_rows

# Markers of the pre-2019 outline (2008 Regulations era): statistics table
# with 指标名称/计量单位, sections on 依申请公开和不予公开 / 收费及减免.
_RUN = re.compile(r"^-?\d[\d.\-]*(?:元|万元)?$")
_OLD_OUTLINE = re.compile(r"指标名称|计量单位|历年累计|依申请公开和不予公开|收费及减免|政府信息公开情况统计表|不予公开情况")


def extract_document(
    doc: Document, level: str | None = None, meta: tuple[int | None, str | None] | None = None
) -> ExtractResult:
    """Extract one report from a document.

    ``meta`` is the (year, agency) known from outside the document's own head
    (the title of one report in a compilation); a ``None`` in it is read from
    the text as usual.
    """
    path = doc.path
    result = ExtractResult(path=path, status="ok", kind=doc.kind)
    if doc.status != "ok":
        result.status = doc.status
        result.issues.append(Issue(f"read.{doc.status}", "error", doc.message or f"{path}: not readable", path=path))
        return result
    cb = _codebook.load()
    for note in doc.notes:
        if MOJIBAKE_NOTE in note:
            # damaged text: labels are garbled, so the rows they stood for are not
            # recognised (their values are not read); say so in the file's name
            msg = note if note.startswith(f"{path}: ") else f"{path}: {note}"
            result.issues.append(
                Issue("read.mojibake", "error", f"{msg}; rows whose labels are damaged are not read", path=path)
            )
        else:
            result.issues.append(Issue("read.note", "warning", note, path=path))
    try:
        rows = document_rows(doc, cb)
        edition, votes = detect(rows, cb)
        mapper = Mapper(cb, edition, path)
        mapper.feed(rows)
        mapped = mapper.result()
    except Exception as exc:  # an extractor bug must not stop a build
        result.status = "failed"
        result.issues.append(
            Issue("extract.crash", "error", f"{path}: extraction failed: {type(exc).__name__}: {exc}", path=path)
        )
        return result
    year, agency = report_year_and_agency(doc)
    if meta is not None:
        year = meta[0] if meta[0] is not None else year
        agency = meta[1] if meta[1] is not None else agency
    result.year, result.agency, result.edition = year, agency, edition
    result.issues.extend(mapped.issues)

    found_any = any(mapped.rows_found.values())
    if year is not None and year <= 2018:
        # before 2019 there was no State Council format: whatever looks like a
        # table row here belongs to a provincial statistics table, not ours
        found_any = False
    if not found_any:
        result.edition = None  # no table was read, so no edition was seen
        text = doc.text()
        if year is not None and year <= 2018:
            result.status = "unsupported"
            result.issues.append(
                Issue(
                    "extract.pre2019",
                    "error",
                    f"{path}: a {year} report: the standard tables of the 2019 State Council format are absent "
                    "(reports before 2019 used provincial formats); not parsed",
                    path=path,
                )
            )
        elif mapped.tables_found and not _OLD_OUTLINE.search(text):
            result.status = "failed"
            names = {"t2": "Table 2 (主动公开)", "t3": "Table 3 (收到和处理申请)", "t4": "Table 4 (行政复议、行政诉讼)"}
            seen = ", ".join(names[t] for t in ("t2", "t3", "t4") if t in mapped.tables_found)
            result.issues.append(
                Issue(
                    "extract.no_values",
                    "error",
                    f"{path}: the labels of {seen} are printed but no row carries readable values "
                    "(tables left empty, or cut off before their values)",
                    path=path,
                )
            )
        else:
            result.status = "failed"
            hint = (
                " The text follows the pre-2019 outline (统计表 with 指标名称/计量单位 or sections such as 依申请公开和不予公开)."
                if _OLD_OUTLINE.search(text)
                else ""
            )
            result.issues.append(
                Issue(
                    "extract.no_tables",
                    "error",
                    f"{path}: none of the three standard tables (主动公开 / 收到和处理申请 / 行政复议、行政诉讼) "
                    f"was found.{hint}",
                    path=path,
                )
            )
        return result

    if edition is None:
        result.issues.append(
            Issue(
                "extract.edition_unknown",
                "warning",
                f"{path}: the edition cannot be told from the labels (Table 2 missing or mixed; votes {votes}); "
                "only the cells common to both editions are listed",
                path=path,
            )
        )

    keys = cb.keys_for(edition)
    cells: dict[str, CellValue] = {k: mapped.cells.get(k, ABSENT) for k in keys}
    for k, v in mapped.cells.items():  # printed rows outside the edition (e.g. a hybrid)
        if k not in cells:
            cells[k] = v
    result.cells = cells

    # what is missing
    partial_reasons: list[str] = []
    missing_tables = [t for t in ("t2", "t3", "t4") if not mapped.rows_found[t]]
    names = {"t2": "Table 2 (主动公开)", "t3": "Table 3 (收到和处理申请)", "t4": "Table 4 (行政复议、行政诉讼)"}
    if missing_tables:
        partial_reasons.append("missing " + ", ".join(names[t] for t in missing_tables))
    if mapped.rows_found["t3"]:
        leaves = cb.t3_leaves(mapped.split_other)
        missing_rows = [r for r in leaves if r not in mapped.rows_found["t3"]]
        if missing_rows:
            partial_reasons.append(f"Table 3 rows not found: {', '.join(missing_rows)}")
    if mapped.rows_found["t2"] and edition:
        missing_t2 = [r for r in cb.t2_rows[edition] if r not in mapped.rows_found["t2"]]
        if missing_t2:
            partial_reasons.append(f"Table 2 rows not found: {', '.join(missing_t2)}")
    if any(i.rule == "extract.ambiguous_split" for i in mapped.issues):
        unread = [k for k, v in cells.items() if v.status == "text" and _RUN.match(v.printed.replace(" ", ""))]
        partial_reasons.append(f"{len(unread)} cell(s) ambiguous (digits run together)")
    for reason in partial_reasons:
        result.issues.append(Issue("extract.partial", "warning", f"{path}: {reason}", path=path))
    result.status = "partial" if partial_reasons else "ok"

    try:
        from .validate import check_report

        result.issues.extend(check_report(result, split_other=mapped.split_other, level=level))
    except ImportError:  # pragma: no cover - during bootstrap
        pass
    try:
        result.narrative = narrative.find(doc, year)
        result.issues.extend(narrative.check(result, split_other=mapped.split_other))
    except Exception as exc:  # the narrative layer must not cost the tables
        result.narrative = []
        result.issues.append(
            Issue("narrative.failed", "warning", f"{path}: the narrative was not read: {type(exc).__name__}: {exc}", path=path)
        )
    return result


def _within_limits(
    path: str, limits: Limits | None, work: Callable[[Document], list[ExtractResult]]
) -> list[ExtractResult]:
    """Read ``path`` once within ``limits`` and run ``work`` on its document. Never raises."""
    try:
        lim = limits if limits is not None else current()
    except ValueError as exc:  # a malformed GIDR_MAX_* variable
        return [ExtractResult(
            path=path, status="failed", issues=[Issue("read.failed", "error", f"{path}: not read: {exc}", path=path)]
        )]
    try:
        with time_budget(lim.max_seconds, path) as deadline:
            try:
                doc = read_document(path, limits=lim, deadline=deadline)
            except Exception as exc:  # pragma: no cover - read_document already guards
                return [ExtractResult(
                    path=path,
                    status="failed",
                    issues=[Issue("read.failed", "error", f"{path}: {type(exc).__name__}: {exc}", path=path)],
                )]
            deadline.check()
            return work(doc)
    except BudgetExceeded:
        msg = lim.refusal(path, "reading and extracting the file did not finish in time", "max_seconds")
        return [ExtractResult(path=path, status="unsupported", issues=[Issue("read.unsupported", "error", msg, path=path)])]


def extract_path(path: str, level: str | None = None, limits: Limits | None = None) -> ExtractResult:
    """Read and extract one file as one report. Never raises.

    ``limits`` default to :func:`helpers.limits.current` (defaults and
    ``GIDR_MAX_*`` environment variables).  Reading, extraction and
    validation together get ``limits.max_seconds`` of wall clock; a file that
    needs more is ``unsupported``.
    """
    return _within_limits(path, limits, lambda doc: [extract_document(doc, level=level)])[0]


def extract_file(path: str, level: str | None = None, limits: Limits | None = None) -> list[ExtractResult]:
    """Every report a file holds, one result each (``part`` 1…``parts``).

    A file holding one report gives one result, equal to :func:`extract_path`;
    a file whose reports cannot be told apart gives one ``failed`` result with
    an ``extract.several_reports`` issue and no cells.  Limits as for
    :func:`extract_path`, for the whole file.  Never raises.
    """
    return _within_limits(path, limits, lambda doc: extract_reports(doc, level=level))


def extract_reports(doc: Document, level: str | None = None) -> list[ExtractResult]:
    """Every report of a document (see :func:`extract_file`)."""
    whole = extract_document(doc, level=level)
    if doc.status != "ok" or not any(i.rule == "extract.duplicate_row" for i in whole.issues):
        return [whole]  # no template row printed twice: one report, read as always
    try:
        split = split_document(doc)
    except Exception as exc:  # a splitter bug must not stop a build, nor mix two reports
        return [_several(doc, "template rows printed twice", f"splitting failed: {type(exc).__name__}: {exc}")]
    if not split.several:
        return [whole]
    if not split.parts:
        return [_several(doc, split.seen, split.reason)]
    n = len(split.parts)
    results: list[ExtractResult] = []
    for k, part in enumerate(split.parts, 1):
        r = extract_document(part_document(doc, part), level=level, meta=(part.year, part.agency))
        dup = next((i for i in r.issues if i.rule == "extract.duplicate_row"), None)
        if dup is not None:  # the cut left a row printed twice in one report: do not trust it
            return [_several(doc, split.seen, f"report {k} of the cut still prints a row twice ({dup.message})")]
        r.part, r.parts = k, n
        name = f"{doc.path} ({describe(part, k, n)})"
        for issue in r.issues:
            if issue.message.startswith(f"{doc.path}: "):
                issue.message = name + issue.message[len(doc.path):]
        results.append(r)
    return results


def _several(doc: Document, seen: str, reason: str) -> ExtractResult:
    """The one result of a file whose reports cannot be separated: no cells, no metadata."""
    msg = (
        f"{doc.path}: the file holds several reports ({seen}) but they cannot be separated with confidence: "
        f"{reason}; none of them is read"
    )
    return ExtractResult(
        path=doc.path, status="failed", kind=doc.kind,
        issues=[Issue("extract.several_reports", "error", msg, path=doc.path)],
    )
