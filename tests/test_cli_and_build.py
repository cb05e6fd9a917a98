"""The command-line contract (README "Command-line contract") and the build's
safety promises: deterministic output, both formats, blanks kept, changed raw
files refused, broken files recorded, interrupted writes leave the previous
outputs in place."""

from __future__ import annotations

import csv
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import helpers.build as build_module
from helpers.build import OUTPUTS, build
from helpers.codebook import load as load_codebook
from helpers.sources import FIELDS, load_sources, sha256_file, verify_sources

REPO_ROOT = Path(__file__).resolve().parent.parent
RAW = REPO_ROOT / "data" / "raw"
TOP_KEYS = {"path", "part", "parts", "status", "edition", "agency", "year", "cells", "issues", "narrative"}
REPORT_STATUS = {"ok", "partial", "failed", "unsupported"}
CELL_STATUS = {"number", "blank", "na_marker", "text", "absent"}
SEVERITIES = {"error", "warning", "info"}


def run_cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------------------
# extract


def check_extract_lines(stdout: str, files: list[str]) -> list[dict]:
    lines = stdout.splitlines()
    assert len(lines) == len(files), f"{len(lines)} lines for {len(files)} files"
    cb = load_codebook()
    objs = []
    for given, line in zip(files, lines):
        obj = json.loads(line)
        assert set(obj) == TOP_KEYS, sorted(obj)
        assert obj["path"] == given
        assert obj["status"] in REPORT_STATUS
        assert obj["edition"] in ("2019", "2021", None)
        assert obj["year"] is None or isinstance(obj["year"], int)
        assert obj["agency"] is None or isinstance(obj["agency"], str)
        if obj["edition"] is not None:
            missing = [k for k in cb.keys_for(obj["edition"]) if k not in obj["cells"]]
            assert not missing, f"{given}: codebook keys of edition {obj['edition']} missing: {missing[:10]}"
        for key, cell in obj["cells"].items():
            assert set(cell) == {"value", "status", "printed"}, (given, key, cell)
            assert cell["status"] in CELL_STATUS, (given, key, cell)
            assert isinstance(cell["printed"], str)
            if cell["value"] is not None:
                assert cell["status"] == "number" and isinstance(cell["value"], (int, float)), (given, key, cell)
        for issue in obj["issues"]:
            assert {"rule", "severity", "message", "cells"} <= set(issue), issue
            assert issue["severity"] in SEVERITIES
            assert isinstance(issue["cells"], list)
            if "expected" in issue or "actual" in issue:
                assert {"expected", "actual"} <= set(issue)
        objs.append(obj)
    return objs


def test_extract_cli_on_raw_files():
    files = [
        "data/raw/yindu_office_2024.txt",
        "data/raw/shanghai_office_2019.transcribed.txt",
        "data/raw/hongze_2023.transcribed.txt",
    ]
    proc = run_cli("extract", *files)
    assert proc.returncode == 0, proc.stderr
    objs = check_extract_lines(proc.stdout, files)
    assert [o["edition"] for o in objs] == ["2021", "2019", "2021"]
    assert all(o["status"] == "ok" for o in objs)
    sh = objs[1]["cells"]
    blanks = [k for k, c in sh.items() if c["status"] == "blank"]
    assert blanks and all(sh[k]["value"] is None and sh[k]["printed"] == "" for k in blanks)
    hz = objs[2]
    arithmetic = [i for i in hz["issues"] if i["rule"] == "t4.review_total"]
    assert arithmetic and {"expected", "actual"} <= set(arithmetic[0])


def test_extract_cli_on_originals(shared_dir):
    originals = shared_dir / "corpus" / "originals"
    files = [str(originals / n) for n in ("pingtan_2019.txt", "pingtan_2022.html", "blank_template.docx", "pingtan_2018.txt")]
    proc = run_cli("extract", *files)
    assert proc.returncode == 0, proc.stderr
    objs = check_extract_lines(proc.stdout, files)
    assert [o["status"] for o in objs] == ["partial", "ok", "ok", "unsupported"]
    assert objs[3]["cells"] == {} or all(c["status"] != "number" for c in objs[3]["cells"].values())


# ---------------------------------------------------------------------------
# build


def _build(raw: Path, out: Path, **kw):
    return build(raw, out, progress=False, **kw)


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every output file, by its path under ``folder`` (partitions included)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build_a") / "processed"
    _build(RAW, out)
    return out


