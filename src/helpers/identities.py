"""The template's own arithmetic identities, expanded from ``data/identities.csv``.

Each identity says that the sum of the cells on its left equals the sum of
the cells on its right.  Templated rows expand over every Table 3 row
(``{row}``) or applicant column (``{col}``); ``@outcomes`` stands for the
outcome rows （一）…（六） as printed, with （六） as one row or as its three
sub-rows.  The same identities drive validation and the splitting of digits
that a text rendering ran together.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .codebook import load

OUTCOME_EXCLUDED = ("new_received", "carried_over", "total_processed", "carried_forward")


@dataclass(frozen=True, slots=True)
class Identity:
    rule: str
    severity: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]
    description: str
    scope: str  # the row or column it was expanded for ("" when not templated)


@cache
def _rules() -> list[dict[str, str]]:
    with resources.files("helpers").joinpath("data", "identities.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def outcome_rows(split_other: bool) -> list[str]:
    return [r for r in load().t3_leaves(split_other) if r not in OUTCOME_EXCLUDED]


@cache
def expand(split_other: bool) -> tuple[Identity, ...]:
    """Every concrete identity, for a Table 3 whose （六） is split or single."""
    cb = load()
    leaves = cb.t3_leaves(split_other)
    outs = outcome_rows(split_other)
    result: list[Identity] = []
    for r in _rules():
        if r["over"] == "t3_rows":
            scopes = [("row", x) for x in leaves]
        elif r["over"] == "t3_cols":
            scopes = [("col", x) for x in cb.t3_cols]
        else:
            scopes = [("", "")]
        for name, value in scopes:
            def sub(spec: str) -> tuple[str, ...]:
                keys: list[str] = []
                for part in spec.split(";"):
                    part = part.replace("{" + name + "}", value) if name else part
                    if part.startswith("@outcomes."):
                        col = part.split(".", 1)[1]
                        keys.extend(f"t3.{o}.{col}" for o in outs)
                    else:
                        keys.append(part)
                return tuple(keys)

            result.append(Identity(r["rule"], r["severity"], sub(r["lhs"]), sub(r["rhs"]), r["description"], value))
    return tuple(result)


@cache
def t3_row_identity() -> list[tuple[int, tuple[int, ...]]]:
    """The row-total identity as positions within a Table 3 row (for digit splitting)."""
    cols = load().t3_cols
    ident = next(i for i in expand(True) if i.rule == "t3.row_total")
    row = ident.scope
    pos = {f"t3.{row}.{c}": i for i, c in enumerate(cols)}
    return [(pos[ident.lhs[0]], tuple(pos[k] for k in ident.rhs))]


@cache
def t4_row_identities() -> list[tuple[int, tuple[int, ...]]]:
    """The three Table 4 totals as positions within its 15-value row."""
    cb = load()
    keys = [f"t4.{g}.{c}" for g in cb.t4_groups for c in cb.t4_cols]
    pos = {k: i for i, k in enumerate(keys)}
    return [
        (pos[i.lhs[0]], tuple(pos[k] for k in i.rhs))
        for i in expand(True)
        if i.rule.startswith("t4.") and len(i.lhs) == 1
    ]
