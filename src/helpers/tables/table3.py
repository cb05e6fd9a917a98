"""Table 3 (收到和处理政府信息公开申请情况): 25 rows (or 23) of seven applicant columns.

The columns are read by template order (the order is the same in both
editions), never from the header.  A row label opens a
:class:`~.state.Record`; its seven values follow in the same row or on the
next lines.

* A row of seven values whose label was lost is kept as
  :class:`~.state.Unlabelled` and placed in template order between the
  labelled rows around it — only when the unfilled template rows there are
  exactly as many as such rows (``extract.unlabelled_row``); otherwise it is
  reported (``extract.unplaced_rows``) and left out.
* Rows whose digits ran together and split in several ways are settled jointly
  by the column identities (the outcome total and the balance of the year), or
  their cells are left unset (:class:`Rows`).
"""

from __future__ import annotations

import itertools
import re
from functools import cache

from ..codebook import load
from ..identities import t3_row_identity
from ..normalize import norm_label
from ..numbers import parse_cell
from ..result import CellValue, Issue
from ..tokens import BLANK, VALUE, Row, Token
from .decode import RUN, Decoder, Reading, cell, cells_of, printed_run, violations
from .state import T3_WIDTH, Record, Unlabelled, Walk, pick

MAX_JOINT_COMBINATIONS = 20_000


def on_label(w: Walk, t: Token, row: Row) -> bool:
    """Handle a Table 3 row, group or column label; False when ``t`` is none of them here."""
    e = t.entries
    rec = w.open
    if rec is not None and rec.table == "t3" and not rec.grid and row.grid and not any(x.kind == VALUE for x in rec.tokens):
        if rec.row in rows_of_group().get(norm_label(t.text), ()):
            # the group's cell in the grid row of one of its sub-rows, whose label was
            # printed on its own line just above: the row's values are that sub-row's
            return True
    r3 = pick(e, ("t3_row",))
    if r3 and (w.ctx == "t3" or len(t.text) >= 8 or w.ctx is None and len(t.text) >= 4):
        w.close()
        if w.ctx != "t3":
            w.enter("t3")
        w.open = Record("t3", r3.target, t.text, t.where, w.order, grid=row.grid)
        w.records.append(w.open)
        return True
    g = pick(e, ("t3_group", "t3_col"))
    if g:
        w.close()
        if g.kind == "t3_group" and w.ctx not in ("t3",) and len(t.text) >= 6:
            w.enter("t3")
        return True
    return False


@cache
def rows_of_group() -> dict[str, frozenset[str]]:
    """Normalised group heading (``（六）其他处理``) → its sub-rows."""
    out: dict[str, set[str]] = {}
    for key in load().keys.values():
        if key.table != "t3":
            continue
        path = [p.strip() for p in key.label_zh.partition(" × ")[0].split(" / ")]
        if len(path) >= 3:
            out.setdefault(norm_label(path[-2]), set()).add(key.row)
    return {g: frozenset(rows) for g, rows in out.items()}


def on_values(w: Walk, toks: list[Token], row: Row) -> None:
    """A row of values that no open record takes: a row whose label was lost,
    or stray values."""
    if len(toks) >= T3_WIDTH or (len(toks) == 1 and len(toks[0].text) >= T3_WIDTH and RUN.match(toks[0].text)):
        w.unlabelled.append(Unlabelled(toks, row.where, w.order))
    else:
        if len(toks) == 1 and toks[0].parsed is not None and toks[0].parsed.status == "number":
            w.loose.append((w.order, toks[0]))
        w.issues.append(
            Issue(
                "extract.stray_values",
                "info",
                f"{w.path}: stray value(s) {' '.join(t.text or '(blank)' for t in toks)!r} at {row.where} "
                "in Table 3 belong to no row; ignored",
                path=w.path,
            )
        )


_NOTED_NUMBER = re.compile(r"^(\d+)\s*[（(\[【]")
LOOSE_DISTANCE = 2  # rows between a short row and the number pulled out of it


def note_text(w: Walk, t: Token) -> None:
    """Text that begins with a number and a bracketed note (``111（含转办件）``):
    a cell pulled out of its row, kept as a loose number."""
    m = _NOTED_NUMBER.match(t.text)
    if m:
        w.loose.append((w.order, Token(VALUE, m.group(1), parsed=parse_cell(m.group(1)), where=t.where)))


