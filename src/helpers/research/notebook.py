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

from . import metrics as _metrics
from . import plots
from .export import export_table
from .load import corpus, duplicates_set_aside, load, reports_dir


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
        return df[df["report"].isin(self.ids)].reset_index(drop=True) if "report" in df.columns else df

    def metrics(self, ids=None, *, exclude_failing: bool = False) -> pd.DataFrame:
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
        export_table(df, self.name(stem), out_dir=self.tables, caption=caption, latex=latex)
        return df

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
