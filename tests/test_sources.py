"""Provenance of data/raw: sources.csv, hashes, adding reports."""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import sources
from helpers.sources import (
    FIELDS,
    add_report,
    load_sources,
    sha256_file,
    slug_name,
    verify_sources,
)

REPO = Path(__file__).resolve().parents[1]


def _write_table(raw: Path, rows: list[dict[str, str]]) -> None:
    with open(raw / "sources.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in FIELDS})


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """A small data/raw with two listed files."""
    d = tmp_path / "raw"
    d.mkdir()
    (d / "a_2023.txt").write_text("一、总体情况\n规章\t0\t0\t0\n", encoding="utf-8")
    (d / "b_2024.txt").write_bytes(b"\xe4\xba\x8c\tsecond report\n")
    _write_table(
        d,
        [
            {"file": "a_2023.txt", "agency": "甲县人民政府", "year": "2023", "kind": "original",
             "sha256": sha256_file(d / "a_2023.txt")},
            {"file": "b_2024.txt", "agency": "乙局", "year": "2024", "kind": "transcription",
             "sha256": sha256_file(d / "b_2024.txt")},
        ],
    )
    return d


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    d = tmp_path / "downloads"
    d.mkdir()
    return d


@dataclass
class Found:
    agency: str | None
    year: int | None
    edition: str | None


# -- reading and verifying -------------------------------------------------


def test_load_sources_reads_rows_in_order(raw: Path) -> None:
    rows = load_sources(raw)
    assert [r.file for r in rows] == ["a_2023.txt", "b_2024.txt"]
    assert rows[0].agency == "甲县人民政府"
    assert rows[0].year_int == 2023
    assert rows[1].kind == "transcription"


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    p = tmp_path / "x.bin"
    p.write_bytes(b"abc")
    assert sha256_file(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_verify_clean(raw: Path) -> None:
    assert verify_sources(raw) == []


def test_verify_reports_a_changed_byte_naming_file_and_hashes(raw: Path) -> None:
    p = raw / "b_2024.txt"
    expected = sha256_file(p)
    data = bytearray(p.read_bytes())
    data[0] ^= 0x01
    p.write_bytes(bytes(data))
    actual = sha256_file(p)
    problems = verify_sources(raw)
    assert len(problems) == 1
    msg = problems[0]
    assert msg.startswith("b_2024.txt:")
    assert expected in msg and actual in msg


def test_verify_reports_missing_and_unlisted_files(raw: Path) -> None:
    (raw / "a_2023.txt").unlink()
    (raw / "stray.pdf").write_bytes(b"%PDF-1.4")
    (raw / ".DS_Store").write_bytes(b"ignored: hidden")
    (raw / "sub").mkdir()
    (raw / "sub" / "deep.txt").write_text("x")
    problems = verify_sources(raw)
    assert any(p.startswith("a_2023.txt:") and "missing" in p for p in problems)
    assert any(p.startswith("stray.pdf:") and "not listed" in p for p in problems)
    assert any(p.startswith("sub/deep.txt:") for p in problems)
    assert not any(".DS_Store" in p for p in problems)
    assert len(problems) == 3


def test_verify_reports_bad_rows(raw: Path) -> None:
    rows = [r.as_dict() for r in load_sources(raw)]
    rows.append(dict(rows[0]))  # listed twice
    rows.append({"file": "../outside.txt", "sha256": "0" * 64, "kind": "original"})
    rows.append({"file": "c.txt", "sha256": "not-a-hash", "kind": "original"})
    rows[1]["kind"] = "copy"
    _write_table(raw, rows)
    (raw / "c.txt").write_text("c")
    problems = verify_sources(raw)
    assert any("listed twice" in p for p in problems)
    assert any(p.startswith("../outside.txt:") for p in problems)
    assert any(p.startswith("c.txt:") and "sha256" in p for p in problems)
    assert any(p.startswith("b_2024.txt:") and "kind" in p for p in problems)


def test_verify_without_table(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("x")
    problems = verify_sources(tmp_path)
    assert len(problems) == 1 and "sources.csv" in problems[0]


# -- naming --------------------------------------------------------------


@pytest.mark.parametrize(
    "name, year, expected",
    [
        ("Hongze Report.PDF", 2023, "hongze_report_2023.pdf"),
        ("hongze_2023.pdf", 2023, "hongze_2023.pdf"),  # year already in the stem
        ("t20240308_87885.htm", None, "t20240308_87885.htm"),
        ("洪泽区2023年报.pdf", 2023, "report_2023.pdf"),
        ("政府信息公开年报.docx", None, "report.docx"),
        ("a--b..c.TXT", "2021", "a_b_c_2021.txt"),
        ("noext", None, "noext"),
    ],
)
def test_slug_name(name: str, year: int | str | None, expected: str) -> None:
    out = slug_name(name, year)
    assert out == expected
    assert out.isascii() and not out.startswith(".")


# -- adding --------------------------------------------------------------


def test_add_copies_and_appends_row(raw: Path, downloads: Path) -> None:
    src = downloads / "Pingtan Report.html"
    src.write_bytes(b"<html>\xe5\xb9\xb3\xe6\xbd\xad</html>")
    before = (raw / "sources.csv").read_bytes()

    def detect(path: Path) -> Found:
        assert path == src
        return Found("平潭综合实验区", 2022, "2021")

    [out] = add_report(raw, [src], source_url="https://example.gov.cn/nb.htm", detect=detect)
    assert out.status == "added"
    assert out.file == "pingtan_report_2022.html"
    assert (raw / out.file).read_bytes() == src.read_bytes()
    after = (raw / "sources.csv").read_bytes()
    assert after.startswith(before)  # existing rows kept byte for byte
    row = load_sources(raw)[-1]
    assert row.file == out.file
    assert (row.agency, row.year, row.edition) == ("平潭综合实验区", "2022", "2021")
    assert row.kind == "original"
    assert row.source == "https://example.gov.cn/nb.htm"
    assert row.retrieved == dt.date.today().isoformat()
    assert row.sha256 == sha256_file(src)
    assert verify_sources(raw) == []
    assert not [p for p in raw.iterdir() if p.name.startswith(".tmp")]


def test_add_without_detection_leaves_fields_empty(raw: Path, downloads: Path) -> None:
    src = downloads / "report.pdf"
    src.write_bytes(b"%PDF-1.7 fake")
    [out] = add_report(raw, [src])
    assert out.status == "added" and out.file == "report.pdf"
    row = load_sources(raw)[-1]
    assert (row.agency, row.year, row.edition) == ("", "", "")
    assert row.source == f"added by hand from {src.resolve()}"


def test_add_detector_returning_none_or_failing(raw: Path, downloads: Path) -> None:
    a = downloads / "a.txt"
    b = downloads / "b.txt"
    a.write_text("first")
    b.write_text("second")

    def detect(path: Path) -> None:
        if path.name == "b.txt":
            raise ValueError("cannot read")
        return None

    outs = add_report(raw, [a, b], detect=detect)
    assert [o.status for o in outs] == ["added", "added"]
    assert "detection failed" in outs[1].message
    assert verify_sources(raw) == []


def test_add_refuses_exact_duplicates(raw: Path, downloads: Path) -> None:
    src = downloads / "same_as_a.txt"
    src.write_bytes((raw / "a_2023.txt").read_bytes())
    before = (raw / "sources.csv").read_bytes()
    listing = sorted(p.name for p in raw.iterdir())
    [out] = add_report(raw, [src], source_url="https://x")
    assert out.status == "duplicate"
    assert out.file == "a_2023.txt"
    assert (raw / "sources.csv").read_bytes() == before
    assert sorted(p.name for p in raw.iterdir()) == listing


def test_add_same_file_twice_in_one_call(raw: Path, downloads: Path) -> None:
    src = downloads / "new.txt"
    src.write_text("new report")
    outs = add_report(raw, [src, src])
    assert [o.status for o in outs] == ["added", "duplicate"]
    assert len(load_sources(raw)) == 3


def test_add_never_overwrites_a_different_file(raw: Path, downloads: Path) -> None:
    original = (raw / "a_2023.txt").read_bytes()
    (downloads / "A 2023.txt").write_text("a different report with the same name")
    (downloads / "sub").mkdir()
    (downloads / "sub" / "a_2023.txt").write_text("and a third one")
    outs = add_report(raw, [downloads / "A 2023.txt", downloads / "sub" / "a_2023.txt"])
    assert [o.file for o in outs] == ["a_2023_2.txt", "a_2023_3.txt"]
    assert (raw / "a_2023.txt").read_bytes() == original
    # an unlisted file in the way is not overwritten either
    (raw / "c.txt").write_text("stray")
    (downloads / "c.txt").write_text("new c")
    [out] = add_report(raw, [downloads / "c.txt"])
    assert out.file == "c_2.txt"
    assert (raw / "c.txt").read_text() == "stray"


def test_add_missing_path(raw: Path, tmp_path: Path) -> None:
    [out] = add_report(raw, [tmp_path / "nope.pdf"])
    assert out.status == "missing"
    assert len(load_sources(raw)) == 2


def test_add_creates_table_when_absent(tmp_path: Path, downloads: Path) -> None:
    raw = tmp_path / "fresh_raw"
    src = downloads / "x.txt"
    src.write_text("x")
    [out] = add_report(raw, [src])
    assert out.status == "added"
    header = (raw / "sources.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(FIELDS)
    assert verify_sources(raw) == []


def test_append_is_atomic(raw: Path, downloads: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If writing the new table fails, sources.csv and data/raw are left as they were."""
    src = downloads / "d.txt"
    src.write_text("d")
    before = (raw / "sources.csv").read_bytes()
    listing = sorted(p.name for p in raw.iterdir())

    def broken_replace(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(sources.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        add_report(raw, [src])
    assert (raw / "sources.csv").read_bytes() == before
    assert sorted(p.name for p in raw.iterdir()) == listing  # no copy, no temp file left


def test_append_keeps_table_without_trailing_newline_valid(raw: Path, downloads: Path) -> None:
    table = raw / "sources.csv"
    table.write_bytes(table.read_bytes().rstrip(b"\n"))
    src = downloads / "e.txt"
    src.write_text("e")
    add_report(raw, [src])
    assert [r.file for r in load_sources(raw)] == ["a_2023.txt", "b_2024.txt", "e.txt"]


def test_cli_add_and_verify(raw: Path, downloads: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = downloads / "f.txt"
    src.write_text("f")
    rc = sources.main(["add", str(src), "--raw-dir", str(raw), "--source", "https://u", "--year", "2020"])
    assert rc == 0
    assert "added" in capsys.readouterr().out
    row = load_sources(raw)[-1]
    assert (row.file, row.year, row.source) == ("f_2020.txt", "2020", "https://u")
    assert sources.main(["verify", "--raw-dir", str(raw)]) == 0


# -- the repository's own raw data ------------------------------------------


def test_repository_raw_data_is_listed_and_unchanged() -> None:
    raw = REPO / "data" / "raw"
    assert verify_sources(raw) == []
    rows = load_sources(raw)
    files = {r.file for r in rows}
    assert "yindu_office_2024.txt" in files  # the seed report
    assert sum(r.kind == "transcription" for r in rows) >= 16
    assert {r.kind for r in rows} <= {"original", "transcription"}
    assert all(r.file.endswith(".transcribed.txt") for r in rows if r.kind == "transcription")


def test_repository_raw_data_matches_shared_manifest(shared_dir: Path) -> None:
    manifest = shared_dir / "corpus" / "MANIFEST.csv"
    with open(manifest, encoding="utf-8", newline="") as f:
        by_hash = {r["sha256"]: r for r in csv.DictReader(f)}
    for row in load_sources(REPO / "data" / "raw"):
        m = by_hash.get(row.sha256)
        assert m is not None, f"{row.file}: sha256 not in the shared manifest"
        for key in ("agency", "year", "level", "province", "source", "retrieved", "kind", "edition", "note"):
            assert getattr(row, key) == m[key], f"{row.file}: {key} differs from the manifest"


def test_add_records_level_province_and_note(raw: Path, downloads: Path) -> None:
    src = downloads / "c.txt"
    src.write_text("三、收到和处理政府信息公开申请情况\n", encoding="utf-8")
    [out] = add_report(raw, [src], source_url="https://example.gov.cn/c.txt", level="county government",
                       province="江苏省", note="fetched 2026-01-01T00:00:00+00:00")
    row = load_sources(raw)[-1]
    assert (row.file, row.level, row.province, row.note) == (
        "c.txt", "county government", "江苏省", "fetched 2026-01-01T00:00:00+00:00")
    assert verify_sources(raw) == []


def test_given_values_override_detection_and_keep_the_number_of_parts() -> None:
    detect = sources.combine(lambda p: Found("甲县", 2023, "2021"), sources.Given("乙县", None, None))
    got = detect(Path("x.txt"))
    assert (got.agency, got.year, got.edition, got.parts) == ("乙县", 2023, "2021", 1)

    @dataclass
    class Parts:
        agency: str | None = None
        year: int | None = None
        edition: str | None = "2021"
        parts: int = 4

    assert sources.combine(lambda p: Parts(), sources.Given(None, "2024", None))(Path("x")).parts == 4
