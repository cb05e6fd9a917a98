"""Turn the raw bytes of a report into text.

Chinese government pages and text dumps come as UTF-8, GBK/GB2312/GB18030,
occasionally UTF-16 with a byte-order mark, and now and then with a wrong
``<meta charset>``.  :func:`decode_bytes` tries, in order:

1. a byte-order mark (UTF-8, UTF-32, UTF-16; little and big endian);
2. strict UTF-8;
3. the declared charset (e.g. from an HTML ``<meta>``), if it decodes strictly;
4. strict GB18030 (a superset of GB2312 and GBK);
   then UTF-8 or GB18030 with replacement characters when only a few bytes
   are damaged (at least 50 decoded non-ASCII characters per bad one);
5. the best guess of ``charset_normalizer``;
6. UTF-8 with replacement characters.

Steps 1-4 cost one ``bytes.decode`` each; the slow statistical guesser is only
reached when none of them decodes cleanly.

:func:`looks_like_mojibake` detects the damage left by a third party that read
UTF-8 bytes as GBK (``政府信息公开`` showing up as ``鏀垮簻淇℃伅鍏紑``).
"""

from __future__ import annotations

import codecs
import logging
import re

log = logging.getLogger(__name__)

__all__ = ["decode_bytes", "looks_like_mojibake", "normalize_encoding_name", "MOJIBAKE_NOTE"]

MOJIBAKE_NOTE = "the text looks like UTF-8 read as GBK (mojibake)"
"""The reader note that marks damaged text; extraction turns it into a
``read.mojibake`` issue."""

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 LE one.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Declared charsets that cannot be right when the declaration itself was read
# as ASCII (WHATWG: a UTF-16 <meta> is treated as UTF-8), so they are skipped.
_WIDE = {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}

# Python codecs that are text encodings but no web charset: a page declaring
# one of them is not trusted.
_NOT_CHARSETS = {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "utf-7"}

# Single-byte code pages decode (nearly) any byte string "strictly", so a wrong
# declaration of one of them on a GBK page would silently produce mojibake.
_SINGLE_BYTE = {
    "iso8859-1",
    "iso8859-2",
    "iso8859-15",
    "cp1250",
    "cp1251",
    "cp1252",
    "koi8-r",
    "mac-roman",
    "ascii",
}


def normalize_encoding_name(name: str | None) -> str | None:
    """Python's canonical codec name for ``name``, or None when unknown/empty."""
    if not name:
        return None
    name = name.strip().strip("\"'").strip().lower()
    if not name:
        return None
    # Common web aliases Python does not know under that spelling.
    name = {"x-gbk": "gbk", "x-euc-cn": "gb2312", "unicode": "utf-16"}.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def _has_cjk(text: str, minimum: int = 2) -> bool:
    n = 0
    for ch in text:
        if "\u4e00" <= ch <= "\u9fff":
            n += 1
            if n >= minimum:
                return True
    return False


