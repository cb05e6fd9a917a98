"""Writing one processed table: CSV, Parquet and Parquet partitioned by year.

Every table of ``data/processed`` is written three ways from the same Arrow
data (:class:`TableWriter`): ``name.csv``, ``name.parquet`` and
``name/year=Y/part-0.parquet`` (:mod:`helpers.partitions`).  A table can be
written whole (:func:`write_table`, from a DataFrame) or batch by batch, so
that the largest table (``cells``: about 200 rows per report) never has to be
held whole in memory.  The same rows in the same batches give byte-identical
files.

The CSV is UTF-8 with ``\\n`` line ends, written by Arrow: text values are
quoted (so a missing value, an empty field, stays apart from an empty text,
``""``), booleans are ``True``/``False`` (what :mod:`helpers.release` reads),
numbers as Arrow prints them (a whole float without ``.0``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .partitions import PartitionWriter

__all__ = ["TableWriter", "write_table", "csv_ready"]


def csv_ready(table: pa.Table) -> pa.Table:
    """``table`` as the CSV shows it: booleans as ``True``/``False``."""
    for i, f in enumerate(table.schema):
        if pa.types.is_boolean(f.type):
            table = table.set_column(i, f.name, pc.if_else(table.column(i), "True", "False"))
    return table


class TableWriter:
    """One table written batch by batch to ``folder``: CSV, Parquet, year
    partitions (the year is the ``year`` column, else the report's year in
    ``year_of_report``).  Use as a context manager, or call :meth:`close`."""

    def __init__(self, folder: Path, name: str, schema: pa.Schema, year_of_report: Mapping[str, int | None] | None = None):
        self.schema = schema
        csv_schema = csv_ready(schema.empty_table()).schema
        self.csv = pacsv.CSVWriter(folder / f"{name}.csv", csv_schema, write_options=pacsv.WriteOptions(quoting_style="needed"))
        self.parquet = pq.ParquetWriter(folder / f"{name}.parquet", schema, compression="zstd")
        self.parts = PartitionWriter(folder, name, schema, year_of_report)
        self.closed = False

    def write(self, table: pa.Table | pd.DataFrame) -> None:
        """Append rows (an Arrow table, or a DataFrame with the table's columns)."""
        if isinstance(table, pd.DataFrame):
            table = pa.Table.from_pandas(table, schema=self.schema, preserve_index=False)
        elif table.schema != self.schema:
            table = table.cast(self.schema)
        self.csv.write_table(csv_ready(table))
        self.parquet.write_table(table)
        self.parts.write(table)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.csv.close()
            self.parquet.close()
            self.parts.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_table(df: pd.DataFrame, folder: Path, name: str, year_of_report: Mapping[str, int | None] | None = None) -> None:
    """``df`` written whole (one conversion to Arrow for all three forms)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    with TableWriter(folder, name, table.schema, year_of_report) as w:
        w.write(table)
