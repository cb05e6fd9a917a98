"""Releasing ``data/processed`` as a documented data package: ``python -m helpers release``.

The release folder (default ``release/``) holds

``datapackage.json``  a Frictionless Data Package describing every flat table of
                      ``data/processed`` (``*.csv``; extra tables that appear there
                      are described too): field types, English and Chinese
                      descriptions (from the codebook for the template cells),
                      units, primary keys, foreign keys to ``reports``, the
                      missing-value marker (an empty field) and what each
                      ``status`` value means; the code version and git commit,
                      and the raw files the data were built from
``data/*.csv``        the tables, byte for byte as the build wrote them
``stata/*.dta``       Stata 14+ files (format 118, Unicode) of the wide tables
                      ``reports``, ``t2``, ``t3``, ``t4`` with variable labels and
                      value labels for statuses and yes/no columns;
                      ``stata/variables.csv`` maps every Stata name (at most 32
                      characters) to its column and codebook key
``codebook.csv``      the codebook (``src/helpers/data/codebook.csv``)
``sources.csv``       the raw files (name, sha256, kind, and where they came from
                      when ``data/raw/sources.csv`` is at hand)
``SHA256SUMS``        the sha256 of every other file (``sha256sum -c SHA256SUMS``)

The same processed data and code give a byte-identical folder: no clock time is
written (Stata's time stamp is fixed), keys and rows are in a fixed order.

Every table is checked before anything is written: readable UTF-8 CSV, the
columns the description needs, numbers where the codebook has numbers, unique
primary keys.  A problem raises :class:`ReleaseError` naming the file (and row
and column), and nothing is written; the folder is built beside the target and
swapped in whole, so a failed run leaves the previous release in place.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__
from . import codebook as _codebook

STATA_TABLES = ("reports", "t2", "t3", "t4")
STATA_TIME = _dt.datetime(2000, 1, 1)
NAME = "gidr-annual-report-tables"
MISSING = ""

STATUS_CELL = {
    "number": "a number was printed; value holds it",
    "blank": "the cell was printed empty; value is missing and is never read as 0 in this layer",
    "na_marker": "a not-applicable marker (/ - — …) was printed; value is missing",
    "text": "text that is not a number (or digits that run together ambiguously) was printed; value is missing",
    "absent": "the row is not printed in this report; value is missing",
}
STATUS_REPORT = {
    "ok": "every table found and every cell recovered",
    "partial": "some tables or cells could not be recovered",
    "failed": "the file could not be read",
    "unsupported": "not a report of the standard template (e.g. before 2019), or a resource limit was reached",
}
SEVERITY = {
    "error": "a failed identity of the template or an extraction error",
    "warning": "a doubtful value or reading",
    "info": "a note",
}
STATUS_CODES = {name: i for i, name in enumerate(STATUS_REPORT, start=1)}

# descriptions of the columns that are not template cells: (English, Chinese)
COLUMNS: dict[str, tuple[str, str]] = {
    "report": ("The raw file the row comes from (its name in data/raw)", "来源文件（data/raw 中的文件名）"),
    "agency": ("Reporting agency (from sources.csv, else detected)", "报告机关（取自 sources.csv，否则为识别结果）"),
    "agency_detected": ("Reporting agency as detected in the text", "从正文识别的报告机关"),
    "year": ("Report year (the year the report covers)", "报告年度"),
    "year_detected": ("Report year as detected in the text", "从正文识别的报告年度"),
    "level": ("Administrative level of the agency (from sources.csv)", "机关层级（取自 sources.csv）"),
    "province": ("Province (from sources.csv)", "所在省份（取自 sources.csv）"),
    "kind": ("original (as published) or transcription (tables copied by hand)", "原件或人工转录"),
    "format": ("Form of the file (text, html, pdf, docx)", "文件格式"),
    "edition": ("Template edition recognised (2019 or 2021)", "年报格式版本（2019 或 2021）"),
    "status": ("Extraction status; see the field's categories", "提取状态"),
    "n_errors": ("Number of issues of severity error", "错误数"),
    "n_warnings": ("Number of issues of severity warning", "警告数"),
    "n_info": ("Number of issues of severity info", "提示数"),
    "sha256": ("sha256 of the raw file", "原始文件的 sha256"),
    "identity": ("Report identity: normalised agency | year", "报告标识（规范化机关名|年度）"),
    "canonical": ("True for the one file used for its agency-year", "是否为该机关年度采用的文件"),
    "duplicate_of": ("The canonical file when this one is set aside", "被替代时所对应的采用文件"),
    "n_sources": ("Number of raw files with this identity", "同一标识的文件数"),
    "agreement": ("How the files of one identity compare (single, agree, disagree)", "同一报告多个文件的一致性"),
    "agency_known": ("True when the agency is known", "机关是否已知"),
    "key": ("Codebook key of the template cell", "码本键（模板单元格）"),
    "table": ("Template table (t2, t3, t4)", "所属表格"),
    "value": ("The printed number (missing unless status is number)", "印刷数值（仅当状态为 number 时有值）"),
    "printed": ("The cell's text as printed", "原文"),
    "severity": ("error, warning or info", "严重程度"),
    "rule": ("The rule or check that failed", "未通过的规则"),
    "cells": ("Codebook keys of the cells involved, separated by ;", "涉及的单元格（以 ; 分隔）"),
    "expected": ("The value the rule expects", "规则的期望值"),
    "actual": ("The value printed", "实际值"),
    "message": ("What is wrong, in words", "问题说明"),
    "row": ("Table 3 row (codebook row id)", "表三的行（码本行标识）"),
    "n_blank_as_zero": ("Number of blank cells read as 0 in this row (derived layer)", "按 0 处理的空白单元格数"),
    "total_recomputed": ("True when the total was recomputed from its parts", "总计是否由分项重新计算"),
    "totals_recomputed": ("Number of totals recomputed from their parts", "由分项重新计算的总计数"),
    "derived_row": ("True for a row summed from printed sub-rows, not printed itself", "是否为由子行求和得出的行"),
}
# columns whose meaning is particular to one table: (English, Chinese)
TABLE_COLUMNS: dict[str, dict[str, tuple[str, str]]] = {
    "narrative": {
        "pattern": ("Id of the phrase pattern that read the number (data/narrative_patterns.csv)", "识别该数字的句式标识"),
        "sentence": ("The sentence of the report's prose that states the number", "报告正文中陈述该数字的句子"),
        "printed": ("The number as printed in the prose", "正文中印刷的数字"),
        "value": ("The stated number's value (a count, or a percentage when unit is %)", "陈述数字的数值"),
        "unit": ("件 for a count, % for a percentage", "单位（件或 %）"),
        "key": ("The table cells the number names, as a sum of codebook terms (e.g. t3:new_received)", "该数字所指的表格单元格"),
        "table_value": ("The tables' value for those cells (for a percentage, its numerator)", "表格中的对应数值"),
        "agrees": ("Whether prose and tables agree (missing when the tables do not print it as numbers)", "正文与表格是否一致"),
        "denominators": ("For a percentage: the candidate denominators that reproduce it, separated by ;", "能复现百分比的分母"),
        "where": ("Line or page of the sentence", "句子所在行或页"),
    },
}
FOREIGN_KEY_ONLY = {"narrative"}  # tables whose rows all name a report, without a key of their own
T3_COLUMNS = ("natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total")
PRIMARY_KEYS = {"reports": ["report"], "cells": ["report", "key"], "t2": ["report"], "t3": ["report", "row"], "t4": ["report"]}
REQUIRED = {"reports": ("report", "sha256", "status"), "cells": ("report", "key", "status"), "t2": ("report",),
            "t3": ("report", "row"), "t4": ("report",), "issues": ("report", "severity")}
ABBREVIATIONS = (
    ("litigation_after_review", "lit_review"), ("litigation_direct", "lit_direct"),
    ("normative_documents", "normdocs"), ("other_services", "othsvc"), ("published_total", "pub_total"),
    ("items_prev_year", "items_prev"), ("regulations", "regs"), ("punishment", "punish"),
)
_STATA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_STATA_RESERVED = {
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long", "_n", "_N", "_pi",
    "_pred", "_rc", "_skip", "strL", "using", "with",
}
_INT = re.compile(r"^-?\d+$")
_NUM = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-?(inf|nan)$")


class ReleaseError(Exception):
    """A processed table cannot be released; the message names the file."""


@dataclass
class Table:
    name: str
    path: Path
    header: list[str]
    rows: list[list[str]]
    floats: frozenset[str] = frozenset()  # columns the build stored as floats (:func:`_float_columns`)


# ----------------------------------------------------------------- reading and checking


def read_table(path: Path) -> Table:
    """A processed CSV, checked for encoding and shape; raises :class:`ReleaseError`."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReleaseError(f"{path}: not UTF-8 text (byte {exc.start}); rebuild it with python -m helpers build") from None
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ReleaseError(f"{path}: not a readable CSV ({exc})") from None
    if not lines or not lines[0]:
        raise ReleaseError(f"{path}: empty; rebuild it with python -m helpers build")
    header, rows = lines[0], lines[1:]
    if len(set(header)) != len(header):
        raise ReleaseError(f"{path}: repeated column name(s) in the header")
    for n, r in enumerate(rows, start=2):
        if len(r) != len(header):
            raise ReleaseError(f"{path}: line {n} has {len(r)} fields, the header {len(header)}")
    return Table(path.stem, path, header, rows, _float_columns(path))


