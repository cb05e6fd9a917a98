"""Table 4 (行政复议、行政诉讼): one row of 15 values in template order.

Table 4 is entered from Table 3 by its group labels (or by its section heading
or anchor) and runs until a label that leaves it: another section, another
table's anchor, a Table 2 block or an unmistakable Table 3 row.  Its values are
collected in reading order, whatever the rows they were printed in, until 15
items are held; numbers inside prose are skipped.  The 15 values are then
decoded as one row whose identities are the three group totals.

When those first items cannot be read, break a group total or leave cells
empty, the runs of
values seen in Table 4 are searched for the one window of 15 values whose
totals hold (:func:`by_identities`): a stray page number, a value row split in
two, padding cells between the groups.  A misprinted table, for which no such
window exists, is read as printed and left to validation.
"""

from __future__ import annotations

from ..identities import t4_row_identities
from ..numbers import parse_cell
from ..result import CellValue, Issue
from ..tokens import BLANK, LABEL, TEXT, VALUE, Row, Token
from .decode import Decoder, Reading, cells_of, printed_run, violations
from .state import T4_WIDTH, Walk, pick

MAX_SEGMENTS = 40  # runs of values kept from Table 4 (one value per line, split rows, strays)


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
    done = w.t4_done
    if not toks or done and len(w.t4_segments) >= MAX_SEGMENTS:
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
        if vals and len(w.t4_segments) < MAX_SEGMENTS:
            w.t4_segments.append(vals)
        if not done:
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
    identities = t4_row_identities()
    n_before = len(w.issues)
    decoded = decoder.decode(w.t4_tokens, T4_WIDTH, identities, None, where="Table 4", label="Table 4 data row")
    if decoded is None or (len(decoded) == 1 and _incomplete(decoded[0], identities)):
        found = by_identities(w.t4_segments, identities)
        if found is not None and decoded is not None and violations(decoded[0], identities) == 0:
            # the first items hold, with empty cells: a later run may fill them,
            # but must agree with every value they read
            if any(p.status == "number" and x != y for (x, p), (y, _) in zip(decoded[0], found[0])):
                found = None
        if found is not None:
            reading, dropped = found
            del w.issues[n_before:]
            w.issues.append(
                Issue(
                    "extract.t4_window",
                    "info",
                    f"{w.path}: Table 4: the first {T4_WIDTH} items printed "
                    f"({printed_run(w.t4_tokens) or 'none'}) are no reading whose group totals hold; read as the "
                    f"only run of {T4_WIDTH} values that satisfies them, leaving out {' '.join(dropped) or 'empty cells'}",
                    path=w.path,
                )
            )
            decoded = [reading]
    if decoded is None:
        return
    cb = w.cb
    rows_found["t4"].update(cb.t4_groups)
    keys = [f"t4.{g}.{c}" for g in cb.t4_groups for c in cb.t4_cols]
    cells.update(cells_of(decoded, keys, printed_run(w.t4_tokens)))


def _incomplete(reading: Reading, identities) -> bool:
    """A reading that breaks a group total or leaves cells empty."""
    return bool(violations(reading, identities)) or any(p.status != "number" for _, p in reading)


def by_identities(segments: list[list[Token]], identities) -> tuple[Reading, list[str]] | None:
    """The one reading of 15 values, taken from consecutive runs of Table 4, whose
    three group totals hold: a window of 15 printed values that starts where a
    run starts or ends where a run ends (a stray number, a page number or an
    empty cell is left out).  ``None`` unless exactly one distinct reading
    qualifies."""
    flat: list[Token] = []
    starts: set[int] = set()
    ends: set[int] = set()
    for seg in segments:
        vals = [t for t in seg if t.kind == VALUE]
        if not vals:
            continue
        starts.add(len(flat))
        flat.extend(vals)
        ends.add(len(flat))
    readings: dict[tuple[str, ...], tuple[Reading, list[str]]] = {}
    for s in range(0, len(flat) - T4_WIDTH + 1):
        e = s + T4_WIDTH
        if s not in starts and e not in ends:
            continue
        items = [(t.text, t.parsed or parse_cell(t.text)) for t in flat[s:e]]
        if any(p.status != "number" for _, p in items) or violations(items, identities):
            continue
        dropped = [t.text for t in flat[:s] + flat[e:]]
        readings.setdefault(tuple(x for x, _ in items), (items, dropped))
    if len(readings) != 1:
        return None
    return next(iter(readings.values()))
