"""Checks on extracted reports: the template's identities, value rules and cross-year chains.

The rules are those of ``docs/template.md`` (sections 1c, 2c, 3 and 5 "Values").
Nothing here changes a value; every failed rule becomes one :class:`Issue`.

Per report (:func:`check_report`):

* ``t3.row_total`` (error): 总计 = 自然人 + the five 法人或其他组织 columns, every leaf row
* ``t3.outcome_total`` (error): （七）总计 = （一）…（六） per column
* ``t3.balance`` (error): 一 + 二 = 三（七） + 四 per column
* ``t4.review_total``, ``t4.litigation_direct_total``, ``t4.litigation_after_review_total``
  (error): the three Table 4 totals
* ``t3.blank_total`` / ``t4.blank_total`` (warning): a total printed blank while its
  parts do not sum to 0
* ``t3.nonnegative_integer`` / ``t4.nonnegative_integer`` (error): counts are
  non-negative integers
* ``t2.nonnegative`` (warning): Table 2 values are non-negative (first-edition
  本年增/减 exempt)
* ``t2.published_total_ge_published`` (warning): first edition, 对外公开总数量 ≥ 本年新公开数量
* ``t2.made_gt_published`` (info): first edition, 本年新制作数量 > 本年新公开数量
* ``t2.regulations_plausibility`` (warning): non-zero 规章 reported by a township,
  street or department (needs the ``level``)
* ``table.blank`` (warning): a table whose every printed value cell is blank

Reading of blanks (template §5, "Recommended reading of blanks"): a blank
part counts as 0; a blank total (the single left-hand cell of a total
identity) next to parts that do not sum to 0 is *missing*: it gets a
``*.blank_total`` warning instead of an arithmetic error, and every other
identity that involves it is skipped.  An identity whose cells are all blank
is not filled and is skipped.  An identity with an ``absent``, ``text`` or
``na_marker`` cell cannot be checked and is skipped silently.

Across years (:func:`check_chain`), for the same agency in consecutive years:
``chain.carried_over`` (warning), ``chain.in_force`` (info) and
``chain.items`` (info).

``expected``/``actual`` of an arithmetic issue: for a total identity the sum
of the parts and the printed total; for the balance the left side (一 + 二)
and the right side (三（七） + 四).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import cache

from .codebook import load
from .identities import Identity, expand
from .result import SEVERITY_ORDER, ExtractResult, Issue

__all__ = [
    "agency_key",
    "check_chain",
    "check_identities",
    "check_regulations_plausibility",
    "check_report",
    "check_table2",
    "check_value_types",
    "check_blank_tables",
    "infer_split_other",
    "level_cannot_issue_regulations",
    "sort_issues",
    "summarize",
]

TABLE_NAMES = {"t2": "Table 2", "t3": "Table 3", "t4": "Table 4"}
_CHECKABLE = ("number", "blank")


# ---------------------------------------------------------------------------
# small helpers


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _fmt(v: float | int | None) -> str:
    if v is None:
        return "blank"
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return f"{v:.6f}".rstrip("0").rstrip(".")
    return str(v)


def _num(v: float | int) -> float | int:
    """Integral floats as int, so that ``expected``/``actual`` read as printed."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _status(result: ExtractResult, key: str) -> str:
    c = result.cells.get(key)
    if c is None:
        return "absent"
    if c.status == "number" and c.value is None:  # malformed: treat as unreadable
        return "text"
    return c.status


def _value0(result: ExtractResult, key: str) -> float | int:
    """The value of a number cell, 0 for a blank one."""
    c = result.cells.get(key)
    if c is None or c.status != "number" or c.value is None:
        return 0
    return c.value


def _short_zh(label: str) -> str:
    """``（二）部分公开（区分处理的，只计这一情形，不计其他情形）`` → ``（二）部分公开``."""
    m = re.fullmatch(r"(.+?)（[^（）]*）", label)
    if m and not m.group(1).endswith("）") and len(m.group(1)) > 1:
        return m.group(1)
    return label


