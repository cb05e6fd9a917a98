"""parse_cell: the one place where a printed cell becomes a value and a status.

The cases come from template.md ("Values" under deviations seen in the wild):
full-width digits, thousands separators, fee amounts with up to 6 decimals,
units printed in the cell, signed 本年增/减 values (``-185``, ``减4``), N/A
markers, and blanks that must never turn into 0.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.numbers import is_numeric_token, parse_cell, to_wan_yuan, to_yuan

FULLWIDTH = str.maketrans("0123456789,.-", "０１２３４５６７８９，．－")


def fullwidth(s: str) -> str:
    return s.translate(FULLWIDTH)


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "printed, value",
    [
        ("0", 0),
        ("7", 7),
        ("2293", 2293),
        ("  0", 0),  # padded with spaces (template.md)
        ("0  ", 0),
        ("\u3000 12\u00a0", 12),
        ("\n42\n", 42),
        ("１２３", 123),
        ("０", 0),
        ("６９３", 693),
        ("1,234", 1234),
        ("1,234,567", 1234567),
        ("１，２３４", 1234),
        ("517645", 517645),
    ],
)
def test_integers(printed, value):
    p = parse_cell(printed)
    assert p.status == "number"
    assert p.value == value
    assert isinstance(p.value, int)
    assert p.unit is None


@pytest.mark.parametrize(
    "printed, value",
    [
        ("7730.28", 7730.28),
        ("9116.36", 9116.36),
        ("24252.311082", 24252.311082),  # 6 decimals (平潭 2021 fee)
        ("190.457379", 190.457379),
        ("0.000001", 0.000001),
        ("4068.208", 4068.208),
        ("52.15", 52.15),
        ("1,234.5", 1234.5),
        ("２４２５２．３１１０８２", 24252.311082),
    ],
)
def test_decimals(printed, value):
    p = parse_cell(printed)
    assert p.status == "number"
    assert isinstance(p.value, float)
    assert p.value == value


@pytest.mark.parametrize(
    "printed, value, unit",
    [
        ("251000元", 251000, "元"),
        ("80618元", 80618, "元"),
        ("5394432.52元", 5394432.52, "元"),
        ("52.15万元", 52.15, "万元"),
        ("0元", 0, "元"),
        ("380 元", 380, "元"),
        ("１２万元", 12, "万元"),
    ],
)
def test_units_are_kept(printed, value, unit):
    p = parse_cell(printed)
    assert p.status == "number"
    assert p.value == value
    assert p.unit == unit


@pytest.mark.parametrize(
    "printed, value",
    [
        ("-185", -185),
        ("-1", -1),
        ("－185", -185),  # full-width minus
        ("减4", -4),
        ("减 4", -4),
        ("减少4", -4),
        ("+3", 3),
        ("增3", 3),
        ("0", 0),
    ],
)
def test_signed_values(printed, value):
    p = parse_cell(printed)
    assert p.status == "number"
    assert p.value == value


def test_count_words_carry_no_unit():
    p = parse_cell("3件")
    assert (p.value, p.status, p.unit) == (3, "number", None)


# --------------------------------------------------------------------------- not numbers


@pytest.mark.parametrize("printed", ["/", "-", "—", "——", "／", "－", "--", "–"])
def test_na_markers(printed):
    p = parse_cell(printed)
    assert p.status == "na_marker"
    assert p.value is None


@pytest.mark.parametrize(
    "printed",
    [None, "", " ", "   ", "\t", "\u3000", "\u3000\u3000", "\u00a0", "\u00a0 \u3000", "\n", " \r\n "],
)
def test_blanks_are_never_zero(printed):
    p = parse_cell(printed)
    assert p.status == "blank"
    assert p.value is None
    assert p.value != 0


@pytest.mark.parametrize("printed", ["暂无数据", "无此项", "见附件", "abc", "12,34", "1.2.3", "二十"])
def test_text(printed):
    p = parse_cell(printed)
    assert p.status == "text"
    assert p.value is None


@pytest.mark.parametrize("printed", ["0 0 0", "1 2", "21 0 0 0 0 0 21", "0\u30000", "0\u00a00", "1 234"])
def test_space_separated_digits_are_not_one_number(printed):
    p = parse_cell(printed)
    assert p.status != "number"
    assert p.value is None


def test_is_numeric_token():
    assert is_numeric_token("12")
    assert is_numeric_token("/")
    assert is_numeric_token("")
    assert not is_numeric_token("暂无")
    assert not is_numeric_token("0 0 0")


# --------------------------------------------------------------------------- unit conversions


def test_to_yuan():
    assert to_yuan(parse_cell("251000元")) == 251000
    assert to_yuan(parse_cell("5394432.52元")) == pytest.approx(5394432.52, abs=1e-6)
    assert to_yuan(parse_cell("52.15万元")) == pytest.approx(521500, abs=1e-6)
    assert to_yuan(parse_cell("3万元")) == 30000
    assert to_yuan(parse_cell("1.5亿元")) == pytest.approx(150_000_000, abs=1e-6)
    assert to_yuan(parse_cell("0.000001万元")) == pytest.approx(0.01, abs=1e-9)


def test_to_yuan_unknown_unit_is_none():
    # a bare 52.15 may be 元 or 万元: the unit cannot be known
    assert to_yuan(parse_cell("52.15")) is None
    assert to_yuan(parse_cell("80618")) is None


def test_to_yuan_default_unit():
    assert to_yuan(parse_cell("52.15"), "元") == pytest.approx(52.15)
    assert to_yuan(parse_cell("52.15"), "万元") == pytest.approx(521500, abs=1e-6)
    # a printed unit wins over the default
    assert to_yuan(parse_cell("80618元"), "万元") == 80618


def test_to_yuan_of_non_numbers_is_none():
    for printed in ("", "/", "暂无", "\u3000"):
        assert to_yuan(parse_cell(printed), "元") is None


def test_to_wan_yuan():
    assert to_wan_yuan(parse_cell("7730.28")) == 7730.28  # bare: taken as printed
    assert to_wan_yuan(parse_cell("24252.311082")) == 24252.311082
    assert to_wan_yuan(parse_cell("3万元")) == 3
    assert to_wan_yuan(parse_cell("380元")) == pytest.approx(0.038)
    assert to_wan_yuan(parse_cell("1.5亿元")) == pytest.approx(15000)
    assert to_wan_yuan(parse_cell("")) is None
    assert to_wan_yuan(parse_cell("—")) is None


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=10**15))
def test_any_non_negative_int_reads_back(n):
    plain = str(n)
    grouped = f"{n:,}"
    for printed in (plain, fullwidth(plain), grouped, fullwidth(grouped), f"  {plain}\u3000"):
        p = parse_cell(printed)
        assert p.status == "number", printed
        assert p.value == n, printed
        assert p.unit is None


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(min_value=1, max_value=10**9))
def test_any_negative_int_reads_back(n):
    for printed in (f"-{n}", f"减{n}", fullwidth(f"-{n}")):
        p = parse_cell(printed)
        assert p.status == "number", printed
        assert p.value == -n, printed


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=999_999))
def test_any_six_decimal_amount_reads_back(whole, frac):
    printed = f"{whole}.{frac:06d}"
    p = parse_cell(printed)
    assert p.status == "number"
    assert p.value == float(printed)
    assert to_wan_yuan(p) == float(printed)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.integers(min_value=0, max_value=999), min_size=2, max_size=7))
def test_space_separated_numbers_never_read_as_one(values):
    p = parse_cell(" ".join(map(str, values)))
    assert p.status != "number"
    assert p.value is None
