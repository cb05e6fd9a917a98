"""Find the three standard tables in a token stream and map them onto codebook keys.

The mapper walks the physical rows of a document (see :mod:`helpers.tokens`)
once, keeping a small state: which table it is in (opened by section headings,
table anchors and unmistakable row labels), the current Table 2 block and its
column header, and the row record that is collecting values.

* A row label opens a *record*; the values that follow (in the same grid row,
  or on the next lines for one-cell-per-line text) fill it.  Values followed
  by prose in the same line are discarded: prose is never read as data.
* Table 3 rows whose label was lost (pure rows of seven values) are placed in
  template order between the labelled rows around them, and only when their
  number equals the number of unfilled rows there; otherwise they are
  reported and left unset.
* A row whose label is not recognised (a substituted or damaged word) is
  reported (``extract.unrecognised_row``) and its values are not read.  A
  Table 2 column header with one unrecognised cell is read as the template's
  columns only when its recognised cells stand at their template positions
  (``extract.unlabelled_column``); otherwise the block's rows are not read,
  so a lost header cell can never shift values into the next column.
* Table 4 is read as its 15 values in template order.
* Digits run together are split by :mod:`helpers.splitting`; Table 3 splits
  that the row identity leaves open are settled by the column identities
  across rows, or reported as ambiguous.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from .codebook import Codebook, LabelEntry
from .identities import t3_row_identity, t4_row_identities
from .numbers import Parsed, parse_cell, to_wan_yuan, to_yuan
from .result import CellValue, Issue
from .splitting import MAX_STEPS, search_splits
from .tokens import BLANK, LABEL, TEXT, VALUE, Row, Token

_RUN = re.compile(r"^-?\d[\d.]*(?:-\d[\d.]*)*$")

T3_WIDTH = 7
T4_WIDTH = 15
MAX_JOINT_COMBINATIONS = 20_000
DOC_SPLIT_BUDGET = 300_000  # digit-splitting steps for a whole document (about 2–3 s at most)


@dataclass(slots=True)
class Record:
    table: str  # t2 | t3
    row: str
    label: str
    where: str
    order: int
    cols: list[str] = field(default_factory=list)  # t2 column ids
    tokens: list[Token] = field(default_factory=list)
    grid: bool = False  # whether the label stood in a grid row
    discarded: bool = False
    closed: bool = False

    @property
    def width(self) -> int:
        return T3_WIDTH if self.table == "t3" else len(self.cols)


@dataclass(slots=True)
class Unlabelled:
    tokens: list[Token]
    where: str
    order: int


@dataclass
class Mapped:
    """What the mapper found, before validation."""

    cells: dict[str, CellValue]
    issues: list[Issue]
    tables_found: set[str]
    split_other: bool
    rows_found: dict[str, set[str]]


def _pick(entries: tuple[LabelEntry, ...], kinds: tuple[str, ...]) -> LabelEntry | None:
    for k in kinds:
        for e in entries:
            if e.kind == k:
                return e
    return None


class Mapper:
    def __init__(self, cb: Codebook, edition: str | None, path: str):
        self.cb = cb
        self.edition = edition
        self.path = path
        self.ctx: str | None = None
        self.block: str | None = None
        # Table 2 column header: column ids, None for a header cell whose text is
        # not recognised (a damaged or substituted label); open until a row label
        self.header: list[str | None] = []
        self.header_unknown: list[tuple[str, str]] = []  # (text, where) of the unknown cells
        self.in_header = False
        # a lone line of label-like text in a table, whose values may follow
        self.pending_text: tuple[str, str] | None = None
        self.open: Record | None = None
        self.records: list[Record] = []
        self.unlabelled: list[Unlabelled] = []
        self.t4_tokens: list[Token] = []
        self.t4_done = False
        self.tables_seen: set[str] = set()
        self.issues: list[Issue] = []
        self.order = 0
        self._preferred_start: dict[tuple[str, int], int] = {}
        self._split_steps = [0]  # digit-splitting steps used in this document

    # ------------------------------------------------------------------ stream
    def feed(self, rows: list[Row]) -> None:
        for row in rows:
            self._row(row)
        self._close()

    def _close(self, by_text: bool = False) -> None:
        rec = self.open
        if rec is None:
            return
        if by_text and any(t.kind == VALUE for t in rec.tokens):
            rec.discarded = True
        rec.closed = True
        self.open = None

    def _row(self, row: Row) -> None:
        toks = [t for t in row.tokens if not (t.kind == TEXT and not t.text)]
        if not toks:
            return
        kinds = {t.kind for t in toks}
        self.order += 1
        pure = kinds <= {VALUE, BLANK}
        pending, self.pending_text = self.pending_text, None
        if pure and VALUE in kinds and self.ctx != "t4":
            rec = self.open
            if rec is None or rec.closed:
                if self.ctx == "t2" and self.in_header and self.header and self.header[-1] is None:
                    # the unknown "header cell" before these values was a row label
                    self.header.pop()
                    self.in_header = False
                    self._unrecognised_row(*self.header_unknown.pop())
                elif pending is not None and self.ctx in ("t2", "t3") and any(
                    x.parsed is not None and x.parsed.status == "number" for x in toks
                ):
                    self._unrecognised_row(*pending)
            # values on the lines after a label: only when label and values are of one
            # layout (a loose text line is no label for a row of a grid)
            if rec is not None and not rec.closed and len(rec.tokens) < max(rec.width, 1) and rec.grid == row.grid:
                if not row.grid or not rec.tokens:
                    rec.tokens.extend(t for t in toks if t.kind == VALUE or row.grid)
                    self._maybe_close_after_row(row)
                    return
            self._close()
            if self.ctx == "t3":
                if len(toks) >= T3_WIDTH or (len(toks) == 1 and len(toks[0].text) >= T3_WIDTH and _RUN.match(toks[0].text)):
                    self.unlabelled.append(Unlabelled(toks, row.where, self.order))
                else:
                    self.issues.append(
                        Issue(
                            "extract.stray_values",
                            "info",
                            f"{self.path}: stray value(s) {' '.join(t.text or '(blank)' for t in toks)!r} at {row.where} "
                            "in Table 3 belong to no row; ignored",
                            path=self.path,
                        )
                    )
            return
        i = 0
        while i < len(toks):
            t = toks[i]
            if self.ctx == "t4":
                # Table 4 runs until a label that leaves it (section 五, another table)
                j = i
                while j < len(toks) and not (toks[j].kind == LABEL and self._leaves_t4(toks[j])):
                    j += 1
                self._t4_row(row, toks[i:j], whole_row=(i == 0 and j == len(toks)))
                if j < len(toks):
                    self._label(toks[j], row)
                i = j + 1
                continue
            i += 1
            if t.kind == LABEL:
                self._label(t, row)
            elif t.kind == TEXT:
                self._close(by_text=True)
                if self.ctx in ("t2", "t3") and _header_like(t.text):
                    rest = toks[i:]
                    if rest and all(x.kind in (VALUE, BLANK) for x in rest) and any(x.kind == VALUE for x in rest):
                        # label-like text followed by values: a row whose label is not recognised
                        self.in_header = False
                        self._unrecognised_row(t.text, row.where)
                    elif self.ctx == "t2" and self.in_header:
                        # a header cell that is no known column label: its column is unknown
                        self.header.append(None)
                        self.header_unknown.append((t.text, row.where))
                    elif not rest and all(x is t or x.kind == LABEL or _ENUMERATOR.match(x.text) for x in toks):
                        self.pending_text = (t.text, row.where)  # its values may follow, one per line
            else:  # VALUE / BLANK
                if self.open is not None:
                    self.open.tokens.append(t)
        self._maybe_close_after_row(row)

    def _unrecognised_row(self, text: str, where: str) -> None:
        self.issues.append(
            Issue(
                "extract.unrecognised_row",
                "warning",
                f"{self.path}: {self.ctx.upper()} row {text!r} at {where} carries values but its label is not "
                "recognised; its values are not read",
                path=self.path,
            )
        )

    def _maybe_close_after_row(self, row: Row) -> None:
        rec = self.open
        if rec is None:
            return
        if row.grid:
            if rec.tokens:
                self._close()
        elif len(rec.tokens) >= max(rec.width, 1):
            self._close()

    # ------------------------------------------------------------------ labels
    def _label(self, t: Token, row: Row) -> None:
        e = t.entries
        sec = _pick(e, ("section",))
        if sec:
            self._close()
            self.ctx = sec.target
            if sec.target in ("t2", "t3", "t4"):
                self.tables_seen.add(sec.target)
            self.block, self.header = None, []
            self.header_unknown, self.in_header = [], False
            return
        anchor = _pick(e, ("anchor",))
        if anchor:
            self._close()
            if anchor.target != self.ctx:
                self.ctx = anchor.target
                self.tables_seen.add(anchor.target)
            if anchor.target == "t2":
                self.header, self.header_unknown, self.in_header = [], [], True
            return
        if self.ctx == "t2" or self.ctx is None or self.ctx == "t3" and not self._t3_started():
            blk = _pick(e, ("t2_block",))
            if blk:
                self._close()
                self.ctx = "t2"
                self.tables_seen.add("t2")
                self.block, self.header = blk.target, []
                self.header_unknown, self.in_header = [], True
                return
        if self.ctx == "t2":
            col = _pick(e, ("t2_col",))
            if col:
                self._close()
                self.header.append(col.target)
                self.in_header = True
                return
            r = _pick(e, ("t2_row",))
            if r:
                self._close()
                self._open_t2(r, t, row)
                return
        r3 = _pick(e, ("t3_row",))
        if r3 and (self.ctx == "t3" or len(t.text) >= 8 or self.ctx is None and len(t.text) >= 4):
            self._close()
            if self.ctx != "t3":
                self.ctx = "t3"
                self.tables_seen.add("t3")
            self.open = Record("t3", r3.target, t.text, t.where, self.order, grid=row.grid)
            self.records.append(self.open)
            return
        g = _pick(e, ("t3_group", "t3_col"))
        if g:
            self._close()
            if g.kind == "t3_group" and self.ctx not in ("t3",) and len(t.text) >= 6:
                self.ctx = "t3"
                self.tables_seen.add("t3")
            return
        g4 = _pick(e, ("t4_group", "t4_col"))
        if g4:
            self._close()
            if self.ctx == "t3" and g4.kind == "t4_group":
                self.ctx = "t4"
                self.tables_seen.add("t4")
            return
        # a label that means nothing here (e.g. a Table 2 row name in prose)
        self._close()

    def _t3_started(self) -> bool:
        return any(r.table == "t3" for r in self.records)

    def _open_t2(self, entry: LabelEntry, t: Token, row: Row) -> None:
        row_id = entry.target
        self.in_header = False
        cols = self._t2_cols(row_id)
        if cols is None and None in self.header:
            self.issues.append(
                Issue(
                    "extract.t2_columns",
                    "warning",
                    f"{self.path}: Table 2 row {t.text!r} at {t.where}: the column header holds unrecognised "
                    f"cell(s) {', '.join(repr(x) for x, _ in self.header_unknown)}, so its columns are not known; "
                    "its values are not read",
                    path=self.path,
                )
            )
            return
        if cols is None:
            self.issues.append(
                Issue(
                    "extract.t2_columns",
                    "warning",
                    f"{self.path}: Table 2 row {t.text!r} at {t.where}: no column layout of edition "
                    f"{self.edition or 'unknown'} fits this row; its values are not read",
                    path=self.path,
                )
            )
            return
        self.open = Record("t2", row_id, t.text, t.where, self.order, cols=cols, grid=row.grid)
        self.records.append(self.open)

    def _t2_cols(self, row_id: str) -> list[str] | None:
        eds = [self.edition] if self.edition else ["2021", "2019"]
        if None in self.header:
            return self._t2_cols_with_gap(row_id, eds)
        for ed in eds:
            if self.header and all(f"t2.{row_id}.{c}" in self.cb.keys and ed in self.cb.keys[f"t2.{row_id}.{c}"].editions for c in self.header):
                if len(set(self.header)) == len(self.header):
                    return list(self.header)
        for ed in eds:
            default = self.cb.t2_cols.get((ed, row_id))
            if default:
                return list(default)
        return None

    def _t2_cols_with_gap(self, row_id: str, eds: list[str]) -> list[str] | None:
        """Columns of a header with one unrecognised cell: the template's columns,
        only when the header has their number and every recognised label stands
        at its template position (the unknown cell is then the one column left
        there).  Otherwise None: the values are not read."""
        header = self.header
        known = [h for h in header if h is not None]
        if len(header) - len(known) != 1 or not known or len(set(known)) != len(known):
            return None
        for ed in eds:
            default = self.cb.t2_cols.get((ed, row_id))
            if default and len(default) == len(header) and all(h is None or h == d for h, d in zip(header, default)):
                gap = header.index(None)
                note = (
                    f"{self.path}: Table 2 column header cell {self.header_unknown[0][0]!r} at {self.header_unknown[0][1]} "
                    "is not recognised; "
                    f"read as {default[gap]!r}, the only template column left at its position"
                )
                if not any(i.message == note for i in self.issues):
                    self.issues.append(Issue("extract.unlabelled_column", "info", note, path=self.path))
                return list(default)
        return None

    # ------------------------------------------------------------------ table 4
    def _leaves_t4(self, t: Token) -> bool:
        e = t.entries
        sec = _pick(e, ("section",))
        if sec:
            return sec.target != "t4"
        anc = _pick(e, ("anchor",))
        if anc:
            return anc.target != "t4"
        if _pick(e, ("t2_block",)):
            return True
        r3 = _pick(e, ("t3_row",))
        return bool(r3 and len(t.text) >= 8)

    def _t4_row(self, row: Row, toks: list[Token], whole_row: bool = True) -> None:
        if self.t4_done or not toks:
            return
        has_label = any(t.kind == LABEL for t in toks) or not whole_row
        run: list[Token] = []
        prev_kind = None

        def accept(run: list[Token], next_kind: str | None) -> None:
            if not run:
                return
            if prev_kind == TEXT or next_kind == TEXT:
                return  # numbers in prose
            vals = [t for t in run if t.kind == VALUE or not has_label]
            self.t4_tokens.extend(vals)

        for t in toks:
            if t.kind in (VALUE, BLANK):
                run.append(t)
                continue
            accept(run, t.kind)
            run = []
            prev_kind = t.kind
        accept(run, None)
        if sum(1 for t in self.t4_tokens if t.kind == VALUE) and len(self.t4_tokens) >= T4_WIDTH:
            self.t4_done = True

    # ------------------------------------------------------------------ results
    def result(self) -> Mapped:
        issues = self.issues
        cb = self.cb
        cells: dict[str, CellValue] = {}
        rows_found: dict[str, set[str]] = {"t2": set(), "t3": set(), "t4": set()}

        self._learn_offsets()
        # decode every record; the first readable record of a row is used
        chosen: dict[tuple[str, str], Record] = {}
        decoded_of: dict[tuple[str, str], list] = {}
        pending_issues: dict[tuple[str, str], list[Issue]] = {}
        for rec in self.records:
            if rec.discarded or not rec.tokens:
                continue
            k = (rec.table, rec.row)
            n_before = len(issues)
            decoded = self._decode(rec.tokens, rec.width, t3_row_identity() if rec.table == "t3" else [], rec)
            new_issues = issues[n_before:]
            del issues[n_before:]
            if decoded is None:
                pending_issues.setdefault(k, []).extend(new_issues)
                continue
            if k in chosen:
                issues.append(
                    Issue(
                        "extract.duplicate_row",
                        "warning",
                        f"{self.path}: {rec.table.upper()} row {rec.label!r} printed again at {rec.where}; "
                        f"the first one ({chosen[k].where}) is used",
                        path=self.path,
                    )
                )
                continue
            issues.extend(new_issues)
            chosen[k] = rec
            decoded_of[k] = decoded

        split_other = any(r.table == "t3" and r.row.startswith("other_") for r in self.records)
        if not split_other and ("t3", "other") not in chosen:
            split_other = self.edition == "2021"
        leaves = cb.t3_leaves(split_other)

        # Table 3: unlabelled rows placed in template order
        placed = self._place_unlabelled(chosen, leaves)

        t3_rows: dict[str, list[tuple[str, Parsed]]] = {}
        ambiguous: dict[str, list[list[tuple[str, Parsed]]]] = {}
        run_text: dict[str, str] = {}  # what was printed for rows that stay ambiguous
        for (table, row), rec in chosen.items():
            decoded = decoded_of[(table, row)]
            if table == "t3":
                if len(decoded) == 1:
                    t3_rows[row] = decoded[0]
                else:
                    ambiguous[row] = decoded
                    run_text[row] = _printed_run(rec.tokens)
            else:
                self._emit_t2(rec, decoded, cells, rows_found)
        for row, u in placed.items():
            decoded = self._decode(u.tokens, T3_WIDTH, t3_row_identity(), None, where=u.where, label=f"(unlabelled, placed as {row})")
            if decoded is None:
                continue
            if len(decoded) == 1:
                t3_rows[row] = decoded[0]
            else:
                ambiguous[row] = decoded
                run_text[row] = _printed_run(u.tokens)
        # problems of records whose row was read after all (another record, a placed row) are moot
        for (table, row), found in pending_issues.items():
            if (table, row) in chosen or (table == "t3" and (row in t3_rows or row in ambiguous)):
                continue
            issues.extend(found)
        if ambiguous:
            self._resolve_jointly(t3_rows, ambiguous, leaves)
        for row, vals in t3_rows.items():
            rows_found["t3"].add(row)
            for col, (printed, p) in zip(cb.t3_cols, vals):
                cells[f"t3.{row}.{col}"] = _cell(printed, p)
        for row, cands in ambiguous.items():
            rows_found["t3"].add(row)
            for ci, col in enumerate(cb.t3_cols):
                options = sorted({c[ci][0] for c in cands})
                if len(options) == 1:
                    cells[f"t3.{row}.{col}"] = _cell(cands[0][ci][0], cands[0][ci][1])
                else:
                    cells[f"t3.{row}.{col}"] = CellValue(None, "text", run_text.get(row, ""))

        # Table 4
        if self.t4_tokens:
            decoded = self._decode(self.t4_tokens, T4_WIDTH, t4_row_identities(), None, where="Table 4", label="Table 4 data row")
            if decoded is not None:
                rows_found["t4"].update(cb.t4_groups)
                keys = [f"t4.{g}.{c}" for g in cb.t4_groups for c in cb.t4_cols]
                if len(decoded) == 1:
                    for key, (printed, p) in zip(keys, decoded[0]):
                        cells[key] = _cell(printed, p)
                else:
                    for i, key in enumerate(keys):
                        options = sorted({c[i][0] for c in decoded})
                        if len(options) == 1:
                            cells[key] = _cell(decoded[0][i][0], decoded[0][i][1])
                        else:
                            cells[key] = CellValue(None, "text", _printed_run(self.t4_tokens))
        return Mapped(cells, issues, set(self.tables_seen), split_other, rows_found)

    def _learn_offsets(self) -> None:
        """Where values start in rows padded with empty fields, learnt from the rows
        whose position is forced (their printed values fill the window exactly)."""
        from collections import Counter

        seen: dict[tuple[str, int], Counter] = {}
        for rec in self.records:
            items = [t for t in rec.tokens if t.kind in (VALUE, BLANK)]
            width = rec.width
            if width <= 0 or len(items) <= width:
                continue
            nb = [i for i, t in enumerate(items) if t.kind != BLANK]
            if not nb or nb[-1] - nb[0] != width - 1:
                continue
            seen.setdefault((rec.table.upper(), len(items)), Counter())[nb[0]] += 1
        self._preferred_start = {k: c.most_common(1)[0][0] for k, c in seen.items()}

    def _emit_t2(self, rec: Record, decoded, cells: dict[str, CellValue], rows_found) -> None:
        if decoded is None:
            return
        rows_found["t2"].add(rec.row)
        for i, col in enumerate(rec.cols):
            key = f"t2.{rec.row}.{col}"
            options = sorted({c[i][0] for c in decoded})
            if len(options) > 1:
                cells[key] = CellValue(None, "text", _printed_run(rec.tokens))
                continue
            printed, p = decoded[0][i]
            unit = self.cb.keys[key].unit if key in self.cb.keys else ""
            cell = _cell(printed, p)
            if p.status == "number":
                if unit == "yuan":
                    v = 0 if p.value == 0 else to_yuan(p)
                    if v is None:
                        self.issues.append(
                            Issue(
                                "extract.unit_unknown",
                                "warning",
                                f"{self.path}: Table 2 {key} printed {printed!r} at {rec.where} without a unit; "
                                "the amount in 元 cannot be known",
                                cells=[key],
                                path=self.path,
                            )
                        )
                    cell = CellValue(v, "number" if v is not None else "text", printed)
                elif unit == "10k_yuan":
                    v = to_wan_yuan(p)  # None for a unit that is no amount (e.g. %)
                    cell = CellValue(v, "number" if v is not None else "text", printed)
            cells[key] = cell

    # ------------------------------------------------------------------ decoding
    def _decode(self, tokens: list[Token], width: int, identities, rec: Record | None, where: str = "", label: str = ""):
        """Turn a row's tokens into candidate value lists (one list when certain).

        Returns ``None`` (with an issue) when the row cannot be read.
        """
        where = rec.where if rec else where
        label = rec.label if rec else label
        table = (rec.table.upper() if rec else ("T4" if width == T4_WIDTH else "T3"))
        items = [(t.text, t.parsed or parse_cell(t.text)) for t in tokens if t.kind in (VALUE, BLANK)]
        if width <= 0:
            return None
        if len(items) > width:
            nonblank = [i for i, (_, p) in enumerate(items) if p.status != "blank"]
            if not nonblank:
                items = items[:width]
            else:
                first, last = nonblank[0], nonblank[-1]
                if last - first >= width:
                    self.issues.append(
                        Issue(
                            "extract.row_width",
                            "error",
                            f"{self.path}: {table} row {label!r} at {where}: {len(nonblank)} values printed where "
                            f"{width} are expected; the row is not read",
                            path=self.path,
                        )
                    )
                    return None
                starts = range(max(0, last - width + 1), min(first, len(items) - width) + 1)
                if len(starts) > 1:
                    # padding cells around the values: the window in which the row's identities
                    # hold wins, then the offset that rows of the same shape use, then the first
                    preferred = self._preferred_start.get((table, len(items)))
                    start = min(starts, key=lambda st: (_violations(items[st:st + width], identities), st != preferred, st))
                else:
                    start = starts[0]
                items = items[start:start + width]
        if len(items) == width:
            return [items]
        # fewer printed items than cells: digits run together?
        runs = [t for t, p in items]
        if sum(len(t) for t in runs) < width:
            runs = []
        unit = ""
        if runs and runs[-1].endswith(("万元", "亿元", "元")):
            unit = "万元" if runs[-1].endswith("万元") else "亿元" if runs[-1].endswith("亿元") else "元"
            runs = runs[:-1] + [runs[-1][: -len(unit)]]
        if runs and all(_RUN.match(t) for t in runs):
            left = DOC_SPLIT_BUDGET - self._split_steps[0]
            cands, complete = search_splits(
                runs, width, identities, max_steps=max(0, min(MAX_STEPS, left)), used=self._split_steps
            )
            if unit:
                cands = [c[:-1] + [c[-1] + unit] for c in cands]
            if len(cands) == 1:
                return [[(s, parse_cell(s)) for s in cands[0]]]
            if cands:
                self.issues.append(
                    Issue(
                        "extract.ambiguous_split",
                        "warning",
                        f"{self.path}: {table} row {label!r} at {where}: the digits {' '.join(runs)!r} can be split "
                        f"into {width} cells in {len(cands)}{'+' if len(cands) >= 64 else ''} ways that satisfy the row's identities; "
                        "cells that differ between them are left unset",
                        path=self.path,
                    )
                )
                return [[(s, parse_cell(s)) for s in c] for c in cands]
            if not complete:
                self.issues.append(
                    Issue(
                        "extract.split_budget",
                        "warning",
                        f"{self.path}: {table} row {label!r} at {where}: the search for a split of the digits "
                        f"{' '.join(runs)!r} into {width} cells stopped at its step budget; the row is not read",
                        path=self.path,
                    )
                )
                return None
            self.issues.append(
                Issue(
                    "extract.unsplittable",
                    "error",
                    f"{self.path}: {table} row {label!r} at {where}: the digits {' '.join(runs)!r} cannot be split into "
                    f"{width} cells that satisfy the row's identities; the row is not read",
                    path=self.path,
                )
            )
            return None
        self.issues.append(
            Issue(
                "extract.row_width",
                "error",
                f"{self.path}: {table} row {label!r} at {where}: {len(items)} cells printed where {width} are "
                "expected; the row is not read",
                path=self.path,
            )
        )
        return None

    def _place_unlabelled(self, chosen: dict[tuple[str, str], Record], leaves: list[str]) -> dict[str, Unlabelled]:
        if not self.unlabelled:
            return {}
        index = {r: i for i, r in enumerate(leaves)}
        anchors = sorted(
            (rec.order, index[rec.row]) for (t, r), rec in chosen.items() if t == "t3" and r in index
        )
        filled = {index[r] for (t, r) in chosen if t == "t3" and r in index}
        groups: dict[tuple[int, int], list[Unlabelled]] = {}
        for u in self.unlabelled:
            prev = max((a for a in anchors if a[0] < u.order), default=(-1, -1))
            nxt = min((a for a in anchors if a[0] > u.order), default=(10**9, len(leaves)))
            groups.setdefault((prev[1], nxt[1]), []).append(u)
        placed: dict[str, Unlabelled] = {}
        for (lo, hi), us in groups.items():
            gap = [i for i in range(lo + 1, hi) if i not in filled]
            if len(gap) == len(us) and lo < hi:
                for i, u in zip(gap, us):
                    placed[leaves[i]] = u
                    self.issues.append(
                        Issue(
                            "extract.unlabelled_row",
                            "info",
                            f"{self.path}: T3 row at {u.where} has no label; placed as {leaves[i]!r}, the only unfilled "
                            "row between its labelled neighbours",
                            cells=[f"t3.{leaves[i]}.{c}" for c in self.cb.t3_cols],
                            path=self.path,
                        )
                    )
            else:
                where = ", ".join(u.where for u in us)
                self.issues.append(
                    Issue(
                        "extract.unplaced_rows",
                        "error",
                        f"{self.path}: {len(us)} T3 row(s) without a label at {where} cannot be placed: "
                        f"{len(gap)} unfilled template row(s) lie between their labelled neighbours; not read",
                        path=self.path,
                    )
                )
        return placed

    def _resolve_jointly(self, fixed: dict, ambiguous: dict[str, list], leaves: list[str]) -> None:
        """Use the column identities of Table 3 to settle ambiguous splits."""
        names = list(ambiguous)
        sizes = [len(ambiguous[n]) for n in names]
        total = 1
        for s in sizes:
            total *= s
        if total > MAX_JOINT_COMBINATIONS:
            return
        outcome_rows = [r for r in leaves if r not in ("new_received", "carried_over", "total_processed", "carried_forward")]
        ncols = len(self.cb.t3_cols)

        def val(assign: dict, row: str, c: int):
            v = assign.get(row)
            if v is None:
                v = fixed.get(row)
            if v is None:
                return None
            return v[c][1].value

        survivors = []
        for combo in itertools.product(*(ambiguous[n] for n in names)):
            assign = dict(zip(names, combo))
            ok = True
            for c in range(ncols):
                tot = val(assign, "total_processed", c)
                parts = [val(assign, r, c) for r in outcome_rows]
                if tot is not None and None not in parts and tot != sum(parts):
                    ok = False
                    break
                a, b = val(assign, "new_received", c), val(assign, "carried_over", c)
                d, e = val(assign, "total_processed", c), val(assign, "carried_forward", c)
                if None not in (a, b, d, e) and a + b != d + e:
                    ok = False
                    break
            if ok:
                survivors.append(assign)
        if len(survivors) == 1:
            for n in names:
                fixed[n] = survivors[0][n]
                del ambiguous[n]
            self.issues.append(
                Issue(
                    "extract.split_by_columns",
                    "info",
                    f"{self.path}: T3 rows {', '.join(names)} whose digits ran together were split by the column "
                    "identities (办理结果 total and balance), which leave exactly one reading",
                    path=self.path,
                )
            )
        elif survivors:
            for n in names:
                opts = {tuple(x[0] for x in s[n]) for s in survivors}
                if len(opts) == 1:
                    fixed[n] = survivors[0][n]
                    del ambiguous[n]
                else:
                    ambiguous[n] = [list(o) for o in {tuple(s[n]) for s in survivors}]


def _violations(items: list[tuple[str, Parsed]], identities) -> int:
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


def _printed_run(tokens: list[Token]) -> str:
    """The digits of a row as printed, for cells that cannot be told apart."""
    return " ".join(t.text for t in tokens if t.kind == VALUE)


_ENUMERATOR = re.compile(r"^(?:\(?\d{1,2}[.、)]|[(（][一二三四五六七八九十]{1,3}[)）]|[一二三四五六七八九十]{1,3}、)$")
_SENTENCE = re.compile(r"[。，,；;！？!?]")


def _header_like(text: str) -> bool:
    """Text that could stand in a column header cell (short, no sentence
    punctuation), as opposed to prose that happens to follow a header."""
    return 0 < len(text) <= 30 and not _SENTENCE.search(text)


def _cell(printed: str, p: Parsed) -> CellValue:
    return CellValue(p.value if p.status == "number" else None, p.status, printed)