@cache
def _names() -> dict[str, tuple[str, str]]:
    """key → (Chinese name, English name) for messages."""
    cb = load()
    out: dict[str, tuple[str, str]] = {}
    for key, k in cb.keys.items():
        rowpath, _, colpath = k.label_zh.partition(" × ")
        rows = [p.strip() for p in rowpath.split(" / ")]
        cols = [p.strip() for p in colpath.split(" / ")] if colpath else []
        if k.table == "t3":
            row_en, _, col_en = k.label_en.partition(" — ")
            zh = f"{_short_zh(rows[-1])} × {cols[-1]}"
            en = f"{row_en} — {col_en}" if col_en else row_en
        elif k.table == "t4":
            zh = " ".join(rows[-2:])
            en = k.label_en
        else:  # t2: block / row / column
            zh = " ".join(rows[1:]) if len(rows) >= 3 else " ".join(rows)
            en = k.label_en
        out[key] = (zh, en)
    return out


def _name(key: str) -> str:
    zh, en = _names().get(key, (key, ""))
    return f"{zh} ({en})" if en else zh


@cache
def _row_name(row: str) -> str:
    """A Table 3 row as ``（一）予以公开 (Granted in full)``."""
    zh, en = _names()[f"t3.{row}.total"]
    return f"{zh.split(' × ')[0]} ({en.split(' — ')[0]})"


@cache
def _col_name(col: str) -> str:
    """A Table 3 column as ``自然人 (Natural persons)``."""
    zh, en = _names()[f"t3.new_received.{col}"]
    return f"{zh.split(' × ')[-1]} ({en.split(' — ')[-1]})"


def _terms(result: ExtractResult, keys: Sequence[str]) -> str:
    parts = []
    for k in keys:
        c = result.cells.get(k)
        parts.append(_fmt(c.value) if c is not None and c.status == "number" else "blank")
    return " + ".join(parts)


def _table(key: str) -> str:
    return key.split(".", 1)[0]


# ---------------------------------------------------------------------------
# Table 3 (六) form


@cache
def _other_subrows() -> tuple[str, ...]:
    return tuple(r for r in load().t3_rows if r.startswith("other_"))


def infer_split_other(result: ExtractResult) -> bool:
    """True when any cell of the three （六） sub-rows is printed (status other than ``absent``)."""
    cols = load().t3_cols
    return any(_status(result, f"t3.{r}.{c}") != "absent" for r in _other_subrows() for c in cols)


# ---------------------------------------------------------------------------
# identities


def _missing_totals(result: ExtractResult, idents: Sequence[Identity]) -> dict[str, Identity]:
    """Blank totals next to parts that do not sum to 0, with the identity that shows it.

    When several total identities have the same left-hand cell (（七）总计 × 总计
    is both a row total and an outcome total), the first one in template order
    whose parts contain no missing total is reported.
    """
    candidates: dict[str, list[Identity]] = defaultdict(list)
    for ident in idents:
        if len(ident.lhs) != 1:
            continue
        total = ident.lhs[0]
        if _status(result, total) != "blank":
            continue
        if any(_status(result, k) not in _CHECKABLE for k in ident.rhs):
            continue
        if not _close(sum(_value0(result, k) for k in ident.rhs), 0):
            candidates[total].append(ident)
    missing: dict[str, Identity] = {}
    for total, found in candidates.items():
        clean = [i for i in found if not any(k in candidates for k in i.rhs)]
        missing[total] = (clean or found)[0]
    return missing


