"""One agency-year, one record: report identity, the canonical file, cross-source checks.

The same report often reaches ``data/raw`` more than once: as the HTML page
and as its PDF attachment, from a mirror, downloaded twice under two names, or
transcribed.  Counting every file would count that agency-year several times.
This module decides which files are the same report, which one of them is
used, and whether the others print the same numbers.

Identity rule
-------------
A report's identity is ``<agency>|<year>`` (``|<part>`` appended once files
holding several reports are split), where ``<agency>`` is the normalised
agency name (:func:`agency_core`):

1. the name is cleaned (NFKC, whitespace and quotes removed, full-width
   brackets folded) and looked up in ``data/agency_aliases.csv`` (known short
   and full names of one organ, e.g. 上海市科委 → 上海市科学技术委员会);
2. it is split into place and organ, ``[province][city][unit]organ``, with the
   place suffixes of ``data/agency_rules.csv`` (``province_suffix`` 省 自治区,
   ``city_suffix`` 市 州 盟 地区, ``unit_suffix`` 区 县 旗 市 …; a place name
   has at least two characters before its suffix);
3. the organ is expanded by the ``organ`` rules (exact match on the whole
   organ: 发改局 → 发展和改革局, 政府 → 人民政府, 政府办 → 人民政府办公室; a
   place named alone reports as its 人民政府).  人民政府 is kept, so the
   government (…人民政府) and its office (…人民政府办公厅 / …办公室) are
   different organs and never the same identity; the alias table is applied
   once more to the expanded name;
4. leading administrative prefixes are dropped when a smaller unit follows:
   the province when a city or county-level unit follows, the city when a
   county-level unit follows (淮安市洪泽区人民政府 and 洪泽区人民政府 are one
   agency; 上海市人民政府办公厅 keeps 上海市 because no unit follows).  A unit
   whose name is generic (``generic_unit``: 经济技术开发区, 高新区, 城区 …,
   names many cities share) never lets its city prefix drop.

County-level names repeat across the country (鼓楼区 in several cities).  So
when grouping a corpus (:func:`resolve`), if the files of one normalised name
carry *different* dropped prefixes (南京市鼓楼区 and 福州市鼓楼区), the prefix
is kept for them and they stay apart; a file naming the unit with no prefix
then stays on its own.  A report with no agency (not given in sources.csv,
not detected) or no year has an identity of its own (``?|<file>``) and is
never merged with another.

Canonical rule
--------------
Among the files of one identity, :func:`choose_canonical` takes the first in
this order:

1. a file from which tables were read (status ``ok`` or ``partial``) before
   one from which nothing usable was read (``failed``, ``unsupported``) — an
   unreadable original must not push a complete transcription aside;
2. kind ``original`` before ``transcription``;
3. the more complete extraction: status ``ok`` before ``partial``, then more
   cells read as numbers;
4. fewer extraction errors;
5. the file name (report id), in code-point order, as the final tie-break.

Only the canonical file enters the wide tables (``t2``, ``t3``, ``t4``) and the
metrics; ``cells`` keeps every file.

Comparison rule
---------------
Each other file of an identity is compared with the canonical one, cell by
cell (:func:`compare_cells`).  Cell statuses ``number``, ``blank`` and
``na_marker`` are *set*; ``text`` (digits that could not be split, a word) and
``absent`` (row not printed) are *unset*.

* a key unset in both files is skipped; a key set in one file and unset in the
  other is *not compared* (counted);
* number vs number: equal values agree, different values disagree
  (``source.disagreement``, error);
* number vs blank or na marker: a non-zero number disagrees; a 0 against a
  blank or a dash is a difference of presentation (``source.presentation``,
  info, one issue per pair of files listing the cells) — a blank is never read
  as 0 in the printed layer, but neither can it be called a contradiction of
  a printed 0;
* blank or na marker vs blank or na marker: agree.

A duplicate ``agrees`` when every key set in either file was compared and none
disagrees (differences of presentation allowed, and recorded), ``disagrees``
when at least one cell disagrees, and is ``not_compared`` when nothing could
be compared or some keys could not be (partial overlap).  The canonical file
is ``disputed`` when any duplicate disagrees, else ``confirmed`` when at least
one agrees, ``single`` when it is alone, and ``not_compared`` otherwise.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Iterable, Mapping, Sequence

from .result import Issue

SET_STATUSES = ("number", "blank", "na_marker")
USABLE = ("ok", "partial")
STATUS_RANK = {"ok": 0, "partial": 1, "failed": 2, "unsupported": 3}
KIND_RANK = {"original": 0, "transcription": 1}
UNKNOWN = "?"


# ---------------------------------------------------------------------------
# agency names


def _data_rows(name: str) -> list[dict[str, str]]:
    with resources.files("helpers").joinpath("data", name).open(encoding="utf-8", newline="") as f:
        return [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(f)]


@dataclass(frozen=True, slots=True)
class _Rules:
    aliases: dict[str, str]
    organs: dict[str, str]
    generic_units: frozenset[str]
    pattern: re.Pattern[str]


def _alternation(suffixes: Iterable[str]) -> str:
    # longest first so that 自治区 is tried before 区
    return "|".join(re.escape(s) for s in sorted(set(suffixes), key=lambda s: (-len(s), s)))


@cache
def _rules() -> _Rules:
    aliases = {}
    for r in _data_rows("agency_aliases.csv"):
        aliases[_clean(r["alias"])] = _clean(r["name"])
    by_rule: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in _data_rows("agency_rules.csv"):
        by_rule[r["rule"]].append(r)
    organs = {_clean(r["value"]): _clean(r["replacement"]) for r in by_rule["organ"]}
    generic = frozenset(_clean(r["value"]) for r in by_rule["generic_unit"])
    han = r"[\u4e00-\u9fff]"
    prov = _alternation(r["value"] for r in by_rule["province_suffix"])
    city = _alternation(r["value"] for r in by_rule["city_suffix"])
    unit = _alternation(r["value"] for r in by_rule["unit_suffix"])
    pattern = re.compile(
        rf"^(?P<prov>{han}{{2,8}}?(?:{prov}))?(?P<city>{han}{{2,8}}?(?:{city}))?"
        rf"(?P<unit>{han}{{2,10}}?(?:{unit}))?(?P<organ>.*)$"
    )
    return _Rules(aliases, organs, generic, pattern)


_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "〔": "(", "〕": ")"})
_DROP = re.compile(r"[\s\"'“”‘’「」『』《》]+")


def _clean(name: str | None) -> str:
    if not name:
        return ""
    s = unicodedata.normalize("NFKC", name).translate(_BRACKETS)
    s = _DROP.sub("", s)
    s = s.strip("·-—_,，、:：;；.。")
    while s.startswith("(") and s.endswith(")"):  # a name wrapped in brackets
        s = s[1:-1]
    return s


@dataclass(frozen=True, slots=True)
class AgencyName:
    """An agency name split into its parts (after aliases and organ rules).

    ``full`` is the whole normalised name; ``core`` the name with the leading
    province/city dropped where a smaller unit follows; ``dropped`` the
    (province, city) that were dropped (empty strings when none).
    """

    full: str
    core: str
    province: str = ""
    city: str = ""
    unit: str = ""
    organ: str = ""
    dropped: tuple[str, str] = ("", "")


def _split(name: str) -> tuple[str, str, str, str]:
    m = _rules().pattern.match(name)
    if m is None:  # pragma: no cover - the pattern matches every string
        return "", "", "", name
    return m.group("prov") or "", m.group("city") or "", m.group("unit") or "", m.group("organ") or ""


def parse_agency(name: str | None) -> AgencyName | None:
    """Split and normalise an agency name (see the module documentation);
    ``None`` when the name is empty."""
    rules = _rules()
    s = _clean(name)
    if not s:
        return None
    s = rules.aliases.get(s, s)
    prov, city, unit, organ = _split(s)
    if prov or city or unit:
        organ = rules.organs.get(organ, organ)
    full = prov + city + unit + organ
    if full in rules.aliases:
        full = rules.aliases[full]
        prov, city, unit, organ = _split(full)
    # a generic unit (经济技术开发区 …) does not name a place by itself
    unit_is_place = bool(unit) and unit not in rules.generic_units
    dropped_prov = prov if prov and (city or unit_is_place) else ""
    dropped_city = city if city and unit_is_place else ""
    core = (prov if not dropped_prov else "") + (city if not dropped_city else "") + unit + organ
    return AgencyName(full, core, prov, city, unit, organ, (dropped_prov, dropped_city))


def normalize_agency(name: str | None) -> str | None:
    """The normalised agency name used in identities (prefixes dropped by the
    stated rule); ``None`` when the name is empty."""
    parsed = parse_agency(name)
    return parsed.core if parsed else None


def same_agency(a: str | None, b: str | None) -> bool:
    """Whether two agency names denote the same organ under the identity rule:
    the same normalised name, and no conflicting dropped prefix (南京市鼓楼区
    and 福州市鼓楼区 are not the same organ; 淮安市洪泽区 and 洪泽区 are)."""
    pa, pb = parse_agency(a), parse_agency(b)
    if pa is None or pb is None or pa.core != pb.core:
        return False
    return all(not x or not y or x == y for x, y in ((pa.province, pb.province), (pa.city, pb.city)))


def identity(agency: str | None, year: int | str | None, part: str | int | None = None, *, file: str | None = None) -> str:
    """The identity key of a report: ``<normalised agency>|<year>[|<part>]``.

    When the agency or the year is unknown the key is ``?|<file>`` (a key of
    its own, never shared); ``file`` must then be given.
    """
    core = normalize_agency(agency)
    y = str(year).strip() if year is not None else ""
    if not core or not re.fullmatch(r"\d{4}", y):
        if not file:
            raise ValueError("identity: agency or year unknown and no file given")
        return f"{UNKNOWN}|{file}"
    key = f"{core}|{y}"
    if part is not None and str(part) != "":
        key += f"|{part}"
    return key


# ---------------------------------------------------------------------------
# canonical record


@dataclass(slots=True)
class SourceRecord:
    """One file as seen by the grouping: provenance, extraction outcome, cells.

    ``cells`` maps codebook keys to objects with ``value``, ``status`` and
    ``printed`` (:class:`helpers.result.CellValue`).
    """

    report: str
    agency: str | None
    year: int | None
    kind: str = ""
    status: str = "ok"
    n_numbers: int = 0
    n_errors: int = 0
    part: str | None = None
    path: str = ""
    cells: Mapping[str, Any] = field(default_factory=dict)


def canonical_rank(r: SourceRecord) -> tuple:
    """The sort key of the canonical rule (smaller is preferred)."""
    return (
        0 if r.status in USABLE else 1,
        KIND_RANK.get(r.kind, len(KIND_RANK)),
        STATUS_RANK.get(r.status, len(STATUS_RANK)),
        -r.n_numbers,
        r.n_errors,
        r.report,
    )


def choose_canonical(records: Sequence[SourceRecord]) -> SourceRecord:
    """The canonical file among the files of one identity (see the module
    documentation for the rule)."""
    if not records:
        raise ValueError("choose_canonical: no records")
    return min(records, key=canonical_rank)


# ---------------------------------------------------------------------------
# comparison


@dataclass(slots=True)
class Comparison:
    """Cell-by-cell comparison of another file with the canonical one."""

    agreeing: list[str] = field(default_factory=list)
    disagreeing: list[str] = field(default_factory=list)
    presentation: list[str] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.disagreeing:
            return "disagrees"
        if self.not_compared or not (self.agreeing or self.presentation):
            return "not_compared"
        return "agrees"


def _status(cell: Any) -> str:
    return "absent" if cell is None else str(getattr(cell, "status", "absent"))


def compare_cells(canonical: Mapping[str, Any], other: Mapping[str, Any], keys: Iterable[str] | None = None) -> Comparison:
    """Compare two files' cells by the comparison rule (module documentation)."""
    out = Comparison()
    for key in keys if keys is not None else sorted(set(canonical) | set(other)):
        a, b = canonical.get(key), other.get(key)
        sa, sb = _status(a), _status(b)
        set_a, set_b = sa in SET_STATUSES, sb in SET_STATUSES
        if not set_a and not set_b:
            continue
        if not (set_a and set_b):
            out.not_compared.append(key)
        elif sa == "number" and sb == "number":
            (out.agreeing if float(a.value) == float(b.value) else out.disagreeing).append(key)
        elif sa == "number" or sb == "number":
            num = a if sa == "number" else b
            (out.presentation if float(num.value) == 0 else out.disagreeing).append(key)
        else:
            out.agreeing.append(key)
    return out


