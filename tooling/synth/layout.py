"""The blocks of a synthetic report, before damage: title, sections, the three tables."""

from __future__ import annotations

from .model import Block, Cell, Para, Table
from .narrative import SECTIONS
from .template import T2_FIRST_HEADER, T3_APPLICANT, T3_CORNER, T3_ORG, T3_RESULTS, t2_blocks, t3_columns, t3_rows, t4_labels
from .values import SynthReport


def table2(report: SynthReport) -> Table:
    rows: list[list[Cell]] = []
    for block in t2_blocks(report.t2_edition):
        rows.append([Cell(block.heading, colspan=4, header=True)])
        head = [Cell(T2_FIRST_HEADER, header=True)]
        for i, label in enumerate(block.columns):
            last = i == len(block.columns) - 1
            head.append(Cell(label, colspan=4 - 1 - i if last else 1, header=True))
        rows.append(head)
        for _, label, keys in block.rows:
            row = [Cell(label)]
            for i, key in enumerate(keys):
                last = i == len(keys) - 1
                row.append(Cell(report.printed[key], colspan=4 - 1 - i if last else 1, key=key))
            rows.append(row)
    return Table("t2", rows, 4, [2.2, 1.3, 1.3, 1.3])


def table3(report: SynthReport) -> Table:
    cols = t3_columns()
    rows: list[list[Cell]] = [
        [Cell(T3_CORNER, rowspan=3, colspan=3, header=True), Cell(T3_APPLICANT, colspan=7, header=True)],
        [Cell(cols[0][1], rowspan=2, header=True), Cell(T3_ORG, colspan=5, header=True), Cell(cols[-1][1], rowspan=2, header=True)],
        [Cell(label, header=True) for _, label in cols[1:-1]],
    ]
    leaves = t3_rows(report.split_other)
    for i, leaf in enumerate(leaves):
        row: list[Cell] = []
        path = leaf.path
        if len(path) == 1:
            row.append(Cell(path[0], colspan=3))
        else:
            if i == 0 or leaves[i - 1].path[0] != path[0]:
                row.append(Cell(path[0], rowspan=sum(1 for x in leaves if x.path[0] == path[0])))
            if len(path) == 2:
                row.append(Cell(path[1], colspan=2))
            else:
                if leaves[i - 1].path[:2] != path[:2]:
                    row.append(Cell(path[1], rowspan=sum(1 for x in leaves if x.path[:2] == path[:2])))
                row.append(Cell(path[2]))
        row.extend(Cell(report.printed[f"t3.{leaf.row}.{c}"], key=f"t3.{leaf.row}.{c}") for c, _ in cols)
        rows.append(row)
    return Table("t3", rows, 10, [1.1, 1.3, 3.2] + [1.0] * 7)


def table4(report: SynthReport) -> Table:
    (review, litigation), groups, cols = t4_labels()
    rows = [
        [Cell(review, colspan=5, header=True), Cell(litigation, colspan=10, header=True)],
        [Cell(label, rowspan=2, header=True) for _, label in cols] + [Cell(label, colspan=5, header=True) for _, label in groups[1:]],
        [Cell(label, header=True) for _ in groups[1:] for _, label in cols],
        [Cell(report.printed[f"t4.{g}.{c}"], key=f"t4.{g}.{c}") for g, _ in groups for c, _ in cols],
    ]
    return Table("t4", rows, 15, [1.0] * 15)


def blocks(report: SynthReport) -> list[Block]:
    """Title, synthetic note, preamble, six sections with the tables in sections 二, 三 and 四."""
    out: list[Block] = [Para(report.title, "title"), Para(report.synthetic_note, "note")]
    out += [Para(p) for p in report.narrative.get("", [])]
    tables = {SECTIONS[1]: table2(report), SECTIONS[2]: table3(report), SECTIONS[3]: table4(report)}
    for heading in SECTIONS:
        out.append(Para(heading, "heading"))
        out += [Para(p) for p in report.narrative.get(heading, [])]
        if heading in tables:
            out.append(tables[heading])
    return out