def _identity_message(result: ExtractResult, ident: Identity, left: float, right: float) -> str:
    path = result.path
    table = TABLE_NAMES.get(_table(ident.lhs[0]), "")
    if len(ident.lhs) == 1:
        total = ident.lhs[0]
        if ident.rule == "t3.outcome_total":
            what = f"the outcome rows （一）…（六） sum to {_fmt(right)}"
        else:
            what = f"its parts sum to {_fmt(right)}"
        blanks = " (blank counted as 0)" if any(_status(result, k) == "blank" for k in ident.rhs) else ""
        return (
            f"{path}: {table} {_name(total)} is printed {_fmt(left)} but {what} "
            f"({_terms(result, ident.rhs)}){blanks}"
        )
    if ident.rule == "t3.balance":
        return (
            f"{path}: {table} balance 一 + 二 = 三（七） + 四 fails in column {_col_name(ident.scope)}: "
            f"一 + 二 = {_terms(result, ident.lhs)} = {_fmt(left)} but "
            f"三（七） + 四 = {_terms(result, ident.rhs)} = {_fmt(right)}"
        )
    return (
        f"{path}: {table} {ident.description} fails"
        + (f" ({ident.scope})" if ident.scope else "")
        + f": {_terms(result, ident.lhs)} = {_fmt(left)} but {_terms(result, ident.rhs)} = {_fmt(right)}"
    )


def check_identities(result: ExtractResult, split_other: bool) -> list[Issue]:
    """The template identities (2c.1–3 and 3) plus ``*.blank_total`` warnings."""
    idents = expand(split_other)
    missing = _missing_totals(result, idents)
    issues: list[Issue] = []
    for ident in idents:
        keys = ident.lhs + ident.rhs
        statuses = [_status(result, k) for k in keys]
        if any(s not in _CHECKABLE for s in statuses):
            continue  # absent / text / N/A marker: not checkable
        if all(s == "blank" for s in statuses):
            continue  # not filled
        if len(ident.lhs) == 1 and missing.get(ident.lhs[0]) is ident:
            total = ident.lhs[0]
            parts = sum(_value0(result, k) for k in ident.rhs)
            rule = f"{_table(total)}.blank_total"
            what = "the outcome rows （一）…（六）" if ident.rule == "t3.outcome_total" else "its parts"
            issues.append(
                Issue(
                    rule=rule,
                    severity="warning",
                    message=(
                        f"{result.path}: {TABLE_NAMES[_table(total)]} {_name(total)} is printed blank "
                        f"while {what} sum to {_fmt(parts)} ({_terms(result, ident.rhs)}); "
                        "read as missing, not 0"
                    ),
                    cells=list(keys),
                    expected=_num(parts),
                    actual=None,
                    path=result.path,
                )
            )
            continue
        if any(k in missing for k in keys):
            continue  # involves a missing total: not checkable
        left = sum(_value0(result, k) for k in ident.lhs)
        right = sum(_value0(result, k) for k in ident.rhs)
        if _close(left, right):
            continue
        if len(ident.lhs) == 1:
            expected, actual = right, left
        else:
            expected, actual = left, right
        issues.append(
            Issue(
                rule=ident.rule,
                severity="error",
                message=_identity_message(result, ident, left, right),
                cells=list(keys),
                expected=_num(expected),
                actual=_num(actual),
                path=result.path,
            )
        )
    return issues


# ---------------------------------------------------------------------------
# value rules


def check_value_types(result: ExtractResult) -> list[Issue]:
    """Table 3 and 4 values are non-negative integers; Table 2 values non-negative
    except the first edition's signed 本年增/减."""
    issues: list[Issue] = []
    for key, cell in result.cells.items():
        if cell.status != "number" or cell.value is None:
            continue
        table = _table(key)
        v = cell.value
        if table in ("t3", "t4"):
            bad = []
            if v < 0:
                bad.append("negative")
            if not _close(v, round(v)):
                bad.append("not an integer")
            if bad:
                issues.append(
                    Issue(
                        rule=f"{table}.nonnegative_integer",
                        severity="error",
                        message=(
                            f"{result.path}: {TABLE_NAMES[table]} {_name(key)} is {_fmt(v)} "
                            f"({' and '.join(bad)}); counts must be non-negative integers"
                        ),
                        cells=[key],
                        expected=None,
                        actual=_num(v),
                        path=result.path,
                    )
                )
        elif table == "t2" and v < 0 and not key.endswith(".items_change"):
            issues.append(
                Issue(
                    rule="t2.nonnegative",
                    severity="warning",
                    message=f"{result.path}: Table 2 {_name(key)} is negative ({_fmt(v)})",
                    cells=[key],
                    expected=None,
                    actual=_num(v),
                    path=result.path,
                )
            )
    return issues


