"""Label normalisation: one function decides when two printed labels are the same.

Printed labels differ in width (（一） vs (一)), spacing (``总 计``), line
breaks inside cells, quote and dash styles, and enumerator punctuation
(``1.`` ``1、`` ``1．`` ``①``).  :func:`norm_label` folds all of these so that label
lookups are plain dictionary hits.  Traditional characters and injected pinyin
are handled by :func:`fold_variants`, used only as a second chance because it
is slower.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Characters removed outright: every kind of whitespace and quotation mark.
_DROP = dict.fromkeys(
    map(
        ord,
        " \t\r\n\f\v\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
        "\u2009\u200a\u200b\u200c\u200d\u2028\u2029\u202f\u205f\u3000\ufeff"
        "\"'“”‘’「」『』〝〞‟„`´",
    )
)
# Characters mapped to one representative (applied after NFKC).
_MAP = {
    ord("【"): "(",
    ord("】"): ")",
    ord("〔"): "(",
    ord("〕"): ")",
    ord("［"): "(",
    ord("］"): ")",
    ord("["): "(",
    ord("]"): ")",
    ord("﹙"): "(",
    ord("﹚"): ")",
    ord("〈"): "<",
    ord("〉"): ">",
    ord("—"): "-",
    ord("–"): "-",
    ord("－"): "-",
    ord("―"): "-",
    ord("‐"): "-",
    ord("‑"): "-",
    ord("、"): "、",
    ord("，"): ",",
    ord("；"): ";",
    ord("："): ":",
    ord("．"): ".",
    ord("。"): "。",
}
_TABLE = {**_DROP, **_MAP}
# Circled numbers used as enumerators (①属于国家秘密): NFKC would leave a bare digit.
CIRCLED = {0x2460 + i: f"{i + 1}." for i in range(20)}

# ``str.translate`` looks every character up in its table, which is slow for
# Chinese text; a regular expression finds the few characters to change at C
# speed, so the tables are applied only where they change something.
_CIRCLED_RE = re.compile("[\u2460-\u2473]")
_DROP_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _DROP) + "]+")
_MAP_RE = re.compile("[" + "".join(re.escape(chr(c)) for c, v in _MAP.items() if chr(c) != v) + "]")


def _map_char(m: re.Match[str]) -> str:
    return _MAP[ord(m.group())]


def unfold_circled(text: str) -> str:
    """``text.translate(CIRCLED)``: ``①`` → ``1.``."""
    return text.translate(CIRCLED) if _CIRCLED_RE.search(text) else text


def fold_table(text: str) -> str:
    """``text.translate(_TABLE)``: drop whitespace and quotes, map brackets,
    dashes and punctuation to their representative."""
    s = _DROP_RE.sub("", text)
    return _MAP_RE.sub(_map_char, s) if _MAP_RE.search(s) else s

# "1、" "1)" "(1)" → "1." ; a Chinese numeral enumerator keeps its form.
_ENUM_DIGIT = re.compile(r"^\(?(\d{1,2})(?:[.、)]|\))")
_ENUM_LEAD = re.compile(r"^(?:\([一二三四五六七八九十]{1,3}\)|[一二三四五六七八九十]{1,3}、|\(?\d{1,2}[.、)])+")


# Characters NFKC leaves as they are and never composes with a neighbour: no
# decomposition, combining class 0, in no canonical decomposition of two
# characters.  Normalisation never reaches across one of them, so text can be
# normalised piece by piece between them: in Chinese prose only the punctuation
# (，（）：) is left to normalise.  (tests/test_normalize.py checks the class.)
STABLE = "\u4e00-\u9fff0-9 \n、。《》“”"
_UNSTABLE_RUN = re.compile(f"[^{STABLE}]+")
_SHORT = 24  # shorter text is normalised whole: the pieces would cost more


def _nfkc_run(m: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", m.group())


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, faster on long Chinese text.

    >>> nfkc("２０２３年，本机关（区政府办公室）收到申请１２件。") == "2023年,本机关(区政府办公室)收到申请12件。"
    True
    """
    if len(text) < _SHORT or text.isascii():
        return unicodedata.normalize("NFKC", text)
    return _UNSTABLE_RUN.sub(_nfkc_run, text)


@lru_cache(maxsize=65536)
def norm_label(text: str) -> str:
    """Fold a printed label to its comparison form.

    >>> norm_label("（二）部分公开（区分处理的，只计这一情 形，不计其他情形）")
    '(二)部分公开(区分处理的,只计这一情形,不计其他情形)'
    >>> norm_label("1、属于国家秘密") == norm_label("1．属于国家秘密") == "1.属于国家秘密"
    True
    >>> norm_label("危及“三安全一稳定”")
    '危及三安全一稳定'
    """
    s = fold_table(nfkc(unfold_circled(text)))
    m = _ENUM_DIGIT.match(s)
    if m:
        s = f"{m.group(1)}." + s[m.end():]
    return s.rstrip(":")


@lru_cache(maxsize=65536)
def strip_enumerator(norm: str) -> str:
    """Remove leading enumerators from a normalised label: ``(三)1.属于…`` → ``属于…``."""
    return _ENUM_LEAD.sub("", norm)


def norm_text(text: str) -> str:
    """Fold running text for scanning: like :func:`norm_label` but keeps nothing
    positional (used on whole lines whose labels and digits are run together)."""
    return fold_table(nfkc(text))


# Pinyin injected after characters by some mirror sites: 區(qū), 數(shù) (or in
# full-width brackets: 區（qū）).
_PINYIN = re.compile(r"[(（][a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹ]{1,7}[)）]")


def strip_pinyin(text: str) -> str:
    """``text`` without pinyin injected after its characters: ``區(qū)`` → ``區``."""
    return _PINYIN.sub("", text) if "(" in text or "（" in text else text

_T2S: dict[int, str] | None = None


def _t2s_table() -> dict[int, str]:
    """Traditional → Simplified per character, from OpenCC's character table
    (shipped by the opencc package); phrase-level conversion is not needed to
    recognise table labels, and a translate table runs at C speed."""
    global _T2S
    if _T2S is None:
        table: dict[int, str] = {}
        try:
            from importlib import resources

            text = resources.files("opencc").joinpath("dictionary", "TSCharacters.txt").read_text(encoding="utf-8")
            for line in text.splitlines():
                trad, _, simp = line.partition("\t")
                if len(trad) == 1 and simp:
                    table[ord(trad)] = simp.split()[0]
        except Exception:  # pragma: no cover - package data missing
            pass
        _T2S = table
    return _T2S


@lru_cache(maxsize=65536)
def fold_variants(text: str) -> str:
    """Second-chance folding: drop injected pinyin and convert Traditional to
    Simplified characters.  Used only for text that did not match as it stood.

    >>> fold_variants("本年新收政府信息公開申請數量")
    '本年新收政府信息公开申请数量'
    >>> fold_variants("區(qū)")
    '区'
    """
    return strip_pinyin(text).translate(_t2s_table())