def decode_bytes(data: bytes, path: str, declared: str | None = None) -> tuple[str, str]:
    """Decode ``data`` and return ``(text, encoding)``.

    ``path`` only names the source in log messages.  ``declared`` is a charset
    announced by the file itself (HTML ``<meta>``, XML declaration); it is used
    only when the bytes are not valid UTF-8 and it decodes them without error.
    The returned name is a Python codec name (``utf-8``, ``utf-8-sig``,
    ``utf-16-le``, ``gb18030``, ``gbk`` ...).  A BOM is never part of the text.
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)

    # 1. byte-order marks
    for bom, enc in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            try:
                return body.decode(enc.replace("-sig", "")), enc
            except UnicodeDecodeError:
                if enc.startswith("utf-32"):
                    continue  # FF FE 00 00 may be a UTF-16 LE BOM followed by NUL
                log.debug("%s: %s BOM but undecodable bytes; decoding with replacement", path, enc)
                return body.decode(enc.replace("-sig", ""), errors="replace"), enc

    # 2. strict UTF-8 (plain ASCII lands here too)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass

    # 3. the declared charset
    enc = normalize_encoding_name(declared)
    if enc and enc not in _WIDE and enc not in _NOT_CHARSETS and enc != "utf-8":
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            text = None
        if text is not None:
            if enc in _SINGLE_BYTE:
                # A single-byte code page declared on a page that is really GBK:
                # prefer GB18030 when it decodes too and yields Chinese text.
                try:
                    alt = data.decode("gb18030")
                except UnicodeDecodeError:
                    alt = None
                if alt is not None and _has_cjk(alt):
                    log.debug("%s: declared %s but bytes read as GB18030", path, enc)
                    return alt, "gb18030"
            return text, enc

    # 4. GB18030 (covers GB2312 and GBK)
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass

    # 4b. UTF-8 or GB18030 damaged in a few places (a flipped or lost byte):
    # read with replacement characters rather than let the guesser pick an
    # unrelated code page for the whole file
    mostly = _mostly(data)
    if mostly is not None:
        log.debug("%s: a few undecodable bytes; read as %s with replacement", path, mostly[1])
        return mostly

    # 5. statistical guess
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
    except Exception:  # pragma: no cover - the guesser must never break reading
        best = None
    if best is not None and best.encoding:
        guessed = normalize_encoding_name(best.encoding) or best.encoding
        log.debug("%s: encoding guessed as %s", path, guessed)
        return str(best), guessed

    # 6. last resort
    log.debug("%s: undecodable bytes; UTF-8 with replacement", path)
    return data.decode("utf-8", errors="replace"), "utf-8"


_MOSTLY_RATIO = 50  # decoded non-ASCII characters per replacement character, at least


def _mostly(data: bytes) -> tuple[str, str] | None:
    """``(text, encoding)`` when the bytes are UTF-8 or GB18030 but for a few
    undecodable bytes: at least 50 non-ASCII characters decode for every one
    that does not.  Text in another encoding read this way breaks far more
    often (GBK read as UTF-8 fails on nearly every character)."""
    best = None
    for enc in ("utf-8", "gb18030"):
        text = data.decode(enc, errors="replace")
        bad = text.count("\ufffd")
        if not bad:
            continue
        good = len(text) - len(text.encode("ascii", errors="ignore")) - bad  # non-ASCII, decoded
        if good >= _MOSTLY_RATIO * bad and (best is None or bad < best[0]):
            best = (bad, text, enc)
    return (best[1], best[2]) if best else None


# --- UTF-8 read as GBK -------------------------------------------------------

# Words that occur in every report.  Mojibake is detected by undoing the
# damage (encode as GB18030, decode as UTF-8) and looking for them, and by
# their damaged forms directly (useful when the damage lost bytes, so the
# round trip no longer restores the word).
_KEYWORDS = (
    "政府",
    "信息",
    "公开",
    "申请",
    "年度",
    "报告",
    "工作",
    "行政",
    "办理",
    "数量",
    "情况",
    "复议",
    "诉讼",
    "主动",
)


def _damaged_forms(word: str) -> set[str]:
    """The GB18030 readings of ``word``'s UTF-8 bytes, starting on a character
    boundary, with and without the private-use characters some tools drop."""
    raw = word.encode("utf-8").decode("gb18030", errors="replace")
    raw = raw.replace("\ufffd", "")
    forms = {raw}
    no_pua = "".join(ch for ch in raw if not ("\ue000" <= ch <= "\uf8ff"))
    forms.add(no_pua)
    # only forms of at least two characters are specific enough
    return {f for f in forms if len(f) >= 2}


_DAMAGED: tuple[str, ...] = tuple(sorted({f for w in _KEYWORDS for f in _damaged_forms(w)}, key=lambda f: (-len(f), f)))
_DAMAGED_RE = re.compile("|".join(re.escape(f) for f in _DAMAGED))

_SCAN_LIMIT = 200_000  # characters searched for damaged forms
_ROUND_TRIP_LIMIT = 4_000  # characters re-encoded for the round-trip test


def looks_like_mojibake(text: str, *, round_trip_chars: int = _ROUND_TRIP_LIMIT) -> bool:
    """True when ``text`` looks like UTF-8 that was decoded as GBK/GB18030.

    Two signals, either suffices: a known damaged form of a common report word
    (``鏀垮簻`` = 政府, ``淇℃伅`` = 信息, ``鍏紑`` = 公开 ...) occurs in the
    text, or re-encoding the text as GB18030 and decoding it as UTF-8 produces
    a common report word that the text did not contain as often before.
    The damaged forms are searched in the first 200,000 characters, the round
    trip is tried on the first ``round_trip_chars`` (4,000 by default).
    """
    if not text:
        return False
    sample = text[:_SCAN_LIMIT]
    if sample.isascii():  # damaged text consists of CJK ideographs
        return False
    if _DAMAGED_RE.search(sample):
        return True
    head = sample[:round_trip_chars]
    repaired = head.encode("gb18030", errors="ignore").decode("utf-8", errors="ignore")
    for word in _KEYWORDS:
        n = repaired.count(word)
        if n and n > head.count(word):
            return True
    return False