def check_table2(result: ExtractResult) -> list[Issue]:
    """First-edition Table 2 consistency: 对外公开总数量 ≥ 本年新公开数量 (warning) and
    本年新制作数量 > 本年新公开数量 (info; the template lists it among implausible entries)."""
    issues: list[Issue] = []
    for row in ("regulations", "normative_documents"):
        made, pub, tot = (f"t2.{row}.{c}" for c in ("made", "published", "published_total"))
        if _status(result, pub) != "number":
            continue
        p = result.cells[pub].value
        assert p is not None
        if _status(result, tot) == "number":
            t = result.cells[tot].value
            assert t is not None
            if t < p and not _close(t, p):
                issues.append(
                    Issue(
                        rule="t2.published_total_ge_published",
                        severity="warning",
                        message=(
                            f"{result.path}: Table 2 {_name(tot)} is {_fmt(t)}, less than "
                            f"{_name(pub)} {_fmt(p)}"
                        ),
                        cells=[tot, pub],
                        expected=_num(p),
                        actual=_num(t),
                        path=result.path,
                    )
                )
        if _status(result, made) == "number":
            m = result.cells[made].value
            assert m is not None
            if m > p and not _close(m, p):
                issues.append(
                    Issue(
                        rule="t2.made_gt_published",
                        severity="info",
                        message=(
                            f"{result.path}: Table 2 {_name(made)} {_fmt(m)} exceeds "
                            f"{_name(pub)} {_fmt(p)}: not every document made this year was published"
                        ),
                        cells=[made, pub],
                        expected=_num(m),
                        actual=_num(p),
                        path=result.path,
                    )
                )
    return issues


_TOWNSHIP = re.compile(r"township|town\b|street|sub-?district|village|乡|镇|街道|社区|村")
_DEPARTMENT = re.compile(r"department|bureau|commission|agency|部门|局|委员会|厅|委")
_CAN_ISSUE = re.compile(r"national|ministry|state council|central|国务院|部委|国家")
_OFFICE = re.compile(r"general office|government office|办公厅|办公室")


def level_cannot_issue_regulations(level: str | None) -> bool:
    """True for a township, street or (local) department level.

    Only the State Council's departments and the governments of provinces and
    of cities with districts issue 规章, so a township, a street office or a
    local department reporting 规章 is implausible (template §1c).  National
    ministries and governments are not flagged; neither is a government's
    general office (办公厅/办公室), which reports for its government.
    """
    if not level:
        return False
    s = level.strip().lower()
    if _TOWNSHIP.search(s):
        return True
    if _OFFICE.search(s) or _CAN_ISSUE.search(s):
        return False
    return bool(_DEPARTMENT.search(s))


def check_regulations_plausibility(result: ExtractResult, level: str | None) -> list[Issue]:
    """``t2.regulations_plausibility`` (warning): non-zero 规章 cells reported by a
    unit that cannot issue them; one issue per report naming every such cell."""
    if level is None or not level_cannot_issue_regulations(level):
        return []
    keys = [
        k
        for k, c in result.cells.items()
        if k.startswith("t2.regulations.") and c.status == "number" and c.value and not _close(c.value, 0)
    ]
    if not keys:
        return []
    shown = ", ".join(f"{_name(k)} = {_fmt(result.cells[k].value)}" for k in keys)
    return [
        Issue(
            rule="t2.regulations_plausibility",
            severity="warning",
            message=(
                f"{result.path}: Table 2 规章 (government rules) reported by a {level.strip()} "
                f"which cannot issue 规章: {shown}; expected 0, / or —"
            ),
            cells=keys,
            expected=0,
            actual=None,
            path=result.path,
        )
    ]


