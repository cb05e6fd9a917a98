"""Tests for helpers.read.encoding: decode_bytes and looks_like_mojibake."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import charset_normalizer
from helpers.read import encoding as enc_mod
from helpers.read.encoding import decode_bytes, looks_like_mojibake, normalize_encoding_name

REPORT = "平潭综合实验区2024年度政府信息公开工作年度报告：本年新收政府信息公开申请数量218件。"


@pytest.fixture
def no_guesser(monkeypatch):
    """Fail the test if the slow statistical guesser is consulted."""

    def boom(*args, **kwargs):  # pragma: no cover - only runs on failure
        raise AssertionError("charset_normalizer must not be called here")

    monkeypatch.setattr(charset_normalizer, "from_bytes", boom)


# --- order of attempts ---------------------------------------------------------


def test_plain_utf8(no_guesser):
    assert decode_bytes(REPORT.encode("utf-8"), "x.html") == (REPORT, "utf-8")


def test_ascii_is_utf8(no_guesser):
    assert decode_bytes(b"<p>0</p>", "x.html") == ("<p>0</p>", "utf-8")


def test_empty(no_guesser):
    assert decode_bytes(b"", "x.txt") == ("", "utf-8")


def test_utf8_bom_is_stripped(no_guesser):
    text, enc = decode_bytes(codecs.BOM_UTF8 + REPORT.encode("utf-8"), "x.txt")
    assert (text, enc) == (REPORT, "utf-8-sig")


@pytest.mark.parametrize(
    "bom, codec, name",
    [
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
    ],
)
def test_utf16_bom(no_guesser, bom, codec, name):
    text, enc = decode_bytes(bom + REPORT.encode(codec), "x.txt")
    assert (text, enc) == (REPORT, name)


def test_utf16_le_bom_followed_by_nul_is_not_utf32(no_guesser):
    # FF FE 00 00 starts a UTF-32 LE BOM, but here it is UTF-16 LE + U+0000 + text
    data = codecs.BOM_UTF16_LE + "\x00政府".encode("utf-16-le")
    assert decode_bytes(data, "x.txt") == ("\x00政府", "utf-16-le")


def test_utf8_wins_over_a_wrong_declaration(no_guesser):
    assert decode_bytes(REPORT.encode("utf-8"), "x.html", declared="gbk") == (REPORT, "utf-8")


def test_gbk_with_declaration(no_guesser):
    assert decode_bytes(REPORT.encode("gbk"), "x.html", declared="GBK") == (REPORT, "gbk")


def test_gb2312_declared_but_gbk_only_characters_fall_to_gb18030(no_guesser):
    text = "镕" + REPORT  # 镕 is in GBK but not in GB2312
    data = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gb2312")
    assert decode_bytes(data, "x.html", declared="gb2312") == (text, "gb18030")


def test_gbk_without_declaration_is_gb18030(no_guesser):
    assert decode_bytes(REPORT.encode("gbk"), "x.txt") == (REPORT, "gb18030")


def test_gb18030_four_byte_characters(no_guesser):
    text = REPORT + "㐀𠀀"  # CJK Extension A and B: four-byte sequences in GB18030
    data = text.encode("gb18030")
    assert decode_bytes(data, "x.html", declared="gb18030") == (text, "gb18030")
    assert decode_bytes(data, "x.txt") == (text, "gb18030")


def test_unknown_declaration_is_ignored(no_guesser):
    assert decode_bytes(REPORT.encode("gbk"), "x.html", declared="no-such-charset") == (
        REPORT,
        "gb18030",
    )


@pytest.mark.parametrize("declared", ["unicode_escape", "raw-unicode-escape", "idna", "utf-7", "base64", "rot13"])
def test_codecs_that_are_no_web_charset_are_not_trusted(no_guesser, declared):
    data = REPORT.encode("gbk") + b"\\u0041"
    assert decode_bytes(data, "x.html", declared=declared) == (REPORT + "\\u0041", "gb18030")


def test_latin1_declared_on_a_gbk_page_prefers_gb18030(no_guesser):
    assert decode_bytes(REPORT.encode("gbk"), "x.html", declared="iso-8859-1") == (
        REPORT,
        "gb18030",
    )


def test_latin1_declared_on_a_latin1_page():
    text = "Caf\u00e9 cr\u00e8me"
    assert decode_bytes(text.encode("latin-1"), "x.html", declared="iso-8859-1") == (
        text,
        "iso8859-1",
    )


def test_big5_declared():
    text = "政府資訊公開年度報告"
    assert decode_bytes(text.encode("big5"), "x.html", declared="big5") == (text, "big5")


def test_undecodable_bytes_never_raise():
    data = b"\x81\x30\xff\xfe\x80" * 50 + "政府".encode("utf-8")
    text, enc = decode_bytes(data, "x.txt")
    assert isinstance(text, str) and isinstance(enc, str) and enc


def test_bytearray_and_memoryview(no_guesser):
    raw = REPORT.encode("utf-8")
    assert decode_bytes(bytearray(raw), "x")[0] == REPORT
    assert decode_bytes(memoryview(raw), "x")[0] == REPORT


def test_normalize_encoding_name():
    assert normalize_encoding_name("GB2312") == "gb2312"
    assert normalize_encoding_name(" 'UTF-8' ") == "utf-8"
    assert normalize_encoding_name("x-gbk") == "gbk"
    assert normalize_encoding_name("") is None
    assert normalize_encoding_name(None) is None
    assert normalize_encoding_name("bogus-42") is None


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_property_utf8_round_trip(text):
    data = text.encode("utf-8", errors="surrogatepass")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return  # lone surrogates are not UTF-8
    decoded, enc = decode_bytes(data, "x")
    if data.startswith(codecs.BOM_UTF8):
        assert (decoded, enc) == (text[1:], "utf-8-sig")
    elif enc == "utf-8":
        assert decoded == text
    else:  # a UTF-16/32 BOM-like prefix can only come from control characters
        assert data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or data[:4] in (
            codecs.BOM_UTF32_LE,
            codecs.BOM_UTF32_BE,
        )


_HANZI = st.text(alphabet=st.sampled_from(list(REPORT + "年度统计申请办理结果不予公开行政复议诉讼")), min_size=1)


@settings(max_examples=200, deadline=None)
@given(_HANZI)
def test_property_gb18030_round_trip(text):
    data = text.encode("gb18030")
    decoded, enc = decode_bytes(data, "x")
    if enc == "utf-8":
        # Short GBK byte strings can also be valid UTF-8 ("实" = CA B5 = "ʵ");
        # UTF-8 is tried first by design.
        assert decoded == data.decode("utf-8")
    else:
        assert (decoded, enc) == (text, "gb18030")


def test_short_gbk_that_is_also_valid_utf8_reads_as_utf8():
    assert decode_bytes("实".encode("gbk"), "x") == ("\u02b5", "utf-8")


# --- mojibake ----------------------------------------------------------------


def _damage(text: str) -> str:
    """What a tool shows when it reads UTF-8 bytes as GBK/GB18030."""
    return text.encode("utf-8").decode("gb18030", errors="replace")


@pytest.mark.parametrize("fragment", ["鏀垮簻", "淇℃伅", "鍏紑", "鏀垮簻淇℃伅鍏紑", "骞村害鎶ュ憡"])
def test_known_damaged_forms(fragment):
    assert looks_like_mojibake(fragment)


def test_damaged_report_sentence():
    assert looks_like_mojibake(_damage(REPORT))


def test_damage_at_odd_byte_offset_found_by_round_trip():
    # A leading three-byte character shifts the byte pairing, so the usual
    # damaged forms do not occur; the round trip through GB18030 still
    # restores the words.
    damaged = _damage("年" + "政府信息公开")
    assert not enc_mod._DAMAGED_RE.search(damaged)
    assert looks_like_mojibake(damaged)


def test_damage_with_dropped_private_use_characters():
    # Some tools drop the private-use characters GB18030 maps ill-formed pairs to.
    damaged = "".join(ch for ch in _damage(REPORT) if not "\ue000" <= ch <= "\uf8ff")
    assert looks_like_mojibake(damaged)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain ascii text 123",
        REPORT,
        "政府信息公开工作年度报告",
        "本年新收政府信息公开申请数量 | 23 | 0 | 0 | 0 | 0 | 0 | 23",
        "平潭综合实驗區政府資訊公開",  # traditional characters are not damage
    ],
)
def test_clean_text_is_not_mojibake(text):
    assert not looks_like_mojibake(text)


@settings(max_examples=300, deadline=None)
@given(_HANZI)
def test_property_clean_report_words_are_not_mojibake(text):
    assert not looks_like_mojibake(text)


@pytest.mark.parametrize("word", enc_mod._KEYWORDS)
def test_each_keyword_damaged_at_the_start_is_detected(word):
    assert looks_like_mojibake(_damage(word + "。"))
    assert looks_like_mojibake("说明：" + _damage(word + "。"))


def test_damage_is_lossy_but_long_texts_are_still_detected():
    # At an odd byte offset the damage itself loses bytes (公开 ends in 0x80,
    # an invalid GBK lead byte), so a single short word can be unrecoverable;
    # a real paragraph repeats the words and is recognised anyway.
    assert not looks_like_mojibake(_damage("，公开。"))
    assert looks_like_mojibake(_damage("，" + REPORT * 3))


def test_real_corpus_texts_are_not_mojibake(shared_dir):
    originals = shared_dir / "corpus" / "originals"
    paths = sorted(originals.glob("*.txt")) + sorted((shared_dir / "corpus" / "transcribed").glob("*.txt"))
    assert paths, f"no text files under {originals}"
    for path in paths:
        text, _ = decode_bytes(path.read_bytes(), str(path))
        assert not looks_like_mojibake(text), path.name
        assert looks_like_mojibake(_damage(text[:3000])), path.name
