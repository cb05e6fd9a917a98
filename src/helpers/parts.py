"""Files that hold several reports: where one report ends and the next begins.

A city publishes the reports of all its departments as one compilation (汇编);
a year-on-year comparison prints two years' tables one after the other.  This
module finds the reports in a :class:`~helpers.document.Document` (whatever
reader produced it) and cuts it into one document per report, so that the
ordinary per-report extraction runs on each of them.

How it decides, in three steps:

1. **Table instances.**  Every tokenised row that starts with a template row
   label (a Table 2 or Table 3 row, a Table 4 group) and holds nothing but
   labels and cells is an *event* of its table.  Walking the events in reading
   order, a new *instance* of a table begins when the table changes or when a
   row of the current instance is printed again.  A file with at most one
   instance of each table holds one report.
2. **Markers.**  Paragraphs that can only stand at the start of a report or
   of one year's tables are markers (the patterns are data,
   ``data/part_markers.csv``): a report title on a line of its own
   (``…2023年政府信息公开工作年度报告``), the outline starting again at
   ``一、总体情况``, and a heading that is only a year (``2023年``).
3. **Grouping.**  The blocks between one table instance and the next (the
   *gap*) decide where the next instance belongs: under a year heading it
   joins the other instances of that year (so ``2023年 Table 2, 2024年 Table 2,
   2023年 Table 3 …`` is read as two reports); after a title or an outline
   restart it opens a new report; with no marker it continues the current
   report.  The split is accepted only when every report holds at most one
   instance of each table; otherwise the file is reported as inseparable and
   none of its values is read.

Blocks are assigned to the report whose marker precedes them; what stands
before the first marker (a cover, a table of contents, the common title of a
year-on-year comparison) goes to the first report, or in the year layout to
the report of the document title's year.  Section headings of the year layout
(``三、收到和处理政府信息公开申请情况``) are given to every year.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from .codebook import Codebook, load
from .document import Block, Document, Paragraph
from .metadata import report_year_and_agency
from .normalize import norm_text
from .tokens import BLANK, LABEL, TEXT, VALUE, Row, document_rows

# which label kinds name a row of which table
_EVENT_KINDS = {"t2_row": "t2", "t3_row": "t3", "t4_group": "t4"}
_TABLE_NAMES = {"t2": "Table 2 (主动公开)", "t3": "Table 3 (收到和处理申请)", "t4": "Table 4 (行政复议、行政诉讼)"}
# "table 12 row 3" / "line 40" / "page 2 line 17": the block is the number after table/line
_WHERE_BLOCK = re.compile(r"(?:table|line) (\d+)")
_MARKER_STRIP = " #>*-_=·•"
_MAX_MARKER_CHARS = 80


@dataclass(frozen=True, slots=True)
class Marker:
    """A paragraph that opens a report (``title``, ``outline``) or one year's tables (``year``)."""

    block: int
    kind: str
    text: str
    year: int | None = None


@dataclass(slots=True)
class Instance:
    """One printing of one table: its events' blocks and where they were read."""

    table: str
    first: int
    last: int
    where: str
    rows: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Part:
    """One report of a file: its blocks (indices into the document), what opened it, its metadata."""

    blocks: list[int]
    marker: Marker | None
    year: int | None
    agency: str | None
    instances: list[Instance] = field(default_factory=list)


@dataclass(slots=True)
class Split:
    """What :func:`split_document` found.

    ``parts`` holds two or more reports when the file could be cut; it is empty
    when the file holds one report (``seen`` is then empty too) or when it holds
    several that cannot be told apart (``reason`` says why, ``seen`` what was
    printed more than once).
    """

    parts: list[Part] = field(default_factory=list)
    seen: str = ""
    reason: str = ""

    @property
    def several(self) -> bool:
        return bool(self.seen)


@cache
def _marker_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    with resources.files("helpers").joinpath("data", "part_markers.csv").open(encoding="utf-8", newline="") as f:
        return tuple((row["kind"], re.compile(row["pattern"])) for row in csv.DictReader(f))


def _marker_text(text: str) -> str:
    return norm_text(text).replace("\n", "").strip(_MARKER_STRIP)