def check_blank_tables(result: ExtractResult) -> list[Issue]:
    """``table.blank`` (warning): a table printed with every value cell blank — not filled, not 0."""
    by_table: dict[str, list[str]] = defaultdict(list)
    for key in result.cells:
        by_table[_table(key)].append(key)
    issues: list[Issue] = []
    for table in ("t2", "t3", "t4"):
        printed = [k for k in by_table.get(table, []) if _status(result, k) != "absent"]
        if printed and all(_status(result, k) == "blank" for k in printed):
            issues.append(
                Issue(
                    rule="table.blank",
                    severity="warning",
                    message=(
                        f"{result.path}: {TABLE_NAMES[table]} is printed with every value cell blank "
                        f"({len(printed)} cells): not filled; its values are unknown, not 0"
                    ),
                    cells=printed,
                    path=result.path,
                )
            )
    return issues


def check_report(
    result: ExtractResult,
    split_other: bool | None = None,
    *,
    level: str | None = None,
) -> list[Issue]:
    """Every per-report rule; see the module docstring.

    ``split_other``: whether Table 3's （六）其他处理 was printed as three sub-rows;
    inferred with :func:`infer_split_other` when ``None``.  ``level``: the
    reporting unit's administrative level (e.g. ``data/raw/sources.csv``'s
    ``level``) for the 规章 plausibility rule; without it that rule is skipped.
    """
    if split_other is None:
        split_other = infer_split_other(result)
    issues: list[Issue] = []
    issues += check_blank_tables(result)
    issues += check_identities(result, split_other)
    issues += check_value_types(result)
    issues += check_table2(result)
    issues += check_regulations_plausibility(result, level)
    return issues


# ---------------------------------------------------------------------------
# across years


def agency_key(name: str | None) -> str | None:
    """A normalised agency name: NFKC, no whitespace; ``None`` when empty."""
    if not name:
        return None
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    return s or None


def _default_key(r: ExtractResult) -> str | None:
    return agency_key(r.agency)


def _chain_carried_over(prev: ExtractResult, cur: ExtractResult) -> list[Issue]:
    issues: list[Issue] = []
    for col in load().t3_cols:
        fwd, over = f"t3.carried_forward.{col}", f"t3.carried_over.{col}"
        s_prev, s_cur = _status(prev, fwd), _status(cur, over)
        if s_prev not in _CHECKABLE or s_cur not in _CHECKABLE:
            continue
        if s_prev == "blank" or s_cur == "blank":
            # blank against 0 or blank: consistent (the blank reads as 0);
            # blank against a non-zero count: the blank may be a missing total, cannot tell
            continue
        a, b = _value0(prev, fwd), _value0(cur, over)
        if _close(a, b):
            continue
        issues.append(
            Issue(
                rule="chain.carried_over",
                severity="warning",
                message=(
                    f"{cur.path} ({cur.year}): Table 3 二、上年结转 × {_col_name(col)} is {_fmt(b)} but "
                    f"{prev.path} ({prev.year}) printed 四、结转下年度继续办理 × {_col_name(col)} {_fmt(a)}"
                ),
                cells=[fwd, over],
                expected=_num(a),
                actual=_num(b),
                path=cur.path,
            )
        )
    return issues


