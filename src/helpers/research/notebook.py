"""What every themed notebook does first and last, in one place.

A notebook opens with::

    study = Study("03", years=YEARS, provinces=PROVINCES, levels=LEVELS, agencies=AGENCIES, lang=LANG)

which applies the figure style and label language, loads the canonical
reports that pass the notebook's corpus filter, and knows where figures and
tables go (``GIDR_REPORTS`` or ``<repository>/reports``).  ``study.figure``
saves a figure as PNG and PDF and shows the saved PNG (so what the notebook
shows is byte for byte what the paper gets); ``study.table`` exports CSV and
LaTeX and returns the table for display.  Text from reports (agency names,
printed cells) reaches the page only through pandas' HTML, which escapes it.
"""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import metrics as _metrics
from . import plots
from .export import LISTING_ROWS, PER_UNIT_LIMIT, export_table, listing
from .load import corpus, duplicates_set_aside, load, member, processed_dir, reports_dir


class Study:
    def __init__(self, prefix: str, *, years=None, provinces=None, levels=None, agencies=None, lang: str = "zh", processed=None):
        self.prefix = prefix
        self.processed = processed
        self.lang = plots.setup(lang)
        self.reports = corpus(years, provinces, levels, agencies, processed=processed)
        out = reports_dir()
        self.figures = out / "figures"
        self.tables = out / "tables"

    # -------------------------------------------------------------- data
    @property
    def ids(self) -> set[str]:
        return set(self.reports["report"])

    def load(self, table: str, columns=None) -> pd.DataFrame:
        """A processed table restricted to this study's reports."""
        df = load(table, columns, processed=self.processed)
        return df[member(df["report"], self.ids)].reset_index(drop=True) if "report" in df.columns else df

    def counts(self, table: str, by: list[str], where: dict[str, list] | None = None) -> pd.Series:
        """Rows of a processed table counted by the columns ``by`` (the first
        being ``report``) over this study's reports, optionally only rows whose
        column values are in ``where``.  The counting runs in Arrow, so a
        table of millions of rows (``cells``) is never turned into Python rows."""
        if by[0] != "report":
            raise ValueError("counts() groups by report first")
        cols = list(dict.fromkeys([*by, *(where or {})]))
        tab = pq.read_table(processed_dir(self.processed) / f"{table}.parquet", columns=cols)
        for col, allowed in (where or {}).items():
            tab = tab.filter(pc.is_in(tab[col], value_set=pa.array(list(allowed))))
        grouped = tab.group_by(by).aggregate([([], "count_all")]).to_pandas()
        grouped = grouped[member(grouped["report"], self.ids)]
        return grouped.set_index(by)["count_all"].sort_index().rename(None).astype("int64")

    def metrics(self, ids=None, *, exclude_failing: bool = False) -> pd.DataFrame:
        """The metrics ``ids`` (all when None) per report, in the dictionary's
        order whatever the order of ``ids`` (a notebook names only the metrics
        it uses: a national corpus has 100,000 rows per metric)."""
        if ids is not None:
            wanted = set(ids)
            unknown = wanted - set(_metrics.dictionary()["id"])
            if unknown:
                raise KeyError(f"unknown metrics {sorted(unknown)}; see helpers/data/metrics.csv")
            ids = [m for m in _metrics.dictionary()["id"] if m in wanted]
        return _metrics.compute(
            ids,
            reports=self.reports[["report", "agency", "year", "edition"]],
            t3=self.load("t3"),
            t4=self.load("t4"),
            issues=self.load("issues", ["report", "severity", "rule"]),
            exclude_failing=exclude_failing,
        )

    def describe(self) -> pd.DataFrame:
        """The corpus in one table: reports, agencies, years, editions, and duplicates set aside."""
        r = self.reports
        dups = duplicates_set_aside(self.processed)
        rows = [
            ("reports (canonical agency-years)", len(r)),
            ("agencies", r["agency"].nunique()),
            ("years", f"{r['year'].min()}–{r['year'].max()}" if len(r) else "–"),
            ("first edition (2019) / revised (2021)", f"{(r['edition'].astype(str) == '2019').sum()} / {(r['edition'].astype(str) == '2021').sum()}"),
            ("provinces", r["province"].nunique()),
            ("duplicate files set aside", len(dups)),
        ]
        return pd.DataFrame(rows, columns=["corpus", "value"]).astype({"value": str})

    # ------------------------------------------------------------ output
    def name(self, stem: str) -> str:
        return f"{self.prefix}_{stem}"

    def figure(self, fig, stem: str, width_px: int = 640):
        """Save ``fig`` as ``figures/<prefix>_<stem>.png|pdf`` and show the saved PNG."""
        from IPython.display import Image

        png, _ = plots.savefig(fig, self.name(stem), self.figures)
        plt.close(fig)
        return Image(filename=str(png), width=width_px)

    def table(self, df: pd.DataFrame, stem: str, caption: str, latex: pd.DataFrame | None = None) -> pd.DataFrame:
        """Export ``df`` (CSV: every row; LaTeX: ``latex`` when given, else ``df``,
        cut to its first rows when it has more than ``PER_UNIT_LIMIT``)."""
        if latex is None and len(df) > PER_UNIT_LIMIT:
            latex = df.head(LISTING_ROWS)
            caption = f"{caption} (first {LISTING_ROWS} of {len(df)} rows; the CSV holds every row)"
        export_table(df, self.name(stem), out_dir=self.tables, caption=caption, latex=latex)
        return df

    @staticmethod
    def listing(df: pd.DataFrame) -> pd.DataFrame:
        """A per-report listing for display: all of it for a small corpus, else its first rows (see :func:`export.listing`)."""
        return listing(df)

    def label(self, key: str) -> str:
        return plots.label(key, self.lang)

    def metric_name(self, metric_id: str) -> str:
        m = _metrics.metric(metric_id)
        return m.name_zh if self.lang == "zh" else m.name_en

    def caption(self) -> str:
        return plots.source_line(len(self.reports), self.lang)


def escape(text: object) -> str:
    """Report text for Markdown/HTML output built by hand."""
    return html.escape(str(text))


__all__ = ["Study", "escape"]
