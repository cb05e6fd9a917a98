"""``python -m helpers release``: a Frictionless Data Package with Stata files, built
from a small copy of data/raw, validated, reread and compared with the processed tables."""

from __future__ import annotations

import csv
import hashlib
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import helpers
from helpers import codebook
from helpers.build import build
from helpers.release import STATA_TABLES, ReleaseError, release, stata_name
from helpers.sources import sha256_file

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "data" / "raw"
FILES = ("hongze_2023.transcribed.txt", "pingtan_2020.transcribed.txt", "shanghai_office_2019.transcribed.txt",
         "yindu_office_2024.txt")


def _small_raw(tmp: Path) -> Path:
    raw = tmp / "raw"
    raw.mkdir()
    with open(RAW / "sources.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = [r for r in reader if r["file"] in FILES]
        header = reader.fieldnames
    with open(raw / "sources.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    for name in FILES:
        shutil.copyfile(RAW / name, raw / name)
    return raw


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("release")
    raw = _small_raw(tmp)
    processed = tmp / "processed"
    build(raw, processed, progress=False)
    out = release(processed, tmp / "release", raw=raw)
    return raw, processed, out


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_package_is_valid_frictionless(built) -> None:
    from frictionless import Package, validate

    _, processed, out = built
    report = validate(out / "datapackage.json")
    assert report.valid, report.flatten(["type", "note", "resourceName", "rowNumber", "fieldName"])
    package = Package(out / "datapackage.json")
    names = [r.name for r in package.resources]
    assert names == sorted(p.stem for p in processed.glob("*.csv")) + ["codebook", "stata_variables", "raw_files"]
    assert report.stats["tasks"] == len(names)


def test_description_of_fields_keys_and_statuses(built) -> None:
    import json

    _, processed, out = built
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    res = {r["name"]: r for r in desc["resources"]}
    cb = codebook.load()
    t2 = {f["name"]: f for f in res["t2"]["schema"]["fields"]}
    k = cb.keys["t2.regulations.issued"]
    assert (t2["regulations.issued"]["description"], t2["regulations.issued"]["description_zh"]) == (k.label_en, k.label_zh)
    assert t2["regulations.issued"]["unit"] == "documents" and t2["regulations.issued"]["type"] == "number"
    assert t2["fees.amount"]["unit"] == cb.keys["t2.fees.amount"].unit
    assert res["cells"]["schema"]["primaryKey"] == ["report", "key"]
    assert res["t3"]["schema"]["primaryKey"] == ["report", "row"]
    for name in ("cells", "narrative", "t2", "t3", "t4"):
        assert res[name]["schema"]["foreignKeys"][0] == (
            {"fields": ["report"], "reference": {"resource": "reports", "fields": ["report"]}}
        )
    narrative = {f["name"]: f for f in res["narrative"]["schema"]["fields"]}
    assert narrative["agrees"]["type"] == "boolean" and narrative["value"]["type"] == "number"
    assert narrative["sentence"]["description_zh"] == "报告正文中陈述该数字的句子"
    assert res["codebook"]["schema"]["primaryKey"] == ["key", "editions"]  # a key can differ between editions
    assert t2["normative_documents.published_total"]["stata_name"] == "normdocs_pub_total"
    cell_status = next(f for f in res["cells"]["schema"]["fields"] if f["name"] == "status")
    assert cell_status["constraints"]["enum"] == ["number", "blank", "na_marker", "text", "absent"]
    assert "never read as 0" in cell_status["description"]
    assert all(r["schema"]["missingValues"] == [""] for r in desc["resources"])
    canonical = next(f for f in res["reports"]["schema"]["fields"] if f["name"] == "canonical")
    assert canonical["type"] == "boolean"
    assert res["t2"]["hash"] == "sha256:" + hashlib.sha256((processed / "t2.csv").read_bytes()).hexdigest()


def _stata(path: Path):
    with pd.io.stata.StataReader(path) as reader:
        df = reader.read(convert_categoricals=False)
        return df, reader.variable_labels(), reader.value_labels()


@pytest.mark.parametrize("table", STATA_TABLES)
def test_stata_files_keep_values_and_labels(built, table: str) -> None:
    _, processed, out = built
    df, var_labels, value_labels = _stata(out / "stata" / f"{table}.dta")
    mapping = _csv(out / "stata" / "variables.csv")
    mapping = mapping[mapping["table"] == table]
    src = _csv(processed / f"{table}.csv")
    assert list(df.columns) == list(mapping["stata_name"]) and len(df) == len(src) > 0
    assert all(len(n) <= 32 for n in df.columns)
    cb = codebook.load()
    for m in mapping.itertuples():
        col, name = m.column, m.stata_name
        assert var_labels[name] == (m.label_en if len(m.label_en) <= 80 else m.label_en[:79] + "…")
        if m.codebook_key:
            assert m.label_en == cb.keys[m.codebook_key].label_en and m.label_zh == cb.keys[m.codebook_key].label_zh
        printed = list(src[col])
        got = list(df[name])
        if name in value_labels:
            labels = value_labels[name]
            decoded = [labels[int(v)] for v in got]
            if set(printed) <= {"True", "False"}:
                assert decoded == ["yes" if v == "True" else "no" for v in printed]
            else:
                assert decoded == printed
        elif df[name].dtype.kind in "fi":
            for p, g in zip(printed, got):
                assert (p == "" and math.isnan(g)) or float(p) == g, (table, col, p, g)
        else:
            assert got == printed, (table, col)
    if table == "reports":
        assert value_labels["status"] == {1: "ok", 2: "partial", 3: "failed", 4: "unsupported"}


def test_stata_names_are_short_valid_and_unique() -> None:
    taken: set[str] = set()
    names = [stata_name(c, taken) for c in (
        "normative_documents.published_total", "litigation_after_review.corrected", "year", "in",
        "a" * 40, "a" * 40, "1st", "t3.other.total")]
    assert names[:4] == ["normdocs_pub_total", "lit_review_corrected", "year", "in_"]
    assert names[4] == "a" * 32 and names[5] == "a" * 30 + "_2"
    assert names[6:] == ["v_1st", "t3_other_total"]


def test_provenance_and_checksums(built) -> None:
    raw, _, out = built
    import json

    sources = _csv(out / "sources.csv")
    assert list(sources["file"]) == sorted(FILES)
    assert all(sources["sha256"] == [sha256_file(raw / f) for f in sources["file"]])
    assert all(sources["source"] != "")
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert desc["gidr"]["code_commit"].split("-")[0] == head
    assert desc["version"] == helpers.__version__ and desc["gidr"]["raw_files"] == len(FILES)
    lines = (out / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in lines}
    files = _files(out)
    assert set(listed) == set(files) - {"SHA256SUMS"}
    assert all(hashlib.sha256(files[p]).hexdigest() == h for p, h in listed.items())


def test_rerun_is_byte_identical(built, tmp_path: Path) -> None:
    raw, processed, out = built
    again = release(processed, tmp_path / "again", raw=raw)
    assert _files(again) == _files(out)


def test_extra_tables_and_folders_in_processed_are_described(built, tmp_path: Path) -> None:
    raw, processed, _ = built
    copy = tmp_path / "processed"
    shutil.copytree(processed, copy)
    (copy / "narrative.csv").write_text("report,section,text\nyindu_office_2024.txt,1,概述\n", encoding="utf-8")
    (copy / "cells" / "year=2024").mkdir(parents=True, exist_ok=True)
    (copy / "cells" / "year=2024" / "extra-part.parquet").write_bytes(b"PAR1")
    out = release(copy, tmp_path / "rel", raw=raw)
    from frictionless import validate

    assert validate(out / "datapackage.json").valid
    assert (out / "data" / "narrative.csv").read_bytes() == (copy / "narrative.csv").read_bytes()


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda p: p.write_bytes(p.read_bytes().replace(b"\n", b"\nxx,\xff\xfe,", 1)), r"t2.csv: not UTF-8 text"),
        (lambda p: p.write_text(p.read_text(encoding="utf-8") + "short,row\n", encoding="utf-8"),
         r"t2.csv: line \d+ has 2 fields"),
        (lambda p: p.write_text(p.read_text(encoding="utf-8").replace(",5,", ",five,", 1), encoding="utf-8"),
         r"t2.csv: line 2, column [a-z_.]+: 'five' is not a number"),
        (lambda p: p.write_text("agency,year\n", encoding="utf-8"), r"t2.csv: missing column\(s\) report"),
    ],
)
def test_corrupt_table_is_named_and_nothing_is_written(built, tmp_path: Path, corrupt, message) -> None:
    raw, processed, _ = built
    copy = tmp_path / "processed"
    shutil.copytree(processed, copy)
    out = release(copy, tmp_path / "rel", raw=raw)
    before = _files(out)
    corrupt(copy / "t2.csv")
    with pytest.raises(ReleaseError, match=message):
        release(copy, out, raw=raw)
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed", "rel"]


