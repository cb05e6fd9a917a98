"""What extraction returns: printed cells, issues and report metadata.

This is the contract behind ``python -m helpers extract`` (one JSON object per
file) and the rows of ``data/processed/cells`` and ``issues``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CellStatus = Literal["number", "blank", "na_marker", "text", "absent"]
ReportStatus = Literal["ok", "partial", "failed", "unsupported"]
Severity = Literal["error", "warning", "info"]

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(slots=True)
class CellValue:
    """One codebook cell as printed.

    ``value`` is a number only when ``status == "number"``; a blank stays
    ``None`` with status ``blank`` and is never turned into 0 here.
    ``printed`` is the cell's text as it appeared (after whitespace trim).
    ``where`` locates it in the source: table, row and column, or page.
    """

    value: float | int | None
    status: CellStatus
    printed: str = ""
    where: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "status": self.status, "printed": self.printed}


ABSENT = CellValue(None, "absent", "")


@dataclass(slots=True)
class Issue:
    """One failed rule or extraction problem.

    ``rule`` is a stable identifier (e.g. ``t3.row_total``, ``extract.ambiguous_split``);
    ``cells`` are the codebook keys involved; ``expected``/``actual`` are set
    for arithmetic rules.  ``message`` names the file and, where known, the
    table, row and cell.
    """

    rule: str
    severity: Severity
    message: str
    cells: list[str] = field(default_factory=list)
    expected: float | None = None
    actual: float | None = None
    path: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "cells": list(self.cells),
        }
        if self.expected is not None or self.actual is not None:
            out["expected"] = self.expected
            out["actual"] = self.actual
        return out


@dataclass(slots=True)
class NarrativeValue:
    """A number the report states in its prose (see :mod:`helpers.narrative`).

    ``pattern`` is the id of the phrase pattern that read it; ``printed`` the
    number as printed (``"81"``, ``"51.85%"``), ``value`` its value and ``unit``
    ``件`` or ``%``; ``target`` the table cells it names, as a sum of codebook
    terms (``t3:total_processed``, ``t4:review.total``); ``where`` the line or
    page.  After checking, ``table`` is the tables' value (for a percentage, its
    numerator), ``agrees`` whether the two agree (``None`` when the table does not
    print it as numbers), and ``denominators`` which candidate denominators
    reproduce a percentage to its printed precision.
    """

    pattern: str
    sentence: str
    printed: str
    value: float | int
    unit: str
    target: str
    where: str = ""
    table: float | int | None = None
    agrees: bool | None = None
    denominators: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pattern": self.pattern,
            "sentence": self.sentence,
            "printed": self.printed,
            "value": self.value,
            "unit": self.unit,
            "key": self.target,
            "table": self.table,
            "agrees": self.agrees,
            "where": self.where,
        }
        if self.unit == "%":
            out["denominators"] = list(self.denominators)
        return out


@dataclass(slots=True)
class ExtractResult:
    path: str
    status: ReportStatus
    edition: str | None = None  # "2019" | "2021" | None
    agency: str | None = None
    year: int | None = None
    kind: str | None = None  # reader: text | html | pdf | docx
    cells: dict[str, CellValue] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    # which report of the file this is (1-based) and how many the file holds:
    # a compilation (汇编) or a year-on-year comparison holds several
    part: int = 1
    parts: int = 1
    # numbers stated in the narrative, checked against the tables
    narrative: list[NarrativeValue] = field(default_factory=list)

    def value(self, key: str) -> float | int | None:
        c = self.cells.get(key)
        return c.value if c is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "part": self.part,
            "parts": self.parts,
            "status": self.status,
            "edition": self.edition,
            "agency": self.agency,
            "year": self.year,
            "cells": {k: v.to_json() for k, v in self.cells.items()},
            "issues": [i.to_json() for i in self.issues],
            "narrative": [n.to_json() for n in self.narrative],
        }