def _cell_key(table: str, column: str, row: dict[str, str] | None = None) -> str | None:
    """The codebook key a column of a wide table holds (``t3``: one per row), or None."""
    if table in ("t2", "t4") and f"{table}.{column}" in _codebook.load().keys:
        return f"{table}.{column}"
    if table == "t3" and column in T3_COLUMNS:
        return f"t3.{row['row']}.{column}" if row else "t3.*." + column
    return None


def _is_number_column(table: str, column: str) -> bool:
    return _cell_key(table, column) is not None or (table == "cells" and column == "value")


def check_table(t: Table) -> None:
    """Required columns, numbers where numbers belong, unique primary keys."""
    missing = [c for c in REQUIRED.get(t.name, ()) if c not in t.header]
    if missing:
        raise ReleaseError(f"{t.path}: missing column(s) {', '.join(missing)}")
    for j, col in enumerate(t.header):
        if not _is_number_column(t.name, col):
            continue
        for n, r in enumerate(t.rows, start=2):
            v = r[j]
            if v != MISSING and not _NUM.match(v):
                raise ReleaseError(f"{t.path}: line {n}, column {col}: {v!r} is not a number")
    pk = PRIMARY_KEYS.get(t.name)
    if pk:
        idx = [t.header.index(c) for c in pk]
        seen: dict[tuple[str, ...], int] = {}
        for n, r in enumerate(t.rows, start=2):
            k = tuple(r[i] for i in idx)
            if any(x == MISSING for x in k):
                raise ReleaseError(f"{t.path}: line {n}: empty primary key {', '.join(pk)}")
            if k in seen:
                raise ReleaseError(f"{t.path}: line {n}: primary key {k} repeats line {seen[k]}")
            seen[k] = n


