"""Turn a neutral document into rows of typed tokens.

Every block becomes one or more *physical rows*: a table row (its distinct
cells), or a line of text.  Each row is a list of tokens:

``LABEL``  a printed label found in the label tables (row, column, block,
           table anchor or section heading)
``VALUE``  a cell that reads as a number or an N/A marker
``BLANK``  an empty cell (only inside grids, where an empty field is a cell)
``TEXT``   anything else: prose, an unrecognised label, a header fragment

Text lines and cells whose labels and numbers run together
(``一、本年新收政府信息公开申请数量640020470二、上年结转…``) are cut with one
compiled regular expression over every known label; what lies between two
labels is split at the original whitespace into number tokens.  Labels broken
over several cells or lines (``5.要求行政机关确认或重`` / ``新出具已获取信息``) are
joined back when the joined text is a known label.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import cache

from .codebook import Codebook, LabelEntry, load
from .document import Document, Paragraph, Table
from .normalize import (
    _DROP,
    _t2s_table,
    fold_table,
    fold_variants,
    nfkc,
    norm_label,
    strip_enumerator,
    strip_pinyin,
    unfold_circled,
)
from .numbers import Parsed, parse_cell
from .pagemarks import is_page_number_line

LABEL, VALUE, BLANK, TEXT = "LABEL", "VALUE", "BLANK", "TEXT"

_QUOTES = "\"'“”‘’「」『』〝〞‟„`´"
# a run of characters :func:`_compact` drops: whitespace (``\s`` is ``str.isspace``)
# and the other characters :func:`norm_label` drops (quotes, zero-width marks)
_GAP = re.compile("[\\s" + "".join(re.escape(chr(c)) for c in sorted(_DROP)) + "]+")
_HAS_WS = re.compile(r"\s")
_HAS_QUOTE = re.compile("[" + re.escape(_QUOTES) + "]")
_ASCII_DIGITS = frozenset("0123456789")
_TRAILING_ENUM = re.compile(r"(?:\d{1,2}[.、]|\(\d{1,2}\)|\([一二三四五六七八九十]{1,3}\)|[一二三四五六七八九十]{1,3}、)$")
_HAS_DIGIT = re.compile(r"\d")
_ENUM_START = re.compile(r"^\(?\d{1,2}[.、)]")
_LEAD_ENUM = re.compile(r"^\d{1,2}[.、]$")
# digits run together, possibly with signed parts and a unit: "35-15", "39573802895.90元"
_NUMBERISH = re.compile(r"^[-+]?\d[\d,.]*(?:-\d[\d,.]*)*(?:万元|亿元|元)?$")


@dataclass(slots=True)
class Token:
    kind: str
    text: str  # printed text (stripped)
    entries: tuple[LabelEntry, ...] = ()
    parsed: Parsed | None = None
    where: str = ""


@dataclass(slots=True)
class Row:
    tokens: list[Token]
    grid: bool  # True for table rows: an empty field is a blank cell
    where: str
    page: int | None = None
    extra: dict = field(default_factory=dict)


@cache
def _label_regex() -> re.Pattern[str]:
    cb = load()
    forms = set(cb.labels) | {s for s, e in cb.stripped.items() if e}
    forms = {f for f in forms if len(f) >= 2}
    alts = sorted(forms, key=len, reverse=True)
    # Every alternative begins with one of these characters; testing that first
    # spares trying each alternative at every position (the alternatives of
    # numbered labels begin with a group, so the engine cannot see it itself).
    first = {c for a in alts for c in _first_chars(a)}
    return re.compile(f"(?=[{re.escape(''.join(sorted(first)))}])(?:{'|'.join(_label_pattern(a) for a in alts)})")


_NUMBERED = re.compile(r"^(\d{1,2})\.(.+)$")


def _first_chars(form: str) -> str:
    """The characters a match of :func:`_label_pattern` of ``form`` can begin with."""
    m = _NUMBERED.match(form)
    return m.group(1)[0] + "(" if m else form[0]


def _label_pattern(form: str) -> str:
    """A label form as a pattern: a numbered label (``3.其他``) also in its other
    enumerator styles (``3、其他``, ``3)其他``, ``(3)其他``; ``③`` and ``３．`` are
    folded to ``3.`` before scanning)."""
    m = _NUMBERED.match(form)
    if not m:
        return re.escape(form)
    n = m.group(1)
    return f"(?:{n}[.、)]|\\({n}\\)){re.escape(m.group(2))}"


def _compact(text: str) -> tuple[str, list[int]]:
    """NFKC-fold ``text`` and drop whitespace and quotes; also the positions
    (in increasing order) of the kept characters that whitespace stood before,
    or a quote mark between two digits (``1“2`` is not 12)."""
    s = nfkc(unfold_circled(text))
    breaks: list[int] = []
    removed = 0  # characters dropped before the current gap
    for m in _GAP.finditer(s):
        a, b = m.span()
        if b < len(s):  # a kept character follows: does the gap break before it?
            gap = m.group()
            if _HAS_WS.search(gap) or (
                a > 0 and s[a - 1] in _ASCII_DIGITS and s[b] in _ASCII_DIGITS and _HAS_QUOTE.search(gap)
            ):
                breaks.append(a - removed)
        removed += b - a
    return fold_table(_GAP.sub("", s)), breaks


def _residue_tokens(compact: str, breaks: list[int], start: int, end: int, before_label: bool, where: str) -> list[Token]:
    """Tokens for the text between two labels: whitespace-separated words, each
    a number (or N/A marker) or a piece of text."""
    cuts = [start, *breaks[bisect_right(breaks, start):bisect_left(breaks, end)], end]
    words = [compact[a:b] for a, b in zip(cuts, cuts[1:])]
    if before_label and words:
        # an enumerator glued to the end belongs to the next label: "00000002." + "其他法律…"
        last = _TRAILING_ENUM.sub("", words[-1]) if len(words[-1]) > 1 else words[-1]
        if last != words[-1] and (last == "" or _HAS_DIGIT.search(last)):
            words[-1] = last
            if not last:
                words.pop()
    out: list[Token] = []
    for k, w in enumerate(words):
        if k == 0 and start == 0 and len(words) > 1 and _LEAD_ENUM.match(w) and not _NUMBERISH.match(words[1]):
            # "1. 申请人无正当理由": an enumerator set off by a space opens the label text
            out.append(Token(TEXT, w, where=where))
            continue
        p = _parse_value(w)
        if p.status in ("number", "na_marker"):
            out.append(Token(VALUE, w, parsed=p, where=where))
        elif _NUMBERISH.match(w):
            out.append(Token(VALUE, w, parsed=p, where=where))
        else:
            out.append(Token(TEXT, w, where=where))
    return out


def scan_text(text: str, cb: Codebook, where: str) -> list[Token]:
    """Cut a line (or a cell) into label, number and text tokens."""
    compact, breaks = _compact(text)
    if not compact:
        return []
    rx = _label_regex()
    tokens: list[Token] = []
    pos = 0
    for m in rx.finditer(compact):
        entries = cb.lookup(norm_label(m.group()))
        if not entries:
            continue
        if m.start() > pos:
            tokens.extend(_residue_tokens(compact, breaks, pos, m.start(), True, where))
        tokens.append(Token(LABEL, m.group(), tuple(entries), where=where))
        pos = m.end()
    if pos < len(compact):
        tokens.extend(_residue_tokens(compact, breaks, pos, len(compact), False, where))
    return tokens


# What :func:`_ideographs` does not count: anything but a CJK ideograph, and the
# numerals of enumerators (``（三）``, ``十、``), which :func:`strip_enumerator` may remove.
_NOT_COUNTED = re.compile(r"[^\u4e00-\u9fff]+|[一二三四五六七八九十]+")


def _too_long(text: str, limit: int) -> bool:
    """True when ``text`` holds more than ``limit`` CJK ideographs besides
    enumerator numerals: :func:`norm_label` keeps each of them (NFKC and the
    folding tables leave them as they are), so neither the normalised text nor
    its form without enumerators can be ``limit`` characters or shorter.  A
    cheap test that spares normalising a paragraph of prose to look it up."""
    return len(text) > limit and len(_NOT_COUNTED.sub("", text)) > limit


def _paragraph_tokens(text: str, cb: Codebook, where: str) -> list[Token]:
    """A text line: whole-line label, or words grouped into label text and numbers."""
    prose = _too_long(text, max(cb.longest_label, _MAX_FOLD))  # no label, folded or not
    n = "" if prose else norm_label(text)
    entries = None if prose else cb.lookup(n)
    if entries:
        return [Token(LABEL, text.strip(), tuple(entries), where=where)]
    p = _parse_value(text)
    if p.status in ("number", "na_marker"):
        return [Token(VALUE, text.strip(), parsed=p, where=where)]
    folded = None if prose else _folded_label(text, n, cb)
    if folded:
        return [Token(LABEL, text.strip(), folded, where=where)]
    return _scan(text, cb, where)


def _scan_score(tokens: list[Token]) -> tuple[int, int]:
    """More label text is better, then fewer pieces of unrecognised text."""
    return sum(len(t.text) for t in tokens if t.kind == LABEL), -sum(1 for t in tokens if t.kind == TEXT)


def _scan(text: str, cb: Codebook, where: str) -> list[Token]:
    """:func:`scan_text`, and for a line in Traditional characters or with
    pinyin (a mirror page) the scan of its folded form when that recognises
    more label text or leaves less unrecognised text: a short label that reads
    the same in both scripts (``其他``) would otherwise cut a longer one
    (``不計其他情形``), and pinyin left between a label and its numbers
    (``规章(zhāng) 0 0 0``) would read as prose."""
    toks = scan_text(text, cb, where)
    if text.isascii():
        return toks
    folded = fold_variants(text)
    if folded == text:
        return toks
    alt = scan_text(folded, cb, where)
    if _scan_score(alt) <= _scan_score(toks):
        return toks
    for t in alt:  # values keep their printed form ("0億元", not the folded "0亿元")
        if t.kind == VALUE and not t.text.isascii():
            t.text = _as_printed(t.text, text)
    return alt


_PINYIN_AFTER = r"(?:\([a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹ]{1,7}\))?"


@cache
def _traditional_forms() -> dict[str, str]:
    """Simplified character → its Traditional forms (the inverse of the folding table)."""
    inv: dict[str, str] = {}
    for trad, simp in _t2s_table().items():
        if len(simp) == 1:
            inv[simp] = inv.get(simp, "") + chr(trad)
    return inv


def _as_printed(word: str, text: str) -> str:
    """The text in ``text`` that folds to ``word`` (a value read from the folded
    line): each character in either script, pinyin allowed after it; ``word``
    itself when it cannot be found."""
    forms = _traditional_forms()
    parts = []
    for ch in word:
        alts = ch + forms.get(ch, "")
        parts.append("[" + re.escape(alts) + "]" if len(alts) > 1 else re.escape(ch))
        if not ch.isascii():
            parts.append(_PINYIN_AFTER)
    m = re.search("".join(parts), unicodedata.normalize("NFKC", text))
    return m.group() if m else word


# Folding is a second chance for label-sized text only; the length is measured
# without injected pinyin (a label with pinyin after every character is three
# to six times as long as the label).
_MAX_FOLD = 60


def _fold_length(text: str) -> int:
    return len(strip_pinyin(text))


def _parse_value(text: str) -> Parsed:
    """:func:`parse_cell`, with a second chance for a number whose unit is in
    Traditional characters or carries pinyin (``7730.28萬(wàn)元(yuán)``).
    Pure ASCII text is never folded (``12(a)`` stays text)."""
    p = parse_cell(text)
    if p.status in ("number", "na_marker", "blank") or text.isascii() or len(text) > _MAX_FOLD:
        return p
    folded = fold_variants(text)
    if folded != text:
        q = parse_cell(folded)
        if q.status in ("number", "na_marker"):
            return q
    return p


def _folded_label(text: str, n: str, cb: Codebook) -> tuple[LabelEntry, ...]:
    """A label printed in Traditional characters or with pinyin, as a whole cell or line."""
    if _fold_length(n) > _MAX_FOLD or n.isascii() or _HAS_DIGIT.search(n) and not _ENUM_START.match(n):
        return ()
    return tuple(cb.lookup(norm_label(fold_variants(text))))


def _cell_tokens(text: str, cb: Codebook, where: str) -> list[Token]:
    p = _parse_value(text)
    if p.status == "blank":
        return [Token(BLANK, "", parsed=p, where=where)]
    if p.status in ("number", "na_marker"):
        return [Token(VALUE, text.strip(), parsed=p, where=where)]
    n = norm_label(text)
    entries = cb.lookup(n)
    if entries:
        return [Token(LABEL, text.strip(), tuple(entries), where=where)]
    folded = _folded_label(text, n, cb)
    if folded:
        return [Token(LABEL, text.strip(), folded, where=where)]
    if _HAS_DIGIT.search(_ENUM_START.sub("", n)):  # digits beyond an enumerator: labels and numbers run together?
        toks = _scan(text, cb, where)
        if any(t.kind == LABEL for t in toks):
            return toks
    # a number with a word glued to it ("7730.28万元" is a number; "暂无" is text)
    return [Token(TEXT, text.strip(), where=where)]


def _second_chance(tok: Token, cb: Codebook) -> Token:
    """Unrecognised text: try again without injected pinyin and in Simplified characters."""
    if not tok.text or tok.text.isascii() or _fold_length(tok.text) > _MAX_FOLD:
        return tok
    folded = fold_variants(tok.text)
    if folded != tok.text:
        entries = cb.lookup(norm_label(folded))
        if entries:
            return Token(LABEL, tok.text, tuple(entries), where=tok.where)
    return tok


def document_rows(doc: Document, cb: Codebook | None = None, fold: bool = True) -> list[Row]:
    """All physical rows of a document, tokenised, in reading order.

    Consecutive text tokens whose concatenation is a known label are merged
    into one label token (labels broken over lines or cells).
    """
    cb = cb or load()
    rows: list[Row] = []
    lines: dict[str, tuple] = {}  # text -> its tokens (page furniture: none), once per distinct text
    cells_seen: dict[str, tuple] = {}
    for bi, block in enumerate(doc.blocks):
        if isinstance(block, Paragraph):
            where = f"page {block.page} line {bi + 1}" if block.page else f"line {bi + 1}"
            toks = _tokens_once(lines, _paragraph_tokens, block.text, cb, where)
            if toks:
                rows.append(Row(toks, grid=False, where=where, page=block.page, extra={"raw": block.text}))
        elif isinstance(block, Table):
            grid = True
            for ri, cells in enumerate(block.distinct_rows()):
                toks: list[Token] = []
                for ci, text in enumerate(cells):
                    where = f"table {bi + 1} row {ri + 1} cell {ci + 1}"
                    toks.extend(_tokens_once(cells_seen, _cell_tokens, text, cb, where))
                if toks:
                    rows.append(Row(toks, grid=grid, where=f"table {bi + 1} row {ri + 1}", page=block.page))
    _join_broken_lines(rows, cb)
    _join_header_columns(rows, cb)
    _join_broken_labels(rows, cb, fold)
    return rows


def _tokens_once(seen: dict[str, tuple], tokenise, text: str, cb: Codebook, where: str) -> list[Token]:
    """``tokenise(text, cb, where)``, or no tokens for a page number (page
    furniture, wherever the page broke, also inside a table).  Tokenising
    depends on the text alone, so ``seen`` keeps each distinct text's tokens
    and repeated texts (``0``, a label printed twice) get fresh copies."""
    shape = seen.get(text)
    if shape is None:
        toks = () if is_page_number_line(text) else tokenise(text, cb, where)
        shape = seen[text] = tuple((t.kind, t.text, t.entries, t.parsed) for t in toks)
    return [Token(kind, printed, entries, parsed, where) for kind, printed, entries, parsed in shape]


_CELL_AT = re.compile(r"^(table \d+) row (\d+) cell (\d+)$")


def _join_header_columns(rows: list[Row], cb: Codebook) -> None:
    """Header cells broken over two grid rows of one table, column by column
    (``本年新`` over ``制作数量``): where the two pieces in one column join into
    a known label, the upper one becomes that label.  Only rows without values."""
    for upper, lower in zip(rows, rows[1:]):
        if not (upper.grid and lower.grid) or any(t.kind == VALUE for t in (*upper.tokens, *lower.tokens)):
            continue
        cols_u = _text_by_column(upper)
        cols_l = _text_by_column(lower)
        if not cols_u or not cols_l or next(iter(cols_u))[0] != next(iter(cols_l))[0]:
            continue
        for (grid, col), tu in cols_u.items():
            tl = cols_l.get((grid, col))
            if tl is None or not tu.text or not tl.text:
                continue
            entries = cb.lookup(norm_label(tu.text + tl.text))
            if entries:
                upper.tokens[upper.tokens.index(tu)] = Token(LABEL, tu.text + tl.text, tuple(entries), where=tu.where)
                lower.tokens[lower.tokens.index(tl)] = Token(TEXT, "", where=tl.where)


def _text_by_column(row: Row) -> dict[tuple[str, int], Token]:
    """The TEXT tokens of a grid row that fill a cell alone, by (table, column)."""
    out: dict[tuple[str, int], Token] = {}
    seen: dict[tuple[str, int], int] = {}
    for t in row.tokens:
        m = _CELL_AT.match(t.where)
        if not m:
            continue
        key = (m.group(1), int(m.group(3)))
        seen[key] = seen.get(key, 0) + 1
        if t.kind == TEXT:
            out[key] = t
    return {k: t for k, t in out.items() if seen[k] == 1}


_MAX_LINES = 4
# possessive inner quantifiers: one way to cut the numbers, no exponential backtracking
_LABEL_THEN_NUMBERS = re.compile(r"^(\D*?)\s+((?:[-+]?\d[\d,.]*+\s*+)+)$")


def _join_broken_lines(rows: list[Row], cb: Codebook) -> None:
    """Text lines without numbers whose concatenation is one known label
    (``（二）部分公开（区分处理的，只计这一情 形，不`` + ``计其他情形）``) become that label."""
    i = 0
    while i < len(rows):
        row = rows[i]
        raw = row.extra.get("raw") if not row.grid else None
        if raw is None or any(t.kind == VALUE for t in row.tokens) or _is_exact(row):
            i += 1
            continue
        joined = raw
        hit = None
        rest_tokens: list[Token] | None = None
        for j in range(i + 1, min(i + _MAX_LINES, len(rows))):
            nxt = rows[j]
            nraw = nxt.extra.get("raw") if not nxt.grid else None
            if nraw is None:
                break
            if any(t.kind == VALUE for t in nxt.tokens):
                # the label ends on the line that carries the values: "计其他情形） 4 0 0 0 0 0 4"
                m = _LABEL_THEN_NUMBERS.match(nraw)
                if m:
                    entries = cb.lookup(norm_label(joined + m.group(1)))
                    if entries:
                        joined += m.group(1)
                        hit = (j, entries)
                        rest_tokens = _paragraph_tokens(m.group(2), cb, nxt.where)
                break
            joined += nraw
            if _too_long(joined, cb.longest_label):
                break  # no label, nor with more lines joined
            entries = cb.lookup(norm_label(joined))
            if entries:
                hit = (j, entries)
                break
        if hit:
            j, entries = hit
            row.tokens = [Token(LABEL, joined, tuple(entries), where=row.where)]
            for k in range(i + 1, j + 1):
                rows[k].tokens = []
            if rest_tokens is not None:
                rows[j].tokens = rest_tokens
            i = j + 1
        else:
            i += 1


def _is_exact(row: Row) -> bool:
    return len(row.tokens) == 1 and row.tokens[0].kind == LABEL


_MAX_JOIN = 12


def _join_broken_labels(rows: list[Row], cb: Codebook, fold: bool) -> None:
    """Merge runs of TEXT tokens (within and across rows) that form a known label.

    Empty cells do not break a run (a label broken over two grid rows, the first
    of them otherwise empty).  A piece that begins a known label and is left over
    when its row ends is held for the next rows: the label of a neighbouring row
    may have been printed between its two pieces (``1.申请人…不再`` /
    ``2.申请人逾期…`` / ``处理其政府信息公开申请``).  The joined label takes the
    place of the piece whose row carries values (the last piece when several do);
    without values, a label broken over grid rows takes the place of its first
    piece (a header cell: its column is where it starts).
    """
    buf: list[tuple[int, int]] = []  # (row index, token index) of consecutive TEXT tokens
    held: list[tuple[int, int]] = []  # a label's first piece, left over from an earlier row
    held_row = -1
    for ri, row in enumerate(rows):
        ti = 0
        while ti < len(row.tokens):
            tok = row.tokens[ti]
            if tok.kind == BLANK:
                ti += 1
                continue
            if tok.kind != TEXT:
                if buf and buf[-1][0] == ri and _label_prefix(rows[ri].tokens[buf[-1][1]].text, cb):
                    held, held_row = [buf[-1]], ri
                buf = []
                ti += 1
                continue
            if fold:
                new = _second_chance(tok, cb)
                if new is not tok:
                    row.tokens[ti] = new
                    buf = []
                    ti += 1
                    continue
            buf.append((ri, ti))
            if len(buf) > _MAX_JOIN:
                buf = buf[-_MAX_JOIN:]
            hit = _find_join(rows, buf, cb, fold)
            if hit is None and held and held_row < ri <= held_row + _MAX_HELD_ROWS and held[-1] not in buf:
                hit = _find_join(rows, [*held, (ri, ti)], cb, fold, whole=True)
                if hit is None and len(held) < _MAX_JOIN:
                    joined = "".join(rows[r].tokens[t].text for r, t in [*held, (ri, ti)])
                    if _label_prefix(joined, cb):  # the label goes on over more rows
                        held, held_row = [*held, (ri, ti)], ri
                        buf = []
                        ti += 1
                        continue
            if hit:
                pieces, joined, entries = hit
                carrier = [p for p in pieces if any(t.kind == VALUE for t in rows[p[0]].tokens)]
                if carrier:
                    r_at, t_at = carrier[-1]
                elif pieces[0][0] != pieces[-1][0] and rows[pieces[0][0]].grid:
                    r_at, t_at = pieces[0]  # a header cell broken over grid rows: its column is the first piece's
                else:
                    r_at, t_at = pieces[-1]
                for r, t in pieces:
                    rows[r].tokens[t] = Token(TEXT, "", where=rows[r].tokens[t].where)
                rows[r_at].tokens[t_at] = Token(LABEL, joined, tuple(entries), where=rows[r_at].tokens[t_at].where)
                buf = []
                if any(p in held for p in pieces):
                    held = []
            ti += 1
        # a grid row boundary does not break a label broken inside a one-cell-per-line run,
        # but a row holding values does
        if buf and buf[-1][0] == ri and _label_prefix(rows[ri].tokens[buf[-1][1]].text, cb):
            held, held_row = [buf[-1]], ri
        if any(t.kind in (VALUE, LABEL) for t in row.tokens):
            buf = []


_MAX_HELD_ROWS = 2


def _find_join(rows: list[Row], buf: list[tuple[int, int]], cb: Codebook, fold: bool, whole: bool = False):
    """The shortest tail of ``buf`` (all of it when ``whole``) whose pieces joined are a known label."""
    texts = [rows[r].tokens[t].text for r, t in buf]
    # the tail one piece shorter than the first one tried; each try puts one more piece before it
    joined = "".join(texts[1:]) if whole else "".join(texts[-1:])
    for k in [len(buf)] if whole else range(2, len(buf) + 1):
        joined = texts[-k] + joined
        if not joined:
            continue
        pieces = buf[-k:]
        if _too_long(joined, max(cb.longest_label, _MAX_FOLD)):
            break  # no label, folded or not; the longer tails hold this one
        entries = cb.lookup(norm_label(joined))
        if not entries and fold and _fold_length(joined) <= _MAX_FOLD:
            entries = cb.lookup(norm_label(fold_variants(joined)))
        if entries:
            return pieces, joined, entries
    return None


@cache
def _label_prefixes() -> frozenset[str]:
    """Every beginning (4 characters or more) of a known label, normalised."""
    cb = load()
    out: set[str] = set()
    for form in (*cb.labels, *cb.stripped):
        out.update(form[:i] for i in range(4, len(form)))
    return frozenset(out)


def _label_prefix(text: str, cb: Codebook) -> bool:
    return bool(text) and norm_label(text) in _label_prefixes()


def strip_enum(text: str) -> str:
    return strip_enumerator(norm_label(text))
