"""The walk over a document's rows, and the assembly of the printed cells.

:class:`Mapper` reads the physical rows (see :mod:`helpers.tokens`) once.  For
each row it decides what the row is in the current state (:class:`.state.Walk`):

* a row of values only — the values of the open record (one cell per line, or
  the values under a label printed alone), an unlabelled Table 3 row, or the
  values of Table 4;
* a row with labels — each label goes to the unit of its kind: section
  headings and table anchors here, Table 2 blocks/columns/rows to
  :mod:`.table2`, Table 3 rows/groups to :mod:`.table3`, Table 4 groups to
  :mod:`.table4`.  Values after a label fill its record;
* unrecognised text — closes the open record (values followed by prose are
  discarded: prose is never read as data); label-like text followed by values
  is reported as a row whose label is not recognised.

:meth:`Mapper.result` decodes every record (:mod:`.decode`), keeps the first
readable record of each row, places the unlabelled Table 3 rows and emits the
cells of the three tables.
"""

from __future__ import annotations

import re

from ..codebook import Codebook
from ..identities import t3_row_identity
from ..result import CellValue, Issue
from ..tokens import BLANK, LABEL, TEXT, VALUE, Row, Token
from . import table2, table3, table4
from .decode import Decoder
from .state import Mapped, Record, Walk, pick

_ENUMERATOR = re.compile(r"^(?:\(?\d{1,2}[.、)]|[(（][一二三四五六七八九十]{1,3}[)）]|[一二三四五六七八九十]{1,3}、)$")
_SENTENCE = re.compile(r"[。，,；;！？!?]")


def _header_like(text: str) -> bool:
    """Text that could stand in a column header cell (short, no sentence
    punctuation), as opposed to prose that happens to follow a header."""
    return 0 < len(text) <= 30 and not _SENTENCE.search(text)


