"""Cell-by-cell comparison of an extraction with the truth of a synthetic report.

Every codebook key the report prints is one of

* ``exact``  — the printed number (or a printed blank read as ``blank``);
* ``unset``  — no number where the truth has one (absent, ``text``, ``na_marker``,
  ``blank`` where a number is printed);
* ``allowed`` — unset, in a cell the damage made unreadable (the benchmark allows it);
* ``wrong``  — a number different from the truth, or a number where a blank is printed.

A key the report does not print but the extraction gives a number for is
``spurious`` (counted with the wrong cells).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REL_TOL = 1e-9


def same_number(got: float | int, want: float | int) -> bool:
    return abs(got - want) <= REL_TOL * max(1.0, abs(want))


@dataclass
class Comparison:
    exact: int = 0
    unset: int = 0
    allowed: int = 0
    wrong: int = 0
    spurious: int = 0
    wrong_cells: list[tuple[str, Any, Any, str]] = field(default_factory=list)  # key, got, want, printed
    unset_cells: list[tuple[str, str, Any, str]] = field(default_factory=list)  # key, status, want, printed

    @property
    def cells(self) -> int:
        return self.exact + self.unset + self.allowed + self.wrong


def compare(result, truth: dict[str, Any], unreadable: frozenset[str] = frozenset()) -> Comparison:
    """Compare an :class:`helpers.result.ExtractResult` with ``truth`` (key -> value, None = blank)."""
    out = Comparison()
    for key, want in truth.items():
        cell = result.cells.get(key)
        status = cell.status if cell is not None else "absent"
        got = cell.value if cell is not None else None
        printed = cell.printed if cell is not None else ""
        if want is None:
            ok = status == "blank"
        else:
            ok = status == "number" and same_number(got, want)
        if ok:
            out.exact += 1
        elif status == "number":
            out.wrong += 1
            out.wrong_cells.append((key, got, want, printed))
        elif key in unreadable:
            out.allowed += 1
        else:
            out.unset += 1
            out.unset_cells.append((key, status, want, printed))
    for key, cell in result.cells.items():
        if key not in truth and cell.status == "number":
            out.spurious += 1
            out.wrong_cells.append((key, cell.value, "(not printed)", cell.printed))
    return out
