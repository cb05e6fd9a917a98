"""Extraction of the reference originals against their hand-verified expected values.

Every (expected JSON, original file) pair of ``corpus/expected`` is extracted
from ``corpus/originals`` in place and compared cell by cell with the rule of
``scripts/accuracy.py``: the value equals the expected one (``None`` when the
expected is ``null``); a cell listed in ``ambiguous_in`` for that file may
instead be unset.  The target is 100 % of cells.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path

import pytest

from helpers.codebook import load as load_codebook
from helpers.extract import extract_path
from helpers.result import ExtractResult

REPO_ROOT = Path(__file__).resolve().parent.parent


def _corpus_at_collection() -> Path | None:
    """The corpus folder as the ``shared_dir`` fixture finds it (for parametrisation only)."""
    env = os.environ.get("GIDR_SHARED")
    base = Path(env) if env else REPO_ROOT.parent / "shared"
    corpus = base / "corpus"
    return corpus if corpus.is_dir() else None


def _pairs() -> list[tuple[str, str]]:
    corpus = _corpus_at_collection()
    if corpus is None:
        return []
    out = []
    for ef in sorted((corpus / "expected").glob("*.json")):
        exp = json.loads(ef.read_text(encoding="utf-8"))
        out += [(ef.name, fname) for fname in exp["files"]]
    return out


PAIRS = _pairs()
# Without the corpus one placeholder case remains: the shared_dir fixture skips it
# (or fails it under CI) before the body runs.
PAIR_PARAMS = PAIRS or [("<corpus missing>", "<corpus missing>")]


@cache
def _expected(corpus: Path, json_name: str) -> dict:
    return json.loads((corpus / "expected" / json_name).read_text(encoding="utf-8"))


@cache
def _extract(path: str) -> ExtractResult:
    return extract_path(path)


def _original(shared_dir: Path, fname: str) -> ExtractResult:
    return _extract(str(shared_dir / "corpus" / "originals" / fname))


def wrong_cells(result: ExtractResult, exp: dict, fname: str) -> list[str]:
    """The cells that do not match, as readable strings (same rule as scripts/accuracy.py)."""
    amb = set(exp.get("ambiguous_in", {}).get(fname, []))
    wrong = []
    for key, want in exp["cells"].items():
        cell = result.cells.get(key)
        got = cell.value if cell is not None else None
        if key in amb and got is None:
            continue
        if want is None:
            ok = got is None
        else:
            ok = got is not None and abs(float(got) - float(want)) < 1e-9
        if not ok:
            where = f"{cell.status} {cell.printed!r}" if cell is not None else "missing"
            wrong.append(f"{key}: expected {want!r}, got {got!r} ({where})")
    return wrong


# ---------------------------------------------------------------------------
# every cell of every original


@pytest.mark.parametrize(("json_name", "fname"), PAIR_PARAMS, ids=[p[1] for p in PAIR_PARAMS])
def test_original_cells_match_expected(shared_dir, json_name, fname):
    corpus = shared_dir / "corpus"
    exp = _expected(corpus, json_name)
    r = _original(shared_dir, fname)
    wrong = wrong_cells(r, exp, fname)
    assert not wrong, f"{fname}: {len(wrong)} of {len(exp['cells'])} cells wrong:\n  " + "\n  ".join(wrong)


@pytest.mark.parametrize(("json_name", "fname"), PAIR_PARAMS, ids=[p[1] for p in PAIR_PARAMS])
def test_original_edition_and_year(shared_dir, json_name, fname):
    exp = _expected(shared_dir / "corpus", json_name)
    r = _original(shared_dir, fname)
    assert (r.edition, r.year) == (exp["edition"], exp["year"]), (
        f"{fname}: edition/year {(r.edition, r.year)} != expected {(exp['edition'], exp['year'])}"
    )


def test_overall_cell_accuracy_is_100_percent(shared_dir):
    corpus = shared_dir / "corpus"
    pairs = [
        (ef.name, fname)
        for ef in sorted((corpus / "expected").glob("*.json"))
        for fname in _expected(corpus, ef.name)["files"]
    ]
    assert pairs, "no expected files found"
    total = correct = 0
    per_file = []
    for json_name, fname in pairs:
        exp = _expected(corpus, json_name)
        wrong = wrong_cells(_original(shared_dir, fname), exp, fname)
        n = len(exp["cells"])
        total += n
        correct += n - len(wrong)
        if wrong:
            per_file.append(f"{fname}: {n - len(wrong)}/{n}")
    accuracy = 100.0 * correct / total
    assert correct == total, f"cell accuracy {accuracy:.2f} % ({correct}/{total}); below 100 %: {per_file}"


# ---------------------------------------------------------------------------
# the pre-2019 report


def test_pre2019_report_is_unsupported(shared_dir):
    r = _original(shared_dir, "pingtan_2018.txt")
    assert r.status == "unsupported"
    msgs = [i.message for i in r.issues]
    assert any(
        "2018" in m and re.search(r"standard tables?.*(absent|missing|not found)|(no|missing) standard tables?", m)
        for m in msgs
    ), f"no issue says the 2018 report lacks the standard tables: {msgs}"
    assert not any(c.status == "number" for c in r.cells.values()), "an unsupported report must not yield numbers"


# ---------------------------------------------------------------------------
# the blank official template


def test_blank_template_every_cell_blank(shared_dir):
    r = _original(shared_dir, "blank_template.docx")
    assert r.edition == "2021"
    keys = load_codebook().keys_for("2021")
    missing = [k for k in keys if k not in r.cells]
    assert not missing, f"codebook keys of edition 2021 missing from the result: {missing}"
    # The DOCX prints （六）其他处理 as the three sub-rows 1./2./3. of the revised
    # template (checked in the document), so only the single-row （六） key
    # (t3.other.*, used by first-edition and hybrid reports) has no row in it.
    single_other = {k for k in keys if k.startswith("t3.other.")}
    assert single_other, "codebook has no single-row （六） keys"
    wrong = []
    for k in keys:
        c = r.cells[k]
        want = "absent" if k in single_other else "blank"
        if c.status != want or c.value is not None:
            wrong.append(f"{k}: {c.status} {c.value!r} {c.printed!r} (want {want}, None)")
    assert not wrong, "template cells not read as blank:\n  " + "\n  ".join(wrong)
    # the expected file lists exactly the printed (blank) cells
    exp = _expected(shared_dir / "corpus", "blank_template.json")
    assert set(exp["cells"]) == set(keys) - single_other


def test_blank_template_table_blank_issues(shared_dir):
    r = _original(shared_dir, "blank_template.docx")
    blank = [i for i in r.issues if i.rule == "table.blank"]
    by_table = {}
    for i in blank:
        tables = {k.split(".")[0] for k in i.cells}
        assert len(tables) == 1, f"table.blank issue spans several tables: {i.cells}"
        by_table[tables.pop()] = i
    assert set(by_table) == {"t2", "t3", "t4"}, f"table.blank issues for {sorted(by_table)}; messages {[i.message for i in blank]}"
    for table, issue in by_table.items():
        printed = {k for k, c in r.cells.items() if k.startswith(table + ".") and c.status == "blank"}
        assert set(issue.cells) == printed, f"{table}: table.blank cells differ from the blank cells of the table"
        assert issue.severity == "warning"
        assert "blank_template.docx" in issue.message
    # no arithmetic rule fires on a template that was never filled
    arithmetic = [i for i in r.issues if i.expected is not None or i.actual is not None]
    assert not arithmetic, [i.message for i in arithmetic]


# ---------------------------------------------------------------------------
# the text renderings of 平潭 whose Table 2 digits run together

PINGTAN_TXT = [f"pingtan_{y}.txt" for y in range(2019, 2026)]


def _t2_row_labels(edition: str) -> dict[str, str]:
    """Table 2 row id → its printed label in the codebook (e.g. normative_documents → 行政规范性文件)."""
    cb = load_codebook()
    out = {}
    for k in cb.keys.values():
        if k.table == "t2" and edition in k.editions:
            out[k.row] = k.label_zh.split(" / ")[1].strip()
    return out


@pytest.mark.parametrize("fname", PINGTAN_TXT)
def test_pingtan_txt_ambiguous_cells_unset(shared_dir, fname):
    corpus = shared_dir / "corpus"
    exp = _expected(corpus, fname.replace(".txt", ".json"))
    amb = exp.get("ambiguous_in", {}).get(fname, [])
    assert amb, f"{fname}: the expected file lists no ambiguous cells"
    r = _original(shared_dir, fname)
    assert r.status == "partial", f"{fname}: status {r.status}"
    set_anyway = {k: (r.cells[k].status, r.cells[k].value) for k in amb if r.cells.get(k) is not None and r.cells[k].value is not None}
    assert not set_anyway, f"{fname}: ambiguous cells were given a value: {set_anyway}"
    for k in amb:
        assert r.cells.get(k) is not None and r.cells[k].status != "number", f"{fname}: {k} reported as a number"

    splits = [i for i in r.issues if i.rule == "extract.ambiguous_split"]
    assert splits, f"{fname}: no extract.ambiguous_split issue"
    labels = _t2_row_labels(exp["edition"])
    t2_rows = sorted({k.split(".")[1] for k in amb if k.startswith("t2.")})
    assert t2_rows
    for row in t2_rows:
        label = labels[row]
        named = [
            i
            for i in splits
            if re.search(rf"(T2|Table 2)\b.*'{re.escape(label)}'", i.message)
        ]
        assert named, f"{fname}: no ambiguous_split issue names Table 2 row {label!r}: {[i.message for i in splits]}"
        assert all(fname in i.message for i in named)
