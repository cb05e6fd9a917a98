"""The canonical codebook and the template structure derived from it.

Everything edition-specific comes from package data:

* ``data/codebook.csv`` — one row per canonical cell key with its Chinese
  label path (``第二十条第（一）项 / 规章 / 本年制发件数``, ``三 / （三）不予公开 /
  1.属于国家秘密 × 法人或其他组织 / 商业企业``) and the editions that have it.
  Table structure (rows, columns, blocks, template order) is parsed from
  those label paths, so the codebook stays the single source of truth.
* ``data/labels.csv`` — printed label variants (typos, renamings, older or
  abbreviated wordings) and the non-data labels that anchor tables.

Nothing here is hard-coded per edition in Python.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources

from .normalize import norm_label, strip_enumerator

EDITIONS = ("2019", "2021")


@dataclass(frozen=True, slots=True)
class Key:
    key: str
    table: str
    editions: tuple[str, ...]
    label_zh: str
    label_en: str
    unit: str
    notes: str

    @property
    def row(self) -> str:
        return self.key.split(".")[1]

    @property
    def col(self) -> str:
        return self.key.split(".")[2]


@dataclass(frozen=True, slots=True)
class LabelEntry:
    """A printed label and what it stands for.

    kind: ``t2_block`` | ``t2_col`` | ``t2_row`` | ``t3_row`` | ``t3_group`` |
    ``t3_col`` | ``t4_group`` | ``t4_col`` | ``anchor`` | ``section``
    target: the row/column/block id, or for anchors the table they open
    (``t2``, ``t3``, ``t4``), for sections ``end`` or the table.
    """

    kind: str
    target: str
    label: str


@dataclass
class Codebook:
    keys: dict[str, Key]
    # template structure
    t3_rows: list[str]  # leaf rows, template order, union of editions
    t3_cols: list[str]  # C1..C7
    t3_row_editions: dict[str, tuple[str, ...]]
    t4_groups: list[str]
    t4_cols: list[str]
    t2_rows: dict[str, list[str]]  # edition -> rows in order
    t2_row_block: dict[str, str]  # row id -> block label (normalised)
    t2_cols: dict[tuple[str, str], list[str]]  # (edition, row) -> col ids in order
    labels: dict[str, list[LabelEntry]] = field(default_factory=dict)  # norm label -> entries
    stripped: dict[str, list[LabelEntry]] = field(default_factory=dict)  # enumerator-free form

    def keys_for(self, edition: str | None) -> list[str]:
        """Every codebook key of an edition (both editions' common keys when unknown)."""
        if edition is None:
            return [k for k, v in self.keys.items() if v.table != "t2" and len(v.editions) == 2]
        return [k for k, v in self.keys.items() if edition in v.editions]

    def t3_leaves(self, split_other: bool) -> list[str]:
        """T3 leaf rows in template order, with （六） as one row or three."""
        out = []
        for r in self.t3_rows:
            if r == "other" and split_other:
                continue
            if r.startswith("other_") and not split_other:
                continue
            out.append(r)
        return out

    @cached_property
    def longest_label(self) -> int:
        """The length of the longest label form (normalised or without enumerators)."""
        return max(map(len, (*self.labels, *self.stripped)), default=0)

    def lookup(self, norm: str) -> list[LabelEntry]:
        """Label entries for a normalised label: exact form first, then without enumerators."""
        hit = self.labels.get(norm)
        if hit:
            return hit
        return self.stripped.get(strip_enumerator(norm), [])


def _read_csv(name: str) -> list[dict[str, str]]:
    with resources.files("helpers").joinpath("data", name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _split_path(label_zh: str) -> tuple[list[str], list[str]]:
    """``"三 / （三）不予公开 / 1.属于国家秘密 × 法人或其他组织 / 商业企业"`` →
    (row path parts, column path parts)."""
    row, _, col = label_zh.partition(" × ")
    return [p.strip() for p in row.split(" / ")], [p.strip() for p in col.split(" / ")] if col else []


@cache
def load() -> Codebook:
    """Load and cache the codebook and label tables shipped with the package."""
    # A key may be listed once per edition (its printed label differs between
    # editions, e.g. 处理决定数量 vs 本年处理决定数量): keep every row for the
    # structure, and merge the editions into one Key.
    rows = [
        Key(
            key=r["key"],
            table=r["table"],
            editions=tuple(e for e in r["editions"].split(";") if e),
            label_zh=r["label_zh"],
            label_en=r["label_en"],
            unit=r["unit"],
            notes=r["notes"],
        )
        for r in _read_csv("codebook.csv")
    ]
    keys: dict[str, Key] = {}
    for k in rows:
        if k.key in keys:
            prev = keys[k.key]
            eds = tuple(e for e in EDITIONS if e in prev.editions or e in k.editions)
            keys[k.key] = Key(prev.key, prev.table, eds, prev.label_zh, prev.label_en, prev.unit, prev.notes)
        else:
            keys[k.key] = k

    labels: dict[str, list[LabelEntry]] = {}

    def add(kind: str, target: str, label: str) -> None:
        n = norm_label(label)
        if not n:
            return
        entry = LabelEntry(kind, target, label)
        bucket = labels.setdefault(n, [])
        if entry not in bucket:
            bucket.append(entry)

    t3_rows: list[str] = []
    t3_cols: list[str] = []
    t3_row_editions: dict[str, tuple[str, ...]] = {}
    t4_groups: list[str] = []
    t4_cols: list[str] = []
    t2_rows: dict[str, list[str]] = {e: [] for e in EDITIONS}
    t2_row_block: dict[str, str] = {}
    t2_cols: dict[tuple[str, str], list[str]] = {}

    for k in rows:
        rowpath, colpath = _split_path(k.label_zh)
        if k.table == "t3":
            if k.row not in t3_rows:
                t3_rows.append(k.row)
                t3_row_editions[k.row] = k.editions
                add("t3_row", k.row, rowpath[-1])
                for g in rowpath[1:-1]:
                    add("t3_group", g, g)
            if k.col not in t3_cols:
                t3_cols.append(k.col)
                add("t3_col", k.col, colpath[-1])
        elif k.table == "t4":
            group = k.row
            if group not in t4_groups:
                t4_groups.append(group)
                add("t4_group", group, rowpath[-2])
            if k.col not in t4_cols:
                t4_cols.append(k.col)
            add("t4_col", k.col, rowpath[-1])
        elif k.table == "t2":
            block, row_label, col_label = rowpath
            for e in k.editions:
                if k.row not in t2_rows[e]:
                    t2_rows[e].append(k.row)
                t2_cols.setdefault((e, k.row), []).append(k.col)
            t2_row_block[k.row] = norm_label(block)
            add("t2_block", norm_label(block), block)
            add("t2_row", k.row, row_label)
            add("t2_col", k.col, col_label)

    # the group labels of T3 as printed ("三、本年度办理结果" is shortened to "三" in paths)
    for r in _read_csv("labels.csv"):
        add(r["kind"], r["target"], r["label"])

    stripped: dict[str, list[LabelEntry]] = {}
    for n, entries in labels.items():
        s = strip_enumerator(n)
        if s and s != n and len(s) >= 2:
            for e in entries:
                # a bare "其他" is a column header, never the row "3.其他"
                if e.kind == "t3_row" and len(s) <= 2:
                    continue
                bucket = stripped.setdefault(s, [])
                if e not in bucket:
                    bucket.append(e)
        elif s == n:
            stripped.setdefault(s, [])
            for e in entries:
                if e not in stripped[s]:
                    stripped[s].append(e)

    return Codebook(
        keys=keys,
        t3_rows=t3_rows,
        t3_cols=t3_cols,
        t3_row_editions=t3_row_editions,
        t4_groups=t4_groups,
        t4_cols=t4_cols,
        t2_rows=t2_rows,
        t2_row_block=t2_row_block,
        t2_cols=t2_cols,
        labels=labels,
        stripped=stripped,
    )
