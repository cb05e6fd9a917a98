"""Processed tables partitioned by report year, the research loader reading
them, and files holding several reports (one report id per part)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from helpers.build import OUTPUTS, build
from helpers.partitions import NULL
from helpers.research.load import load
from helpers.sources import FIELDS, sha256_file

REPO_ROOT = Path(__file__).resolve().parent.parent
RAW = REPO_ROOT / "data" / "raw"
COMPILATION = ("hongze_2024", "huaian_2024", "sh_kewei_2024")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parts") / "processed"
    build(RAW, out, progress=False, cache_dir=None)
    return out


def year_of_report(out: Path) -> dict[str, int | None]:
    rep = pd.read_parquet(out / "reports.parquet")
    return {r: (None if pd.isna(y) else int(y)) for r, y in zip(rep["report"], rep["year"])}


@pytest.mark.parametrize("name", OUTPUTS)
def test_partitions_hold_exactly_the_rows_of_their_year(built, name):
    flat = pd.read_parquet(built / f"{name}.parquet")
    years = year_of_report(built)
    folders = sorted(p.name for p in (built / name).iterdir())
    assert folders and all(f.startswith("year=") for f in folders)
    total = 0
    for folder in folders:
        value = folder.removeprefix("year=")
        part = pq.read_table(built / name / folder / "part-0.parquet").to_pandas()
        ys = part["year"] if "year" in part.columns else part["report"].map(years)
        want = None if value == NULL else int(value)
        assert all((pd.isna(y) and want is None) or y == want for y in ys), (name, folder)
        # same rows, same order, same dtypes as the flat table restricted to that year
        flat_ys = flat["year"] if "year" in flat.columns else flat["report"].map(years)
        mask = flat_ys.isna() if want is None else flat_ys == want
        expected = flat[mask.fillna(False).astype(bool)].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, expected)
        total += len(part)
    assert total == len(flat)


def test_load_reads_only_the_years_and_columns_asked_for(built):
    t3 = load("t3", ["report", "year", "row", "total"], processed=built, years=[2023, 2024])
    assert list(t3.columns) == ["report", "year", "row", "total"]
    assert set(t3["year"]) == {2023, 2024}
    flat = load("t3", ["report", "year", "row", "total"], processed=built)
    expected = flat[flat["year"].isin([2023, 2024])].sort_values("year", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(t3, expected)
    cells = load("cells", ["report", "value"], processed=built, years=2019)
    assert set(cells["report"]) == {"pingtan_2019.transcribed.txt", "shanghai_office_2019.transcribed.txt"}
    reports = load("reports", ["report"], processed=built, years=[2025])
    assert sorted(reports["report"]) == sorted(r for r, y in year_of_report(built).items() if y == 2025)


def test_a_file_of_several_reports_gives_one_report_id_per_part(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    text = "".join((RAW / f"{n}.transcribed.txt").read_text(encoding="utf-8") + "\n" for n in COMPILATION)
    name = "compilation_2024.txt"
    (raw / name).write_text(text, encoding="utf-8")
    with open(raw / "sources.csv", "a", encoding="utf-8", newline="") as f:
        row = {k: "" for k in FIELDS}
        # the file's row names one agency and year: they must not be applied to every part
        row.update(file=name, sha256=sha256_file(raw / name), kind="transcription", agency="上海市科学技术委员会",
                   year="2023", source="test", retrieved="2026-01-01")
        csv.DictWriter(f, fieldnames=list(FIELDS), lineterminator="\n").writerow(row)
    out = tmp_path / "processed"
    build(raw, out, progress=False, cache_dir=None)
    rep = pd.read_csv(out / "reports.csv", dtype=str, keep_default_na=False).set_index("report")
    parts = [f"{name}#{k}" for k in (1, 2, 3)]
    assert all(p in rep.index for p in parts) and name not in rep.index
    assert list(rep.loc[parts, "agency"]) == ["淮安市洪泽区人民政府", "淮安市人民政府", "上海市科学技术委员会"]
    assert list(rep.loc[parts, "year"]) == ["2024"] * 3
    # each part is the same report as its file alone: set aside as a duplicate, agreeing with it
    for k, n in enumerate(COMPILATION, start=1):
        part = rep.loc[f"{name}#{k}"]
        alone = rep.loc[f"{n}.transcribed.txt"]
        assert part["identity"] == alone["identity"]
        assert {part["canonical"], alone["canonical"]} == {"True", "False"}
        assert "disagrees" not in (part["agreement"], alone["agreement"])
    cells = pd.read_csv(out / "cells.csv", dtype=str, keep_default_na=False)
    for k, n in enumerate(COMPILATION, start=1):
        a = cells[cells["report"] == f"{name}#{k}"].drop(columns="report").reset_index(drop=True)
        b = cells[cells["report"] == f"{n}.transcribed.txt"].drop(columns="report").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
