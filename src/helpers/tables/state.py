"""The walking state shared by the table units, and the records it collects.

:class:`Walk` is everything the mapper remembers while it reads the rows of a
document once, top to bottom:

* ``ctx`` — the table being read (``t2`` / ``t3`` / ``t4`` or ``None``), set by
  section headings, table anchors and unmistakable row labels;
* the Table 2 block and its column header (``block``, ``header``,
  ``header_unknown``, ``in_header``);
* ``open`` — the :class:`Record` that is collecting the values after a row label;
* ``records`` (labelled Table 2/3 rows), ``unlabelled`` (Table 3 rows of values
  whose label was lost) and ``t4_tokens`` (the values of Table 4);
* ``issues`` — what the walk and the decoding report.

The table units (:mod:`.table2`, :mod:`.table3`, :mod:`.table4`) read and change
this state; :mod:`.decode` turns the tokens of a record into cell values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..codebook import Codebook, LabelEntry
from ..result import CellValue, Issue
from ..tokens import VALUE, Token

T3_WIDTH = 7
T4_WIDTH = 15


@dataclass(slots=True)
class Record:
    """A labelled Table 2 or Table 3 row and the value tokens printed after its label."""

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
    """A Table 3 row of values whose label was lost, or stands as a word that is no
    row label (``label``, e.g. the column word ``其他`` of ``3.其他`` without its
    enumerator)."""

    tokens: list[Token]
    where: str
    order: int
    label: str = ""


@dataclass
class Mapped:
    """What the mapper found, before validation."""

    cells: dict[str, CellValue]
    issues: list[Issue]
    tables_found: set[str]
    split_other: bool
    rows_found: dict[str, set[str]]


def pick(entries: tuple[LabelEntry, ...], kinds: tuple[str, ...]) -> LabelEntry | None:
    """The first label entry of the given kinds, in the order of ``kinds``."""
    for k in kinds:
        for e in entries:
            if e.kind == k:
                return e
    return None


class Walk:
    """The state of one pass over a document's rows."""

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
        # numbers printed alone next to Table 3 rows (a cell pulled out of its row with a note)
        self.loose: list[tuple[int, Token]] = []
        self.t4_tokens: list[Token] = []
        self.t4_done = False
        # every run of values seen in Table 4, also after the first 15 items (see table4)
        self.t4_segments: list[list[Token]] = []
        self.tables_seen: set[str] = set()
        self.issues: list[Issue] = []
        self.order = 0

    def enter(self, table: str) -> None:
        """Make ``table`` the table being read."""
        self.ctx = table
        self.tables_seen.add(table)

    def reset_header(self, in_header: bool = False) -> None:
        self.header, self.header_unknown, self.in_header = [], [], in_header

    def close(self, by_text: bool = False) -> None:
        """Close the open record; values followed by prose are discarded."""
        rec = self.open
        if rec is None:
            return
        if by_text and any(t.kind == VALUE for t in rec.tokens):
            rec.discarded = True
        rec.closed = True
        self.open = None

    def t3_started(self) -> bool:
        return any(r.table == "t3" for r in self.records)

    def unrecognised_row(self, text: str, where: str, table: str | None = None) -> None:
        self.issues.append(
            Issue(
                "extract.unrecognised_row",
                "warning",
                f"{self.path}: {(table or self.ctx).upper()} row {text!r} at {where} carries values but its label is not "
                "recognised; its values are not read",
                path=self.path,
            )
        )