def restore_pulled_cell(w: Walk, rec: Record) -> list[Reading] | None:
    """A row one value short, with one loose number printed next to it: the
    readings with that number put back at a position where the row's total holds
    (several when the position is open: the column identities may settle it)."""
    items = [t for t in rec.tokens if t.kind in (VALUE, BLANK)]
    if len(items) != T3_WIDTH - 1 or any(t.kind != VALUE for t in items):
        return None
    near = [tok for order, tok in w.loose if abs(order - rec.order) <= LOOSE_DISTANCE]
    if len(near) != 1:
        return None
    loose = near[0]
    identity = t3_row_identity()
    readings: dict[tuple[str, ...], Reading] = {}
    for pos in range(T3_WIDTH):
        toks = [*items[:pos], loose, *items[pos:]]
        reading = [(t.text, t.parsed or parse_cell(t.text)) for t in toks]
        if violations(reading, identity) == 0:
            readings.setdefault(tuple(x for x, _ in reading), reading)
    if not readings:
        return None
    w.issues.append(
        Issue(
            "extract.cell_restored",
            "info",
            f"{w.path}: T3 row {rec.label!r} at {rec.where} printed {T3_WIDTH - 1} values; the number "
            f"{loose.text!r} printed alone at {loose.where} was put back in the row "
            f"({len(readings)} position(s) where the row total holds)",
            path=w.path,
        )
    )
    rec.tokens = [*rec.tokens, loose]  # its printed run names the number too
    return list(readings.values())


def damaged_row(w: Walk, label: str, toks: list[Token], row: Row) -> None:
    """Values after a known word that is no Table 3 row label (the column word
    ``其他`` of ``3.其他`` whose enumerator was lost): a row whose label is
    damaged.  It may be placed like an unlabelled row, if its values then satisfy
    the column identities (:meth:`Rows.check_damaged`).  Unrecognised text before
    values stays reported and unread (``extract.unrecognised_row``)."""
    values = [t for t in toks if t.kind == VALUE or (row.grid and t.kind == BLANK)]
    if sum(1 for t in values if t.kind == VALUE) and len(values) >= T3_WIDTH:
        w.unlabelled.append(Unlabelled(values, row.where, w.order, label=label))


def place_unlabelled(w: Walk, chosen: dict[tuple[str, str], Record], leaves: list[str]) -> dict[str, Unlabelled]:
    """Template rows for the unlabelled rows: each run of them between two labelled
    rows fills the unfilled template rows there, when their numbers agree."""
    if not w.unlabelled:
        return {}
    index = {r: i for i, r in enumerate(leaves)}
    anchors = sorted((rec.order, index[rec.row]) for (t, r), rec in chosen.items() if t == "t3" and r in index)
    filled = {index[r] for (t, r) in chosen if t == "t3" and r in index}
    groups: dict[tuple[int, int], list[Unlabelled]] = {}
    for u in w.unlabelled:
        prev = max((a for a in anchors if a[0] < u.order), default=(-1, -1))
        nxt = min((a for a in anchors if a[0] > u.order), default=(10**9, len(leaves)))
        groups.setdefault((prev[1], nxt[1]), []).append(u)
    placed: dict[str, Unlabelled] = {}
    for (lo, hi), us in groups.items():
        gap = [i for i in range(lo + 1, hi) if i not in filled]
        if len(gap) == len(us) and lo < hi:
            for i, u in zip(gap, us):
                placed[leaves[i]] = u
                what = f"printed with the label {u.label!r}, which is no row label," if u.label else "has no label;"
                w.issues.append(
                    Issue(
                        "extract.unlabelled_row",
                        "info",
                        f"{w.path}: T3 row at {u.where} {what} placed as {leaves[i]!r}, the only unfilled "
                        "row between its labelled neighbours" + (", whose column identities its values satisfy" if u.label else ""),
                        cells=[f"t3.{leaves[i]}.{c}" for c in w.cb.t3_cols],
                        path=w.path,
                    )
                )
        elif all(u.label for u in us):
            for u in us:
                w.unrecognised_row(u.label, u.where, "t3")
        else:
            where = ", ".join(u.where for u in us)
            w.issues.append(
                Issue(
                    "extract.unplaced_rows",
                    "error",
                    f"{w.path}: {len(us)} T3 row(s) without a label at {where} cannot be placed: "
                    f"{len(gap)} unfilled template row(s) lie between their labelled neighbours; not read",
                    path=w.path,
                )
            )
    return placed