# ----------------------------------------------------------------- the description


def _float_columns(csv_path: Path) -> frozenset[str]:
    """Columns the build stored as floats (the Parquet beside the CSV says so;
    the CSV prints a float that is whole without a decimal point)."""
    parquet = csv_path.with_suffix(".parquet")
    if not parquet.is_file():
        return frozenset()
    return frozenset(f.name for f in pq.read_schema(parquet) if pa.types.is_floating(f.type))


def _field_type(t: Table, j: int) -> dict[str, Any]:
    col = t.header[j]
    values = {r[j] for r in t.rows} - {MISSING}
    if _is_number_column(t.name, col) or col in t.floats:
        return {"type": "number"}
    if values and values <= {"True", "False"}:
        return {"type": "boolean", "trueValues": ["True"], "falseValues": ["False"]}
    if values and all(_INT.match(v) for v in values):
        return {"type": "integer"}
    if values and all(_NUM.match(v) for v in values):
        return {"type": "number"}
    return {"type": "string"}


def _describe_field(t: Table, j: int) -> dict[str, Any]:
    cb = _codebook.load()
    col = t.header[j]
    field: dict[str, Any] = {"name": col, **_field_type(t, j)}
    key = _cell_key(t.name, col)
    if key and t.name != "t3":
        k = cb.keys[key]
        field.update(title=k.label_en, description=k.label_en, **{"description_zh": k.label_zh, "unit": k.unit})
        field["codebook_key"] = key
    elif key:  # t3: one column per applicant type, the row says which request count
        k = cb.keys[f"t3.new_received.{col}"]
        field.update(
            title=k.label_en.split(" — ")[-1],
            description=f"Table 3 requests by applicant type: {k.label_en.split(' — ')[-1]}; "
            f"the cell is t3.<row>.{col} of the codebook",
            description_zh=k.label_zh.split(" × ")[-1],
            unit="requests",
        )
    elif col in TABLE_COLUMNS.get(t.name, {}):
        en, zh = TABLE_COLUMNS[t.name][col]
        field.update(description=en, description_zh=zh)
    elif col in COLUMNS:
        en, zh = COLUMNS[col]
        field.update(description=en, description_zh=zh)
    else:
        field["description"] = f"{col} (a column of {t.name}.csv; see the project documentation)"
    if col == "status" and t.name == "cells":
        field["constraints"] = {"enum": list(STATUS_CELL)}
        field["categories"] = [{"value": k, "label": v} for k, v in STATUS_CELL.items()]
        field["title"] = "What was printed in the cell (" + ", ".join(STATUS_CELL) + ")"
        field["description"] = "What was printed in the cell: " + "; ".join(f"{k} = {v}" for k, v in STATUS_CELL.items())
    elif col == "status" and t.name == "reports":
        field["constraints"] = {"enum": list(STATUS_REPORT)}
        field["categories"] = [{"value": k, "label": v} for k, v in STATUS_REPORT.items()]
        field["title"] = "Extraction status (" + ", ".join(STATUS_REPORT) + ")"
        field["description"] = "Extraction status: " + "; ".join(f"{k} = {v}" for k, v in STATUS_REPORT.items())
    elif col == "severity":
        field["constraints"] = {"enum": list(SEVERITY)}
        field["categories"] = [{"value": k, "label": v} for k, v in SEVERITY.items()]
    return field


