"""helpers.outputs: one table written whole or batch by batch gives the same files' content."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from helpers.outputs import TableWriter, write_table
from helpers.partitions import NULL, partition_years, read_partitioned


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "report": pd.Series(["a.txt", "a.txt", "b.pdf", "c.html", "c.html"], dtype="str"),
            "year": pd.array([2023, 2023, None, 2021, 2021], dtype="Int64"),
            "value": [4.0, None, 0.5, 12.0, 0.0],
            "printed": pd.Series(["4", "", None, "12", "0"], dtype="str"),
            "flag": [True, False, True, False, True],
        }
    )


def test_csv_format(tmp_path: Path) -> None:
    write_table(_frame(), tmp_path, "t")
    lines = (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == '"report","year","value","printed","flag"'
    # a whole float without .0, an empty text quoted, a missing value empty, booleans as True/False
    assert lines[1] == '"a.txt",2023,4,"4","True"'
    assert lines[2] == '"a.txt",2023,,"","False"'
    assert lines[3] == '"b.pdf",,0.5,,"True"'


def test_batches_give_the_whole_table(tmp_path: Path) -> None:
    df = _frame()
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    whole.mkdir()
    parts.mkdir()
    write_table(df, whole, "t")
    table = pa.Table.from_pandas(df, preserve_index=False)
    with TableWriter(parts, "t", table.schema) as w:
        for start in (0, 2, 3):
            w.write(table.slice(start, {0: 2, 2: 1, 3: 2}[start]))
    assert (whole / "t.csv").read_bytes() == (parts / "t.csv").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(whole / "t.parquet"), pd.read_parquet(parts / "t.parquet"))
    assert partition_years(parts / "t") == partition_years(whole / "t") == ["2021", "2023", NULL]
    for year in (2021, 2023):
        a = read_partitioned(whole / "t", years=[year])
        b = read_partitioned(parts / "t", years=[year])
        pd.testing.assert_frame_equal(a, b)
        assert list(b["report"]) == list(df.loc[df["year"] == year, "report"])


def test_year_of_report_and_empty_table(tmp_path: Path) -> None:
    df = _frame().drop(columns=["year"])
    write_table(df, tmp_path, "t", {"a.txt": 2020, "b.pdf": None, "c.html": 2022})
    assert partition_years(tmp_path / "t") == ["2020", "2022", NULL]
    assert list(read_partitioned(tmp_path / "t", years=[2022])["report"]) == ["c.html", "c.html"]
    write_table(df.iloc[0:0], tmp_path, "empty")
    assert partition_years(tmp_path / "empty") == [NULL]
    assert list(pd.read_parquet(tmp_path / "empty.parquet").columns) == list(df.columns)
