"""Mutation fuzzing of the extractor over real report files.

Three parts, used by ``tests/test_fuzz_sample.py`` (a seeded sample) and by
``scripts/fuzz.py`` (the long run, ``make fuzz``):

* **Mutators** turn the bytes of a seed file into a damaged variant:
  truncation, bit flips, inserted/deleted/duplicated bytes, splices of another
  seed, encoding swaps (GB18030, UTF-16, UTF-8 with BOM, UTF-8 read as GBK),
  line-level damage (shuffled, deleted, duplicated or swapped lines and whole
  tables, lines joined), cell-level damage of tab/pipe rows (a cell deleted,
  duplicated, blanked, two cells' digits joined), labels (spans converted to
  Traditional characters with OpenCC's table, pinyin inserted, characters
  substituted or deleted, stray labels inserted), numbers (digits changed,
  signs, units, separators, full-width and huge digit runs), HTML markup
  (closing tags dropped, ``<tr>`` duplicated or deleted, random and huge
  ``rowspan``/``colspan``, nested tables, entities, deep nesting, charset
  declarations) and DOCX parts (``word/document.xml`` rows duplicated or
  dropped, ``gridSpan``/``vMerge`` values, values put into empty cells).
  Several operators are often stacked.  Everything is deterministic given the
  seed: input ``i`` of a run with seed ``s`` is always the same bytes
  (:func:`make_case`).

* :func:`check` states what must hold for *every* input, however damaged:
  the result is a well-formed :class:`~helpers.result.ExtractResult` (valid
  statuses, strict JSON), every cell with status ``number`` has a printed
  string that occurs in the input, and its value is what that string says
  (up to the 元/万元 conversion the mapper does).

* :func:`run` feeds ``n`` mutated inputs through
  ``extract_document(read_document(name, data))`` in worker processes, with a
  wall-clock limit per input, and counts inputs, uncaught exceptions, hangs,
  invariant violations, caught internal errors, statuses and refusals.
  Inputs that fail are saved with their traceback.

"Occurs in the input" is defined on text: the input decoded as the reader
decodes it (:func:`helpers.read.encoding.decode_bytes`, with the declared
charset for HTML; for HTML also with tags removed and character references
resolved; for PDF and DOCX the reader's own text, ``Document.text()``),
NFKC-normalised, dash variants folded to ``-`` as the tokenizer folds them,
whitespace, control and invisible characters (zero-width spaces, soft hyphens,
BOMs, noncharacters) removed.  A printed string, folded the same way, must be
a substring of one of these texts.
"""

from __future__ import annotations

import dataclasses
import html as _html
import io
import json
import math
import multiprocessing as mp
import os
import random
import re
import signal
import threading
import time
import traceback
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing.connection import wait as _wait
from pathlib import Path
from typing import Any, Callable

from helpers.numbers import parse_cell, to_wan_yuan, to_yuan
from helpers.result import CellValue, ExtractResult, Issue

__all__ = [
    "Seed",
    "Case",
    "FuzzStats",
    "load_seeds",
    "make_case",
    "mutate",
    "check",
    "squash",
    "reference_texts",
    "run",
    "run_one",
    "same_extraction",
    "internal_errors",
    "corpus_paths",
    "env_shared",
    "OPERATORS",
    "PRESERVING",
    "label_strings",
]

# --------------------------------------------------------------------------- seeds


@dataclass(frozen=True)
class Seed:
    """One seed file: a name (its extension steers the reader) and its bytes."""

    name: str
    data: bytes
    kind: str  # text | html | pdf | docx | ole
    weight: float = 1.0


@dataclass
class Case:
    """One fuzz input: the name it is read under, its bytes, and how it was made."""

    index: int
    seed: str
    name: str
    data: bytes
    ops: list[str]


def _kind(name: str, data: bytes) -> str:
    from helpers.read import sniff

    return sniff(name, data[:8192])


def load_seeds(paths: list[Path] | list[str], derive_text: bool = True) -> list[Seed]:
    """Seeds from files (sorted by name for determinism).

    With ``derive_text``, every PDF and DOCX also yields a text seed: the
    reader's ``Document.text()`` (tab-separated table rows), so that text-level
    operators reach the tables of those files too.  Fragments (files under a
    folder named ``fragments``) weigh less than whole reports.
    """
    from helpers.read import read_document

    seeds: list[Seed] = []
    for p in sorted((Path(x) for x in paths), key=lambda q: (q.parent.name, q.name)):
        data = p.read_bytes()
        kind = _kind(p.name, data)
        weight = 1.0 if p.parent.name == "fragments" else 3.0
        seeds.append(Seed(p.name, data, kind, weight))
        if derive_text and kind in ("pdf", "docx"):
            doc = read_document(p.name, data)
            if doc.status == "ok":
                seeds.append(Seed(p.name + ".txt", doc.text().encode("utf-8"), "text", 2.0))
    return seeds


# --------------------------------------------------------------------------- helpers for operators


@dataclass
class _Ctx:
    name: str
    kind: str
    seeds: list[Seed]


def _decode(data: bytes, ctx: _Ctx) -> str:
    from helpers.read.encoding import decode_bytes

    declared = None
    if ctx.kind == "html":
        from helpers.read.html import sniff_charset

        declared = sniff_charset(data)
    return decode_bytes(data, ctx.name, declared)[0]


