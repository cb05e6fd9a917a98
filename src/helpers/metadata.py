"""Report metadata read from the text: the reporting agency and the report year.

The report year is the year the report covers (its title, ``XX2021年政府信息公开
工作年度报告``, or its statistics period), not the year it was published.
"""

from __future__ import annotations

import re

from .document import Document, Paragraph
from .normalize import norm_text

_TITLE = re.compile(
    r"(?P<agency>[\u4e00-\u9fff（）()·]{2,40}?)?\s*(?P<year>(?:19|20)\d{2})\s*年(?:度)?\s*"
    r"(?P<agency2>[\u4e00-\u9fff（）()·]{0,40}?)\s*(?:政府信息公开|政务公开|信息公开)(?:工作)?\s*(?:年度)?\s*(?:报告|年报)"
)
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


def _clean_agency(s: str | None) -> str | None:
    if not s:
        return None
    s = _JUNK_PREFIX.sub("", s.strip(" #>\t"))
    s = re.sub(r"^(?:关于)?", "", s)
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
    for text in (compact, joined):
        for m in _TITLE.finditer(text):
            y = int(m.group("year"))
            if not 1990 <= y <= 2100:
                continue
            a = m.group("agency") or m.group("agency2")
            if a:
                a = a.split("\n")[-1]
            year = y
            agency = _clean_agency(a)
            break
        if year:
            break
    if year is None:
        m = _PERIOD.search(joined)
        if m:
            year = int(m.group(1))
    if year is None:
        m = _YEAR_OPEN.search(joined)
        if m:
            year = int(m.group(1))
    return year, agency
