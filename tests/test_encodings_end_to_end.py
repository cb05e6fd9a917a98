"""Encodings end to end: the seed text dump and a real HTML report, re-encoded
the ways Chinese government files come (UTF-8 with a BOM, GB18030, GBK,
UTF-16 LE/BE with a BOM; HTML with a matching and with a wrong ``<meta
charset>``), extract to exactly the cells of the UTF-8 original.  Text damaged
by a UTF-8 → GBK round trip (mojibake) is reported with ``read.mojibake``
naming the file, and no value comes out wrong: every cell is either the
original's or not read."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from helpers.extract import extract_path

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED = REPO_ROOT / "data" / "raw" / "yindu_office_2024.txt"
META = 'charset="utf-8"'  # as the Pingtan page declares it


def _cells(path: Path) -> tuple[dict, object]:
    r = extract_path(str(path))
    return {k: v.to_json() for k, v in r.cells.items()}, r


def _encodings(text: str) -> dict[str, bytes]:
    return {
        "utf-8-bom": codecs.BOM_UTF8 + text.encode("utf-8"),
        "gb18030": text.encode("gb18030"),
        "gbk": text.encode("gbk"),
        "utf-16-le-bom": codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        "utf-16-be-bom": codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    }


def _html_variants(page: str) -> dict[str, bytes]:
    assert page.count(META) == 1

    def declared(charset: str) -> str:
        return page.replace(META, f'charset="{charset}"')

    out = {f"{name}+meta-utf-8": data for name, data in _encodings(page).items()}
    out.update(
        {
            # the declaration matches the bytes
            "gbk+meta-gbk": declared("gbk").encode("gbk"),
            "gb18030+meta-gb18030": declared("gb18030").encode("gb18030"),
            "gbk+meta-GB2312": declared("GB2312").encode("gbk"),  # GB2312 declared, GBK-only characters used
            "utf-16-le-bom+meta-utf-16": codecs.BOM_UTF16_LE + declared("utf-16").encode("utf-16-le"),
            # a wrong declaration
            "utf-8+meta-gbk": declared("gbk").encode("utf-8"),
            "gbk+meta-iso-8859-1": declared("iso-8859-1").encode("gbk"),
            "gbk+meta-windows-1252": declared("windows-1252").encode("gbk"),
            "gb18030+meta-big5": declared("big5").encode("gb18030"),
            "gbk+meta-shift_jis": declared("shift_jis").encode("gbk"),
            "gbk+meta-nonsense": declared("x-no-such-charset").encode("gbk"),
        }
    )
    return out


def _damage(data: bytes, codec: str) -> bytes:
    """UTF-8 bytes read as GBK/GB18030 and saved again as UTF-8."""
    return data.decode(codec, errors="replace").encode("utf-8")


@pytest.fixture(scope="module")
def seed_cells() -> dict:
    cells, r = _cells(SEED)
    assert r.status == "ok" and sum(c["value"] is not None for c in cells.values()) >= 200
    return cells


@pytest.fixture(scope="module")
def pingtan(shared_dir) -> Path:
    return shared_dir / "corpus" / "originals" / "pingtan_2021.html"


@pytest.fixture(scope="module")
def pingtan_cells(pingtan) -> dict:
    cells, r = _cells(pingtan)
    assert r.status == "ok" and sum(c["value"] is not None for c in cells.values()) >= 200
    return cells


@pytest.mark.parametrize("variant", list(_encodings("x")))
def test_text_dump_reencoded_gives_the_same_cells(tmp_path, seed_cells, variant):
    data = _encodings(SEED.read_text(encoding="utf-8"))[variant]
    path = tmp_path / f"yindu_{variant}.txt"
    path.write_bytes(data)
    cells, r = _cells(path)
    assert cells == seed_cells
    assert r.status == "ok"
    assert not [i for i in r.issues if i.rule.startswith("read.")], [i.message for i in r.issues]


@pytest.mark.parametrize("variant", list(_html_variants(META)))
def test_html_reencoded_gives_the_same_cells(tmp_path, pingtan, pingtan_cells, variant):
    data = _html_variants(pingtan.read_text(encoding="utf-8"))[variant]
    path = tmp_path / f"pingtan_2021_{variant}.html"
    path.write_bytes(data)
    cells, r = _cells(path)
    assert cells == pingtan_cells
    assert r.status == "ok"
    assert not [i for i in r.issues if i.severity == "error"], [i.message for i in r.issues]
    assert not [i for i in r.issues if i.rule == "read.mojibake"]


def _assert_right_or_unset(cells: dict, original: dict) -> int:
    """Every value read is the original's; returns how many were read."""
    n = 0
    for key, cell in cells.items():
        if cell["value"] is None:
            continue
        assert key in original and original[key]["value"] == cell["value"], (key, cell, original.get(key))
        n += 1
    return n


def _assert_mojibake_reported(r, path: Path) -> None:
    found = [i for i in r.issues if i.rule == "read.mojibake"]
    assert len(found) == 1, [(i.rule, i.message) for i in r.issues]
    assert found[0].severity in ("warning", "error")
    assert found[0].message.startswith(f"{path}: ") and "mojibake" in found[0].message


@pytest.mark.parametrize("codec", ["gbk", "gb18030"])
def test_mojibake_text_dump_reported_and_nothing_wrong(tmp_path, seed_cells, codec):
    path = tmp_path / f"yindu_mojibake_{codec}.txt"
    path.write_bytes(_damage(SEED.read_bytes(), codec))
    cells, r = _cells(path)
    _assert_mojibake_reported(r, path)
    _assert_right_or_unset(cells, seed_cells)
    assert r.status in ("failed", "partial")


@pytest.mark.parametrize("codec", ["gbk", "gb18030"])
def test_mojibake_html_reported_and_nothing_wrong(tmp_path, pingtan, pingtan_cells, codec):
    path = tmp_path / f"pingtan_2021_mojibake_{codec}.html"
    path.write_bytes(_damage(pingtan.read_bytes(), codec))
    cells, r = _cells(path)
    _assert_mojibake_reported(r, path)
    _assert_right_or_unset(cells, pingtan_cells)
    assert r.status in ("failed", "partial")


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 0.7, 0.9])
@pytest.mark.parametrize("damaged_part", ["head", "tail"])
def test_partly_damaged_text_dump(tmp_path, seed_cells, fraction, damaged_part):
    """Only some lines damaged: the rows whose labels survived are read, the
    others are not; no value lands in a wrong cell."""
    lines = SEED.read_text(encoding="utf-8").splitlines(keepends=True)
    k = int(len(lines) * fraction)
    head, tail = "".join(lines[:k]), "".join(lines[k:])
    hurt = lambda s: s.encode("utf-8").decode("gbk", errors="replace")  # noqa: E731
    text = hurt(head) + tail if damaged_part == "head" else head + hurt(tail)
    path = tmp_path / f"yindu_{damaged_part}_{fraction}.txt"
    path.write_text(text, encoding="utf-8")
    cells, r = _cells(path)
    _assert_mojibake_reported(r, path)
    n = _assert_right_or_unset(cells, seed_cells)
    if n < sum(c["value"] is not None for c in seed_cells.values()):
        assert r.status in ("partial", "failed"), r.status  # what is missing is said