class Rows:
    """The decoded Table 3 rows: certain ones, and ambiguous ones with their candidates."""

    def __init__(self, w: Walk):
        self.w = w
        self.certain: dict[str, Reading] = {}
        self.ambiguous: dict[str, list[Reading]] = {}
        self.run_text: dict[str, str] = {}  # what was printed for rows that stay ambiguous

    def add(self, row: str, decoded: list[Reading], tokens: list[Token]) -> None:
        if len(decoded) == 1:
            self.certain[row] = decoded[0]
        else:
            self.ambiguous[row] = decoded
            self.run_text[row] = printed_run(tokens)

    def __contains__(self, row: str) -> bool:
        return row in self.certain or row in self.ambiguous

    def add_placed(self, decoder: Decoder, placed: dict[str, Unlabelled], identity) -> None:
        for row, u in placed.items():
            decoded = decoder.decode(u.tokens, T3_WIDTH, identity, None, where=u.where, label=f"(unlabelled, placed as {row})")
            if decoded is not None:
                self.add(row, decoded, u.tokens)

    def check_damaged(self, placed: dict[str, Unlabelled], leaves: list[str]) -> None:
        """Keep a placed row whose label was damaged only when the column identities
        that involve it can be checked and hold; otherwise it is not read (and its
        unrecognised label stays reported)."""
        w = self.w
        for row, u in placed.items():
            if not u.label:
                continue
            if row in self.certain and _columns_hold(self.certain, leaves, row):
                continue
            self.certain.pop(row, None)
            self.ambiguous.pop(row, None)
            w.issues[:] = [i for i in w.issues if not (i.rule == "extract.unlabelled_row" and u.where in i.message)]
            w.unrecognised_row(u.label, u.where, "t3")

    def emit(self, leaves: list[str], cells: dict[str, CellValue], rows_found) -> None:
        cols = self.w.cb.t3_cols
        if self.ambiguous:
            self._resolve_jointly(leaves)
        for row, vals in self.certain.items():
            rows_found["t3"].add(row)
            for col, (printed, p) in zip(cols, vals):
                cells[f"t3.{row}.{col}"] = cell(printed, p)
        for row, cands in self.ambiguous.items():
            rows_found["t3"].add(row)
            cells.update(cells_of(cands, [f"t3.{row}.{col}" for col in cols], self.run_text.get(row, "")))

    def _resolve_jointly(self, leaves: list[str]) -> None:
        """Use the column identities of Table 3 to settle ambiguous splits."""
        w, fixed, ambiguous = self.w, self.certain, self.ambiguous
        names = list(ambiguous)
        total = 1
        for n in names:
            total *= len(ambiguous[n])
        if total > MAX_JOINT_COMBINATIONS:
            return
        outcome_rows = [r for r in leaves if r not in ("new_received", "carried_over", "total_processed", "carried_forward")]
        ncols = len(w.cb.t3_cols)

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
            w.issues.append(
                Issue(
                    "extract.split_by_columns",
                    "info",
                    f"{w.path}: T3 rows {', '.join(names)} whose digits ran together were split by the column "
                    "identities (办理结果 total and balance), which leave exactly one reading",
                    path=w.path,
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


def _columns_hold(rows: dict[str, Reading], leaves: list[str], row: str) -> bool:
    """Whether the column identities that involve ``row`` can all be checked with
    the rows read, and hold in every column (the outcome total and the balance
    of the year)."""
    outcomes = [r for r in leaves if r not in ("new_received", "carried_over", "total_processed", "carried_forward")]
    balance = ["new_received", "carried_over", "total_processed", "carried_forward"]
    checks = []
    if row in outcomes or row == "total_processed":
        checks.append(("total", ["total_processed", *outcomes]))
    if row in balance:
        checks.append(("balance", balance))
    if not checks:
        return False
    for kind, needed in checks:
        if any(r not in rows for r in needed):
            return False
        for c in range(T3_WIDTH):
            v = {r: rows[r][c][1] for r in needed}
            if any(p.status != "number" for p in v.values()):
                return False
            if kind == "total":
                ok = abs(v["total_processed"].value - sum(v[r].value for r in outcomes)) < 1e-9
            else:
                ok = abs(v["new_received"].value + v["carried_over"].value
                         - v["total_processed"].value - v["carried_forward"].value) < 1e-9
            if not ok:
                return False
    return True