def test_cli_release_reports_a_corrupt_table(built, tmp_path: Path) -> None:
    raw, processed, _ = built
    copy = tmp_path / "processed"
    shutil.copytree(processed, copy)
    (copy / "reports.csv").write_text("report,sha256,status\na,b,ok\na,b,ok\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "release", "--processed", str(copy), "--out", str(tmp_path / "rel")],
        capture_output=True, text=True, cwd=REPO,
    )
    assert run.returncode == 1
    assert f"{copy / 'reports.csv'}: line 3: primary key ('a',) repeats line 2" in run.stderr
    assert not (tmp_path / "rel").exists()


def test_citation_file_is_cff_1_2() -> None:
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert cff["version"] == helpers.__version__
    assert cff["title"] and cff["message"] and cff["type"] == "software"
    assert cff["authors"] and all("name" in a or "family-names" in a for a in cff["authors"])


def test_long_strings_go_to_strl_and_read_back(built, tmp_path: Path) -> None:
    raw, processed, _ = built
    copy = tmp_path / "processed"
    shutil.copytree(processed, copy)
    reports = _csv(copy / "reports.csv")
    reports.loc[0, "level"] = "县级" * 800  # 4,800 bytes, over the 2,045 of a fixed-width Stata string
    reports.to_csv(copy / "reports.csv", index=False, lineterminator="\n")
    out = release(copy, tmp_path / "rel", raw=raw)
    df, _, _ = _stata(out / "stata" / "reports.dta")
    assert df.loc[0, "level"] == "县级" * 800 and list(df["report"]) == list(reports["report"])


def test_a_file_holding_several_reports_is_listed_once_as_a_raw_file(built, tmp_path: Path) -> None:
    raw, processed, _ = built
    copy = tmp_path / "processed"
    shutil.copytree(processed, copy)
    reports = _csv(copy / "reports.csv")
    part = reports[reports["report"] == "yindu_office_2024.txt"].copy()
    reports.loc[reports["report"] == "yindu_office_2024.txt", "report"] = "yindu_office_2024.txt#1"
    part["report"] = "yindu_office_2024.txt#2"
    pd.concat([reports, part]).to_csv(copy / "reports.csv", index=False, lineterminator="\n")
    for name in ("cells", "issues", "t2", "t3", "t4"):
        t = _csv(copy / f"{name}.csv")
        t.loc[t["report"] == "yindu_office_2024.txt", "report"] = "yindu_office_2024.txt#1"
        t.to_csv(copy / f"{name}.csv", index=False, lineterminator="\n")
    out = release(copy, tmp_path / "rel", raw=raw)
    sources = _csv(out / "sources.csv")
    assert list(sources["file"]) == sorted(FILES)
    assert sources.set_index("file").loc["yindu_office_2024.txt", "sha256"] == sha256_file(raw / "yindu_office_2024.txt")
