"""The one place that turns a printed cell into a value and a status.

Statuses:

``number``     a value was read (``251000元`` → 251000, ``减4`` → -4, ``－185`` → -185)
``blank``      nothing printed (empty, only spaces, ``&nbsp;``, ideographic spaces)
``na_marker``  a dash or slash printed for "not applicable" (``/``, ``-``, ``—``, ``无``)
``text``       something else (a word, a note); the value stays ``None``

A blank is never turned into 0 here.  Amounts printed in 万元 are converted to
元 only when asked (:func:`parse_amount`), since the codebook fixes the unit
of each cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .normalize import nfkc

NA_MARKERS = frozenset({"/", "-", "--", "---", "—", "——", "–", "－", "／", "\\", "无", "/ ", "×", "*", "NA", "N/A", "n/a"})

_SPACES = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
# sign or 减/增 word, digits with optional thousands separators and decimals, optional unit
_NUMBER = re.compile(
    r"""^(?P<sign>[-+]|减少?|增加?)?
        (?P<int>\d{1,3}(?:,\d{3})+|\d+)
        (?P<frac>\.\d+)?
        (?P<unit>万元|亿元|元|件|个|项|条|次|%)?$""",
    re.VERBOSE,
)
_UNIT_FACTOR = {"元": 1, "万元": 10_000, "亿元": 100_000_000}
# Longer digit runs are no cell value (a run of a whole row's cells, as split
# by helpers.splitting, has at most 80 digits); they read as text, which also
# keeps values finite and within Python's int-conversion limit.
MAX_DIGITS = 80


@dataclass(frozen=True, slots=True)
class Parsed:
    value: float | int | None
    status: str  # number | blank | na_marker | text
    unit: str | None = None


BLANK = Parsed(None, "blank")
NA = Parsed(None, "na_marker")


_DIGIT_GAP = re.compile(r"\d[\s\u00a0\u3000]+\d")


def _fold(text: str) -> str | None:
    """NFKC and drop spaces; ``None`` when spaces separate digits (several numbers)."""
    s = nfkc(text).strip()
    if _DIGIT_GAP.search(s):
        return None
    return _SPACES.sub("", s)


@lru_cache(maxsize=65536)
def parse_cell(text: str | None) -> Parsed:
    """Read one printed cell.

    >>> parse_cell("１２３")
    Parsed(value=123, status='number', unit=None)
    >>> parse_cell(" 1,234 ").value, parse_cell("减4").value, parse_cell("-185").value
    (1234, -4, -185)
    >>> parse_cell("7730.28").value, parse_cell("251000元").unit
    (7730.28, '元')
    >>> parse_cell("\u3000").status, parse_cell("—").status, parse_cell("暂无数据").status
    ('blank', 'na_marker', 'text')
    """
    if text is None:
        return BLANK
    s = _fold(text)
    if s is None:
        return Parsed(None, "text")
    if not s:
        return BLANK
    if s in NA_MARKERS or (len(s) <= 3 and set(s) <= set("/-—–－／")):
        return NA
    m = _NUMBER.match(s)
    if not m:
        return Parsed(None, "text")
    digits = m.group("int").replace(",", "")
    if len(digits) > MAX_DIGITS:
        return Parsed(None, "text")
    frac = m.group("frac")
    value: float | int = float(digits + frac) if frac else int(digits)
    sign = m.group("sign")
    if sign and (sign == "-" or sign.startswith("减")):
        value = -value
    unit = m.group("unit")
    if unit in ("件", "个", "项", "条", "次"):
        unit = None  # count words carry no scale
    return Parsed(value, "number", unit)


def is_numeric_token(text: str) -> bool:
    """True when the cell reads as a number, a blank or an N/A marker."""
    return parse_cell(text).status != "text"


def to_yuan(p: Parsed, default_unit: str | None = None) -> float | int | None:
    """Convert an amount to 元 using its printed unit (or ``default_unit``).

    Returns ``None`` when the unit cannot be known.
    """
    if p.value is None:
        return None
    unit = p.unit or default_unit
    if unit not in _UNIT_FACTOR:
        return None
    v = p.value * _UNIT_FACTOR[unit]
    if isinstance(v, float):
        v = round(v, 6)
        if v.is_integer() and p.unit is not None and "." not in str(p.value):
            v = int(v)
    return v


def to_wan_yuan(p: Parsed) -> float | int | None:
    """Amounts whose codebook unit is 万元: a bare number is taken as printed;
    a number printed in 元 is converted."""
    if p.value is None:
        return None
    if p.unit in (None, "万元"):
        return p.value
    if p.unit not in _UNIT_FACTOR:  # e.g. a percentage: no amount
        return None
    return round(p.value * _UNIT_FACTOR[p.unit] / 10_000, 6)