# ---------------------------------------------------------------------------
# a whole corpus


@dataclass(frozen=True, slots=True)
class Resolved:
    """What :func:`resolve` decided for one file (the new ``reports`` columns)."""

    identity: str
    canonical: bool
    duplicate_of: str
    n_sources: int
    agreement: str
    agency_known: bool
    agency_key: str  # normalised agency ("" when unknown), for per-agency checks


@dataclass(slots=True)
class Resolution:
    by_report: dict[str, Resolved]
    issues: list[Issue]

    @property
    def n_duplicates(self) -> int:
        return sum(not r.canonical for r in self.by_report.values())

    def canonical_reports(self) -> set[str]:
        return {k for k, r in self.by_report.items() if r.canonical}


def _label(key: str) -> str:
    try:
        from . import codebook

        k = codebook.load().keys.get(key)
        return k.label_zh if k is not None else ""
    except Exception:  # pragma: no cover - a codebook problem must not break grouping
        return ""


def _printed(cell: Any) -> str:
    if cell is None:
        return "(absent)"
    st = _status(cell)
    if st == "blank":
        return "(blank)"
    p = str(getattr(cell, "printed", "") or "")
    return p if p else ("(blank)" if st != "number" else str(cell.value))


def _agency_keys(records: Sequence[SourceRecord]) -> dict[str, str]:
    """Normalised agency per report, with the prefix-conflict refinement."""
    parsed = {r.report: parse_agency(r.agency) for r in records}
    provs: dict[str, set[str]] = defaultdict(set)
    cities: dict[str, set[str]] = defaultdict(set)
    for p in parsed.values():
        if p is None:
            continue
        if p.province:
            provs[p.core].add(p.province)
        if p.city:
            cities[p.core].add(p.city)
    out = {}
    for rid, p in parsed.items():
        if p is None:
            out[rid] = ""
            continue
        conflict = len(provs[p.core]) > 1 or len(cities[p.core]) > 1
        out[rid] = p.full if conflict and any(p.dropped) else p.core
    return out