def test_outputs_in_both_formats(built):
    names = {p.name for p in built.iterdir()}
    want = {f"{n}.{ext}" for n in OUTPUTS for ext in ("csv", "parquet")}
    assert set(OUTPUTS) == {"reports", "cells", "issues", "narrative", "t2", "t3", "t4"}
    assert want <= names, sorted(want - names)
    for n in OUTPUTS:
        from_csv = pd.read_csv(built / f"{n}.csv", dtype=str, keep_default_na=False)
        from_parquet = pd.read_parquet(built / f"{n}.parquet")
        assert list(from_csv.columns) == list(from_parquet.columns), n
        assert len(from_csv) == len(from_parquet), n
    reports = _read_csv(built / "reports.csv")
    assert sorted(r["report"] for r in reports) == sorted(s.file for s in load_sources(RAW))


def test_two_builds_are_byte_identical(built, tmp_path):
    again = tmp_path / "processed"
    _build(RAW, again)
    a, b = _snapshot(built), _snapshot(again)
    assert sorted(a) == sorted(b)
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"files differ between two builds of the same raw data: {differ}"


def test_cells_layer_keeps_blanks(built):
    rep = "shanghai_office_2019.transcribed.txt"
    rows = [r for r in _read_csv(built / "cells.csv") if r["report"] == rep]
    blank = [r for r in rows if r["status"] == "blank"]
    assert blank, "no blank cell kept for shanghai_office_2019"
    assert all(r["value"] == "" and r["printed"] == "" for r in blank)
    # the same cells in the Parquet layer: status blank and a missing value, never 0
    pq = pd.read_parquet(built / "cells.parquet")
    pq = pq[(pq["report"] == rep) & (pq["status"] == "blank")]
    assert len(pq) == len(blank)
    assert pq["value"].isna().all()
    # and as many as the extractor reports
    from helpers.extract import extract_path

    r = extract_path(str(RAW / rep))
    assert len(blank) == sum(c.status == "blank" for c in r.cells.values())


def test_narrative_table_holds_the_numbers_stated_in_prose(built):
    """殷都区 2024 states in its prose the 21 requests its Table 3 prints as received."""
    rows = _read_csv(built / "narrative.csv")
    assert [r["report"] for r in rows] == ["yindu_office_2024.txt"]
    (row,) = rows
    assert (row["pattern"], row["printed"], row["key"], row["agrees"]) == ("received", "21", "t3:new_received", "True")
    cells = [r for r in _read_csv(built / "cells.csv") if r["report"] == row["report"] and r["key"] == "t3.new_received.total"]
    assert float(cells[0]["value"]) == float(row["table_value"]) == 21
    assert "申请 21 件" in row["sentence"]


def test_narrative_table_of_a_compared_original(shared_dir, tmp_path):
    """平潭 2022 says 75 requests were received where its table prints 74 new ones
    (and 1 carried over): the build records the disagreement."""
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(shared_dir / "corpus" / "originals" / "pingtan_2022.txt", raw / "pingtan_2022.txt")
    out = tmp_path / "processed"
    _build(raw, out)
    rows = pd.read_csv(out / "narrative.csv", dtype={"printed": str})
    mismatch = rows[rows["agrees"] == False]  # noqa: E712 - a nullable column
    assert set(zip(mismatch["printed"], mismatch["table_value"])) >= {("75", 74.0), ("72", 71.0)}
    issues = pd.read_csv(out / "issues.csv")
    assert (issues["rule"] == "narrative.mismatch").sum() == len(mismatch)


def _copy_raw(tmp: Path) -> Path:
    raw = tmp / "raw"
    shutil.copytree(RAW, raw)
    return raw


