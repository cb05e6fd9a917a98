"""The numbers a report states in its prose, checked against its tables.

Agencies repeat their headline numbers in the narrative
(``全年共受理政府信息公开申请81件``, ``办结81件``, ``予以公开及部分公开42件，占51.85%``,
``行政复议案件2件``).  This module reads them as a second, independent layer:

* the phrase patterns are data, ``data/narrative_patterns.csv``: ``value``
  rows (a regular expression with ``{N}`` for the number and ``{PCT}`` for an
  optional ``，占X%``, the table cells it names as a sum of codebook terms —
  ``t3:ROW`` is the 总计 column of a Table 3 row, ``t3:ROW@COLUMN`` one
  applicant column, ``t4:GROUP.COLUMN`` a Table 4 cell — and words that must
  occur in the sentence), ``exclude`` rows (comparisons with other years and
  last year's figures: a clause holding them states no number of this
  report), and ``denominator`` rows (the candidate bases of a printed
  percentage);
* :func:`find` reads the sentences of a document and returns one
  :class:`~helpers.result.NarrativeValue` per number stated;
* :func:`check` compares them with the printed tables: agreement is recorded
  on the value, a disagreement is a ``narrative.mismatch`` warning (``expected``
  the table, ``actual`` the narrative), a percentage that no candidate
  denominator reproduces to its printed precision is ``narrative.percent_unmatched``
  (info), and a cell left ambiguous by run-together digits may be settled by
  the narrative when the value is one of the row's valid splits and keeps every
  identity (``extract.settled_by_narrative``, info; the printed text is kept).

A number is read only when the clause states it for the report year: a clause
naming another year (``2023年…``) in a 2024 report, or comparing with another
year (同比, 较上年 …), is skipped.  A blank table cell is never read as 0: a
sum with a blank or missing term has no table value and is not compared.
"""

from __future__ import annotations

import csv
import re
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

from .document import Document, Paragraph
from .normalize import nfkc
from .parts import marker_of
from .result import CellValue, ExtractResult, Issue, NarrativeValue

# a whole number, never the tail of a longer one (bounded, so that a run of thousands of digits
# costs one scan, not one per digit)
_NUMBER = (
    r"(?<![\d.零〇一二两三四五六七八九十百千])(?<!\d,)"
    r"(?P<n>\d[\d,]{0,14}(?:\.\d{1,4})?(?![\d,.])|[零〇一二两三四五六七八九十百千]{1,8}(?![零〇一二两三四五六七八九十百千]))"
)
_PERCENT = r"(?:,?(?:占|比例为|占比为?)(?:比)?(?:为)?(?P<pct>\d{1,3}(?:\.\d{1,4})?)%)?"
_SENTENCE_END = re.compile(r"[。！？!?]")
_CLAUSE_START = re.compile(r"[,，、:：;；(（]")
_YEAR = re.compile(r"((?:19|20)\d{2})年")
_TABLE_LINE = re.compile(r"(?:\d+(?:\.\d+)?\s+){3,}\d")  # a table row printed as a line of numbers
_LONG_LINE = 300  # a longer line is a whole text dump on one line: its sentences are read, tables and all
_COUNTED = re.compile(r"[件起宗]")
_HEADING_CHARS = 40
_ENUMERATED = re.compile(r"^[（(]?[一二三四五六七八九十\d]{1,3}[）)、.．]")
_SENTENCE_PUNCT = re.compile(r"[，,。；;]")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


@dataclass(frozen=True, slots=True)
class Pattern:
    id: str
    regex: re.Pattern[str]
    target: str
    unit: str
    context: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class Patterns:
    values: tuple[Pattern, ...]
    exclude: re.Pattern[str]
    denominators: tuple[tuple[str, str], ...]  # (id, expression)


