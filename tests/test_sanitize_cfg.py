"""notebooks/sanitize.cfg: parsed by nbval, masks volatile output, keeps numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def patterns() -> list[tuple[str, str]]:
    plugin = pytest.importorskip("nbval.plugin")
    text = (REPO / "notebooks" / "sanitize.cfg").read_text(encoding="ascii")
    pats = plugin.get_sanitize_patterns(text)
    assert len(pats) == text.count("\nregex: "), "every regex line needs a replace line right after it"
    for regex, _ in pats:
        re.compile(regex)
    return pats


def _sanitize(patterns: list[tuple[str, str]], s: str) -> str:
    for regex, replace in patterns:
        s = re.sub(regex, replace, s)
    return s


@pytest.mark.parametrize(
    "a, b",
    [
        ("<Figure size 640x480 with 1 Axes at 0x7f3a2b1c0d90>", "<Figure size 640x480 with 1 Axes at 0x55d1e2>"),
        ("12.5 ms \u00b1 301 \u00b5s per loop (mean \u00b1 std. dev. of 7 runs, 100 loops each)",
         "9.1 ms \u00b1 1.2 ms per loop (mean \u00b1 std. dev. of 7 runs, 1,000 loops each)"),
        ("1.37 \u03bcs \u00b1 174 ns per loop (mean \u00b1 std. dev. of 7 runs, 1,000,000 loops each)",
         "2.1 \u03bcs \u00b1 23.4 ns per loop (mean \u00b1 std. dev. of 7 runs, 100,000 loops each)"),
        ("CPU times: user 1.2 s, sys: 30 ms, total: 1.23 s\nWall time: 1.5 s",
         "CPU times: user 900 ms, sys: 2 ms, total: 902 ms\nWall time: 950 ms"),
        ("wrote /work/main/data/processed/cells.parquet", "wrote /home/ana/gidr/data/processed/cells.parquet"),
        ("/work/main/.venv/lib/python3.11/site-packages/pandas/x.py:3: FutureWarning",
         "/tmp/fresh/.venv/lib/python3.11/site-packages/pandas/x.py:3: FutureWarning"),
    ],
)
def test_volatile_output_is_masked(patterns: list[tuple[str, str]], a: str, b: str) -> None:
    assert _sanitize(patterns, a) == _sanitize(patterns, b)


@pytest.mark.parametrize(
    "s",
    ["handled 27 requests, 3 refused (11.1 %)", "grid 10x10", "2019 2020 2021", "予以公开 80 | 1 | 0"],
)
def test_results_are_not_masked(patterns: list[tuple[str, str]], s: str) -> None:
    assert _sanitize(patterns, s) == s
