"""From the value tokens printed for a row to its cells: width, padding, digit runs.

:meth:`Decoder.decode` is the one place where a row's printed items become the
values of its cells.  It returns a list of candidate readings (one when the
reading is certain, several when a run of digits splits in more than one way
that the row's identities accept) or ``None`` with an issue when the row cannot
be read:

* exactly ``width`` items — read as printed;
* more items than cells — the extra items must be empty padding around the
  values.  The grid column at which the rows of the same table put their first
  value (learnt when at least two rows show it and none contradicts it) wins; otherwise the window in which the row's identities hold; windows that
  hold equally well and read differently leave the differing cells unset (so do,
  in Table 4, whose rows may hold spacer cells between the groups, empty cells
  among the values that make several cells candidates for the spacers).
  Empty cells *among* the values are dropped only when the values are
  exactly as many as the cells and satisfy the row's identities.  More values
  than cells is an error, never a guess;
* fewer items — digits run together, split by :mod:`helpers.splitting` under
  a step budget for the whole document.  In a PDF's text layer, which drops
  empty cells, a row without identities (Table 2) is split only when its digits
  cannot also be read as fewer values with empty cells (``104`` may be
  ``–|–|104``).
"""

from __future__ import annotations

import itertools
import math
import re

from ..numbers import Parsed, parse_cell
from ..result import CellValue, Issue
from ..splitting import MAX_STEPS, search_splits
from ..tokens import BLANK, VALUE, Token
from .state import T4_WIDTH, Record

RUN = re.compile(r"^-?\d[\d.]*(?:-\d[\d.]*)*$")

MAX_BLANK_DROPS = 5_000  # ways of leaving out extra empty cells that are tried
DOC_SPLIT_BUDGET = 300_000  # digit-splitting steps for a whole document (about 2–3 s at most)

Reading = list[tuple[str, Parsed]]  # (printed, parsed) per cell