class Mapper:
    def __init__(self, cb: Codebook, edition: str | None, path: str):
        self.w = Walk(cb, edition, path)
        self.decoder = Decoder(path, self.w.issues)

    # ------------------------------------------------------------------ stream
    def feed(self, rows: list[Row]) -> None:
        for row in rows:
            self._row(row)
        self.w.close()

    def _row(self, row: Row) -> None:
        w = self.w
        toks = [t for t in row.tokens if not (t.kind == TEXT and not t.text)]
        if not toks:
            return
        kinds = {t.kind for t in toks}
        w.order += 1
        pending, w.pending_text = w.pending_text, None
        if kinds <= {VALUE, BLANK} and VALUE in kinds and w.ctx != "t4":
            self._values(row, toks, pending)
            return
        i = 0
        orphans: list[Token] = []  # Table 3 values after a label that opened no row
        while i < len(toks):
            t = toks[i]
            if w.ctx == "t4":
                # Table 4 runs until a label that leaves it (section 五, another table)
                j = i
                while j < len(toks) and not (toks[j].kind == LABEL and table4.leaves(toks[j])):
                    j += 1
                table4.on_tokens(w, row, toks[i:j], whole_row=(i == 0 and j == len(toks)))
                if j < len(toks):
                    self._label(toks[j], row)
                i = j + 1
                continue
            i += 1
            if t.kind == LABEL:
                self._label(t, row)
            elif t.kind == TEXT:
                w.close(by_text=True)
                if w.ctx == "t3":
                    table3.note_text(w, t)
                if w.ctx in ("t2", "t3") and _header_like(t.text):
                    rest = toks[i:]
                    if rest and all(x.kind in (VALUE, BLANK) for x in rest) and any(x.kind == VALUE for x in rest):
                        # label-like text followed by values: a row whose label is not recognised
                        w.in_header = False
                        w.unrecognised_row(t.text, row.where)
                    elif w.ctx == "t2" and w.in_header:
                        table2.unknown_header_cell(w, t.text, row.where)
                    elif not rest and all(x is t or x.kind == LABEL or _ENUMERATOR.match(x.text) for x in toks):
                        w.pending_text = (t.text, row.where)  # its values may follow, one per line
            else:  # VALUE / BLANK
                if w.open is not None:
                    w.open.tokens.append(t)
                elif w.ctx == "t3" and i > 1 and (orphans or toks[i - 2].kind == LABEL):
                    orphans.append(t)
        if orphans:
            table3.damaged_row(w, next(x.text for x in reversed(toks) if x.kind == LABEL), orphans, row)
        self._close_after_row(row)

    def _values(self, row: Row, toks: list[Token], pending: tuple[str, str] | None) -> None:
        """A row of values only, outside Table 4."""
        w = self.w
        rec = w.open
        if rec is None or rec.closed:
            if table2.header_cell_was_label(w):
                pass
            elif pending is not None and w.ctx in ("t2", "t3") and any(
                x.parsed is not None and x.parsed.status == "number" for x in toks
            ):
                w.unrecognised_row(*pending)
        # values on the lines after a label: only when label and values are of one
        # layout (a loose text line is no label for a row of a grid)
        if rec is not None and not rec.closed and len(rec.tokens) < max(rec.width, 1) and rec.grid == row.grid:
            if not row.grid or not rec.tokens:
                rec.tokens.extend(t for t in toks if t.kind == VALUE or row.grid)
                self._close_after_row(row)
                return
        w.close()
        if w.ctx == "t3":
            table3.on_values(w, toks, row)

    def _close_after_row(self, row: Row) -> None:
        rec = self.w.open
        if rec is None:
            return
        if row.grid:
            if rec.tokens:
                self.w.close()
        elif len(rec.tokens) >= max(rec.width, 1):
            self.w.close()

    # ------------------------------------------------------------------ labels
    def _label(self, t: Token, row: Row) -> None:
        w = self.w
        e = t.entries
        sec = pick(e, ("section",))
        if sec:
            w.close()
            w.ctx = sec.target
            if sec.target in ("t2", "t3", "t4"):
                w.tables_seen.add(sec.target)
            w.block = None
            w.reset_header()
            return
        anchor = pick(e, ("anchor",))
        if anchor:
            w.close()
            if anchor.target != w.ctx:
                w.enter(anchor.target)
            if anchor.target == "t2":
                w.reset_header(in_header=True)
            return
        if table2.on_label(w, t, row) or table3.on_label(w, t, row) or table4.on_label(w, t):
            return
        # a label that means nothing here (e.g. a Table 2 row name in prose)
        w.close()

    # ------------------------------------------------------------------ results
    def result(self) -> Mapped:
        w, decoder = self.w, self.decoder
        issues = w.issues
        cb = w.cb
        cells: dict[str, CellValue] = {}
        rows_found: dict[str, set[str]] = {"t2": set(), "t3": set(), "t4": set()}

        decoder.learn_offsets(w.records)
        # decode every record; the first readable record of a row is used
        chosen: dict[tuple[str, str], Record] = {}
        decoded_of: dict[tuple[str, str], list] = {}
        pending_issues: dict[tuple[str, str], list[Issue]] = {}
        for rec in w.records:
            if rec.discarded or not rec.tokens:
                continue
            k = (rec.table, rec.row)
            n_before = len(issues)
            decoded = decoder.decode(rec.tokens, rec.width, t3_row_identity() if rec.table == "t3" else [], rec)
            if decoded is None and rec.table == "t3":
                decoded = table3.restore_pulled_cell(w, rec)
                if decoded is not None:
                    del issues[n_before:-1]  # the width error is settled; its note stays
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
                        f"{w.path}: {rec.table.upper()} row {rec.label!r} printed again at {rec.where}; "
                        f"the first one ({chosen[k].where}) is used",
                        path=w.path,
                    )
                )
                continue
            issues.extend(new_issues)
            chosen[k] = rec
            decoded_of[k] = decoded

        split_other = any(r.table == "t3" and r.row.startswith("other_") for r in w.records)
        if not split_other and ("t3", "other") not in chosen:
            split_other = w.edition == "2021"
        leaves = cb.t3_leaves(split_other)

        # Table 3: unlabelled rows placed in template order
        placed = table3.place_unlabelled(w, chosen, leaves)
        t3_rows = table3.Rows(w)
        for (table, row), rec in chosen.items():
            if table == "t3":
                t3_rows.add(row, decoded_of[(table, row)], rec.tokens)
            else:
                table2.emit(w, rec, decoded_of[(table, row)], cells, rows_found)
        t3_rows.add_placed(decoder, placed, t3_row_identity())
        t3_rows.check_damaged(placed, leaves)
        # problems of records whose row was read after all (another record, a placed row) are moot
        for (table, row), found in pending_issues.items():
            if (table, row) in chosen or (table == "t3" and row in t3_rows):
                continue
            issues.extend(found)
        t3_rows.emit(leaves, cells, rows_found)
        table4.emit(w, decoder, cells, rows_found)
        return Mapped(cells, issues, set(w.tables_seen), split_other, rows_found)