def test_changed_raw_file_is_refused_others_built(tmp_path):
    raw = _copy_raw(tmp_path)
    victim = "pingtan_2022.transcribed.txt"
    data = bytearray((raw / victim).read_bytes())
    data[len(data) // 2] ^= 0x01
    (raw / victim).write_bytes(bytes(data))
    out = tmp_path / "processed"
    summary = _build(raw, out)
    assert summary.refused == [victim]
    issues = _read_csv(out / "issues.csv")
    mismatch = [i for i in issues if i["rule"] == "raw.sha256_mismatch"]
    assert len(mismatch) == 1, mismatch
    assert mismatch[0]["severity"] == "error" and victim in mismatch[0]["message"]
    reports = {r["report"] for r in _read_csv(out / "reports.csv")}
    listed = {s.file for s in load_sources(raw)}
    assert reports == listed - {victim}
    cells_reports = {r["report"] for r in _read_csv(out / "cells.csv")}
    assert victim not in cells_reports and len(cells_reports) == len(listed) - 1


def _garbage(kind: str) -> tuple[str, bytes]:
    rnd = random.Random(20240131)
    noise = bytes(rnd.randrange(256) for _ in range(4096))
    if kind == "damaged_pdf":
        return "broken_2023.pdf", b"%PDF-1.7\n" + noise
    return "noise_2023.bin", noise


def _list_in_sources(raw: Path, name: str) -> None:
    row = {f: "" for f in FIELDS}
    row.update(file=name, sha256=sha256_file(raw / name), kind="original", source="test", retrieved="2026-01-01")
    with open(raw / "sources.csv", "a", encoding="utf-8", newline="") as f:
        csv.DictWriter(f, fieldnames=list(FIELDS), lineterminator="\n").writerow(row)


@pytest.mark.parametrize("kind", ["damaged_pdf", "random_bytes"])
def test_garbage_file_gives_failed_report_and_build_goes_on(tmp_path, kind):
    raw = _copy_raw(tmp_path)
    name, data = _garbage(kind)
    (raw / name).write_bytes(data)
    _list_in_sources(raw, name)
    assert verify_sources(raw) == []
    out = tmp_path / "processed"
    _build(raw, out)
    reports = {r["report"]: r for r in _read_csv(out / "reports.csv")}
    assert reports[name]["status"] == "failed"
    assert int(reports[name]["n_errors"]) >= 1
    assert len(reports) == len(load_sources(raw))
    assert all(r["status"] == "ok" for n, r in reports.items() if n != name)
    issues = [i for i in _read_csv(out / "issues.csv") if i["report"] == name]
    assert any(i["severity"] == "error" and name in i["message"] for i in issues), issues


def test_failed_write_keeps_previous_outputs(tmp_path, monkeypatch):
    out = tmp_path / "processed"
    _build(RAW, out)
    before = _snapshot(out)
    real_write = build_module.TableWriter.write
    calls = []

    def failing_write(self, table):  # the second batch of rows fails, half the tables written
        if calls:
            raise OSError("disk full (simulated)")
        calls.append(table)
        real_write(self, table)

    monkeypatch.setattr(build_module.TableWriter, "write", failing_write)
    with pytest.raises(OSError, match="simulated"):
        _build(RAW, out, cache_dir=None)  # without a cache: the outputs are written again
    assert calls, "the build never wrote a table"
    assert _snapshot(out) == before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".processed-")]
    assert not leftovers, leftovers


# ---------------------------------------------------------------------------
# validate


def test_validate_cli_orders_errors_warnings_info(built):
    proc = run_cli("validate", "--processed", str(built))
    assert proc.returncode == 0, proc.stderr
    issues = _read_csv(built / "issues.csv")
    severity_of = {}
    for i in issues:
        severity_of.setdefault((i["report"], i["rule"]), set()).add(i["severity"])
    headers = []
    current = None
    listed = 0
    for line in proc.stdout.splitlines():
        if line.startswith("== "):
            current = line[3:].split(":")[0]
            headers.append(current)
        elif "\t" in line:
            report, rule = line.split("\t")[0], line.split("\t")[1].split(" [")[0]
            assert current in severity_of[(report, rule)], f"{line!r} listed under {current}"
            listed += 1
    present = [s for s in ("error", "warning", "info") if any(i["severity"] == s for i in issues)]
    assert present == ["error", "warning", "info"], "the raw data should give issues of all three severities"
    assert headers == present
    assert listed == len(issues)
    counts = {s: sum(i["severity"] == s for i in issues) for s in present}
    assert f"{len(issues)} issue(s): {counts['error']} error, {counts['warning']} warning, {counts['info']} info" in proc.stdout


# ---------------------------------------------------------------------------
# add


def test_add_records_provenance_and_refuses_duplicates(shared_dir, tmp_path):
    raw = _copy_raw(tmp_path)
    name = "houqi_weijianwei_2022.txt"
    download = tmp_path / "downloads"
    download.mkdir()
    shutil.copyfile(shared_dir / "corpus" / "fragments" / name, download / name)
    with open(shared_dir / "corpus" / "MANIFEST.csv", encoding="utf-8", newline="") as f:
        meta = next(r for r in csv.DictReader(f) if r["file"] == f"fragments/{name}")

    before_rows = load_sources(raw)
    before_files = sorted(p.name for p in raw.iterdir())
    url = "http://www.houqi.gov.cn/example.html"
    proc = run_cli("add", str(download / name), "--source", url, "--raw-dir", str(raw))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("added:"), proc.stdout
    rows = load_sources(raw)
    assert rows[: len(before_rows)] == before_rows
    assert len(rows) == len(before_rows) + 1
    new = rows[-1]
    assert (new.file, new.agency, new.year, new.edition) == (name, meta["agency"], meta["year"], "2021")
    assert meta["edition"].startswith("2021")
    assert (new.source, new.kind, new.sha256) == (url, "original", meta["sha256"])
    assert (raw / name).read_bytes() == (download / name).read_bytes()
    assert verify_sources(raw) == []

    table = (raw / "sources.csv").read_bytes()
    again = run_cli("add", str(download / name), "--raw-dir", str(raw))
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith("duplicate:") and name in again.stdout, again.stdout
    assert (raw / "sources.csv").read_bytes() == table
    assert sorted(p.name for p in raw.iterdir()) == sorted(before_files + [name])