def marker_of(text: str, block: int = 0) -> Marker | None:
    """The marker a paragraph is, or None.

    >>> marker_of("（二）2023年度数据：").year
    2023
    >>> marker_of("# 淮安市洪泽区人民政府 2024 年政府信息公开工作年度报告").kind
    'title'
    >>> marker_of("现将《淮安市2024年政府信息公开工作年度报告》公布如下") is None
    True
    """
    if len(text) > 2 * _MAX_MARKER_CHARS:  # long prose: no need to normalise it
        return None
    s = _marker_text(text)
    if not s or len(s) > _MAX_MARKER_CHARS:
        return None
    for kind, pattern in _marker_patterns():
        m = pattern.search(s)
        if m:
            year = int(m.group(1)) if kind == "year" else None
            return Marker(block, kind, s, year)
    return None


def _markers(doc: Document) -> dict[int, Marker]:
    """Markers by block; a title broken over two lines (PDF) is read joined."""
    out: dict[int, Marker] = {}
    blocks = doc.blocks
    for i, b in enumerate(blocks):
        if not isinstance(b, Paragraph):
            continue
        m = marker_of(b.text, i)
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if m is None and isinstance(nxt, Paragraph) and marker_of(nxt.text) is None:
            joined = marker_of(b.text + blocks[i + 1].text, i)  # type: ignore[union-attr]
            if joined is not None and joined.kind == "title":
                m = joined
        if m is not None:
            out[i] = m
    return out


def _event(row: Row, cb: Codebook) -> tuple[str, str] | None:
    """(table, row id) when a row starts with a template row label and holds only labels and cells."""
    toks = [t for t in row.tokens if not (t.kind == TEXT and not t.text)]
    if not toks or toks[0].kind != LABEL or any(t.kind not in (LABEL, VALUE, BLANK) for t in toks):
        return None
    for tok in toks:
        if tok.kind != LABEL:
            continue
        targets = {(_EVENT_KINDS[e.kind], e.target) for e in tok.entries if e.kind in _EVENT_KINDS}
        if len(targets) == 1:
            return targets.pop()
    return None


def _block_of(row: Row) -> int | None:
    m = _WHERE_BLOCK.search(row.where)
    return int(m.group(1)) - 1 if m else None


def table_instances(doc: Document, rows: list[Row] | None = None, cb: Codebook | None = None) -> list[Instance]:
    """Every printing of a standard table, in reading order."""
    cb = cb or load()
    rows = document_rows(doc, cb) if rows is None else rows
    out: list[Instance] = []
    for row in rows:
        ev = _event(row, cb)
        bi = _block_of(row)
        if ev is None or bi is None:
            continue
        table, rid = ev
        cur = out[-1] if out else None
        if cur is None or cur.table != table or rid in cur.rows:
            cur = Instance(table, bi, bi, row.where)
            out.append(cur)
        cur.rows.add(rid)
        cur.last = bi
    return out


def _seen(instances: list[Instance]) -> str:
    counts = {t: sum(1 for i in instances if i.table == t) for t in ("t2", "t3", "t4")}
    return ", ".join(f"{_TABLE_NAMES[t]} {n} times" for t, n in counts.items() if n > 1)


def _is_heading(block: Block, cb: Codebook) -> bool:
    """A paragraph that is a section heading of the template and nothing else."""
    if not isinstance(block, Paragraph):
        return False
    entries = cb.lookup(re.sub(r"\s+", "", norm_text(block.text)))
    return bool(entries) and all(e.kind == "section" for e in entries)