def _chain_in_force(prev: ExtractResult, cur: ExtractResult) -> list[Issue]:
    issues: list[Issue] = []
    for row in ("regulations", "normative_documents"):
        before, after = f"t2.{row}.in_force", f"t2.{row}.in_force"
        issued, repealed = f"t2.{row}.issued", f"t2.{row}.repealed"
        if _status(prev, before) != "number" or _status(cur, after) != "number":
            continue
        if _status(cur, issued) not in _CHECKABLE or _status(cur, repealed) not in _CHECKABLE:
            continue
        a, i, r, b = _value0(prev, before), _value0(cur, issued), _value0(cur, repealed), _value0(cur, after)
        expected = a + i - r
        if _close(expected, b):
            continue
        issues.append(
            Issue(
                rule="chain.in_force",
                severity="info",
                message=(
                    f"{cur.path} ({cur.year}): Table 2 {_name(after)} is {_fmt(b)} but "
                    f"{prev.path} ({prev.year}) printed {_fmt(a)}, and {_fmt(a)} + issued {_fmt(i)} "
                    f"− repealed {_fmt(r)} = {_fmt(expected)}"
                ),
                cells=[before, issued, repealed, after],
                expected=_num(expected),
                actual=_num(b),
                path=cur.path,
            )
        )
    return issues


def _chain_items(prev: ExtractResult, cur: ExtractResult) -> list[Issue]:
    issues: list[Issue] = []
    rows = sorted({k.split(".")[1] for k in load().keys if k.endswith(".items_prev_year")})
    for row in rows:
        p_prev, change, p_cur = f"t2.{row}.items_prev_year", f"t2.{row}.items_change", f"t2.{row}.items_prev_year"
        if _status(prev, p_prev) != "number" or _status(cur, p_cur) != "number":
            continue
        if _status(prev, change) not in _CHECKABLE:
            continue
        a, d, b = _value0(prev, p_prev), _value0(prev, change), _value0(cur, p_cur)
        expected = a + d
        if _close(expected, b):
            continue
        issues.append(
            Issue(
                rule="chain.items",
                severity="info",
                message=(
                    f"{cur.path} ({cur.year}): Table 2 {_name(p_cur)} is {_fmt(b)} but "
                    f"{prev.path} ({prev.year}) printed {_fmt(a)} with 本年增/减 {_fmt(d)}, "
                    f"which gives {_fmt(expected)}"
                ),
                cells=[p_prev, change, p_cur],
                expected=_num(expected),
                actual=_num(b),
                path=cur.path,
            )
        )
    return issues


def check_chain(
    results: Iterable[ExtractResult],
    key: Callable[[ExtractResult], str | None] | None = None,
) -> list[Issue]:
    """Cross-year checks for the same agency in consecutive years.

    ``key`` groups the reports (default: the normalised ``result.agency``);
    reports whose key or year is missing are left out.  Every report of year
    Y−1 is compared with every report of year Y in the same group (so two
    renderings of one report are both compared).  Issues carry the later
    report's path; messages name both files and years.
    """
    keyf = key or _default_key
    groups: dict[str, dict[int, list[ExtractResult]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        k = keyf(r)
        if k is None or k == "" or r.year is None:
            continue
        groups[k][int(r.year)].append(r)
    issues: list[Issue] = []
    for k in sorted(groups):
        years = groups[k]
        for y in sorted(years):
            for cur in years[y]:
                for prev in years.get(y - 1, []):
                    issues += _chain_carried_over(prev, cur)
                    issues += _chain_in_force(prev, cur)
                    issues += _chain_items(prev, cur)
    return issues


# ---------------------------------------------------------------------------
# reporting


def summarize(issues: Iterable[Issue]) -> dict:
    """Counts: ``{"total": n, "by_severity": {error, warning, info}, "by_rule": {rule: n}}``."""
    items = list(issues)
    sev = Counter(i.severity for i in items)
    rules = Counter(i.rule for i in items)
    return {
        "total": len(items),
        "by_severity": {s: sev.get(s, 0) for s in SEVERITY_ORDER}
        | {s: n for s, n in sev.items() if s not in SEVERITY_ORDER},
        "by_rule": dict(sorted(rules.items())),
    }


def sort_issues(issues: Iterable[Issue]) -> list[Issue]:
    """Errors first, then warnings, then info; within a severity by path and rule, stable."""
    return sorted(issues, key=lambda i: (SEVERITY_ORDER.get(i.severity, len(SEVERITY_ORDER)), i.path, i.rule))
