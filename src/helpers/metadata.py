"""Report metadata read from the text: the reporting agency and the report year.

The report year is the year the report covers (its title, ``XX2021年政府信息公开
工作年度报告``, or its statistics period), not the year it was published.  The
agency is read from the title, else from the subject of the opening sentence
(``2023年，山东省人民政府办公厅以…``).
"""

from __future__ import annotations

import re

from .document import Document, Paragraph
from .normalize import norm_text

_TITLE = re.compile(
    r"(?P<agency>[\u4e00-\u9fff（）()·]{2,40}?)?\s*(?P<year>(?:19|20)\d{2})\s*年(?:度)?\s*"
    r"(?P<agency2>[\u4e00-\u9fff（）()·]{0,40}?)\s*(?:政府信息公开|政务公开|信息公开)(?:工作)?\s*(?:年度)?\s*(?:报告|年报)"
)
_TITLE_YEAR = re.compile(r"(?=(?:19|20)\d{2})")  # where the year of a _TITLE match can stand
_AGENCY_MAX = 40  # the longest agency group before the year in _TITLE


def _titles(text: str):
    """``_TITLE.finditer(text)``, with the pattern tried only where a match can
    begin: before a year, at most an agency's length and a run of whitespace
    earlier (trying it at every position of a long text costs much more)."""
    pos = 0
    for y in _TITLE_YEAR.finditer(text):
        q = y.start()
        if q < pos:
            continue  # inside the last match
        start = q
        while start > pos and text[start - 1].isspace():  # (``\s`` is ``str.isspace``)
            start -= 1
        for p in range(max(pos, start - _AGENCY_MAX), q + 1):
            m = _TITLE.match(text, p)
            if m:
                yield m
                pos = m.end()
                break


_PERIOD = re.compile(r"(?:统计期限|统计周期|统计时限|数据统计)[^。]{0,20}?((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
_YEAR_OPEN = re.compile(r"((?:19|20)\d{2})\s*年(?:度)?(?:以来)?[，,、]")
_JUNK_PREFIX = re.compile(r"^(?:标题|题目|当前位置|首页|正文)[:：]?")
_AGENCY_TAIL = re.compile(
    r"(人民政府办公厅|人民政府办公室|人民政府|办公厅|办公室|委员会|管委会|管理委员会|实验区|新区|开发区|"
    r"局|委|厅|办|署|院|中心|街道办事处|街道|镇|乡|区|县|市|省)$"
)


def _head_text(doc: Document, limit: int = 4000) -> str:
    parts: list[str] = []
    size = 0
    for b in doc.blocks:
        t = b.text if isinstance(b, Paragraph) else ""
        if not t:
            continue
        parts.append(t)
        size += len(t)
        if size > limit:
            break
    return "\n".join(parts)[:limit]


# page furniture and verbs that stand before the agency name in titles and
# opening sentences: "…政府信息公开年报平潭综合实验区", "现将信访局…", "特编制湛江市…"
_CUT_AFTER = re.compile(r"^.*(?:年报|首页|当前位置|专栏|栏目|信息公开目录|>|›|/|\||:)")
_LEAD_VERBS = re.compile(
    r"^(?:现将|特将|特编制|现编制|编制|根据|做好|现就|按照|依据|特此|兹将|打印|(?:现|特)?(?:向社会)?(?:公布|发布))+"
)


_TRAIL_VERBS = re.compile(r"(?:编制了?|发布了?|公布了?|形成了?|制作了?|的)$")


def _clean_agency(s: str | None) -> str | None:
    if not s:
        return None
    s = _JUNK_PREFIX.sub("", s.strip(" #>\t"))
    s = _CUT_AFTER.sub("", s)
    s = _LEAD_VERBS.sub("", s)
    s = _TRAIL_VERBS.sub("", s)
    s = s.strip("（）()· ")
    if len(s) < 2:
        return None
    return s


def report_year_and_agency(doc: Document) -> tuple[int | None, str | None]:
    head = _head_text(doc)
    compact = re.sub(r"[ \t\u3000]+", "", norm_text(head))
    # titles broken over lines: "2024 年上海市科委政府信息公开工作\n年度报告"
    joined = compact.replace("\n", "")
    year: int | None = None
    agency: str | None = None
    # every title-like match; the first one naming an agency wins, and a match
    # inside a notice reference ("…关于做好2022年政府信息公开工作年度报告…") names none
    candidates: list[tuple[int, str | None]] = []
    for text in (joined,):
        for m in _titles(text):
            y = int(m.group("year"))
            if not 1990 <= y <= 2100:
                continue
            a = m.group("agency") or m.group("agency2")
            if a:
                a = a.split("\n")[-1]
                if "关于" in a:
                    a = None
            candidates.append((y, _clean_agency(a)))
        if candidates:
            break
    if candidates:
        year = candidates[0][0]
        agency = next((a for y, a in candidates if a and y == year), None)
    if year is None:
        m = _PERIOD.search(joined)
        if m:
            year = int(m.group(1))
    if year is None:
        m = _YEAR_OPEN.search(joined)
        if m:
            year = int(m.group(1))
    if agency is None and year is not None:
        agency = _opening_agency(joined, year)
    return year, agency


# "2023年，山东省人民政府办公厅以…": a report whose title names no agency (or that
# has no title) names it as the subject of its opening sentence
_OPENING = re.compile(
    r"(?P<year>(?:19|20)\d{2})\s*年(?:度|以来)?[，,]\s*"
    r"(?P<agency>[\u4e00-\u9fff]{2,20}?(?:人民政府办公厅|人民政府办公室|人民政府|政府办公室|办公厅|"
    r"管理委员会|管委会|委员会|街道办事处))"
)


# words that make the text before a government tail a clause, not a name
# ("2022年，我局主动通过市人民政府…")
_NOT_A_NAME = re.compile(r"^(?:我|本|全|各|该|其)|通过|主动|坚持|认真|按照|围绕|深入|根据|依据|[以在和及对向与为将把]")


def _opening_agency(text: str, year: int) -> str | None:
    for m in _OPENING.finditer(text):
        if int(m.group("year")) == year and not _NOT_A_NAME.search(m.group("agency")):
            return _clean_agency(m.group("agency"))
    return None