class Decoder:
    def __init__(self, path: str, issues: list[Issue]):
        self.path = path
        self.issues = issues  # shared with the walk: issues are appended in reading order
        self.split_steps = [0]  # digit-splitting steps used in this document
        self.offsets: dict[tuple[str, str], int] = {}  # (table, grid) -> column of the first value

    def learn_offsets(self, records: list[Record]) -> None:
        """The grid column at which the values of a table block start, learnt from
        the rows whose position is forced (their printed values fill a window
        exactly): kept only when at least two such rows show it and none shows
        another (a row with a spacer cell after its label contradicts it)."""
        seen: dict[tuple[str, str], set[int]] = {}
        count: dict[tuple[str, str], int] = {}
        for rec in records:
            items = [t for t in rec.tokens if t.kind in (VALUE, BLANK)]
            width = rec.width
            if width <= 0 or len(items) <= width:
                continue
            nb = [i for i, t in enumerate(items) if t.kind != BLANK]
            if not nb or nb[-1] - nb[0] != width - 1:
                continue
            place = _grid_place(items[nb[0]])
            if place is None:
                continue
            key = (rec.table.upper(), place[0])
            seen.setdefault(key, set()).add(place[1])
            count[key] = count.get(key, 0) + 1
        self.offsets = {k: next(iter(v)) for k, v in seen.items() if len(v) == 1 and count[k] >= 2}

    def _learnt_start(self, table: str, tokens: list[Token], starts: range) -> int | None:
        """The window start whose first cell stands in the learnt column of its block."""
        for st in starts:
            place = _grid_place(tokens[st])
            if place is not None and self.offsets.get((table, place[0])) == place[1]:
                return st
        return None

    def _error(self, rule: str, severity: str, message: str) -> None:
        self.issues.append(Issue(rule, severity, f"{self.path}: {message}", path=self.path))

    def decode(
        self, tokens: list[Token], width: int, identities, rec: Record | None, where: str = "", label: str = ""
    ) -> list[Reading] | None:
        """Turn a row's tokens into candidate value lists (one list when certain).

        Returns ``None`` (with an issue) when the row cannot be read.
        """
        where = rec.where if rec else where
        label = rec.label if rec else label
        table = rec.table.upper() if rec else ("T4" if width == T4_WIDTH else "T3")
        items = [(t.text, t.parsed or parse_cell(t.text)) for t in tokens if t.kind in (VALUE, BLANK)]
        if width <= 0:
            return None
        if len(items) > width:
            nonblank = [i for i, (_, p) in enumerate(items) if p.status != "blank"]
            if not nonblank:
                items = items[:width]
            else:
                first, last = nonblank[0], nonblank[-1]
                if last - first >= width and len(nonblank) == width and identities:
                    values = [items[i] for i in nonblank]
                    if violations(values, identities) == 0:
                        # empty cells among the values (a rendering's extra columns): the
                        # values are as many as the cells and satisfy the row's identities
                        self._error(
                            "extract.extra_cells",
                            "info",
                            f"{table} row {label!r} at {where}: {len(items) - width} empty cell(s) among "
                            f"{width} values; read as the {width} values, whose identities hold",
                        )
                        return [values]
                if last - first >= width:
                    self._error(
                        "extract.row_width",
                        "error",
                        f"{table} row {label!r} at {where}: {len(nonblank)} values printed where "
                        f"{width} are expected; the row is not read",
                    )
                    return None
                starts = range(max(0, last - width + 1), min(first, len(items) - width) + 1)
                cells = [t for t in tokens if t.kind in (VALUE, BLANK)]
                learnt = self._learnt_start(table, cells, starts)
                if learnt is not None and violations(items[learnt:learnt + width], identities) == 0:
                    # rows of this table with as many cells put their values there
                    items = items[learnt:learnt + width]
                elif table == "T4" and any(items[i][1].status == "blank" for i in range(first, last + 1)):
                    # Table 4 rows may hold spacer cells between their groups: with empty
                    # cells among the values too, the extra cells may be any of them
                    return self._drop_blanks(items, width, identities, table, label, where)
                elif len(starts) > 1:
                    return self._window(items, starts, width, identities, table, label, where)
                else:
                    items = items[starts[0]:starts[0] + width]
        if len(items) == width:
            return [items]
        # a PDF's text layer drops empty cells: fewer values may stand for empty cells
        paged = any(t.where.startswith("page ") for t in tokens)
        return self._split(items, width, identities, table, label, where, paged)

    def _drop_blanks(self, items: Reading, width: int, identities, table: str, label: str, where: str):
        """More cells than columns, with empty cells among the values: every way of
        leaving out that many empty cells, kept where the row's identities hold best;
        one reading, or all of them (the cells that differ are left unset)."""
        blanks = [i for i, (_, p) in enumerate(items) if p.status == "blank"]
        extra = len(items) - width
        if math.comb(len(blanks), extra) > MAX_BLANK_DROPS:
            readings: list[Reading] = []
        else:
            scored: dict[tuple[str, ...], tuple[int, Reading]] = {}
            for drop in itertools.combinations(blanks, extra):
                gone = set(drop)
                reading = [x for i, x in enumerate(items) if i not in gone]
                scored.setdefault(tuple(x for x, _ in reading), (violations(reading, identities), reading))
            best = min(v for v, _ in scored.values())
            readings = [r for v, r in scored.values() if v == best]
        if len(readings) == 1:
            return readings
        self._error(
            "extract.ambiguous_padding",
            "warning",
            f"{table} row {label!r} at {where}: {len(items)} cells for {width} columns, with empty cells among "
            f"the values; the extra cells can stand in {len(readings) or 'too many'} places; cells that differ "
            "between them are left unset",
        )
        return readings or None

    def _window(self, items: Reading, starts: range, width: int, identities, table: str, label: str, where: str):
        """Padding cells around the values: the windows in which the row's identities
        hold best; when they read differently, every reading is returned (cells that
        differ between them are left unset; Table 3 rows may be settled by the
        column identities)."""
        scored = [(violations(items[st:st + width], identities), st) for st in starts]
        best = min(v for v, _ in scored)
        tied = [st for v, st in scored if v == best]
        readings: dict[tuple[str, ...], Reading] = {}
        for st in tied:
            window = items[st:st + width]
            readings.setdefault(tuple(x for x, _ in window), window)
        if len(readings) == 1:
            return [next(iter(readings.values()))]
        self._error(
            "extract.ambiguous_padding",
            "warning",
            f"{table} row {label!r} at {where}: {len(items)} cells for {width} columns, and the empty cells "
            f"can stand in {len(readings)} places; cells that differ between them are left unset",
        )
        return list(readings.values())

    def _fewer_cells(self, runs: list[str], width: int) -> bool:
        """Whether the runs also read as fewer well-formed values than cells (the
        others empty): ``104`` for three cells may be ``1|0|4`` or an empty cell and
        ``10|4``; ``000`` can only be ``0|0|0``."""
        for k in range(len(runs), width):
            left = DOC_SPLIT_BUDGET - self.split_steps[0]
            cands, complete = search_splits(runs, k, [], max_steps=max(0, min(MAX_STEPS, left)), used=self.split_steps)
            if cands or not complete:
                return True
        return False

    def _split(
        self, items: Reading, width: int, identities, table: str, label: str, where: str, paged: bool = False
    ) -> list[Reading] | None:
        """Fewer printed items than cells: digits run together?"""
        runs = [t for t, p in items]
        if sum(len(t) for t in runs) < width:
            runs = []
        unit = ""
        if runs and runs[-1].endswith(("万元", "亿元", "元")):
            unit = "万元" if runs[-1].endswith("万元") else "亿元" if runs[-1].endswith("亿元") else "元"
            runs = runs[:-1] + [runs[-1][: -len(unit)]]
        if runs and all(RUN.match(t) for t in runs):
            if not identities and paged and self._fewer_cells(runs, width):
                self._error(
                    "extract.ambiguous_split",
                    "warning",
                    f"{table} row {label!r} at {where}: {' '.join(runs)!r} printed for {width} cells can also be "
                    "fewer values with empty cells a text layer dropped, and the row has no identity to tell; "
                    "the row is not read",
                )
                return None
            left = DOC_SPLIT_BUDGET - self.split_steps[0]
            cands, complete = search_splits(
                runs, width, identities, max_steps=max(0, min(MAX_STEPS, left)), used=self.split_steps
            )
            if unit:
                cands = [c[:-1] + [c[-1] + unit] for c in cands]
            if len(cands) == 1:
                return [[(s, parse_cell(s)) for s in cands[0]]]
            if cands:
                self._error(
                    "extract.ambiguous_split",
                    "warning",
                    f"{table} row {label!r} at {where}: the digits {' '.join(runs)!r} can be split "
                    f"into {width} cells in {len(cands)}{'+' if len(cands) >= 64 else ''} ways that satisfy the row's identities; "
                    "cells that differ between them are left unset",
                )
                return [[(s, parse_cell(s)) for s in c] for c in cands]
            if not complete:
                self._error(
                    "extract.split_budget",
                    "warning",
                    f"{table} row {label!r} at {where}: the search for a split of the digits "
                    f"{' '.join(runs)!r} into {width} cells stopped at its step budget; the row is not read",
                )
                return None
            self._error(
                "extract.unsplittable",
                "error",
                f"{table} row {label!r} at {where}: the digits {' '.join(runs)!r} cannot be split into "
                f"{width} cells that satisfy the row's identities; the row is not read",
            )
            return None
        self._error(
            "extract.row_width",
            "error",
            f"{table} row {label!r} at {where}: {len(items)} cells printed where {width} are "
            "expected; the row is not read",
        )
        return None