@cache
def patterns() -> Patterns:
    """The phrase patterns of ``data/narrative_patterns.csv``, compiled."""
    with resources.files("helpers").joinpath("data", "narrative_patterns.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    values, excludes, dens = [], [], []
    for r in rows:
        if r["kind"] == "value":
            rx = r["regex"].replace("{N}", _NUMBER).replace("{PCT}", _PERCENT)
            ctx = re.compile(r["context"]) if r["context"] else None
            values.append(Pattern(r["id"], re.compile(rx), r["target"], r["unit"], ctx))
        elif r["kind"] == "exclude":
            excludes.append(f"(?:{r['regex']})")
        elif r["kind"] == "denominator":
            dens.append((r["id"], r["target"]))
        else:
            raise ValueError(f"narrative_patterns.csv: pattern {r['id']!r} has an unknown kind {r['kind']!r}")
    return Patterns(tuple(values), re.compile("|".join(excludes)), tuple(dens))


def chinese_number(s: str) -> int | None:
    """``"十二"`` → 12, ``"一百零五"`` → 105, ``"三"`` → 3; None when not a numeral.

    >>> [chinese_number(x) for x in ("十二", "一百零五", "两千", "二十", "零")]
    [12, 105, 2000, 20, 0]
    """
    total, digit = 0, None
    for ch in s:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        else:
            return None
    return total + (digit or 0)


def _value(printed: str) -> int | float | None:
    if printed[0].isdigit():
        s = printed.replace(",", "")
        return float(s) if "." in s else int(s)
    return chinese_number(printed)


def sentences(doc: Document) -> list[tuple[str, str]]:
    """(sentence, where) for the running text of a document.

    Lines are joined before the text is cut at 。！？ (PDF lines and text dumps
    of PDFs break sentences anywhere); a table, or a line that is a table row
    (a run of numbers), ends the running text.  ``where`` is the line (and
    page) on which the sentence starts.
    """
    out: list[tuple[str, str]] = []
    buf: list[str] = []
    starts: list[tuple[int, str]] = []  # offset in the joined text -> where
    size = 0

    def flush() -> None:
        nonlocal size
        text = "".join(buf)
        offsets = [o for o, _ in starts]
        pos = 0
        for piece in _SENTENCE_END.split(text):
            begin = text.find(piece, pos) if piece else pos
            pos = begin + len(piece)
            s = piece.strip()
            if s:
                at = bisect_right(offsets, begin + len(piece) - len(piece.lstrip())) - 1
                out.append((s, starts[max(at, 0)][1]))
        buf.clear()
        starts.clear()
        size = 0

    for bi, b in enumerate(doc.blocks):
        if not isinstance(b, Paragraph) or (len(b.text) < _LONG_LINE and _TABLE_LINE.search(b.text)):
            flush()
            continue
        text = b.text.strip().replace("\n", "")
        heading = _is_heading(text)
        if heading:
            flush()
        starts.append((size, f"page {b.page} line {bi + 1}" if b.page else f"line {bi + 1}"))
        buf.append(text)
        size += len(text)
        if heading:
            flush()
    flush()
    return out


def _is_heading(line: str) -> bool:
    """A line that stands alone: a report title, or a short enumerated heading (``四、政府信息公开申请情况``)."""
    line = line.lstrip("#> \t")
    if marker_of(line) is not None:
        return True
    return len(line) <= _HEADING_CHARS and bool(_ENUMERATED.match(line)) and not _SENTENCE_PUNCT.search(line)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", nfkc(text))


def find(doc: Document, year: int | None = None) -> list[NarrativeValue]:
    """Every number the narrative of ``doc`` states for a table cell (not yet checked)."""
    pats = patterns()
    out: list[NarrativeValue] = []
    for sentence, where in sentences(doc):
        if not _COUNTED.search(sentence):
            continue  # every pattern counts 件, 起 or 宗
        s = _compact(sentence)
        taken: list[tuple[int, int]] = []
        for p in pats.values:
            if p.context is not None and not p.context.search(s):
                continue
            for m in p.regex.finditer(s):
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue  # a longer pattern already read this number
                clause_start = max((c.end() for c in _CLAUSE_START.finditer(s, 0, m.start())), default=0)
                if pats.exclude.search(s, clause_start, m.end()):
                    continue
                years = _YEAR.findall(s[: m.start("n")])
                if year is not None and years and int(years[-1]) != year and not _YEAR.search(m.group()):
                    continue  # the sentence speaks of another year here
                value = _value(m.group("n"))
                if value is None:
                    continue
                taken.append((m.start(), m.end()))
                out.append(NarrativeValue(p.id, sentence, m.group("n"), value, p.unit, p.target, where))
                if m.groupdict().get("pct"):
                    pct = m.group("pct")
                    out.append(NarrativeValue(p.id, sentence, f"{pct}%", float(pct), "%", p.target, where))
    return out


# ---------------------------------------------------------------------------
# table values of an expression


def terms(expr: str) -> list[tuple[int, str]]:
    """``"t3:a-t3:b"`` → ``[(1, "t3:a"), (-1, "t3:b")]``."""
    return [(-1 if sign == "-" else 1, t) for sign, t in re.findall(r"([+-]?)([^+\-]+)", expr)]


def cell_keys(term: str, cells: dict[str, CellValue]) -> list[str]:
    """The codebook keys a term reads: ``t3:ROW`` → ``t3.ROW.total`` (a row printed as
    sub-rows, （六） in the revised edition, reads its sub-rows), ``t3:ROW@COL`` →
    ``t3.ROW.COL``, ``t4:GROUP.COL`` → ``t4.GROUP.COL``."""
    table, _, rest = term.partition(":")
    if table == "t4":
        return [f"t4.{rest}"]
    row, _, col = rest.partition("@")
    col = col or "total"
    key = f"t3.{row}.{col}"
    cell = cells.get(key)
    if cell is None or cell.status == "absent":
        subs = [k for k in cells if k.startswith(f"t3.{row}_") and k.endswith(f".{col}") and cells[k].status != "absent"]
        if subs:
            return subs
    return [key]


def table_value(expr: str, cells: dict[str, CellValue]) -> int | float | None:
    """The printed table's value of an expression; None when any cell it reads is not a number."""
    total: int | float = 0
    for sign, term in terms(expr):
        for k in cell_keys(term, cells):
            c = cells.get(k)
            if c is None or c.status != "number" or c.value is None:
                return None
            total += sign * c.value
    return total


def _keys(expr: str, cells: dict[str, CellValue]) -> list[str]:
    return [k for _, t in terms(expr) for k in cell_keys(t, cells)]


def reproduces(printed: str, numerator: float, denominator: float) -> bool:
    """Whether ``100 * numerator / denominator`` rounds (half up) to the printed percentage.

    >>> reproduces("51.85", 42, 81), reproduces("51.8", 42, 81), reproduces("51.86", 42, 81)
    (True, False, False)
    """
    if denominator <= 0:
        return False
    exact = Decimal(numerator) * 100 / Decimal(denominator)
    places = Decimal(1).scaleb(-len(printed.partition(".")[2]))
    return exact.quantize(places, rounding="ROUND_HALF_UP") == Decimal(printed)


# ---------------------------------------------------------------------------
# checking against the tables


def check(result: ExtractResult, split_other: bool | None = None) -> list[Issue]:
    """Compare ``result.narrative`` with ``result.cells``; fills ``table``, ``agrees`` and
    ``denominators`` of each value, settles ambiguous cells, returns the issues."""
    path = result.path
    issues: list[Issue] = []
    cells = result.cells
    for nv in result.narrative:
        if nv.unit == "%":
            issues += _check_percent(result, nv)
            continue
        keys = _keys(nv.target, cells)
        if len(keys) == 1 and cells.get(keys[0]) is not None and cells[keys[0]].status == "text":
            issues += _settle(result, nv, keys[0], split_other)
        nv.table = table_value(nv.target, cells)
        nv.agrees = None if nv.table is None else abs(nv.table - nv.value) < 1e-9
        if nv.agrees is False:
            same = [f"{d} ({expr}) = {_fmt(v)}" for d, expr in patterns().denominators
                    if (v := table_value(expr, cells)) is not None and abs(v - nv.value) < 1e-9]
            issues.append(
                Issue(
                    "narrative.mismatch",
                    "warning",
                    f"{path}: the narrative at {nv.where} states {nv.printed} ({nv.pattern}: {nv.target}) "
                    f"where the table prints {_fmt(nv.table)}"
                    + (f"; the stated number equals the table's {', '.join(same)}" if same else "")
                    + f": «{nv.sentence}»",
                    cells=keys,
                    expected=nv.table,
                    actual=nv.value,
                    path=path,
                )
            )
    return issues


def _fmt(x: float | int | None) -> str:
    return "—" if x is None else (f"{x:g}" if isinstance(x, float) else str(x))


def _check_percent(result: ExtractResult, nv: NarrativeValue) -> list[Issue]:
    cells = result.cells
    num = table_value(nv.target, cells)
    nv.table = num
    if num is None:
        return []
    tried = []
    for den_id, expr in patterns().denominators:
        den = table_value(expr, cells)
        if den is None:
            continue
        tried.append(f"{den_id} {_fmt(den)}")
        if reproduces(nv.printed.rstrip("%"), num, den):
            nv.denominators.append(den_id)
    nv.agrees = bool(nv.denominators)
    if nv.denominators or not tried:
        return []
    return [
        Issue(
            "narrative.percent_unmatched",
            "info",
            f"{result.path}: the narrative at {nv.where} prints {nv.printed} for {nv.target} "
            f"(table {_fmt(num)}), which no denominator reproduces ({', '.join(tried)}): «{nv.sentence}»",
            cells=_keys(nv.target, cells),
            actual=nv.value,
            path=result.path,
        )
    ]


def _settle(result: ExtractResult, nv: NarrativeValue, key: str, split_other: bool | None) -> list[Issue]:
    """Settle an ambiguous cell with the narrative's value when the row's printed digits
    can be split that way and every identity still holds."""
    from .splitting import search_splits
    from .validate import check_identities, infer_split_other

    cell = result.cells[key]
    table, row, col = key.split(".")
    if table != "t3":
        return []
    from .codebook import load

    cols = load().t3_cols
    row_keys = [f"t3.{row}.{c}" for c in cols]
    runs = cell.printed.split()
    width = len(cols)
    sols, complete = search_splits(runs, width, [(width - 1, tuple(range(width - 1)))])
    pos = cols.index(col)
    known = {i: result.cells[k].value for i, k in enumerate(row_keys) if result.cells.get(k) and result.cells[k].status == "number"}
    fits = [s for s in sols if _value(s[pos]) == nv.value and all(_value(s[i]) == v for i, v in known.items())]
    if not fits:
        return []
    split = split_other if split_other is not None else infer_split_other(result)
    before = {(i.rule, tuple(i.cells)) for i in check_identities(result, split)}
    result.cells[key] = CellValue(nv.value, "number", cell.printed, cell.where)
    after = [i for i in check_identities(result, split) if (i.rule, tuple(i.cells)) not in before and key in i.cells]
    if after:
        result.cells[key] = cell
        return []
    return [
        Issue(
            "extract.settled_by_narrative",
            "info",
            f"{result.path}: Table 3 cell {key}, printed in the run {cell.printed!r} that can be split in "
            f"{len(sols)} ways, is {nv.printed} as the narrative states at {nv.where} («{nv.sentence}»); "
            "every identity holds",
            cells=[key],
            actual=nv.value,
            path=result.path,
        )
    ]


def narrative_rows(results: list[ExtractResult]) -> list[dict[str, object]]:
    """One row per stated number, for a ``narrative`` table: report path, part,
    pattern, sentence, printed, value, unit, key (the cells it names), table value,
    agrees, denominators (of a percentage, ``;``-joined), where.  In the order of the
    results and, within one, of the text."""
    rows: list[dict[str, object]] = []
    for r in results:
        for nv in r.narrative:
            rows.append(
                {
                    "path": r.path,
                    "part": r.part,
                    "pattern": nv.pattern,
                    "sentence": nv.sentence,
                    "printed": nv.printed,
                    "value": nv.value,
                    "unit": nv.unit,
                    "key": nv.target,
                    "table_value": nv.table,
                    "agrees": nv.agrees,
                    "denominators": ";".join(nv.denominators),
                    "where": nv.where,
                }
            )
    return rows