def resolve(records: Sequence[SourceRecord]) -> Resolution:
    """Group files by identity, choose the canonical one of each group, compare
    the others with it and list the issues (``source.disagreement``,
    ``source.presentation``, ``source.duplicate``, ``metadata.agency_missing``)."""
    agency_of = _agency_keys(records)
    groups: dict[str, list[SourceRecord]] = defaultdict(list)
    key_of: dict[str, str] = {}
    for r in records:
        a = agency_of[r.report]
        y = str(r.year) if r.year is not None else ""
        if a and re.fullmatch(r"\d{4}", y):
            key = f"{a}|{y}" + (f"|{r.part}" if r.part not in (None, "") else "")
        else:
            key = f"{UNKNOWN}|{r.report}"
        key_of[r.report] = key
        groups[key].append(r)

    issues: list[Issue] = []
    by_report: dict[str, Resolved] = {}
    for r in records:
        if not agency_of[r.report]:
            issues.append(
                Issue(
                    "metadata.agency_missing",
                    "warning",
                    f"{r.report}: the reporting agency was not detected and is not given in sources.csv; "
                    f"the report is kept out of per-agency figures and never matched with another file "
                    f"until the agency column of its row in sources.csv is filled in (when adding a file: "
                    f"`python -m helpers add PATH --agency NAME --year N`)",
                    path=r.path or r.report,
                )
            )
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda r: r.report)
        canon = choose_canonical(members)
        verdicts: dict[str, str] = {}
        for other in members:
            if other is canon:
                continue
            cmp = compare_cells(canon.cells, other.cells)
            verdicts[other.report] = cmp.verdict
            where = other.path or other.report
            for k in cmp.disagreeing:
                a, b = canon.cells.get(k), other.cells.get(k)
                label = _label(k)
                va = float(a.value) if _status(a) == "number" else None
                vb = float(b.value) if _status(b) == "number" else None
                issues.append(
                    Issue(
                        "source.disagreement",
                        "error",
                        f"{other.report} and {canon.report} (canonical) are the same report ({key}) "
                        f"but print different values at {k}"
                        + (f" ({label})" if label else "")
                        + f": {other.report} prints {_printed(b)}, {canon.report} prints {_printed(a)}",
                        cells=[k],
                        expected=va,
                        actual=vb,
                        path=where,
                    )
                )
            if cmp.presentation:
                shown = ", ".join(cmp.presentation[:5]) + (" …" if len(cmp.presentation) > 5 else "")
                issues.append(
                    Issue(
                        "source.presentation",
                        "info",
                        f"{other.report} and {canon.report} (canonical) print {len(cmp.presentation)} cell(s) "
                        f"one as 0, the other blank or as a dash: {shown}",
                        cells=list(cmp.presentation),
                        path=where,
                    )
                )
            detail = (
                f"{len(cmp.agreeing)} cell(s) agree, {len(cmp.disagreeing)} disagree, "
                f"{len(cmp.presentation)} differ in presentation only, {len(cmp.not_compared)} not compared"
            )
            issues.append(
                Issue(
                    "source.duplicate",
                    "info",
                    f"{other.report} is set aside as a duplicate of {canon.report} ({key}): "
                    f"{cmp.verdict} ({detail})",
                    path=where,
                )
            )
        if len(members) == 1:
            canon_verdict = "single"
        elif "disagrees" in verdicts.values():
            canon_verdict = "disputed"
        elif "agrees" in verdicts.values():
            canon_verdict = "confirmed"
        else:
            canon_verdict = "not_compared"
        for m in members:
            is_canon = m is canon
            by_report[m.report] = Resolved(
                identity=key,
                canonical=is_canon,
                duplicate_of="" if is_canon else canon.report,
                n_sources=len(members),
                agreement=canon_verdict if is_canon else verdicts[m.report],
                agency_known=bool(agency_of[m.report]),
                agency_key=agency_of[m.report],
            )
    return Resolution(by_report, issues)


__all__ = [
    "AgencyName",
    "Comparison",
    "Resolution",
    "Resolved",
    "SourceRecord",
    "canonical_rank",
    "choose_canonical",
    "compare_cells",
    "identity",
    "normalize_agency",
    "parse_agency",
    "resolve",
    "same_agency",
]