def violations(items: Reading, identities) -> int:
    """How many row identities a window of printed cells breaks (blank parts count 0;
    a blank total breaks nothing)."""
    n = 0
    for total, comps in identities:
        t = items[total][1]
        if t.status != "number":
            continue
        parts = [items[i][1] for i in comps]
        if any(p.status not in ("number", "blank") for p in parts):
            continue
        if abs(t.value - sum(p.value or 0 for p in parts)) > 1e-9:
            n += 1
    return n


def printed_run(tokens: list[Token]) -> str:
    """The digits of a row as printed, for cells that cannot be told apart."""
    return " ".join(t.text for t in tokens if t.kind == VALUE)


def cell(printed: str, p: Parsed) -> CellValue:
    return CellValue(p.value if p.status == "number" else None, p.status, printed)


def cells_of(readings: list[Reading], keys: list[str], printed: str) -> dict[str, CellValue]:
    """The cells of one or more candidate readings: a cell on which they all agree
    is read; the others keep what was printed (``printed``) and no value."""
    out: dict[str, CellValue] = {}
    for i, key in enumerate(keys):
        options = sorted({c[i][0] for c in readings})
        if len(options) == 1:
            out[key] = cell(readings[0][i][0], readings[0][i][1])
        else:
            out[key] = CellValue(None, "text", printed)
    return out


_GRID_CELL = re.compile(r"^(table \d+) row \d+ cell (\d+)$")


def _grid_place(token: Token) -> tuple[str, int] | None:
    """(grid, column) of a token read from a grid cell; None for text lines."""
    m = _GRID_CELL.match(token.where)
    return (m.group(1), int(m.group(2))) if m else None