def split_document(doc: Document, rows: list[Row] | None = None) -> Split:
    """Find the reports a document holds (see the module docstring).

    ``rows`` are the document's tokenised rows when the caller has them.
    """
    cb = load()
    instances = table_instances(doc, rows, cb)
    seen = _seen(instances)
    if not seen:
        return Split()
    markers = _markers(doc)

    # each instance: the group it belongs to and the marker that opened it
    groups: list[list[Instance]] = []
    opener: list[Marker | None] = []
    by_year: dict[int, int] = {}
    governing: dict[int, int] = {}  # marker block -> group
    current = -1
    prev_last = -1
    for inst in instances:
        gap = [markers[b] for b in range(prev_last + 1, inst.first) if b in markers]
        years = [m for m in gap if m.kind == "year"]
        starts = [m for m in gap if m.kind == "title"] or [m for m in gap if m.kind == "outline"]
        if years:
            m = years[-1]
            assert m.year is not None
            if m.year not in by_year:
                by_year[m.year] = len(groups)
                groups.append([])
                opener.append(m)
            current = by_year[m.year]
            governing[m.block] = current
        elif current < 0 or (starts and _opens(_opening(starts, False, opener[current]), opener[current], groups[current], inst)):
            m = _opening(starts, current < 0, opener[current] if current >= 0 else None)
            groups.append([])
            opener.append(m)
            current = len(groups) - 1
            if m is not None:
                governing[m.block] = current
        groups[current].append(inst)
        prev_last = max(prev_last, inst.last)

    if len(groups) < 2:
        first, again = _first_repeat(instances)
        return Split(
            seen=seen,
            reason=(
                f"no report title, outline restart (一、总体情况) or year heading stands between "
                f"{_TABLE_NAMES[first.table]} at {first.where} and its next printing at {again.where}"
            ),
        )
    for k, group in enumerate(groups):
        tables = [i.table for i in group]
        for t in ("t2", "t3", "t4"):
            if tables.count(t) > 1:
                where = " and ".join(i.where for i in group if i.table == t)
                return Split(
                    seen=seen,
                    reason=f"report {k + 1} would hold {_TABLE_NAMES[t]} twice ({where}) with no marker between them",
                )

    # blocks: each one to the group whose marker last preceded it
    year_layout = bool(by_year)
    assigned: list[list[int]] = [[] for _ in groups]
    preamble: list[int] = []
    cur = None
    for bi, block in enumerate(doc.blocks):
        if bi in governing:
            cur = governing[bi]
        if year_layout and _is_heading(block, cb):
            for lst in assigned:
                lst.append(bi)
            continue
        (preamble if cur is None else assigned[cur]).append(bi)

    doc_year, doc_agency = report_year_and_agency(doc)
    home = by_year.get(doc_year, 0) if (year_layout and doc_year is not None) else 0
    assigned[home] = sorted(set(preamble) | set(assigned[home]))

    parts: list[Part] = []
    for k, group in enumerate(groups):
        m = opener[k]
        year: int | None = None
        agency: str | None = None
        if m is not None and m.kind == "year":
            year, agency = m.year, doc_agency
        elif m is not None and m.kind == "title":
            year, agency = report_year_and_agency(Document(doc.path, doc.kind, [Paragraph(m.text)]))
        parts.append(Part(sorted(set(assigned[k])), m, year, agency, group))
    return Split(parts=parts, seen=seen)


def _opening(starts: list[Marker], first_report: bool, previous: Marker | None) -> Marker | None:
    """Which marker of a gap opens the next report.

    Before the first report the last one (a cover and a table of contents come
    first).  After a report, the first title that is not the previous report's
    own: the previous report's title may be repeated in the gap (a running page
    header), and the next report's title may be repeated after it.  When every
    title reads the same, the last one.
    """
    if not starts:
        return None
    if not first_report:
        for m in starts:
            if m.kind == "title" and (previous is None or m.text != previous.text):
                return m
    return starts[-1]


_ORDER = {"t2": 0, "t3": 1, "t4": 2}


def _opens(m: Marker | None, previous: Marker | None, group: list[Instance], inst: Instance) -> bool:
    """Whether a title or outline marker before ``inst`` starts a new report.

    It does when the tables start again (``inst``'s table is already in the
    current report, or comes earlier in the template), and when a title names
    another report than the current one's.  The current report's own title
    printed again (a running header) and an outline heading among tables that
    continue in order do not.
    """
    last = group[-1].table if group else None
    if any(i.table == inst.table for i in group) or (last is not None and _ORDER[inst.table] < _ORDER[last]):
        return True
    return m is not None and m.kind == "title" and (previous is None or previous.kind != "title" or m.text != previous.text)


def _first_repeat(instances: list[Instance]) -> tuple[Instance, Instance]:
    """The first instance whose table is printed again, and its next printing."""
    first: dict[str, Instance] = {}
    nxt: dict[str, Instance] = {}
    for inst in instances:
        if inst.table in first:
            nxt.setdefault(inst.table, inst)
        else:
            first[inst.table] = inst
    table = min(nxt, key=lambda t: instances.index(first[t]))
    return first[table], nxt[table]


def part_document(doc: Document, part: Part) -> Document:
    """The document of one report: its blocks in reading order, the file's path and reader."""
    blocks = [doc.blocks[i] for i in part.blocks]
    return Document(
        path=doc.path, kind=doc.kind, blocks=blocks, status=doc.status, message=doc.message,
        encoding=doc.encoding, notes=list(doc.notes),
    )


def describe(part: Part, k: int, n: int) -> str:
    """How a part is named in messages: ``report 2 of 3: 2023 淮安市人民政府``."""
    bits = [str(part.year) if part.year is not None else "", part.agency or ""]
    label = " ".join(b for b in bits if b)
    return f"report {k} of {n}" + (f": {label}" if label else "")

