"""One agency-year, one record: identity, canonical file, cross-source comparison.

Real pairs from the shared corpus are added to a raw folder under pytest's
tmp_path with the project's own ``add`` (function and command line), built,
and the ``reports``, ``issues`` and wide tables checked.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers.build import build
from helpers.extract import extract_path
from helpers.identity import (
    SourceRecord,
    choose_canonical,
    compare_cells,
    identity,
    normalize_agency,
    parse_agency,
    resolve,
    same_agency,
)
from helpers.result import CellValue
from helpers.sources import add_report, load_sources

REPO_ROOT = Path(__file__).resolve().parent.parent
RAW = REPO_ROOT / "data" / "raw"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
    )


def _detect(path: Path):
    return extract_path(str(path))


def _download(shared_dir: Path, tmp: Path, rel: str, name: str | None = None) -> Path:
    """A copy of a corpus file in a downloads folder under tmp (never in the repository)."""
    folder = tmp / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / (name or Path(rel).name)
    shutil.copyfile(shared_dir / "corpus" / rel, dest)
    return dest


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _build(raw: Path, out: Path) -> dict[str, pd.DataFrame]:
    summary = build(raw, out, progress=False)
    frames = {n: pd.read_parquet(out / f"{n}.parquet") for n in ("reports", "cells", "issues", "t2", "t3", "t4")}
    frames["summary"] = summary  # type: ignore[assignment]
    return frames


# ---------------------------------------------------------------------------
# agency names


@pytest.mark.parametrize(
    "a, b",
    [
        ("上海市科委", "上海市科学技术委员会"),
        ("沭阳县发改局", "沭阳县发展和改革局"),
        ("淮安市洪泽区人民政府", "洪泽区人民政府"),
        ("江苏省淮安市洪泽区人民政府", "洪泽区人民政府"),
        ("洪泽区政府", "洪泽区人民政府"),
        ("洪泽区", "洪泽区人民政府"),
        ("江苏省淮安市人民政府", "淮安市人民政府"),
        ("安阳市殷都区政府办", "殷都区人民政府办公室"),
        (" 上海市 人民政府办公厅 ", "上海市人民政府办公厅"),
        ("（上海市科委）", "上海市科学技术委员会"),
        ("沐阳县人民政府", "沭阳县人民政府"),  # the misprint of the 2025 text rendering
        ("平潭综合实验区", "平潭综合实验区"),
    ],
)
def test_same_organ_under_full_and_short_names(a, b):
    assert normalize_agency(a) == normalize_agency(b)
    assert same_agency(a, b)
    assert identity(a, 2023) == identity(b, "2023")


@pytest.mark.parametrize(
    "a, b",
    [
        ("上海市人民政府办公厅", "上海市人民政府"),  # the office is not the government
        ("殷都区人民政府办公室", "殷都区人民政府"),
        ("淮安市人民政府", "淮安市洪泽区人民政府"),
        ("淮安市人民政府", "江苏省人民政府"),
        ("上海市科学技术委员会", "上海市人民政府"),
        ("沭阳县发展和改革局", "沭阳县人民政府"),
        ("南京市鼓楼区人民政府", "福州市鼓楼区人民政府"),  # one name, two cities
        ("淮安市经济技术开发区管委会", "苏州市经济技术开发区管委会"),  # a generic unit keeps its city
    ],
)
def test_different_organs_stay_apart(a, b):
    assert not same_agency(a, b)


def test_prefixes_dropped_only_before_a_smaller_unit():
    p = parse_agency("江苏省淮安市洪泽区人民政府")
    assert (p.province, p.city, p.unit, p.organ) == ("江苏省", "淮安市", "洪泽区", "人民政府")
    assert p.core == "洪泽区人民政府" and p.dropped == ("江苏省", "淮安市")
    assert normalize_agency("上海市人民政府办公厅") == "上海市人民政府办公厅"
    assert normalize_agency("上海市科学技术委员会") == "上海市科学技术委员会"
    assert normalize_agency("淮安市市场监督管理局") == "淮安市市场监督管理局"
    assert normalize_agency("淮安市经济技术开发区管理委员会") == "淮安市经济技术开发区管理委员会"
    assert normalize_agency("") is None and normalize_agency(None) is None


def test_normalisation_is_data_not_code():
    data = REPO_ROOT / "src" / "helpers" / "data"
    aliases = {r["alias"]: r["name"] for r in _rows(data / "agency_aliases.csv")}
    assert aliases["上海市科委"] == "上海市科学技术委员会"
    assert aliases["沭阳县发改局"] == "沭阳县发展和改革局"
    rules = {r["rule"] for r in _rows(data / "agency_rules.csv")}
    assert {"province_suffix", "city_suffix", "unit_suffix", "generic_unit", "organ"} <= rules


def test_identity_key():
    assert identity("淮安市洪泽区人民政府", 2023) == "洪泽区人民政府|2023"
    assert identity("洪泽区人民政府", 2023, part=2) == "洪泽区人民政府|2023|2"
    assert identity(None, 2023, file="x.pdf") == "?|x.pdf"
    assert identity("洪泽区", None, file="y.pdf") == "?|y.pdf"
    with pytest.raises(ValueError):
        identity("", 2023)


def test_prefix_conflict_in_a_corpus_keeps_the_cities_apart():
    recs = [
        SourceRecord("a.txt", "南京市鼓楼区人民政府", 2023),
        SourceRecord("b.txt", "福州市鼓楼区人民政府", 2023),
        SourceRecord("c.txt", "鼓楼区人民政府", 2023),
        SourceRecord("d.txt", "淮安市洪泽区人民政府", 2023),
        SourceRecord("e.txt", "洪泽区人民政府", 2023),
    ]
    res = resolve(recs).by_report
    assert len({res[f"{x}.txt"].identity for x in "abc"}) == 3
    assert res["d.txt"].identity == res["e.txt"].identity == "洪泽区人民政府|2023"


# ---------------------------------------------------------------------------
# canonical rule and comparison rule (hand-made records)


def _rec(report, kind="original", status="ok", n_numbers=200, n_errors=0):
    return SourceRecord(report, "洪泽区人民政府", 2023, kind=kind, status=status, n_numbers=n_numbers, n_errors=n_errors)


def test_canonical_rule_order():
    # an original before a transcription, even a less complete one
    assert choose_canonical([_rec("t", "transcription"), _rec("o", status="partial", n_numbers=150)]).report == "o"
    # but never an original from which nothing was read over a readable file
    assert choose_canonical([_rec("t", "transcription"), _rec("o", status="failed", n_numbers=0)]).report == "t"
    # ok before partial, then more numbers, then fewer errors, then the name
    assert choose_canonical([_rec("p", status="partial", n_numbers=210), _rec("q")]).report == "q"
    assert choose_canonical([_rec("a", n_numbers=190), _rec("b")]).report == "b"
    assert choose_canonical([_rec("a", n_errors=2), _rec("b", n_errors=1)]).report == "b"
    assert choose_canonical([_rec("b"), _rec("a")]).report == "a"
    # deterministic whatever the order given
    recs = [_rec("z"), _rec("y", "transcription"), _rec("x", status="partial")]
    assert choose_canonical(recs) is choose_canonical(list(reversed(recs)))
    with pytest.raises(ValueError):
        choose_canonical([])


def test_comparison_rule():
    n = lambda v: CellValue(v, "number", str(v))  # noqa: E731
    blank = CellValue(None, "blank", "")
    dash = CellValue(None, "na_marker", "-")
    text = CellValue(None, "text", "801000081")
    absent = CellValue(None, "absent", "")
    a = {"k1": n(5), "k2": n(5), "k3": n(0), "k4": n(3), "k5": blank, "k6": text, "k7": absent, "k8": n(1), "k9": dash}
    b = {"k1": n(5), "k2": n(6), "k3": blank, "k4": dash, "k5": dash, "k6": n(4), "k7": absent, "k8": absent, "k9": blank}
    c = compare_cells(a, b)
    assert c.agreeing == ["k1", "k5", "k9"]
    assert c.disagreeing == ["k2", "k4"]
    assert c.presentation == ["k3"]
    assert c.not_compared == ["k6", "k8"]  # k7 absent in both: skipped
    assert c.verdict == "disagrees"
    same = compare_cells({"k1": n(5), "k3": n(0)}, {"k1": n(5.0), "k3": blank})
    assert same.verdict == "agrees"
    partial = compare_cells({"k1": n(5), "k2": n(1)}, {"k1": n(5), "k2": text})
    assert partial.verdict == "not_compared"
    assert compare_cells({}, {}).verdict == "not_compared"


# ---------------------------------------------------------------------------
# real pairs from the shared corpus


@pytest.fixture(scope="module")
def pairs(shared_dir, tmp_path_factory):
    """A raw folder made with ``add``: the transcriptions first (kind
    transcription), then the HTML original of 平潭 2021 and the PDF original of
    洪泽区 2023 by the command line (which warns), then built."""
    tmp = tmp_path_factory.mktemp("pairs")
    raw = tmp / "raw"
    t1 = _download(shared_dir, tmp, "transcribed/pingtan_2021.txt", "pingtan_2021_transcribed.txt")
    t2 = _download(shared_dir, tmp, "transcribed/hongze_2023.txt", "hongze_2023_transcribed.txt")
    out = add_report(raw, [t1, t2], source_url="transcribed by hand", detect=_detect, kind="transcription")
    assert [o.status for o in out] == ["added", "added"]
    assert all(not o.warnings for o in out)
    html = _download(shared_dir, tmp, "originals/pingtan_2021.html")
    pdf = _download(shared_dir, tmp, "originals/hongze_2023.pdf")
    proc = run_cli("add", str(html), str(pdf), "--raw-dir", str(raw), "--source", "https://example.gov.cn/report")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    frames = _build(raw, tmp / "processed")
    return {"raw": raw, "proc": proc, "out": tmp / "processed", **frames}


def test_add_warns_naming_the_file_already_present(pairs):
    proc = pairs["proc"]
    assert proc.stdout.count("added:") == 2, proc.stdout
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, proc.stderr
    assert "pingtan_2021_transcribed.txt" in warnings[0] and "平潭综合实验区人民政府|2021" in warnings[0]
    assert "hongze_2023_transcribed.txt" in warnings[1] and "洪泽区人民政府|2023" in warnings[1]
    files = [r.file for r in load_sources(pairs["raw"])]
    assert files == ["pingtan_2021_transcribed.txt", "hongze_2023_transcribed.txt", "pingtan_2021.html", "hongze_2023.pdf"]


def test_duplicates_detected_and_canonical_chosen_by_the_rule(pairs):
    rep = pairs["reports"].set_index("report")
    assert list(pairs["reports"]["report"]) == sorted(rep.index)
    new_cols = ["identity", "canonical", "duplicate_of", "n_sources", "agreement", "agency_known"]
    assert list(pairs["reports"].columns[-len(new_cols):]) == new_cols
    for original, copy, key in [
        ("pingtan_2021.html", "pingtan_2021_transcribed.txt", "平潭综合实验区人民政府|2021"),
        ("hongze_2023.pdf", "hongze_2023_transcribed.txt", "洪泽区人民政府|2023"),
    ]:
        assert rep.loc[original, "identity"] == rep.loc[copy, "identity"] == key
        assert bool(rep.loc[original, "canonical"]) and not bool(rep.loc[copy, "canonical"])
        assert rep.loc[original, "duplicate_of"] == "" and rep.loc[copy, "duplicate_of"] == original
        assert rep.loc[original, "n_sources"] == rep.loc[copy, "n_sources"] == 2
        # the HTML page and the PDF print exactly what the transcriptions hold
        assert rep.loc[copy, "agreement"] == "agrees"
        assert rep.loc[original, "agreement"] == "confirmed"
        assert rep.loc[original, "kind"] == "original" and rep.loc[copy, "kind"] == "transcription"
    # 洪泽区 2023: detected as 洪泽区人民政府 from the PDF, listed as 淮安市洪泽区人民政府
    assert rep.loc["hongze_2023.pdf", "agency"] != rep.loc["hongze_2023_transcribed.txt", "agency"]
    assert rep["agency_known"].all()


def test_wide_tables_hold_canonical_records_only(pairs):
    canon = {"pingtan_2021.html", "hongze_2023.pdf"}
    for t in ("t2", "t3", "t4"):
        assert set(pairs[t]["report"]) == canon, t
    assert set(pairs["cells"]["report"]) == set(pairs["reports"]["report"])  # every file's printed layer
    assert "2 duplicate(s) set aside" in pairs["summary"].text()


def test_agreement_recorded_as_issues(pairs):
    iss = pairs["issues"]
    dup = iss[iss["rule"] == "source.duplicate"]
    assert set(dup["report"]) == {"pingtan_2021_transcribed.txt", "hongze_2023_transcribed.txt"}
    assert (dup["severity"] == "info").all()
    msg = dup.set_index("report").loc["pingtan_2021_transcribed.txt", "message"]
    assert "pingtan_2021.html" in msg and "agrees" in msg and "200 cell(s) agree" in msg
    assert not (iss["rule"] == "source.disagreement").any()
    # the duplicates' own extraction issues stay recorded; the cross-source
    # issues name both files
    assert dup["message"].str.contains("set aside as a duplicate of").all()


def test_validate_shows_the_new_issues(pairs):
    proc = run_cli("validate", "--processed", str(pairs["out"]))
    assert proc.returncode == 0, proc.stderr
    assert "source.duplicate" in proc.stdout
    fresh = run_cli("validate", "--fresh", "--raw", str(pairs["raw"]), "--processed", str(pairs["out"] / "none"))
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.count("source.duplicate") == 2


def test_rebuild_is_byte_identical(pairs, tmp_path):
    build(pairs["raw"], tmp_path / "again", progress=False)
    for p in sorted(q for q in pairs["out"].rglob("*") if q.is_file()):
        rel = p.relative_to(pairs["out"])
        assert (tmp_path / "again" / rel).read_bytes() == p.read_bytes(), rel


def test_one_changed_cell_is_a_disagreement_with_both_values(shared_dir, tmp_path):
    raw = tmp_path / "raw"
    html = _download(shared_dir, tmp_path, "originals/pingtan_2021.html")
    text = (shared_dir / "corpus" / "transcribed" / "pingtan_2021.txt").read_text(encoding="utf-8")
    assert text.count("行政许可\t2293") == 1
    changed = tmp_path / "downloads" / "pingtan_2021_mirror.txt"
    changed.write_text(text.replace("行政许可\t2293", "行政许可\t2294"), encoding="utf-8")
    add_report(raw, [html], detect=_detect)
    out = add_report(raw, [changed], detect=_detect, kind="transcription")
    assert out[0].same_identity == ("pingtan_2021.html",)
    f = _build(raw, tmp_path / "processed")
    rep = f["reports"].set_index("report")
    assert rep.loc["pingtan_2021.html", "agreement"] == "disputed"
    assert rep.loc["pingtan_2021_mirror.txt", "agreement"] == "disagrees"
    assert rep.loc["pingtan_2021_mirror.txt", "duplicate_of"] == "pingtan_2021.html"
    dis = f["issues"][f["issues"]["rule"] == "source.disagreement"]
    assert len(dis) == 1
    row = dis.iloc[0]
    assert row["severity"] == "error"
    assert row["cells"] == "t2.licensing.decisions"
    assert (row["expected"], row["actual"]) == (2293.0, 2294.0)
    for part in ("pingtan_2021.html", "pingtan_2021_mirror.txt", "2293", "2294", "行政许可", "t2.licensing.decisions"):
        assert part in row["message"], part
    # the canonical value is the one used
    assert f["t2"].set_index("report").loc["pingtan_2021.html", "licensing.decisions"] == 2293.0
    assert list(f["t2"]["report"]) == ["pingtan_2021.html"]


def _numeric_sums(frames) -> dict[str, float]:
    sums = {}
    for t in ("t2", "t3", "t4"):
        df = frames[t].drop(columns=["year"])
        for col in df.select_dtypes("number").columns:
            sums[f"{t}.{col}"] = float(df[col].sum())
    t3 = frames["t3"]
    row_col = next(c for c in t3.columns if t3[c].astype(str).eq("total_processed").any())
    sums["t3 total_processed total"] = float(t3.loc[t3[row_col] == "total_processed", "total"].sum())
    return sums


def test_pooled_figures_equal_with_and_without_duplicates(shared_dir, tmp_path):
    transcribed = ["pingtan_2020", "pingtan_2021", "pingtan_2022", "hongze_2023", "hongze_2024", "sh_kewei_2024"]
    duplicates = ["originals/pingtan_2021.html", "originals/pingtan_2021.txt", "originals/hongze_2023.pdf",
                  "originals/pingtan_2022.html", "originals/sh_kewei_2024.md"]
    corpora = {}
    for name, extra in (("single", []), ("with_duplicates", duplicates)):
        raw = tmp_path / name / "raw"
        dl = tmp_path / name
        paths = [_download(shared_dir, dl, f"transcribed/{t}.txt", f"{t}_transcribed.txt") for t in transcribed]
        add_report(raw, paths, detect=_detect, kind="transcription")
        for rel in extra:
            given = {"agency": "上海市科委", "year": "2024"} if rel.endswith(".md") else {}
            proc = run_cli("add", str(_download(shared_dir, dl, rel)), "--raw-dir", str(raw),
                           *[x for k, v in given.items() for x in (f"--{k}", v)])
            assert proc.returncode == 0 and "warning:" in proc.stderr, proc.stdout + proc.stderr
        corpora[name] = _build(raw, tmp_path / name / "processed")
    single, dup = corpora["single"], corpora["with_duplicates"]
    assert len(dup["reports"]) == len(single["reports"]) + len(duplicates)
    assert (~dup["reports"]["canonical"]).sum() == len(duplicates)
    assert len(dup["t3"]) == len(single["t3"]) and len(dup["t4"]) == len(single["t4"])
    a, b = _numeric_sums(single), _numeric_sums(dup)
    assert a.keys() == b.keys()
    assert a == pytest.approx(b, nan_ok=True)
    assert a["t3 total_processed total"] > 0
    # cross-year checks run over canonical files only: the same findings
    chain = lambda fr: sorted(fr["issues"].loc[fr["issues"]["rule"].str.startswith("chain."), ["rule", "cells"]].itertuples(index=False))  # noqa: E731
    assert chain(dup) == chain(single)
    # counting every file would have counted those agency-years twice
    cells = dup["cells"]
    naive = cells[cells["key"] == "t3.total_processed.total"]["value"].sum()
    assert naive > a["t3 total_processed total"]
    # 上海市科委 2024 given on the command line: recorded and matched with the transcription
    rep = dup["reports"].set_index("report")
    assert rep.loc["sh_kewei_2024.md", "agency"] == "上海市科委"
    assert rep.loc["sh_kewei_2024.md", "identity"] == rep.loc["sh_kewei_2024_transcribed.txt", "identity"]
    # 平潭 2021 has three files: the HTML page is canonical; the text rendering,
    # whose three run-together Table 2 cells are unset, is not fully compared
    assert rep.loc["pingtan_2021.html", "n_sources"] == 3
    assert rep.loc["pingtan_2021.txt", "duplicate_of"] == "pingtan_2021.html"
    assert rep.loc["pingtan_2021.txt", "agreement"] == "not_compared"
    assert rep.loc["pingtan_2021.html", "agreement"] == "confirmed"


def test_add_agency_and_year_recorded(shared_dir, tmp_path):
    raw = tmp_path / "raw"
    t = _download(shared_dir, tmp_path, "transcribed/sh_kewei_2024.txt", "sh_kewei_2024_transcribed.txt")
    add_report(raw, [t], detect=_detect, kind="transcription")
    md = _download(shared_dir, tmp_path, "originals/sh_kewei_2024.md")
    assert extract_path(str(md)).agency == "市科委"  # detection alone cannot tell which city
    proc = run_cli("add", str(md), "--raw-dir", str(raw), "--agency", "上海市科委", "--year", "2024")
    assert proc.returncode == 0, proc.stderr
    assert "sh_kewei_2024_transcribed.txt" in proc.stderr and "上海市科学技术委员会|2024" in proc.stderr
    row = load_sources(raw)[-1]
    assert (row.file, row.agency, row.year, row.kind) == ("sh_kewei_2024.md", "上海市科委", "2024", "original")
    bad = run_cli("add", str(md), "--raw-dir", str(raw), "--year", "24")
    assert bad.returncode == 2 and "four-digit year" in bad.stderr
    # identical bytes are still refused, with no identity warning
    again = run_cli("add", str(md), "--raw-dir", str(raw))
    assert again.stdout.startswith("duplicate:") and "warning:" not in again.stderr


def test_agency_missing_reported_and_never_merged(shared_dir, tmp_path):
    raw = tmp_path / "raw"
    docx = _download(shared_dir, tmp_path, "originals/blank_template.docx")
    # two transcriptions without their title: no agency and no year to detect
    stripped = []
    for y in (2021, 2022):
        text = (shared_dir / "corpus" / "transcribed" / f"pingtan_{y}.txt").read_text(encoding="utf-8")
        body = "\n".join(line for line in text.splitlines() if not line.startswith(("#", ">")))
        p = tmp_path / "downloads" / f"untitled_{y}.txt"
        p.write_text(body, encoding="utf-8")
        stripped.append(p)
    out = add_report(raw, [docx, *stripped], detect=_detect)
    for o in out:
        assert o.status == "added" and o.row.agency == ""
        assert any("agency" in w and "not detected" in w for w in o.warnings), o.warnings
    # the same file, its agency and year given: an identity, matching nothing else
    named = tmp_path / "downloads" / "named.txt"
    named.write_text(stripped[0].read_text(encoding="utf-8") + "\n", encoding="utf-8")
    proc = run_cli("add", str(named), "--raw-dir", str(raw), "--agency", "平潭综合实验区", "--year", "2021")
    assert proc.returncode == 0 and "warning:" not in proc.stderr, proc.stderr
    f = _build(raw, tmp_path / "processed")
    rep = f["reports"].set_index("report")
    unknown = ["blank_template.docx", "untitled_2021.txt", "untitled_2022.txt"]
    for r in unknown:
        assert not bool(rep.loc[r, "agency_known"])
        assert bool(rep.loc[r, "canonical"]) and rep.loc[r, "n_sources"] == 1
        assert rep.loc[r, "identity"] == f"?|{r}" and rep.loc[r, "agreement"] == "single"
    assert bool(rep.loc["named_2021.txt", "agency_known"])
    assert rep.loc["named_2021.txt", "identity"] == "平潭综合实验区人民政府|2021"
    miss = f["issues"][f["issues"]["rule"] == "metadata.agency_missing"]
    assert sorted(miss["report"]) == unknown
    assert (miss["severity"] == "warning").all()
    assert "sources.csv" in miss.iloc[0]["message"] and "--agency" in miss.iloc[0]["message"]


def test_repository_raw_data_has_one_record_per_agency_year():
    """The project's own data/raw: every file its own identity, agency known."""
    rows = load_sources(RAW)
    recs = [SourceRecord(r.file, r.agency, r.year_int, kind=r.kind) for r in rows]
    res = resolve(recs)
    assert res.n_duplicates == 0
    assert all(v.agency_known and v.agreement == "single" for v in res.by_report.values())
    assert len({v.identity for v in res.by_report.values()}) == len(rows)