def _text_op(fn: Callable[[random.Random, str, _Ctx], str]) -> Callable[[random.Random, bytes, _Ctx], bytes]:
    """Lift a text mutation to bytes: decode as the reader would, mutate, write UTF-8."""

    def op(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
        return fn(rng, _decode(data, ctx), ctx).encode("utf-8", errors="surrogatepass")

    op.__name__ = fn.__name__
    op.__doc__ = fn.__doc__
    return op


def _pos(rng: random.Random, n: int) -> int:
    return rng.randint(0, n) if n > 0 else 0


def _span(rng: random.Random, n: int, max_len: int) -> tuple[int, int]:
    if n <= 0:
        return 0, 0
    a = rng.randrange(n)
    return a, min(n, a + rng.randint(1, max(1, max_len)))


_CJK = re.compile(r"[\u4e00-\u9fff]")
_DIGITS = re.compile(r"\d+")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


@lru_cache(maxsize=1)
def _s2t() -> dict[int, str]:
    """Simplified → Traditional per character: the inverse of the OpenCC
    character table that :mod:`helpers.normalize` folds with (one Traditional
    form per Simplified character, the first in code-point order)."""
    from helpers.normalize import _t2s_table

    inv: dict[int, str] = {}
    for trad, simp in sorted(_t2s_table().items()):
        if len(simp) == 1 and chr(trad) != simp:
            inv.setdefault(ord(simp), chr(trad))
    return inv


@lru_cache(maxsize=1)
def label_strings() -> tuple[str, ...]:
    """Printed labels: every part of the codebook's label paths, and the label variants."""
    import csv
    from importlib import resources

    out: set[str] = set()
    base = resources.files("helpers").joinpath("data")
    with base.joinpath("codebook.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            for part in re.split(r"\s*/\s*|\s*×\s*", row["label_zh"]):
                if part.strip():
                    out.add(part.strip())
    with base.joinpath("labels.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row.get("label", "").strip():
                out.add(row["label"].strip())
    return tuple(sorted(out))


_PINYIN_LETTERS = "abcdefghijklmnopqrstuvwxyzāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü"


# --------------------------------------------------------------------------- byte operators


def truncate(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """Cut the file at a random point (half the time at a line break)."""
    if not data:
        return data
    cut = rng.randrange(len(data))
    if rng.random() < 0.5:
        nl = data.rfind(b"\n", 0, cut)
        if nl > 0:
            cut = nl
    return data[:cut]


def flip_bits(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """Flip 1-16 random bits."""
    if not data:
        return data
    b = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


_INTERESTING = [b"\x00", b"\xff", b"\xef\xbb\xbf", b"\xff\xfe", b"\r", b"\t", b"|", b"<", b">", b"&", b"\n\n",
                b"\xe4", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xef\xbf\xbe", b"\xef\xb7\x90", b"-", b".", b"0"]


def insert_bytes(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """Insert random bytes or 'interesting' ones (NUL, BOMs, separators, broken UTF-8)."""
    i = _pos(rng, len(data))
    if rng.random() < 0.5:
        chunk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
    else:
        chunk = b"".join(rng.choice(_INTERESTING) for _ in range(rng.randint(1, 4)))
    return data[:i] + chunk + data[i:]


def delete_bytes(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """Delete a random range of up to 1 KB (often a few bytes)."""
    a, b = _span(rng, len(data), rng.choice([1, 4, 64, 1024]))
    return data[:a] + data[b:]


def duplicate_bytes(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """Copy a random range of bytes to another place."""
    a, b = _span(rng, len(data), rng.choice([8, 256, 4096]))
    i = _pos(rng, len(data))
    return data[:i] + data[a:b] + data[i:]


def splice(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """Replace the tail (or a middle part) with a chunk of another seed."""
    other = rng.choice(ctx.seeds).data
    if not other:
        return data
    a, b = _span(rng, len(other), rng.choice([256, 4096, len(other)]))
    i = _pos(rng, len(data))
    j = i if rng.random() < 0.5 else len(data)
    return data[:i] + other[a:b] + data[j:]


# --------------------------------------------------------------------------- encodings


def _enc_text(data: bytes, ctx: _Ctx) -> str:
    return _decode(data, ctx)


def reencode(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """Re-encode the decoded text as GB18030, GBK, UTF-16 (with or without BOM), UTF-8 with BOM or UTF-32."""
    text = _enc_text(data, ctx)
    enc = rng.choice(["gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-32", "big5"])
    return text.encode(enc, errors="replace")


def mojibake(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """UTF-8 read as GBK: the damaged text written back as UTF-8 (or GB18030)."""
    text = _enc_text(data, ctx)
    bad = text.encode("utf-8").decode(rng.choice(["gbk", "gb18030"]), errors=rng.choice(["replace", "ignore"]))
    return bad.encode(rng.choice(["utf-8", "gb18030"]), errors="replace")


def newline_style(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """Line breaks as CRLF, CR, U+2028 or form feeds."""
    text = _enc_text(data, ctx)
    nl = rng.choice(["\r\n", "\r", "\u2028", "\f", "\n\n", "\x85"])
    return text.replace("\n", nl).encode("utf-8")


def reencode_lossless(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """Re-encode without losing anything: UTF-8 with BOM, UTF-16/UTF-32 (LE or BE) with BOM, GB18030."""
    import codecs

    text = _enc_text(data, ctx)
    enc = rng.choice(["utf-8-sig", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "gb18030"])
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
           "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}.get(enc, b"")
    return bom + text.encode(enc, errors="surrogatepass")


def line_endings(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """Line breaks as CRLF or CR (nothing else changes)."""
    text = _enc_text(data, ctx)
    return text.replace("\r\n", "\n").replace("\n", rng.choice(["\r\n", "\r"])).encode("utf-8")


# Operators that must not change what is extracted: inputs made only with them
# are also compared with the extraction of their seed (see run_one).
PRESERVING = frozenset({"reencode_lossless", "line_endings"})


# --------------------------------------------------------------------------- lines


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _table_blocks(lines: list[str]) -> list[tuple[int, int]]:
    """Runs of consecutive tab/pipe lines (text tables)."""
    out, start = [], None
    for i, ln in enumerate(lines + [""]):
        if "\t" in ln or "|" in ln:
            if start is None:
                start = i
        elif start is not None:
            out.append((start, i))
            start = None
    return out


def _shuffle_lines(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Shuffle a window of lines (or all of them)."""
    lines = _lines(text)
    if len(lines) < 2:
        return text
    a, b = (0, len(lines)) if rng.random() < 0.2 else _span(rng, len(lines), rng.randint(2, 30))
    part = lines[a:b]
    rng.shuffle(part)
    lines[a:b] = part
    return "\n".join(lines)


def _delete_lines(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Delete 1-10 random lines, or a block."""
    lines = _lines(text)
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 10)):
            if lines:
                del lines[rng.randrange(len(lines))]
    else:
        a, b = _span(rng, len(lines), rng.randint(1, 40))
        del lines[a:b]
    return "\n".join(lines)


def _duplicate_block(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Duplicate a block of lines: a whole text table when there is one, else a random block."""
    lines = _lines(text)
    blocks = _table_blocks(lines)
    if blocks and rng.random() < 0.6:
        a, b = rng.choice(blocks)
    else:
        a, b = _span(rng, len(lines), rng.randint(1, 40))
    at = rng.choice([b, a, _pos(rng, len(lines))])
    lines[at:at] = lines[a:b]
    return "\n".join(lines)


def _swap_lines(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Swap two lines (often two rows of the same table)."""
    lines = _lines(text)
    if len(lines) < 2:
        return text
    blocks = [blk for blk in _table_blocks(lines) if blk[1] - blk[0] >= 2]
    if blocks and rng.random() < 0.7:
        a, b = rng.choice(blocks)
        i, j = rng.sample(range(a, b), 2)
    else:
        i, j = rng.sample(range(len(lines)), 2)
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def _join_lines(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Join a few lines with their next one (with nothing, a space or a tab between)."""
    lines = _lines(text)
    for _ in range(rng.randint(1, 8)):
        if len(lines) < 2:
            break
        i = rng.randrange(len(lines) - 1)
        lines[i : i + 2] = [lines[i] + rng.choice(["", " ", "\t", "|"]) + lines[i + 1]]
    return "\n".join(lines)


def _separators(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Swap separators: tabs → spaces / pipes, runs of spaces → tabs, pipes → tabs."""
    choice = rng.randrange(5)
    if choice == 0:
        return text.replace("\t", rng.choice([" ", "  ", "|", "\u3000", ""]))
    if choice == 1:
        return re.sub(r" {2,}", "\t", text)
    if choice == 2:
        return text.replace("|", "\t")
    if choice == 3:
        return re.sub(r"(?<=\d) (?=\d)", "", text)
    return text.replace("\t", "\t\t")


# --------------------------------------------------------------------------- cells


def _cell_rows(lines: list[str]) -> list[int]:
    return [i for i, ln in enumerate(lines) if "\t" in ln or "|" in ln]


def _cells(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """On 1-5 tab or pipe rows: delete, duplicate, blank, swap or insert a cell, or join two cells' digits."""
    lines = _lines(text)
    rows = _cell_rows(lines)
    if not rows:
        return text
    for _ in range(rng.randint(1, 5)):
        i = rng.choice(rows)
        sep = "\t" if "\t" in lines[i] else "|"
        cells = lines[i].split(sep)
        if not cells:
            continue
        k = rng.randrange(len(cells))
        what = rng.randrange(6)
        if what == 0 and len(cells) > 1:
            del cells[k]
        elif what == 1:
            cells.insert(k, cells[k])
        elif what == 2:
            cells[k] = rng.choice(["", " ", "\u3000", "&nbsp;", "-", "/", "—", "无"])
        elif what == 3 and k + 1 < len(cells):
            cells[k : k + 2] = [cells[k].strip() + cells[k + 1].strip()]
        elif what == 4 and len(cells) > 1:
            j = rng.randrange(len(cells))
            cells[k], cells[j] = cells[j], cells[k]
        else:
            cells.insert(k, "")
        lines[i] = sep.join(cells)
    return "\n".join(lines)


# --------------------------------------------------------------------------- labels


def _traditional(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Convert a random span (or the whole text) to Traditional characters."""
    table = _s2t()
    if rng.random() < 0.2:
        return text.translate(table)
    a, b = _span(rng, len(text), rng.choice([20, 200, 2000]))
    return text[:a] + text[a:b].translate(table) + text[b:]


def _pinyin(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Insert pinyin in parentheses after 1-20 Chinese characters: 區(qū)."""
    spots = [m.end() for m in _CJK.finditer(text)]
    if not spots:
        return text
    for i in sorted(rng.sample(spots, min(len(spots), rng.randint(1, 20))), reverse=True):
        syl = "".join(rng.choice(_PINYIN_LETTERS) for _ in range(rng.randint(1, 7)))
        paren = rng.choice([("(", ")"), ("（", "）")])
        text = text[:i] + paren[0] + syl + paren[1] + text[i:]
    return text


def _words(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Substitute or delete Chinese characters (1-20 edits), or insert a known label somewhere."""
    runs = [m.span() for m in _CJK_RUN.finditer(text)]
    edits: list[tuple[int, int, str]] = []
    for _ in range(rng.randint(1, 20)):
        what = rng.randrange(3)
        if what == 2 or not runs:
            label = rng.choice(label_strings())
            i = _pos(rng, len(text))
            edits.append((i, i, rng.choice(["", "\n", "\t"]) + label + rng.choice(["", "\n", "\t", " "])))
            continue
        a, b = rng.choice(runs)
        i = rng.randrange(a, b)
        j = min(b, i + rng.randint(1, 4))
        repl = "".join(text[rng.randrange(a, b)] for _ in range(j - i)) if what == 0 else ""
        edits.append((i, j, repl))
    # apply from the end, skipping edits that overlap one already applied
    edits.sort(key=lambda e: (e[0], e[1]), reverse=True)
    limit = len(text) + 1
    for i, j, repl in edits:
        if j <= limit:
            text = text[:i] + repl + text[j:]
            limit = i
    return text


# --------------------------------------------------------------------------- numbers


def _number_variant(rng: random.Random, digits: str) -> str:
    what = rng.randrange(14)
    if what == 0:
        return str(rng.randint(0, 10 ** rng.randint(1, 6)))
    if what == 1:
        return digits + str(rng.randrange(10))
    if what == 2:
        return digits[:-1]
    if what == 3:
        return rng.choice(["-", "+", "减", "增加", "－"]) + digits
    if what == 4:
        return digits + rng.choice(["万元", "元", "亿元", "件", "%", "个"])
    if what == 5:
        return digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if what == 6:
        return f"{int(digits):,}" if len(digits) < 30 else digits
    if what == 7:
        return digits + "." + str(rng.randint(0, 999))
    if what == 8:
        return "".join(rng.choice("0123456789") for _ in range(rng.choice([16, 40, 81, 400, 5000])))
    if what == 9:
        return digits + rng.choice(["-", "--", ".", ",", "..", "-0"]) + str(rng.randrange(100))
    if what == 10:
        return "0" + digits
    if what == 11:
        return " ".join(digits)
    if what == 12:
        return digits * rng.randint(2, 5)
    return "".join(rng.choice("0123456789") for _ in digits)


def _numbers(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Change 1-30 numbers: other digits, extra/missing digits, signs, units, commas,
    decimals, full-width digits, huge digit runs, numbers repeated."""
    spans = [m.span() for m in _DIGITS.finditer(text)]
    if not spans:
        return text
    for a, b in sorted(rng.sample(spans, min(len(spans), rng.randint(1, 30))), reverse=True):
        text = text[:a] + _number_variant(rng, text[a:b]) + text[b:]
    return text


_GLUE = ["“", "”", "‘", "’", '"', "'", "「", "」", "『", "』", "【", "】", "[", "]", "(", ")", "（", "）", "·", "、",
         "，", "．", "—", "–", "－", "~", "～", "/", "*", "#", "\u00a0", "\u3000", "\u200b", "\u00ad", "\ufeff", "&nbsp;", "&#8220;"]


def _glue_digits(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Put punctuation, quotes, brackets or invisible characters inside 1-10 numbers,
    whose digits are first made distinctive (4-9 random digits): a reader that
    drops the character and joins the digits would report a number that is not printed."""
    spans = [m.span() for m in _DIGITS.finditer(text)]
    if not spans:
        return text
    for a, b in sorted(rng.sample(spans, min(len(spans), rng.randint(1, 10))), reverse=True):
        digits = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 8)))
        k = rng.randint(1, len(digits) - 1)
        text = text[:a] + digits[:k] + rng.choice(_GLUE) + digits[k:] + text[b:]
    return text


# --------------------------------------------------------------------------- HTML

_CLOSE = re.compile(r"</(?:td|th|tr|table|tbody|p|span|div)\s*>", re.I)
_TR = re.compile(r"<tr\b.*?</tr\s*>", re.I | re.S)
_TD_OPEN = re.compile(r"<t[dh]\b[^>]*>", re.I)
_SPAN_ATTR = re.compile(r"\s(?:rowspan|colspan)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]*)", re.I)
_SPAN_VALUES = ["0", "1", "2", "3", "7", "64", "65534", "65535", "100000", "1000000000", "-1", "abc", "2;", "",
                "99999999999999999999", " 4 ", "1e9", "0x10"]


def _drop_closing_tags(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Remove 1-50 closing tags (</td>, </tr>, </table>, </p>, ...)."""
    spans = [m.span() for m in _CLOSE.finditer(text)]
    if not spans:
        return text
    for a, b in sorted(rng.sample(spans, min(len(spans), rng.randint(1, 50))), reverse=True):
        text = text[:a] + text[b:]
    return text


def _tr(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Duplicate, delete or move 1-5 table rows (<tr>…</tr>)."""
    for _ in range(rng.randint(1, 5)):
        rows = [m.span() for m in _TR.finditer(text)]
        if not rows:
            return text
        a, b = rng.choice(rows)
        what = rng.randrange(3)
        if what == 0:
            text = text[:b] + text[a:b] * rng.randint(1, 3) + text[b:]
        elif what == 1:
            text = text[:a] + text[b:]
        else:
            c, d = rng.choice(rows)
            if (c, d) != (a, b):
                row = text[a:b]
                text = text[:a] + text[b:]
                at = c if c < a else c - (b - a)
                text = text[:at] + row + text[at:]
    return text


def _spans(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Give 1-20 cells random rowspan/colspan values, huge and malformed ones included."""
    cells = [m.span() for m in _TD_OPEN.finditer(text)]
    if not cells:
        return text
    for a, b in sorted(rng.sample(cells, min(len(cells), rng.randint(1, 20))), reverse=True):
        tag = _SPAN_ATTR.sub("", text[a:b])
        attr = rng.choice(["rowspan", "colspan", "both"])
        add = ""
        for name in (["rowspan", "colspan"] if attr == "both" else [attr]):
            add += f' {name}="{rng.choice(_SPAN_VALUES)}"'
        tag = tag[:3] + add + tag[3:]
        text = text[:a] + tag + text[b:]
    return text


def _html_misc(rng: random.Random, text: str, ctx: _Ctx) -> str:
    """Nested tables in cells, digits as character references or split over <span>s,
    deep nesting, comments, a (wrong) charset declaration, a stray table."""
    what = rng.randrange(7)
    if what == 0:
        cells = [m.end() for m in _TD_OPEN.finditer(text)]
        if cells:
            i = rng.choice(cells)
            inner = "<table><tr><td>" + rng.choice(label_strings()) + "</td><td>" + str(rng.randint(0, 999)) + "</td></tr></table>"
            text = text[:i] + inner + text[i:]
    elif what == 1:
        text = re.sub(r"(?<=>)(\d)", lambda m: f"&#{ord(m.group(1))};" if rng.random() < 0.5 else f"&#x{ord(m.group(1)):x};", text)
    elif what == 2:
        text = re.sub(r"(?<=>)(\d)(\d)", lambda m: f"{m.group(1)}<span>{m.group(2)}</span>", text)
    elif what == 3:
        i = _pos(rng, len(text))
        depth = rng.choice([50, 300, 3000])
        text = text[:i] + "<div>" * depth + text[i:]
    elif what == 4:
        i = _pos(rng, len(text))
        text = text[:i] + rng.choice(["<!--", "<![CDATA[", "<script>", "<!-- x -->", "</html>", "<table>", "<td>"]) + text[i:]
    elif what == 5:
        cs = rng.choice(["gbk", "gb2312", "utf-16", "utf-8", "iso-8859-1", "bogus", "utf-7", "big5", ""])
        text = f'<meta charset="{cs}">' + text
    else:
        rows = "".join("<tr>" + "".join(f"<td>{rng.choice([str(rng.randint(0, 99)), '', rng.choice(label_strings())])}</td>" for _ in range(rng.randint(1, 9))) + "</tr>" for _ in range(rng.randint(1, 12)))
        i = _pos(rng, len(text))
        text = text[:i] + "<table>" + rows + "</table>" + text[i:]
    return text


# --------------------------------------------------------------------------- DOCX

_W_TR = re.compile(r"<w:tr\b.*?</w:tr>", re.S)
_W_T = re.compile(r"(<w:t(?:\s[^>]*)?>)([^<]*)(</w:t>)")
_W_EMPTY_P = re.compile(r"(<w:tc>(?:(?!</w:tc>).)*?)(</w:p>\s*</w:tc>)", re.S)
_GRID = re.compile(r'<w:gridSpan w:val="[^"]*"/>')
_VMERGE = re.compile(r'<w:vMerge(?: w:val="[^"]*")?/>')
_TCPR = re.compile(r"<w:tcPr>")


def _docx_xml(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """Mutate word/document.xml inside the zip: rows duplicated, dropped or moved,
    gridSpan/vMerge set to random values, values typed into cells, cell texts
    mutated like text, or the XML broken."""
    try:
        zin = zipfile.ZipFile(io.BytesIO(data))
        names = zin.namelist()
        if "word/document.xml" not in names:
            return data
        xml = zin.read("word/document.xml").decode("utf-8")
    except Exception:
        return data
    what = rng.randrange(7)
    if what == 0:
        rows = [m.span() for m in _W_TR.finditer(xml)]
        if rows:
            a, b = rng.choice(rows)
            xml = xml[:b] + xml[a:b] * rng.randint(1, 3) + xml[b:] if rng.random() < 0.6 else xml[:a] + xml[b:]
    elif what == 1:
        spots = [m.end() for m in _TCPR.finditer(xml)]
        for i in sorted(rng.sample(spots, min(len(spots), rng.randint(1, 10))), reverse=True):
            v = rng.choice(_SPAN_VALUES)
            xml = xml[:i] + (f'<w:gridSpan w:val="{v}"/>' if rng.random() < 0.5 else rng.choice(['<w:vMerge/>', '<w:vMerge w:val="restart"/>', f'<w:vMerge w:val="{v}"/>'])) + xml[i:]
        if rng.random() < 0.3:
            xml = _GRID.sub(lambda m: f'<w:gridSpan w:val="{rng.choice(_SPAN_VALUES)}"/>', xml)
            xml = _VMERGE.sub(lambda m: rng.choice(['<w:vMerge/>', '<w:vMerge w:val="restart"/>', '']), xml)
    elif what == 2:
        # type values into (empty) cells: the blank template gets numbers
        xml = _W_EMPTY_P.sub(
            lambda m: m.group(1) + (f"<w:r><w:t>{rng.choice([str(rng.randint(0, 300)), '0', '', '-', str(rng.randint(0, 10**9))])}</w:t></w:r>" if rng.random() < 0.7 else "") + m.group(2),
            xml,
        )
    elif what == 3:
        sub = _Ctx(ctx.name, "text", ctx.seeds)
        fn = rng.choice([_numbers, _traditional, _words, _pinyin])

        def texts(m: re.Match) -> str:
            if rng.random() < 0.1:
                return m.group(1) + _html.escape(fn(rng, _html.unescape(m.group(2)), sub), quote=False) + m.group(3)
            return m.group()

        xml = _W_T.sub(texts, xml)
    elif what == 4:
        i = _pos(rng, len(xml))
        xml = xml[:i] + rng.choice(["<", "</w:tbl>", "<w:tr>", "&", "<w:tc>", "]]>", "\x00"]) + xml[i:]
    elif what == 5:
        a, b = _span(rng, len(xml), rng.choice([10, 1000, 20000]))
        xml = xml[:a] + xml[b:]
    else:
        rows = [m.span() for m in _W_TR.finditer(xml)]
        if len(rows) >= 2:
            (a, b), (c, d) = sorted(rng.sample(rows, 2))
            xml = xml[:a] + xml[c:d] + xml[b:c] + xml[a:b] + xml[d:]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in names:
            if name == "word/document.xml":
                zout.writestr(name, xml.encode("utf-8", errors="surrogatepass"))
            else:
                try:
                    zout.writestr(name, zin.read(name))
                except Exception:
                    pass
    return out.getvalue()


# --------------------------------------------------------------------------- names


def rename(rng: random.Random, data: bytes, ctx: _Ctx) -> bytes:
    """Read the file under another extension (HTML as .txt, text as .html ...)."""
    stem = ctx.name.rsplit(".", 1)[0] if "." in ctx.name else ctx.name
    ctx.name = stem + rng.choice([".txt", ".html", ".htm", ".md", ".pdf", ".docx", "", ".TXT"])
    return data


# --------------------------------------------------------------------------- registry

# (name, function on bytes, kinds it applies to, phase, weight)
# Phases order stacked operators: structure and text first, then encodings,
# then raw bytes, so that later operators do not undo earlier ones.
_TEXTY = ("text", "html")
OPERATORS: list[tuple[str, Callable[[random.Random, bytes, _Ctx], bytes], tuple[str, ...], int, float]] = [
    ("shuffle_lines", _text_op(_shuffle_lines), _TEXTY, 0, 1.0),
    ("delete_lines", _text_op(_delete_lines), _TEXTY, 0, 1.0),
    ("duplicate_block", _text_op(_duplicate_block), _TEXTY, 0, 1.0),
    ("swap_lines", _text_op(_swap_lines), _TEXTY, 0, 1.0),
    ("join_lines", _text_op(_join_lines), _TEXTY, 0, 0.7),
    ("separators", _text_op(_separators), _TEXTY, 0, 0.7),
    ("cells", _text_op(_cells), _TEXTY, 0, 1.5),
    ("traditional", _text_op(_traditional), _TEXTY, 0, 1.0),
    ("pinyin", _text_op(_pinyin), _TEXTY, 0, 0.7),
    ("words", _text_op(_words), _TEXTY, 0, 1.0),
    ("numbers", _text_op(_numbers), _TEXTY, 0, 2.0),
    ("glue_digits", _text_op(_glue_digits), _TEXTY, 0, 1.0),
    ("html_drop_closing", _text_op(_drop_closing_tags), ("html",), 0, 1.0),
    ("html_tr", _text_op(_tr), ("html",), 0, 1.0),
    ("html_spans", _text_op(_spans), ("html",), 0, 1.0),
    ("html_misc", _text_op(_html_misc), ("html",), 0, 1.0),
    ("docx_xml", _docx_xml, ("docx",), 0, 4.0),
    ("reencode", reencode, _TEXTY, 1, 0.6),
    ("mojibake", mojibake, _TEXTY, 1, 0.4),
    ("newline_style", newline_style, _TEXTY, 1, 0.4),
    ("reencode_lossless", reencode_lossless, _TEXTY, 1, 0.5),
    ("line_endings", line_endings, _TEXTY, 1, 0.3),
    ("rename", rename, ("text", "html", "pdf", "docx", "ole"), 1, 0.2),
    ("truncate", truncate, ("text", "html", "pdf", "docx", "ole"), 2, 1.0),
    ("flip_bits", flip_bits, ("text", "html", "pdf", "docx", "ole"), 2, 0.8),
    ("insert_bytes", insert_bytes, ("text", "html", "pdf", "docx", "ole"), 2, 0.6),
    ("delete_bytes", delete_bytes, ("text", "html", "pdf", "docx", "ole"), 2, 0.6),
    ("duplicate_bytes", duplicate_bytes, ("text", "html", "pdf", "docx", "ole"), 2, 0.4),
    ("splice", splice, ("text", "html", "pdf", "docx", "ole"), 2, 0.3),
]
_OPS_BY_NAME = {name: (fn, kinds, phase, w) for name, fn, kinds, phase, w in OPERATORS}


def mutate(rng: random.Random, seed: Seed, seeds: list[Seed], n_ops: int | None = None) -> tuple[str, bytes, list[str]]:
    """Apply 1-5 operators (stacked; mostly 1-2) to ``seed``; returns (name, bytes, operator names)."""
    kind = seed.kind
    usable = [(n, w) for n, fn, kinds, ph, w in OPERATORS if kind in kinds]
    if n_ops is None:
        n_ops = rng.choices([1, 2, 3, 4, 5], weights=[45, 25, 15, 10, 5])[0]
    names = rng.choices([n for n, _ in usable], weights=[w for _, w in usable], k=n_ops)
    names.sort(key=lambda n: _OPS_BY_NAME[n][2])  # stable: phases in order
    ctx = _Ctx(seed.name, kind, seeds)
    data = seed.data
    for n in names:
        data = _OPS_BY_NAME[n][0](rng, data, ctx)
    return ctx.name, data, names


def make_case(seeds: list[Seed], base_seed: int, index: int) -> Case:
    """Input number ``index`` of a run with seed ``base_seed`` (deterministic)."""
    rng = random.Random(f"gidr-fuzz:{base_seed}:{index}")
    seed = rng.choices(seeds, weights=[s.weight for s in seeds])[0]
    name, data, ops = mutate(rng, seed, seeds)
    return Case(index, seed.name, name, data, ops)


# --------------------------------------------------------------------------- the invariant

_DASHES = "—–－―‐‑"
_JUNK = re.compile("[\\s\x00-\x1f\x7f\u00ad\u200b-\u200d\u2060\ufeff\ufdd0-\ufdd7\ufffe\uffff]+")
_TAG = re.compile(r"<[!/?a-zA-Z][^>]*>")
_CELL_STATUSES = {"number", "blank", "na_marker", "text", "absent"}
_REPORT_STATUSES = {"ok", "partial", "failed", "unsupported"}
_SEVERITIES = {"error", "warning", "info"}


def squash(s: str) -> str:
    """The comparison form: NFKC, dash variants as ``-``, no whitespace, control or invisible characters."""
    s = unicodedata.normalize("NFKC", s)
    for d in _DASHES:  # (str.replace is much faster than str.translate on long texts)
        if d in s:
            s = s.replace(d, "-")
    return _JUNK.sub("", s)


def reference_texts(data: bytes, path: str, doc: Any = None) -> list[str]:
    """The input's text as the extractor sees it, in comparison form (see the module doc).

    ``doc`` is the :class:`~helpers.document.Document` the reader made of
    ``data``, when the caller has it: its text is used for PDF and DOCX, and
    its recorded encoding for text and HTML (falling back to
    :func:`~helpers.read.encoding.decode_bytes` when that does not decode the
    bytes cleanly); otherwise everything is recomputed from ``data``.
    """
    from helpers.read import read_document, sniff
    from helpers.read.encoding import decode_bytes

    kind = sniff(path, data[:8192])
    if kind in ("pdf", "docx", "ole"):
        if doc is None or getattr(doc, "kind", None) != kind:
            doc = read_document(path, data)
        return [squash(doc.text())]
    declared = None
    if kind == "html":
        from helpers.read.html import sniff_charset

        declared = sniff_charset(data)
    text = None
    enc = getattr(doc, "encoding", None)
    if enc:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            text = None
    if text is None:
        text = decode_bytes(data, path, declared)[0]
    if kind == "html":
        text = text.replace("\x00", "")  # the HTML reader drops NULs before parsing
        return [squash(text), squash(_html.unescape(_TAG.sub("", text)))]
    return [squash(text)]


def _close_to(a: float, b: float) -> bool:
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    try:
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
    except OverflowError:
        return False


def check(input_bytes: bytes, result: Any, path: str | None = None, doc: Any = None) -> list[str]:
    """Violations of the invariants for one input and its result (empty when all hold).

    (a) ``result`` is an :class:`ExtractResult` with valid statuses, edition and
        year, its cells and issues well formed, and its JSON form strict JSON;
    (b) every cell with status ``number`` has a printed string that occurs in
        the input (see :func:`reference_texts`);
    (c) its value is what the printed string says (``parse_cell``, after
        folding Traditional characters and pinyin as the tokenizer does),
        possibly converted between 元 and 万元; a cell of any other status has
        no value.

    ``path`` is the name the input was read under (default ``result.path``);
    ``doc``, the reader's document, only saves recomputing it.
    """
    out: list[str] = []
    if not isinstance(result, ExtractResult):
        return [f"result is a {type(result).__name__}, not an ExtractResult"]
    path = result.path if path is None else path
    if result.status not in _REPORT_STATUSES:
        out.append(f"report status {result.status!r}")
    if result.edition not in (None, "2019", "2021"):
        out.append(f"edition {result.edition!r}")
    if result.year is not None and (not isinstance(result.year, int) or not 1900 <= result.year <= 2100):
        out.append(f"year {result.year!r}")
    if result.agency is not None and not isinstance(result.agency, str):
        out.append(f"agency {result.agency!r}")
    for i in result.issues:
        if not isinstance(i, Issue) or i.severity not in _SEVERITIES or not isinstance(i.message, str):
            out.append(f"malformed issue {i!r}")
    try:
        json.dumps(result.to_json(), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        out.append(f"result is not strict JSON: {exc}")
    if result.status in ("failed", "unsupported") and any(c.status == "number" for c in result.cells.values()):
        out.append(f"status {result.status} but numbers reported")

    refs: list[str] | None = None
    seen: dict[str, bool] = {}
    for key, c in result.cells.items():
        if not isinstance(c, CellValue) or c.status not in _CELL_STATUSES:
            out.append(f"{key}: malformed cell {c!r}")
            continue
        if c.status != "number":
            if c.value is not None:
                out.append(f"{key}: status {c.status} with value {c.value!r}")
            continue
        v = c.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            out.append(f"{key}: status number with value {v!r}")
            continue
        if isinstance(v, float) and not math.isfinite(v):
            out.append(f"{key}: value {v!r} is not finite")
        printed = squash(c.printed)
        if not printed:
            out.append(f"{key}: status number with an empty printed string")
            continue
        if printed not in seen:
            if refs is None:
                refs = reference_texts(input_bytes, path, doc)
            seen[printed] = any(printed in r for r in refs)
        if not seen[printed]:
            out.append(f"{key}: printed {c.printed!r} (value {v!r}) does not occur in the input")
            continue
        p = parse_cell(c.printed)
        if p.status != "number":  # a unit in Traditional characters or with pinyin: read as the extractor reads it
            from helpers.normalize import fold_variants

            p = parse_cell(fold_variants(c.printed))
        if p.status != "number" or p.value is None:
            out.append(f"{key}: printed {c.printed!r} does not read as a number (value {v!r})")
            continue
        allowed = [x for x in (p.value, to_yuan(p), to_wan_yuan(p)) if x is not None]
        if not any(_close_to(v, x) for x in allowed):
            out.append(f"{key}: value {v!r} is not the printed {c.printed!r} (allowed {allowed})")
    return out


def internal_errors(result: ExtractResult) -> list[str]:
    """Exceptions the extractor caught itself (``extract.crash``, a reader that failed with an exception)."""
    out = []
    for i in result.issues:
        if i.rule == "extract.crash" or (
            i.rule.startswith("read.") and re.search(r"reader failed: |could not be read: \w+(Error|Exception)", i.message)
        ):
            out.append(f"{i.rule}: {i.message}")
    return out


# --------------------------------------------------------------------------- running


class Hang(BaseException):
    """Raised by the alarm when one input takes longer than the limit.

    A ``BaseException`` so that the extractor's own ``except Exception`` guards
    cannot swallow it."""


def _alarm(signum, frame):  # pragma: no cover - timing dependent
    raise Hang()


def same_extraction(base: ExtractResult, result: ExtractResult) -> list[str]:
    """How ``result`` differs from ``base`` in status, edition and cells (status and value)."""
    out = []
    if (base.status, base.edition) != (result.status, result.edition):
        out.append(f"status/edition {base.status}/{base.edition} became {result.status}/{result.edition}")
    for k in sorted(set(base.cells) | set(result.cells)):
        a, b = base.cells.get(k), result.cells.get(k)
        ta = (a.status, a.value) if a is not None else None
        tb = (b.status, b.value) if b is not None else None
        if ta != tb:
            out.append(f"{k}: {ta} became {tb}")
    return out


def run_one(case: Case, timeout_s: float = 10.0, baseline: ExtractResult | None = None) -> dict[str, Any]:
    """Extract one input (with a wall-clock limit when SIGALRM exists) and check it.

    ``baseline``, the extraction of the unmutated seed, is given for inputs
    made only with :data:`PRESERVING` operators: any difference from it is
    reported under ``"metamorphic"``."""
    from helpers.extract import extract_document
    from helpers.read import read_document

    out: dict[str, Any] = {
        "index": case.index, "seed": case.seed, "name": case.name, "ops": case.ops, "size": len(case.data),
        "status": None, "kind": None, "numbers": 0, "exception": None, "hang": None,
        "violations": [], "internal": [], "metamorphic": [], "elapsed": 0.0,
    }
    use_alarm = hasattr(signal, "setitimer") and timeout_s > 0 and threading.current_thread() is threading.main_thread()
    t0 = time.perf_counter()
    result = None
    doc = None
    previous = None
    try:
        if use_alarm:
            previous = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, timeout_s)
        try:
            doc = read_document(case.name, case.data)
            result = extract_document(doc)
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
    except Hang:
        out["hang"] = "".join(traceback.format_exc(limit=-12))
    except BaseException:  # noqa: BLE001 - that is what is counted
        out["exception"] = traceback.format_exc()
    out["elapsed"] = time.perf_counter() - t0
    if result is not None:
        out["status"] = result.status
        out["kind"] = result.kind
        out["numbers"] = sum(1 for c in result.cells.values() if getattr(c, "status", None) == "number")
        try:
            out["violations"] = check(case.data, result, case.name, doc)
            out["internal"] = internal_errors(result)
            if baseline is not None:
                out["metamorphic"] = same_extraction(baseline, result)
        except Exception:  # a checker bug is reported, not hidden
            out["violations"] = ["checker raised: " + traceback.format_exc()]
    return out


@dataclass
class FuzzStats:
    seed: int
    n: int
    timeout_s: float
    workers: int
    inputs: int = 0
    exceptions: int = 0
    hangs: int = 0
    worker_deaths: int = 0
    violations: int = 0  # inputs with at least one violation
    violation_count: int = 0
    internal_errors: int = 0  # inputs whose result reports a caught exception
    refusals: int = 0  # status unsupported
    statuses: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    ops: Counter = field(default_factory=Counter)
    seeds: Counter = field(default_factory=Counter)
    with_numbers: int = 0
    numbers_checked: int = 0
    slow: int = 0  # inputs over 1 s
    max_input_s: float = 0.0
    slowest: list = field(default_factory=list)
    elapsed_s: float = 0.0
    metamorphic_checked: int = 0  # inputs made only with preserving operators, compared with their seed
    metamorphic: int = 0  # ... whose extraction differed
    examples: dict = field(default_factory=lambda: {"exceptions": [], "hangs": [], "violations": [], "internal": [], "metamorphic": []})

    @property
    def inputs_per_s(self) -> float:
        return self.inputs / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def ok(self) -> bool:
        return not (self.exceptions or self.hangs or self.worker_deaths or self.violations)

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for k in ("statuses", "kinds", "ops", "seeds"):
            d[k] = dict(sorted(getattr(self, k).items()))
        d["inputs_per_s"] = round(self.inputs_per_s, 2)
        d["elapsed_s"] = round(self.elapsed_s, 2)
        d["max_input_s"] = round(self.max_input_s, 3)
        return d

    def summary(self) -> str:
        lines = [
            f"inputs               {self.inputs:,} (seed {self.seed}, {self.workers} workers, timeout {self.timeout_s:g} s)",
            f"uncaught exceptions  {self.exceptions}",
            f"hangs                {self.hangs}",
            f"worker deaths        {self.worker_deaths}",
            f"invariant violations {self.violations} inputs ({self.violation_count} violations)",
            f"caught internal errs {self.internal_errors}",
            f"metamorphic          {self.metamorphic} of {self.metamorphic_checked} re-encoded/re-lined inputs differ from their seed",
            f"refusals             {self.refusals} (status unsupported)",
            "statuses             " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.statuses.items())),
            "readers              " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.kinds.items())),
            f"with numbers         {self.with_numbers:,} inputs, {self.numbers_checked:,} number cells checked",
            f"slowest input        {self.max_input_s:.2f} s ({self.slow} over 1 s)",
            f"duration             {self.elapsed_s:,.1f} s",
            f"throughput           {self.inputs_per_s:,.1f} inputs/s",
        ]
        return "\n".join(lines)


def _worker(conn, seeds: list[Seed], base_seed: int, timeout_s: float) -> None:  # pragma: no cover - subprocess
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    baselines: dict[str, ExtractResult] = {}
    while True:
        try:
            i = conn.recv()
        except EOFError:
            return
        if i is None:
            return
        case = make_case(seeds, base_seed, i)
        conn.send(run_one(case, timeout_s, _baseline(seeds, case, baselines)))


def _baseline(seeds: list[Seed], case: Case, cache: dict[str, ExtractResult]) -> ExtractResult | None:
    """The seed's own extraction, for inputs made only with preserving operators."""
    if not case.ops or not set(case.ops) <= PRESERVING:
        return None
    if case.seed not in cache:
        from helpers.extract import extract_document
        from helpers.read import read_document

        seed = next(s for s in seeds if s.name == case.seed)
        cache[case.seed] = extract_document(read_document(seed.name, seed.data))
    return cache[case.seed]


def _save(out: Path | None, folder: str, case: Case, text: str, counts: Counter, limit: int = 200) -> str | None:
    if out is None or counts[folder] >= limit:
        return None
    counts[folder] += 1
    d = out / folder
    d.mkdir(parents=True, exist_ok=True)
    stem = f"{case.index:07d}"
    ext = case.name.rsplit(".", 1)[-1] if "." in case.name else "bin"
    (d / f"{stem}.input.{ext}").write_bytes(case.data)
    (d / f"{stem}.about.txt").write_text(
        f"input {case.index}\nseed file {case.seed}\nread as {case.name}\noperators {' '.join(case.ops)}\n\n{text}\n",
        encoding="utf-8",
    )
    return str(d / f"{stem}.input.{ext}")


def run(
    seeds: list[Path] | list[Seed],
    n: int,
    seed: int,
    timeout_s: float = 10.0,
    out: Path | str | None = None,
    workers: int = 2,
    progress: Callable[[FuzzStats], None] | None = None,
    progress_every_s: float = 30.0,
) -> FuzzStats:
    """Run ``n`` mutated inputs (``make_case(seeds, seed, 0..n-1)``) through the extractor.

    ``workers`` processes run the inputs; each input gets ``timeout_s`` seconds
    of wall-clock time (an alarm in the worker), and a worker that does not
    answer within ``timeout_s + 30`` seconds is killed and replaced.  Both
    count as a hang.  Failing inputs are written under ``out``
    (``exceptions/``, ``hangs/``, ``violations/``, ``internal/``, ``metamorphic/``) with a text
    file naming the seed, the operators and the traceback or violations.
    """
    seed_list = [s if isinstance(s, Seed) else None for s in seeds]
    if any(s is None for s in seed_list):
        seed_list = load_seeds([Path(s) for s in seeds])  # type: ignore[arg-type]
    seed_objs: list[Seed] = seed_list  # type: ignore[assignment]
    outp = Path(out) if out is not None else None
    if outp is not None:
        outp.mkdir(parents=True, exist_ok=True)
    stats = FuzzStats(seed=seed, n=n, timeout_s=timeout_s, workers=workers)
    saved: Counter = Counter()
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    mpc = mp.get_context(method)
    hard_limit = timeout_s + 30.0

    class W:
        def __init__(self) -> None:
            parent, child = mpc.Pipe()
            self.conn = parent
            self.proc = mpc.Process(target=_worker, args=(child, seed_objs, seed, timeout_s), daemon=True)
            self.proc.start()
            child.close()
            self.busy: tuple[int, float] | None = None

        def stop(self, kill: bool = False) -> None:
            if kill:
                self.proc.kill()
            else:
                try:
                    self.conn.send(None)
                except (OSError, BrokenPipeError):
                    pass
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(5)
            self.conn.close()

    def record(o: dict[str, Any]) -> None:
        stats.inputs += 1
        stats.ops.update(o["ops"])
        stats.seeds[o["seed"]] += 1
        el = o["elapsed"]
        if el > 1.0:
            stats.slow += 1
        if el > stats.max_input_s:
            stats.max_input_s = el
        stats.slowest = sorted(stats.slowest + [(round(el, 3), o["index"], o["seed"], " ".join(o["ops"]))], reverse=True)[:5]
        if o["status"]:
            stats.statuses[o["status"]] += 1
            stats.kinds[o["kind"] or "none"] += 1
            if o["status"] == "unsupported":
                stats.refusals += 1
            if o["numbers"]:
                stats.with_numbers += 1
                stats.numbers_checked += o["numbers"]
        case = None
        for key, folder, msg in (
            ("exception", "exceptions", o["exception"]),
            ("hang", "hangs", o["hang"]),
        ):
            if msg:
                if key == "exception":
                    stats.exceptions += 1
                else:
                    stats.hangs += 1
                case = case or make_case(seed_objs, seed, o["index"])
                where = _save(outp, folder, case, msg, saved)
                if len(stats.examples[folder]) < 20:
                    stats.examples[folder].append({"index": o["index"], "seed": o["seed"], "ops": o["ops"], "saved": where, "error": msg.strip().splitlines()[-1]})
        if o["violations"]:
            stats.violations += 1
            stats.violation_count += len(o["violations"])
            case = case or make_case(seed_objs, seed, o["index"])
            where = _save(outp, "violations", case, "\n".join(o["violations"]), saved)
            if len(stats.examples["violations"]) < 20:
                stats.examples["violations"].append({"index": o["index"], "seed": o["seed"], "ops": o["ops"], "saved": where, "violations": o["violations"][:5]})
        if o["status"] and o["ops"] and set(o["ops"]) <= PRESERVING:
            stats.metamorphic_checked += 1
        if o["metamorphic"]:
            stats.metamorphic += 1
            case = case or make_case(seed_objs, seed, o["index"])
            where = _save(outp, "metamorphic", case, "\n".join(o["metamorphic"]), saved)
            if len(stats.examples["metamorphic"]) < 20:
                stats.examples["metamorphic"].append({"index": o["index"], "seed": o["seed"], "ops": o["ops"], "saved": where, "differences": o["metamorphic"][:5]})
        if o["internal"]:
            stats.internal_errors += 1
            case = case or make_case(seed_objs, seed, o["index"])
            where = _save(outp, "internal", case, "\n".join(o["internal"]), saved)
            if len(stats.examples["internal"]) < 20:
                stats.examples["internal"].append({"index": o["index"], "seed": o["seed"], "ops": o["ops"], "saved": where, "errors": o["internal"][:3]})

    t_start = time.perf_counter()
    last_progress = t_start
    pool = [W() for _ in range(max(1, workers))]
    next_i = 0
    try:
        while stats.inputs < n:
            for w in pool:
                if w.busy is None and next_i < n:
                    w.conn.send(next_i)
                    w.busy = (next_i, time.perf_counter())
                    next_i += 1
            busy = [w for w in pool if w.busy is not None]
            if not busy:
                break
            ready = _wait([w.conn for w in busy], timeout=1.0)
            now = time.perf_counter()
            for i, w in enumerate(pool):
                if w.busy is None:
                    continue
                idx, t0 = w.busy
                if w.conn in ready:
                    try:
                        o = w.conn.recv()
                    except (EOFError, OSError):
                        # the worker died (a crash in native code): count it and replace it
                        code = w.proc.exitcode
                        w.stop(kill=True)
                        pool[i] = W()
                        case = make_case(seed_objs, seed, idx)
                        msg = f"worker process died (exit code {code})"
                        stats.worker_deaths += 1
                        record({"index": idx, "seed": case.seed, "ops": case.ops, "status": None, "kind": None,
                                "numbers": 0, "exception": msg, "hang": None, "violations": [], "internal": [], "metamorphic": [],
                                "elapsed": now - t0})
                        continue
                    w.busy = None
                    record(o)
                elif now - t0 > hard_limit:
                    w.stop(kill=True)
                    pool[i] = W()
                    case = make_case(seed_objs, seed, idx)
                    record({"index": idx, "seed": case.seed, "ops": case.ops, "status": None, "kind": None, "numbers": 0,
                            "exception": None, "hang": f"no answer after {now - t0:.0f} s; worker killed",
                            "violations": [], "internal": [], "metamorphic": [], "elapsed": now - t0})
            stats.elapsed_s = time.perf_counter() - t_start
            if progress is not None and time.perf_counter() - last_progress >= progress_every_s:
                last_progress = time.perf_counter()
                progress(stats)
    finally:
        for w in pool:
            w.stop()
        stats.elapsed_s = time.perf_counter() - t_start
    if outp is not None:
        (outp / "summary.json").write_text(json.dumps(stats.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return stats


def corpus_paths(shared: Path, fragments: bool | int = True) -> list[Path]:
    """The originals of the shared corpus and its fragments (all, none, or the first ``k`` by name)."""
    paths = sorted(p for p in (shared / "corpus" / "originals").iterdir() if p.is_file())
    if fragments:
        frags = sorted(p for p in (shared / "corpus" / "fragments").iterdir() if p.is_file())
        paths += frags if fragments is True else frags[: int(fragments)]
    return paths


def env_shared() -> Path | None:
    """The shared reference folder: $GIDR_SHARED, else ../shared next to the repository."""
    env = os.environ.get("GIDR_SHARED")
    cand = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"
    return cand if cand.is_dir() else None
