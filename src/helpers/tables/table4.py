"""Table 4 (行政复议、行政诉讼): one row of 15 values in template order.

Table 4 is entered from Table 3 by its group labels (or by its section heading
or anchor) and runs until a label that leaves it: another section, another
table's anchor, a Table 2 block or an unmistakable Table 3 row.  Its values are
collected in reading order, whatever the rows they were printed in, until 15
items are held; numbers inside prose are skipped.  The 15 values are then
decoded as one row whose identities are the three group totals.
"""

from __future__ import annotations

from ..identities import t4_row_identities
from ..result import CellValue
from ..tokens import BLANK, LABEL, TEXT, VALUE, Row, Token
from .decode import Decoder, cells_of, printed_run
from .state import T4_WIDTH, Walk, pick


def on_label(w: Walk, t: Token) -> bool:
    """A Table 4 group or column label (enters Table 4 from Table 3)."""
    g4 = pick(t.entries, ("t4_group", "t4_col"))
    if g4:
        w.close()
        if w.ctx == "t3" and g4.kind == "t4_group":
            w.enter("t4")
        return True
    return False


def leaves(t: Token) -> bool:
    """Whether label ``t`` ends Table 4."""
    e = t.entries
    sec = pick(e, ("section",))
    if sec:
        return sec.target != "t4"
    anc = pick(e, ("anchor",))
    if anc:
        return anc.target != "t4"
    if pick(e, ("t2_block",)):
        return True
    r3 = pick(e, ("t3_row",))
    return bool(r3 and len(t.text) >= 8)


def on_tokens(w: Walk, row: Row, toks: list[Token], whole_row: bool = True) -> None:
    """Collect the values of a piece of a row inside Table 4."""
    if w.t4_done or not toks:
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
        w.t4_tokens.extend(vals)

    for t in toks:
        if t.kind in (VALUE, BLANK):
            run.append(t)
            continue
        accept(run, t.kind)
        run = []
        prev_kind = t.kind
    accept(run, None)
    if sum(1 for t in w.t4_tokens if t.kind == VALUE) and len(w.t4_tokens) >= T4_WIDTH:
        w.t4_done = True


def emit(w: Walk, decoder: Decoder, cells: dict[str, CellValue], rows_found) -> None:
    if not w.t4_tokens:
        return
    decoded = decoder.decode(w.t4_tokens, T4_WIDTH, t4_row_identities(), None, where="Table 4", label="Table 4 data row")
    if decoded is None:
        return
    cb = w.cb
    rows_found["t4"].update(cb.t4_groups)
    keys = [f"t4.{g}.{c}" for g in cb.t4_groups for c in cb.t4_cols]
    cells.update(cells_of(decoded, keys, printed_run(w.t4_tokens)))
