"""The template's tables as the generator prints them, read from the codebook.

Every label printed by the synthetic reports comes from the label paths of
``helpers/data/codebook.csv`` (the same data the extractor reads), so the two
editions and the hybrids differ here only by which codebook rows are used.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from helpers.codebook import load

T3_CORNER = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
T3_APPLICANT = "申请人情况"
T3_ORG = "法人或其他组织"
T2_FIRST_HEADER = "信息内容"
T3_RESULTS = "三、本年度办理结果"


@dataclass(frozen=True)
class T2Block:
    heading: str  # 第二十条第（一）项
    columns: tuple[str, ...]  # header labels after 信息内容
    rows: tuple[tuple[str, str, tuple[str, ...]], ...]  # (row id, printed label, keys in column order)


@dataclass(frozen=True)
class T3Row:
    row: str  # codebook row id
    path: tuple[str, ...]  # printed label path: (R1 label,) or (group, label) or (三, group, label)


def _paths(key: str) -> tuple[list[str], list[str]]:
    label = load().keys[key].label_zh
    row, _, col = label.partition(" × ")
    return [p.strip() for p in row.split(" / ")], [p.strip() for p in col.split(" / ")] if col else []


@cache
def _codebook_rows() -> tuple[dict[str, str], ...]:
    """The rows of codebook.csv as printed (a Table 2 key has one row per edition wording)."""
    with resources.files("helpers").joinpath("data", "codebook.csv").open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


def _t2_labels(edition: str, row: str, col: str) -> tuple[str, str, str]:
    """(block, row label, column label) of a Table 2 key in one edition."""
    for r in _codebook_rows():
        if r["key"] == f"t2.{row}.{col}" and edition in r["editions"].split(";"):
            block, row_label, col_label = (p.strip() for p in r["label_zh"].split(" / "))
            return block, row_label, col_label
    raise KeyError(f"codebook.csv: no Table 2 key t2.{row}.{col} for edition {edition}")


@cache
def t2_blocks(edition: str) -> tuple[T2Block, ...]:
    """Table 2 of an edition: blocks in template order with their header and rows."""
    cb = load()
    blocks: list[T2Block] = []
    current: tuple[str, list[str], list] | None = None
    for row in cb.t2_rows[edition]:
        cols = cb.t2_cols[(edition, row)]
        labels = [_t2_labels(edition, row, c) for c in cols]
        heading, row_label = labels[0][0], labels[0][1]
        if current is None or current[0] != heading:
            if current is not None:
                blocks.append(T2Block(current[0], tuple(current[1]), tuple(current[2])))
            current = (heading, [lab[2] for lab in labels], [])
        current[2].append((row, row_label, tuple(f"t2.{row}.{c}" for c in cols)))
    if current is not None:
        blocks.append(T2Block(current[0], tuple(current[1]), tuple(current[2])))
    return tuple(blocks)


@cache
def t3_rows(split_other: bool) -> tuple[T3Row, ...]:
    """Table 3 leaf rows in template order, with their printed label paths."""
    out = []
    for row in load().t3_leaves(split_other):
        path, _ = _paths(f"t3.{row}.total")
        if len(path) > 1 and path[0] == "三":
            path = [T3_RESULTS, *path[1:]]
        out.append(T3Row(row, tuple(path)))
    return tuple(out)


@cache
def t3_columns() -> tuple[tuple[str, str], ...]:
    """(column id, printed label) of the seven Table 3 value columns."""
    return tuple((c, _paths(f"t3.new_received.{c}")[1][-1]) for c in load().t3_cols)


@cache
def t4_labels() -> tuple[tuple[str, str], tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """Table 4: ((行政复议, 行政诉讼), the three groups (id, label), the five columns (id, label))."""
    cb = load()
    top = _paths("t4.review.total")[0][0], _paths("t4.litigation_direct.total")[0][0]
    groups = tuple((g, _paths(f"t4.{g}.total")[0][-2]) for g in cb.t4_groups)
    cols = tuple((c, _paths(f"t4.review.{c}")[0][-1]) for c in cb.t4_cols)
    return top, groups, cols


def t3_keys(split_other: bool) -> list[str]:
    return [f"t3.{r.row}.{c}" for r in t3_rows(split_other) for c, _ in t3_columns()]


def t4_keys() -> list[str]:
    cb = load()
    return [f"t4.{g}.{c}" for g in cb.t4_groups for c in cb.t4_cols]
