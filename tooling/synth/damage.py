"""Seeded layout damage of the kinds real renderings show.

Each kind is a function that edits the rendering-neutral blocks
(:mod:`tooling.synth.model`) of one report; :data:`DAMAGE_KINDS` gives its
default probability (``damage=True``) and the forms it applies to.  Damage
never removes information: a person reading the damaged file can still read
every value.  Where a kind does make a value unreadable (extra empty cells in
a Table 4 row that also prints zeros as blanks: which blank is the spacer?),
it returns the keys concerned and the benchmark allows them to be unset.

| kind | what it does |
|---|---|
| ``blank_zeros`` | zeros printed blank, as many agencies print them (a property of the report: ``generate(..., blanks=True)``; the truth of such a cell is a blank) |
| ``spaced_headers`` | spaces inside header words: ``结 果``, ``总 计``, ``自 然 人`` |
| ``broken_headers`` | header words broken over lines: ``尚未审`` / ``结``, ``结果`` / ``维持`` |
| ``section_reuse`` | a later heading reuses a section number (``四、存在的主要问题…``), or a narrative heading ``三、…`` comes before the real section 三 |
| ``enumerators`` | Table 3 sub-row enumerators as ``1、`` ``（1）`` ``(1)`` ``①`` ``1．`` instead of ``1.`` |
| ``group_label_middle`` | a group label of Table 3 printed on the middle row of its group (vertically centred merged cells) |
| ``page_markers`` | a page marker (``— 5 —``), alone or with a running header, inside Table 2 or 3; in a PDF the running header on every page |
| ``inline_subrows`` | two short Table 3 sub-rows of a group on one line, each label followed by its values (``2.重复申请 0 … 0 3.要求提供公开出版物 0 … 0``) |
| ``label_split_rows`` | a Table 3 row label broken across two rows, the values on the first or the second |
| ``label_split_cells`` | a Table 3 row label broken across two cells |
| ``label_wrap`` | long Table 3 labels wrapped at random points |
| ``value_notes`` | a number followed by a bracketed note on a second line (in Markdown: pulled out of the table) |
| ``mangled_header`` | the Table 3 header without its ``申请人情况`` row, or with its five organisation labels in one cell; the Table 4 header in one row |
| ``extra_empty_cells`` | empty cells after the label or at the end of Table 2 and Table 3 rows |
| ``t4_extra_cells`` | the Table 4 data row with more cells than values (empty spacer cells) |
| ``fullwidth_digits`` | values printed with full-width digits (``１２``) |
| ``markdown_loose`` | Markdown only: tables cut at page breaks with the marker as a loose line, long labels spilled out of the table as loose lines before their row |
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .model import Block, Cell, Para, Table, free_columns, insert_row
from .narrative import SECTIONS

ALL = ("text", "pipe", "html", "docx", "pdf", "markdown")

_ENUM = ("{n}、", "（{n}）", "({n})", "{c}", "{n}．", "{n}. ")
_CIRCLED = "①②③④⑤⑥⑦⑧⑨"
_NOTES = ("（含合并办理）", "（已办结）", "（含网上申请）", "（含转办件）", "（不含重复申请）")
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _table(blocks: list[Block], name: str) -> Table | None:
    return next((b for b in blocks if isinstance(b, Table) and b.name == name), None)


def _header_cells(blocks: list[Block]) -> list[Cell]:
    out = []
    for b in blocks:
        if isinstance(b, Table):
            out += [c for row in b.rows for c in row if c.header and 2 <= len(c.text) <= 12 and "第二十条" not in c.text]
    return out


def _leaf_cells(t3: Table) -> list[tuple[int, Cell]]:
    """(row index, leaf label cell) of every Table 3 data row: the last label cell before the values."""
    out = []
    for r, row in enumerate(t3.rows):
        keyed = [i for i, c in enumerate(row) if c.key]
        if keyed and keyed[0] > 0:
            out.append((r, row[keyed[0] - 1]))
    return out


def _value_cells(blocks: list[Block]) -> list[Cell]:
    return [c for b in blocks if isinstance(b, Table) for row in b.rows for c in row if c.key]


def spaced_headers(blocks, rng, report, form):
    for cell in _header_cells(blocks):
        if rng.random() < 0.5:
            chars = list(cell.text)
            if rng.random() < 0.5:
                cell.text = " ".join(chars)
            else:
                i = rng.randint(1, len(chars) - 1)
                cell.text = cell.text[:i] + " " + cell.text[i:]
    return set()


def broken_headers(blocks, rng, report, form):
    for cell in _header_cells(blocks):
        if rng.random() < 0.6:
            i = rng.randint(1, len(cell.text) - 1)
            cell.text = cell.text[:i] + "\n" + cell.text[i:]
    return set()


def section_reuse(blocks, rng, report, form):
    heads = [i for i, b in enumerate(blocks) if isinstance(b, Para) and b.kind == "heading"]
    if rng.random() < 0.5:  # 五 printed with the number of 四
        i = next(i for i in heads if blocks[i].text == SECTIONS[4])
        blocks[i].text = SECTIONS[3].split("、")[0] + "、" + SECTIONS[4].split("、", 1)[1]
    else:  # a narrative heading 三、… before the real section 三
        i = next(i for i in heads if blocks[i].text == SECTIONS[2])
        blocks[i:i] = [Para("三、政府信息管理和平台建设情况", "heading"),
                       Para("本机关持续加强政府信息管理，及时调整公开目录，规范信息发布流程，做好政府网站和政务新媒体的日常维护。")]
    return set()


def enumerators(blocks, rng, report, form):
    t3 = _table(blocks, "t3")
    style = rng.choice(_ENUM)
    for _, cell in _leaf_cells(t3):
        head, sep, rest = cell.text.partition(".")
        if sep and head.isdigit():
            n = int(head)
            cell.text = style.format(n=n, c=_CIRCLED[n - 1]) + rest
    return set()


def group_label_middle(blocks, rng, report, form):
    t3 = _table(blocks, "t3")
    for row in t3.rows:
        for cell in row:
            if not cell.key and not cell.header and cell.rowspan > 2:
                cell.text_row = cell.rowspan // 2
    return set()


def page_markers(blocks, rng, report, form):
    if form == "pdf":
        return set()  # a PDF prints the marker itself; the running header is switched on by this kind
    for name in ("t2", "t3"):
        t = _table(blocks, name)
        if t is not None and (name == "t3" or rng.random() < 0.5):
            r = rng.randint(3 if name == "t3" else 2, len(t.rows) - 1)
            marker = f"— {rng.randint(2, 9)} —"
            text = marker if rng.random() < 0.5 else f"{marker}\n{report.title}"
            insert_row(t, r, [Cell(text, colspan=free_columns(t, r), marker=True)])
    return set()


def inline_subrows(blocks, rng, report, form):
    t3 = _table(blocks, "t3")
    leaves = dict(_leaf_cells(t3))
    pairs = [r for r in leaves if r + 1 in leaves and len(leaves[r].text) <= 10 and len(leaves[r + 1].text) <= 10
             and leaves[r].colspan == leaves[r + 1].colspan == 1 and not any(c.rowspan > 1 for c in t3.rows[r + 1])]
    done: set[int] = set()
    for r in sorted(rng.sample(pairs, min(len(pairs), rng.randint(1, 3))), reverse=True):
        if r in done or r + 1 in done:
            continue
        t3.rows[r].extend(t3.rows[r + 1])
        del t3.rows[r + 1]
        for above in range(r + 1):
            for cell in t3.rows[above]:
                if above + cell.rowspan > r + 1:
                    cell.rowspan -= 1
        done |= {r, r + 1}
    return set()


def label_split_rows(blocks, rng, report, form):
    t3 = _table(blocks, "t3")
    leaves = [(r, c) for r, c in _leaf_cells(t3) if len(c.text) >= 6]
    for r, cell in sorted(rng.sample(leaves, min(len(leaves), rng.randint(1, 3))), key=lambda x: -x[0]):
        cut = rng.randint(2, len(cell.text) - 2)
        head, tail = cell.text[:cut], cell.text[cut:]
        blanks = [Cell("", key=None) for _ in range(7)]
        if rng.random() < 0.5:  # values on the first row, the rest of the label below
            cell.text = head
            insert_row(t3, r + 1, [Cell(tail, colspan=cell.colspan), *blanks])
        else:  # the start of the label on a row of its own, the values with the rest
            cell.text = tail
            insert_row(t3, r, [Cell(head, colspan=cell.colspan), *blanks])
    return set()


def label_split_cells(blocks, rng, report, form):
    t3 = _table(blocks, "t3")
    leaves = [(r, c) for r, c in _leaf_cells(t3) if c.colspan >= 2 and len(c.text) >= 6]
    for r, cell in rng.sample(leaves, min(len(leaves), rng.randint(1, 2))):
        row = t3.rows[r]
        cut = rng.randint(2, len(cell.text) - 2)
        i = row.index(cell)
        row[i:i + 1] = [Cell(cell.text[:cut]), Cell(cell.text[cut:], colspan=cell.colspan - 1)]
    return set()


def label_wrap(blocks, rng, report, form):
    t3 = _table(blocks, "t3")
    for _, cell in _leaf_cells(t3):
        if len(cell.text) > 8 and rng.random() < 0.7:
            step = rng.randint(5, 11)
            parts = [cell.text[i:i + step] for i in range(0, len(cell.text), step)]
            cell.text = "\n".join(parts)
    return set()


def value_notes(blocks, rng, report, form):
    cells = [c for c in _value_cells(blocks) if c.text.strip() not in ("", "0")]
    for cell in rng.sample(cells, min(len(cells), rng.randint(1, 3))):
        cell.text = f"{cell.text}\n{rng.choice(_NOTES)}"
    return set()


def mangled_header(blocks, rng, report, form):
    t3 = _table(blocks, "t3")
    top, mid, low = t3.rows[0], t3.rows[1], t3.rows[2]
    if rng.random() < 0.5:  # no 申请人情况 row: the header is two rows
        top[0].rowspan = 2
        t3.rows[0:3] = [[top[0], *mid], low]
        mid[0].rowspan = mid[-1].rowspan = 2
    else:  # the five organisation labels in one cell
        low[:] = [Cell(" ".join(c.text for c in low), colspan=5, header=True)]
    t4 = _table(blocks, "t4")
    if rng.random() < 0.5:  # Table 4 header in one row, group and result run together
        groups = [c.text for c in t4.rows[1][5:]]
        results = [c.text for c in t4.rows[2]]
        one = [Cell(f"{t4.rows[0][0].text}{c.text}", header=True) for c in t4.rows[1][:5]]
        one += [Cell(f"{groups[i // 5]}{results[i]}", header=True) for i in range(10)]
        t4.rows[0:3] = [one]
    return set()


def extra_empty_cells(blocks, rng, report, form):
    unreadable: set[str] = set()
    for name in ("t2", "t3"):
        t = _table(blocks, name)
        for row in t.rows:
            keyed = [i for i, c in enumerate(row) if c.key]
            if not keyed or rng.random() > 0.3:
                continue
            if rng.random() < 0.5:
                row.extend(Cell("") for _ in range(rng.randint(1, 2)))
            else:
                row.insert(keyed[0], Cell(""))
                # a spacer before values that print zeros as blanks cannot be told from a blank value
                if any(row[i + 1].text == "" for i in keyed):
                    unreadable |= {row[i + 1].key for i in keyed}
    return unreadable


def t4_extra_cells(blocks, rng, report, form):
    t4 = _table(blocks, "t4")
    row = t4.rows[-1]
    for _ in range(rng.randint(1, 3)):
        row.insert(rng.choice((0, 5, 10, 15, rng.randint(0, len(row)))), Cell(""))
    # an empty spacer among values that print zeros as blanks cannot be told from a blank value
    if any(c.key and c.text == "" for c in row):
        return {c.key for c in row if c.key}
    return set()


def fullwidth_digits(blocks, rng, report, form):
    every = rng.random() < 0.5
    for cell in _value_cells(blocks):
        if every or rng.random() < 0.4:
            cell.text = cell.text.translate(_FULLWIDTH)
    return set()


def markdown_loose(blocks, rng, report, form):
    return set()  # applied by the Markdown renderer


# name: (default probability with damage=True, forms, function)
_KINDS: dict[str, tuple[float, tuple[str, ...], Callable]] = {
    "spaced_headers": (0.3, ALL, spaced_headers),
    "broken_headers": (0.3, ALL, broken_headers),
    "section_reuse": (0.2, ALL, section_reuse),
    "enumerators": (0.3, ALL, enumerators),
    "group_label_middle": (0.3, ("text", "pdf", "markdown"), group_label_middle),
    "page_markers": (0.3, ALL, page_markers),
    "inline_subrows": (0.2, ("text", "pipe", "markdown"), inline_subrows),
    "label_split_rows": (0.2, ALL, label_split_rows),
    "label_split_cells": (0.2, ALL, label_split_cells),
    "label_wrap": (0.3, ALL, label_wrap),
    "value_notes": (0.2, ALL, value_notes),
    "mangled_header": (0.2, ALL, mangled_header),
    "extra_empty_cells": (0.2, ALL, extra_empty_cells),
    "t4_extra_cells": (0.2, ALL, t4_extra_cells),
    "fullwidth_digits": (0.2, ALL, fullwidth_digits),
    "markdown_loose": (0.5, ("markdown",), markdown_loose),
}
DAMAGE_KINDS: dict[str, tuple[float, tuple[str, ...]]] = {k: (p, forms) for k, (p, forms, _) in _KINDS.items()}
# made by generate(blanks=True), not by render: listed for the benchmark's tables
REPORT_KINDS: dict[str, tuple[float, tuple[str, ...]]] = {"blank_zeros": (0.4, ALL)}


def choose_kinds(rng: random.Random, form: str, damage) -> list[str]:
    """The kinds to apply: none, each with its default probability (True), each with probability
    ``damage`` (a number), or exactly the kinds named (those that apply to the form)."""
    if damage is False or damage is None or (isinstance(damage, (int, float)) and not isinstance(damage, bool) and damage == 0):
        return []
    if isinstance(damage, str):
        damage = [damage]
    if isinstance(damage, (list, tuple, set, frozenset)):
        unknown = [k for k in damage if k not in _KINDS]
        if unknown:
            raise ValueError(f"unknown damage kinds {unknown}; known: {', '.join(_KINDS)}")
        return [k for k in _KINDS if k in damage and form in _KINDS[k][1]]
    p_all = None if damage is True else float(damage)
    return [k for k, (p, forms, _) in _KINDS.items() if form in forms and rng.random() < (p if p_all is None else p_all)]


def apply_damage(blocks: list[Block], kinds: list[str], rng: random.Random, form: str, report) -> set[str]:
    """Apply ``kinds`` in place, in the order of :data:`DAMAGE_KINDS`; the keys made unreadable."""
    unreadable: set[str] = set()
    for k in _KINDS:
        if k in kinds:
            unreadable |= _KINDS[k][2](blocks, rng, report, form)
    return unreadable
