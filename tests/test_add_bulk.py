"""``add`` with folders and zip archives: every report once, the rest listed with a reason,
unsafe archive entries and zip bombs refused within helpers.limits."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import __main__ as cli
from helpers.limits import Limits
from helpers.sources import add_report, load_sources, sha256_file, summary, verify_sources


@dataclass
class Found:
    agency: str | None
    year: int | None
    edition: str | None
    parts: int = 1


def _report(text: str) -> bytes:
    return f"{text}\n一、总体情况\n规章\t0\t0\t0\n".encode("utf-8")


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    d = tmp_path / "raw"
    d.mkdir()
    return d


def test_folder_adds_every_report_once_and_lists_the_rest(tmp_path: Path, raw: Path) -> None:
    folder = tmp_path / "downloads"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(_report("甲"))
    (folder / "sub" / "b.html").write_bytes(b"<html><body>" + _report("乙") + b"</body></html>")
    (folder / "sub" / "a copy.txt").write_bytes(_report("甲"))  # same bytes as a.txt
    (folder / "notes.xlsx").write_bytes(b"PK not a report")
    (folder / ".hidden.txt").write_bytes(b"ignored")
    outs = add_report(raw, [folder])
    by_label = {Path(o.path).relative_to(folder).as_posix(): o.status for o in outs}
    assert by_label == {"a.txt": "added", "notes.xlsx": "skipped", "sub/a copy.txt": "duplicate", "sub/b.html": "added"}
    skipped = next(o for o in outs if o.status == "skipped")
    assert "notes.xlsx: not a report file (.xlsx)" in skipped.message
    assert sorted(r.file for r in load_sources(raw)) == ["a.txt", "b.html"]
    assert verify_sources(raw) == []
    assert summary(outs) == "add: 2 added, 1 duplicate, 1 skipped, 0 refused, 0 missing, 0 failed"


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data, compress_type=method)
    return path


def test_zip_members_are_added_with_their_archive_as_source(tmp_path: Path, raw: Path) -> None:
    a = _report("甲")
    archive = _zip(tmp_path / "reports.zip", {"2023/a.txt": a, "2024/b.txt": _report("乙"), "readme.doc": b"x"})
    outs = add_report(raw, [archive])
    assert [(o.status, str(o.path)) for o in outs] == [
        ("added", f"{archive}!2023/a.txt"),
        ("added", f"{archive}!2024/b.txt"),
        ("skipped", f"{archive}!readme.doc"),
    ]
    rows = load_sources(raw)
    assert [r.file for r in rows] == ["a.txt", "b.txt"]
    assert rows[0].sha256 == sha256_file(raw / "a.txt")
    assert (raw / "a.txt").read_bytes() == a
    assert rows[0].source == f"added by hand from {archive.resolve()}!2023/a.txt"
    # the archive again: nothing stored twice
    again = add_report(raw, [archive])
    assert [o.status for o in again] == ["duplicate", "duplicate", "skipped"]
    assert len(load_sources(raw)) == 2
    assert not list(raw.glob(".tmp-*"))


@pytest.mark.parametrize(
    "name, why",
    [("/etc/evil.txt", "absolute path"), ("../evil.txt", "'..' in the path"), ("a/../../evil.txt", "'..' in the path"),
     ("C:/evil.txt", "drive letter")],
)
def test_unsafe_member_names_are_refused(tmp_path: Path, raw: Path, name: str, why: str) -> None:
    archive = _zip(tmp_path / "bad.zip", {name: _report("甲"), "good.txt": _report("乙")})
    outs = add_report(raw, [archive])
    refused = [o for o in outs if o.status == "refused"]
    assert len(refused) == 1 and why in refused[0].message and name in refused[0].message
    assert [r.file for r in load_sources(raw)] == ["good.txt"]
    assert not (tmp_path / "evil.txt").exists() and not Path("/etc/evil.txt").exists()


def test_zip_bomb_is_refused_by_the_ratio_limit(tmp_path: Path, raw: Path) -> None:
    bomb = b"0" * (20 * 1024 * 1024)  # 20 MB of one byte deflates to about 20 KB
    archive = _zip(tmp_path / "bomb.zip", {"bomb.txt": bomb, "ok.txt": _report("甲")})
    assert archive.stat().st_size < 100_000
    outs = add_report(raw, [archive], limits=Limits())
    assert [o.status for o in outs] == ["refused", "added"]
    assert "max_zip_ratio" in outs[0].message and "bomb.zip!bomb.txt" in outs[0].message
    assert [r.file for r in load_sources(raw)] == ["ok.txt"]


def test_member_over_the_size_limit_and_too_many_members(tmp_path: Path, raw: Path) -> None:
    archive = _zip(tmp_path / "big.zip", {"big.txt": bytes(range(256)) * 400}, zipfile.ZIP_STORED)
    [out] = add_report(raw, [archive], limits=Limits(max_file_bytes=50_000))
    assert out.status == "refused" and "max_file_bytes" in out.message
    many = _zip(tmp_path / "many.zip", {f"r{i}.txt": _report(str(i)) for i in range(6)})
    [out] = add_report(raw, [many], limits=Limits(max_zip_entries=5))
    assert out.status == "refused" and "6 members" in out.message and "max_zip_entries" in out.message
    assert not (raw / "sources.csv").exists()


def test_lying_declared_size_is_caught_while_inflating(tmp_path: Path, raw: Path) -> None:
    buf = io.BytesIO()
    _zip_path = tmp_path / "liar.zip"
    data = b"A" * 300_000
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("liar.txt", data)
    raw_bytes = bytearray(buf.getvalue())
    # shrink the declared uncompressed size in the central directory to 1,000 bytes
    cd = raw_bytes.rfind(b"PK\x01\x02")
    raw_bytes[cd + 24 : cd + 28] = (1000).to_bytes(4, "little")
    _zip_path.write_bytes(bytes(raw_bytes))
    [out] = add_report(raw, [_zip_path])
    assert out.status == "refused" and "liar.zip!liar.txt" in out.message
    assert not (raw / "liar.txt").exists() and not (raw / "sources.csv").exists()


def test_a_file_holding_several_reports_is_recorded_without_agency_and_year(tmp_path: Path, raw: Path) -> None:
    src = tmp_path / "compilation.txt"
    src.write_bytes(_report("汇编"))
    outs = add_report(raw, [src], detect=lambda p: Found("甲县人民政府", 2023, "2021", parts=3))
    [row] = load_sources(raw)
    assert (row.agency, row.year, row.edition) == ("", "", "2021")
    assert "holds 3 reports" in outs[0].message
    assert summary(outs).endswith("; compilation.txt holds 3 reports")


def test_cli_add_folder_and_archive_prints_a_summary(tmp_path: Path, raw: Path, shared_dir: Path, capsys) -> None:
    originals = shared_dir / "corpus" / "originals"
    folder = tmp_path / "dl"
    folder.mkdir()
    (folder / "yindu.txt").write_bytes((originals / "yindu_office_2024.txt").read_bytes())
    archive = _zip(tmp_path / "more.zip", {"pt/pingtan_2021.txt": (originals / "pingtan_2021.txt").read_bytes(),
                                           "pt/evil/../../x.txt": b"x"})
    status = cli.main(["add", str(folder), str(archive), "--raw-dir", str(raw)])
    out = capsys.readouterr().out
    assert status == 1  # one refused entry
    assert out.strip().splitlines()[-1] == "add: 2 added, 0 duplicate, 0 skipped, 1 refused, 0 missing, 0 failed"
    rows = {r.file: r for r in load_sources(raw)}
    assert rows["yindu_2024.txt"].agency == "殷都区人民政府办公室"
    assert rows["pingtan_2021.txt"].year == "2021" and rows["pingtan_2021.txt"].agency
    assert verify_sources(raw) == []
