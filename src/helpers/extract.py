"""From a report file to canonical cells: read → tokenise → map → validate.

:func:`extract_path` is what ``python -m helpers extract`` and the build call
for each file.  It never raises: a broken file gives a result with status
``failed`` (or ``unsupported``) and an issue that says why.
"""

from __future__ import annotations

import re

from . import codebook as _codebook
from .document import Document
from .edition import detect
from .limits import BudgetExceeded, Limits, current, time_budget
from .metadata import report_year_and_agency
from .read import read_document
from .read.encoding import MOJIBAKE_NOTE
from .result import ABSENT, CellValue, ExtractResult, Issue
from .tables import Mapper
from .tokens import document_rows

# Markers of the pre-2019 outline (2008 Regulations era): statistics table
# with 指标名称/计量单位, sections on 依申请公开和不予公开 / 收费及减免.
_RUN = re.compile(r"^-?\d[\d.\-]*(?:元|万元)?$")
_OLD_OUTLINE = re.compile(r"指标名称|计量单位|历年累计|依申请公开和不予公开|收费及减免|政府信息公开情况统计表|不予公开情况")


def extract_document(doc: Document, level: str | None = None) -> ExtractResult:
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
    return result


def extract_path(path: str, level: str | None = None, limits: Limits | None = None) -> ExtractResult:
    """Read and extract one file. Never raises.

    ``limits`` default to :func:`helpers.limits.current` (defaults and
    ``GIDR_MAX_*`` environment variables).  Reading, extraction and
    validation together get ``limits.max_seconds`` of wall clock; a file that
    needs more is ``unsupported``.
    """
    try:
        lim = limits if limits is not None else current()
    except ValueError as exc:  # a malformed GIDR_MAX_* variable
        return ExtractResult(
            path=path, status="failed", issues=[Issue("read.failed", "error", f"{path}: not read: {exc}", path=path)]
        )
    try:
        with time_budget(lim.max_seconds, path) as deadline:
            try:
                doc = read_document(path, limits=lim, deadline=deadline)
            except Exception as exc:  # pragma: no cover - read_document already guards
                return ExtractResult(
                    path=path,
                    status="failed",
                    issues=[Issue("read.failed", "error", f"{path}: {type(exc).__name__}: {exc}", path=path)],
                )
            deadline.check()
            return extract_document(doc, level=level)
    except BudgetExceeded:
        msg = lim.refusal(path, "reading and extracting the file did not finish in time", "max_seconds")
        return ExtractResult(path=path, status="unsupported", issues=[Issue("read.unsupported", "error", msg, path=path)])


def extract_file(path: str, level: str | None = None, limits: Limits | None = None) -> list[ExtractResult]:
    """Every report a file holds, one result each (``part`` 1…``parts``).

    A file holding one report gives one result, equal to :func:`extract_path`.
    Never raises.
    """
    return [extract_path(path, level=level, limits=limits)]