def describe(t: Table, has_reports: bool) -> dict[str, Any]:
    """The Data Package resource of one table."""
    schema: dict[str, Any] = {
        "fields": [_describe_field(t, j) for j in range(len(t.header))],
        "missingValues": [MISSING],
    }
    if t.name in PRIMARY_KEYS:
        schema["primaryKey"] = PRIMARY_KEYS[t.name]
    if has_reports and t.name != "reports" and "report" in t.header and (t.name in PRIMARY_KEYS or t.name in FOREIGN_KEY_ONLY):
        schema["foreignKeys"] = [{"fields": ["report"], "reference": {"resource": "reports", "fields": ["report"]}}]
    return {
        "name": t.name,
        "path": f"data/{t.name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "header": True},
        "bytes": t.path.stat().st_size,
        "hash": "sha256:" + _sha256(t.path.read_bytes()),
        "schema": schema,
    }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------- Stata


def stata_name(column: str, taken: set[str]) -> str:
    """A valid Stata variable name (at most 32 characters) for ``column``, unique in ``taken``."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", column)
    if len(name) > 32:
        for long, short in ABBREVIATIONS:
            name = name.replace(long, short)
    if not re.match(r"[A-Za-z_]", name):
        name = "v_" + name
    if name in _STATA_RESERVED:
        name = name + "_"
    base = name[:32]
    name, n = base, 1
    while name.lower() in {x.lower() for x in taken}:
        n += 1
        name = f"{base[: 32 - len(str(n)) - 1]}_{n}"
    assert _STATA_NAME.match(name), name
    taken.add(name)
    return name


def _label(text: str) -> str:
    return text if len(text) <= 80 else text[:79] + "…"


def write_stata(t: Table, fields: list[dict[str, Any]], folder: Path) -> list[dict[str, str]]:
    """``<folder>/<table>.dta`` and the rows of variables.csv for it."""
    import pandas as pd

    taken: set[str] = set()
    data: dict[str, Any] = {}
    labels: dict[str, str] = {}
    value_labels: dict[str, dict[float, str]] = {}
    mapping = []
    for j, f in enumerate(fields):
        col = f["name"]
        name = stata_name(col, taken)
        raw = [r[j] for r in t.rows]
        if f["type"] in ("number", "integer"):
            series = pd.to_numeric(pd.Series(raw, dtype="object").replace(MISSING, None), errors="raise")
            data[name] = series.astype("float64") if f["type"] == "number" or series.isna().any() else series.astype("int64")
        elif f["type"] == "boolean":
            data[name] = pd.Series([{"True": 1, "False": 0}.get(v) for v in raw], dtype="float64").astype("Int8")
            if data[name].isna().any():
                data[name] = data[name].astype("float64")
            else:
                data[name] = data[name].astype("int8")
            value_labels[name] = {0: "no", 1: "yes"}
        elif col == "status" and t.name == "reports":
            data[name] = pd.Series([STATUS_CODES[v] for v in raw], dtype="int8")
            value_labels[name] = {float(v): k for k, v in STATUS_CODES.items()}
        else:
            data[name] = pd.Series(raw, dtype="object")
        label = f.get("title") or f.get("description", col)
        labels[name] = _label(label)
        mapping.append({
            "table": t.name, "column": col, "stata_name": name, "codebook_key": f.get("codebook_key", ""),
            "label_en": f.get("title") or f.get("description", ""), "label_zh": f.get("description_zh", ""),
            "value_labels": "; ".join(f"{int(k)} = {v}" for k, v in sorted(value_labels.get(name, {}).items())),
        })
    df = pd.DataFrame(data)
    # strings over Stata's fixed width (2045 bytes) go to strL
    long = [c for c in df.columns if df[c].dtype == object and df[c].map(lambda v: len(v.encode("utf-8"))).max() > 2045]
    try:
        df.to_stata(
            folder / f"{t.name}.dta",
            write_index=False,
            version=118,
            time_stamp=STATA_TIME,
            data_label=_label(f"{t.name} of the GIDR processed data, version {__version__}"),
            variable_labels=labels,
            value_labels=value_labels or None,
            convert_strl=long or None,
        )
    except (ValueError, TypeError, OverflowError) as exc:
        raise ReleaseError(f"{t.path}: cannot be written as a Stata file ({exc})") from None
    return mapping


# ----------------------------------------------------------------- provenance


def code_commit(repo: Path | None = None) -> str:
    """The git commit of the code (with ``-dirty`` when ``src/`` has changes), or ``""``."""
    repo = repo or Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=20)
        if head.returncode != 0:
            return ""
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no", "--", "src"],
            capture_output=True, text=True, timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _raw_rows(reports: Table | None, raw_dir: Path | None) -> list[dict[str, str]]:
    listed: dict[str, Any] = {}
    if raw_dir is not None and (raw_dir / "sources.csv").is_file():
        from .sources import load_sources

        listed = {s.file: s for s in load_sources(raw_dir)}
    out: dict[str, dict[str, str]] = {}
    if reports is not None:
        h = reports.header
        for r in reports.rows:
            d = dict(zip(h, r))
            name = re.sub(r"#\d+$", "", d["report"])  # the k-th report of a file holding several: <file>#k
            s = listed.get(name)
            out.setdefault(name, {
                "file": name, "sha256": d.get("sha256", ""), "kind": d.get("kind", "") or (s.kind if s else ""),
                "source": s.source if s else "", "retrieved": s.retrieved if s else "",
            })
    return [out[k] for k in sorted(out)]


# ----------------------------------------------------------------- the release


def _csv_bytes(header: Sequence[str], rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(header), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def release(processed: str | os.PathLike[str], out: str | os.PathLike[str], raw: str | os.PathLike[str] | None = None) -> Path:
    """Write the release folder ``out`` from ``processed`` (see the module documentation)."""
    processed, out = Path(processed), Path(out)
    if not processed.is_dir():
        raise ReleaseError(f"{processed}: no processed data; run python -m helpers build first")
    tables = [read_table(p) for p in sorted(processed.glob("*.csv"))]
    if not any(t.name == "reports" for t in tables):
        raise ReleaseError(f"{processed / 'reports.csv'}: missing; run python -m helpers build first")
    for t in tables:
        check_table(t)
    by_name = {t.name: t for t in tables}
    resources = [describe(t, "reports" in by_name) for t in tables]
    _check_foreign_keys(by_name)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-staging-", dir=out.parent))
    try:
        (staging / "data").mkdir()
        (staging / "stata").mkdir()
        for t in tables:
            shutil.copyfile(t.path, staging / "data" / f"{t.name}.csv")
        mapping: list[dict[str, str]] = []
        for res in resources:
            if res["name"] in STATA_TABLES:
                names = write_stata(by_name[res["name"]], res["schema"]["fields"], staging / "stata")
                for f, m in zip(res["schema"]["fields"], names):
                    f["stata_name"] = m["stata_name"]
                mapping += names
        var_header = ("table", "column", "stata_name", "codebook_key", "label_en", "label_zh", "value_labels")
        (staging / "stata" / "variables.csv").write_bytes(_csv_bytes(var_header, mapping))
        shutil.copyfile(Path(_codebook.__file__).parent / "data" / "codebook.csv", staging / "codebook.csv")
        raw_rows = _raw_rows(by_name.get("reports"), Path(raw) if raw else None)
        (staging / "sources.csv").write_bytes(_csv_bytes(("file", "sha256", "kind", "source", "retrieved"), raw_rows))
        extra = [_file_resource(staging, "codebook.csv", "codebook", "The codebook: one key per template cell, both editions",
                                primary_key=["key", "editions"]),
                 _file_resource(staging, "stata/variables.csv", "stata_variables",
                                "Stata variable names (at most 32 characters) of the .dta files and the columns they hold"),
                 _file_resource(staging, "sources.csv", "raw_files", "The raw files the data were built from, with their sha256")]
        package = {
            "profile": "tabular-data-package",
            "name": NAME,
            "title": "Government Information Disclosure annual reports: extracted tables (政府信息公开工作年度报告)",
            "description": (
                "Tables of China's Government Information Disclosure annual reports as printed (cells, with a status "
                "per cell) and as analysis tables (t2, t3, t4), one row per raw file in reports, failed checks in "
                "issues. An empty field is a missing value; a blank printed cell is never a 0 in cells. Built by "
                "python -m helpers build; released by python -m helpers release."
            ),
            "version": __version__,
            "resources": resources + extra,
            "sources": [{"title": "raw report files listed in sources.csv (name and sha256)", "path": "sources.csv"}],
            "gidr": {
                "code_version": __version__,
                "code_commit": code_commit(),
                "raw_files": len(raw_rows),
                "stata": {res["name"]: f"stata/{res['name']}.dta" for res in resources if res["name"] in STATA_TABLES},
            },
        }
        text = json.dumps(package, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        (staging / "datapackage.json").write_text(text, encoding="utf-8")
        sums = [
            f"{_sha256(p.read_bytes())}  {p.relative_to(staging).as_posix()}\n"
            for p in sorted(staging.rglob("*"), key=lambda p: p.relative_to(staging).as_posix())
            if p.is_file()
        ]
        (staging / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _file_resource(
    folder: Path, rel: str, name: str, description: str, primary_key: list[str] | None = None
) -> dict[str, Any]:
    t = read_table(folder / rel)
    schema: dict[str, Any] = {"fields": [{"name": c, "type": "string"} for c in t.header], "missingValues": [MISSING]}
    if primary_key:
        schema["primaryKey"] = primary_key
    return {
        "name": name, "path": rel, "profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv",
        "encoding": "utf-8", "description": description, "schema": schema,
    }


def _check_foreign_keys(by_name: dict[str, Table]) -> None:
    reports = by_name.get("reports")
    if reports is None:
        return
    known = {r[reports.header.index("report")] for r in reports.rows}
    for t in by_name.values():
        if t.name == "reports" or t.name not in PRIMARY_KEYS:
            continue
        j = t.header.index("report")
        for n, r in enumerate(t.rows, start=2):
            if r[j] not in known:
                raise ReleaseError(f"{t.path}: line {n}, column report: {r[j]!r} is not a report of {reports.path}")


def _swap_in(staging: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
        os.replace(out, old / "previous")
    os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------- command line


def add_arguments(parser) -> None:
    parser.add_argument("--processed", default="data/processed", help="processed data (default: data/processed)")
    parser.add_argument("--raw", default="data/raw", help="raw data, for the sources of the files (default: data/raw)")
    parser.add_argument("--out", default="release", help="release folder (default: release/)")


def run(args) -> int:
    import sys

    try:
        out = release(args.processed, args.out, raw=args.raw)
    except ReleaseError as exc:
        print(f"python -m helpers release: error: {exc}; nothing written", file=sys.stderr)
        return 1
    n = sum(1 for _ in (out / "data").glob("*.csv"))
    print(f"release: {out} ({n} tables, datapackage.json, Stata files of {', '.join(STATA_TABLES)}, SHA256SUMS)")
    return 0
