"""Processed tables as Parquet partitioned by report year.

Next to each flat table (``cells.csv``, ``cells.parquet``) the build writes
``cells/year=2023/part-0.parquet``, one file per report year (Hive layout; a
report without a year goes to ``year=__HIVE_DEFAULT_PARTITION__``), so a study
of some years reads only their files.  :class:`PartitionWriter` cuts every
batch of a table by year and appends it to its year's file, all written with
the table's one schema (and its pandas metadata: dtypes come back as they
were); rows keep their order within a partition.  Tables without a year column
(``cells``, ``issues``, ``narrative``) are partitioned by the year of their
report; the year is then only in the path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

NULL = "__HIVE_DEFAULT_PARTITION__"
FILE = "part-0.parquet"

__all__ = ["PartitionWriter", "read_partitioned", "partition_years", "year_groups", "NULL"]


def _labels(years: pd.Series) -> pd.Series:
    """The partition value of each row: the year as text, NULL when missing."""
    out = pd.Series(NULL, index=years.index, dtype=object)
    known = years.notna()
    out[known] = years[known].astype("int64").astype(str)
    return out


def year_groups(table: pa.Table, year_of_report: Mapping[str, int | None] | None = None) -> list[tuple[str, np.ndarray | None]]:
    """The rows of ``table`` by partition value, in the order of the values:
    ``[(value, row indices), …]`` (indices None: every row).  The year is the
    ``year`` column, else ``year_of_report[report]``; NULL where unknown.
    Years are looked up once per distinct report and grouped as integers."""
    names = table.column_names
    if "year" in names:
        labels = _labels(pd.to_numeric(pd.Series(table.column("year").to_numpy(zero_copy_only=False)), errors="coerce")).to_numpy()
        codes, values = pd.factorize(labels)
    elif "report" in names:
        encoded = table.column("report").combine_chunks().dictionary_encode()
        lookup = {r: y for r, y in (year_of_report or {}).items() if y is not None and not pd.isna(y)}
        per_report = _labels(pd.to_numeric(pd.Series(encoded.dictionary.to_pylist(), dtype=object).map(lookup), errors="coerce")).to_numpy()
        report_codes, values = pd.factorize(per_report)
        codes = report_codes[encoded.indices.to_numpy(zero_copy_only=False)] if len(per_report) else np.zeros(0, dtype=np.intp)
    else:
        return [(NULL, None)] if table.num_rows else []
    if len(values) == 1:
        return [(str(values[0]), None)]
    order = np.argsort(np.asarray(values, dtype=str), kind="stable")
    return [(str(values[k]), np.flatnonzero(codes == k)) for k in order]


class PartitionWriter:
    """``folder/name/year=Y/part-0.parquet`` for every year, written batch by
    batch (one Parquet writer per year, opened when its first row comes).  A
    table without rows gives one empty partition
    (``year=__HIVE_DEFAULT_PARTITION__``) so that its schema is still recorded."""

    def __init__(self, folder: Path, name: str, schema: pa.Schema, year_of_report: Mapping[str, int | None] | None = None):
        self.root = folder / name
        self.root.mkdir(parents=True, exist_ok=True)
        self.schema = schema
        self.year_of_report = year_of_report
        self.writers: dict[str, pq.ParquetWriter] = {}

    def _writer(self, value: str) -> pq.ParquetWriter:
        w = self.writers.get(value)
        if w is None:
            part = self.root / f"year={value}"
            part.mkdir()
            w = self.writers[value] = pq.ParquetWriter(part / FILE, self.schema, compression="zstd")
        return w

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        for value, rows in year_groups(table, self.year_of_report):
            self._writer(value).write_table(table if rows is None else table.take(pa.array(rows)))

    def close(self) -> None:
        if not self.writers:
            self._writer(NULL)
        for w in self.writers.values():
            w.close()


def partition_years(folder: Path) -> list[str]:
    """The partition values present under ``folder`` (``2023``, …, ``__HIVE_DEFAULT_PARTITION__``)."""
    return sorted(p.name.removeprefix("year=") for p in folder.iterdir() if p.is_dir() and p.name.startswith("year="))


def read_partitioned(folder: Path, columns: Sequence[str] | None = None, years: Iterable[int] | None = None) -> pd.DataFrame:
    """Rows of the partitions of ``years`` (all when None), ``columns`` only,
    partitions in year order (no year last), rows in their order within each."""
    present = partition_years(folder)
    if years is not None:
        wanted = {str(int(y)) for y in years}
        present = [v for v in present if v in wanted]
    else:  # numeric order, the partition of reports without a year last
        present = sorted(present, key=lambda v: (v == NULL, int(v) if v != NULL else 0))
    files = [folder / f"year={v}" / FILE for v in present]
    if not files:  # no partition selected: an empty frame with the table's columns and dtypes
        any_file = next(iter(sorted(folder.glob(f"year=*/{FILE}"))))
        return pq.read_table(any_file, columns=None if columns is None else list(columns)).slice(0, 0).to_pandas()
    tables = [pq.read_table(f, columns=None if columns is None else list(columns)) for f in files]
    return pa.concat_tables(tables).to_pandas()

