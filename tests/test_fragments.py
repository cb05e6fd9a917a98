"""Robustness on the fragments: the first ~2,000 characters of real report pages.

Tables are cut off, some pages come from mirror sites (Traditional characters,
pinyin, substituted words), some tables are printed empty.  For every fragment
the extractor must not raise, must say what is missing, and must not invent a
number: each number it reports is printed in the input.  A few fragments are
also checked against values read from them by eye.
"""

from __future__ import annotations

import csv
import os
import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest

from helpers.extract import extract_path
from helpers.result import ExtractResult

REPO_ROOT = Path(__file__).resolve().parent.parent
MISSING_RULES = {"extract.partial", "extract.no_tables", "extract.no_values"}


def _fragment_names() -> list[str]:
    env = os.environ.get("GIDR_SHARED")
    folder = (Path(env) if env else REPO_ROOT.parent / "shared") / "corpus" / "fragments"
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


NAMES = _fragment_names() or ["<corpus missing>"]


def _path(shared_dir: Path, name: str) -> Path:
    return shared_dir / "corpus" / "fragments" / name


@cache
def _extract(path: str) -> ExtractResult:
    return extract_path(path)


def fragment(shared_dir: Path, name: str) -> ExtractResult:
    return _extract(str(_path(shared_dir, name)))


def squash(s: str) -> str:
    """NFKC, no whitespace: the form in which printed strings are looked up in the input."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def manifest(shared_dir: Path) -> dict[str, dict[str, str]]:
    with open(shared_dir / "corpus" / "MANIFEST.csv", encoding="utf-8", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


def test_fragment_folder_matches_manifest(shared_dir):
    names = set(_fragment_names())
    listed = {f.removeprefix("fragments/") for f in manifest(shared_dir) if f.startswith("fragments/")}
    assert names == listed
    assert len(names) == 34


# ---------------------------------------------------------------------------
# every fragment


@pytest.mark.parametrize("name", NAMES)
def test_fragment_does_not_raise_and_says_what_is_missing(shared_dir, name):
    path = _path(shared_dir, name)
    r = extract_path(str(path))  # must not raise
    assert r.status in ("partial", "failed"), f"{name}: status {r.status} for a cut-off page"
    said = [i for i in r.issues if i.rule in MISSING_RULES]
    assert said, f"{name}: no issue of {sorted(MISSING_RULES)}; issues {[(i.rule, i.message) for i in r.issues]}"
    assert any(name in i.message for i in said), f"{name}: the issues do not name the file: {[i.message for i in said]}"
    if r.status == "failed":
        assert any(i.severity == "error" for i in said)


def _number_of(printed: str) -> float | None:
    m = re.search(r"-?\d+(?:\.\d+)?", squash(printed).replace(",", ""))
    return float(m.group()) if m else None


@pytest.mark.parametrize("name", NAMES)
def test_fragment_invents_no_value(shared_dir, name):
    path = _path(shared_dir, name)
    text = squash(path.read_text(encoding="utf-8"))
    r = fragment(shared_dir, name)
    invented = []
    for key, c in r.cells.items():
        if c.status != "number":
            if c.value is not None:
                invented.append(f"{key}: status {c.status} with value {c.value!r}")
            continue
        printed = squash(c.printed)
        if not printed or printed not in text:
            invented.append(f"{key}: printed {c.printed!r} does not occur in the input")
            continue
        if c.value is None:
            continue  # read but not valued (e.g. an amount without a unit)
        n = _number_of(c.printed)
        scales = (1, 10000) if "万" in printed else (1,)
        if n is None or not any(abs(float(c.value) - n * s) < 1e-6 * max(1.0, abs(n * s)) for s in scales):
            invented.append(f"{key}: value {c.value!r} is not the printed {c.printed!r}")
    assert not invented, f"{name}:\n  " + "\n  ".join(invented)


# ---------------------------------------------------------------------------
# values read by eye


def _check(r: ExtractResult, want: dict[str, float], name: str) -> None:
    wrong = []
    for key, v in want.items():
        c = r.cells.get(key)
        if c is None or c.status != "number" or c.value is None or abs(float(c.value) - v) > 1e-9:
            wrong.append(f"{key}: expected {v!r}, got {None if c is None else (c.status, c.value, c.printed)}")
    assert not wrong, f"{name}:\n  " + "\n  ".join(wrong)


def _no_number(r: ExtractResult, prefix: str) -> list[str]:
    return [k for k, c in r.cells.items() if k.startswith(prefix) and c.status == "number"]


def test_houqi_weijianwei_2022(shared_dir):
    name = "houqi_weijianwei_2022.txt"
    r = fragment(shared_dir, name)
    notes = manifest(shared_dir)[f"fragments/{name}"]["note"]
    assert "行政许可 217" in notes and "行政处罚 24" in notes  # the MANIFEST note these values come from
    assert (r.edition, r.year, r.status) == ("2021", 2022, "partial")
    _check(
        r,
        {
            "t2.regulations.issued": 0,
            "t2.regulations.repealed": 0,
            "t2.regulations.in_force": 0,
            "t2.normative_documents.issued": 0,
            "t2.normative_documents.repealed": 0,
            "t2.normative_documents.in_force": 0,
            "t2.licensing.decisions": 217,
            "t2.punishment.decisions": 24,
            "t2.coercion.decisions": 0,
            "t2.fees.amount": 0,
        },
        name,
    )
    # the page stops at the heading of Table 3
    assert not _no_number(r, "t3.") and not _no_number(r, "t4.")
    msgs = " ".join(i.message for i in r.issues if i.rule == "extract.partial")
    assert "Table 3" in msgs and "Table 4" in msgs


def test_mirror_chengnanqu_traditional_with_pinyin(shared_dir):
    name = "mirror_chengnanqu_2019_trad_pinyin.txt"
    r = fragment(shared_dir, name)
    assert (r.edition, r.year) == ("2019", 2019)
    _check(
        r,
        {
            "t2.regulations.made": 0,
            "t2.regulations.published_total": 0,
            "t2.normative_documents.published": 0,
            "t2.licensing.decisions": 0,
            "t2.other_services.items_prev_year": 0,
            "t2.punishment.decisions": 0,
            "t2.coercion.items_change": 0,
            "t2.fees.items_prev_year": 0,
            "t2.fees.items_change": 0,
            "t2.procurement.projects": 236,
            "t2.procurement.amount": 80618,  # printed "80618元": recorded in 元
        },
        name,
    )
    assert "80618元" in r.cells["t2.procurement.amount"].printed
    assert not _no_number(r, "t3.") and not _no_number(r, "t4.")


def test_fuxin_zhangwu_2019_padded_numbers(shared_dir):
    name = "fuxin_zhangwu_zfb_2019.txt"
    r = fragment(shared_dir, name)
    assert (r.edition, r.year) == ("2019", 2019)
    _check(
        r,
        {
            "t2.regulations.made": 0,
            "t2.regulations.published": 0,
            "t2.regulations.published_total": 0,
            "t2.normative_documents.made": 181,
            "t2.normative_documents.published": 121,
            "t2.normative_documents.published_total": 121,
            "t2.licensing.items_prev_year": 0,
            "t2.licensing.decisions": 0,
            "t2.other_services.decisions": 0,
            "t2.punishment.items_change": 0,
            "t2.coercion.decisions": 0,
        },
        name,
    )
    # cut off inside the label 行政事业性(收费): no fee or procurement value, no Table 3/4
    assert not _no_number(r, "t2.fees.") and not _no_number(r, "t2.procurement.")
    assert not _no_number(r, "t3.") and not _no_number(r, "t4.")
    made_gt = [i for i in r.issues if i.rule == "t2.made_gt_published"]
    assert made_gt and made_gt[0].expected == 181 and made_gt[0].actual == 121


def test_taojiang_shenjiju_2020(shared_dir):
    name = "taojiang_shenjiju_2020.txt"
    r = fragment(shared_dir, name)
    assert (r.edition, r.year, r.status) == ("2019", 2020, "partial")
    want = {
        "t2.regulations.made": 0,
        "t2.regulations.published": 0,
        "t2.regulations.published_total": 0,
        "t2.normative_documents.made": 2,
        "t2.normative_documents.published": 2,
        "t2.normative_documents.published_total": 2,
        "t2.licensing.items_prev_year": 0,
        "t2.other_services.decisions": 0,
        "t2.punishment.decisions": 0,
        "t2.coercion.items_change": 0,
        "t2.fees.items_prev_year": 0,
        "t2.fees.items_change": 0,
        "t2.procurement.projects": 0,
    }
    cols = ("natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total")
    for row in ("new_received", "carried_over", "granted", "partially_granted"):
        want.update({f"t3.{row}.{c}": 0 for c in cols})
    _check(r, want, name)
    # 采购总金额 printed "0" without a unit: 0 or unset, never anything else
    assert r.cells["t2.procurement.amount"].value in (None, 0)
    # the page stops inside "1.属于国家秘(密)": nothing from there on, no Table 4
    numbered = set(_no_number(r, "t3."))
    assert numbered == {f"t3.{row}.{c}" for row in ("new_received", "carried_over", "granted", "partially_granted") for c in cols}
    assert not _no_number(r, "t4.")
    msgs = " ".join(i.message for i in r.issues if i.rule == "extract.partial")
    assert "Table 4" in msgs and "withheld_state_secret" in msgs


def test_wendeng_shenjiju_flipbook_page(shared_dir):
    name = "wendeng_shenjiju_2020_flipbook_p9.txt"
    r = fragment(shared_dir, name)
    assert r.year == 2020 and r.status == "partial"
    assert r.edition is None  # no Table 2 on this page: the edition cannot be told
    t4 = {k: c for k, c in r.cells.items() if k.startswith("t4.")}
    assert len(t4) == 15 and all(c.status == "number" and c.value == 0 for c in t4.values()), t4
    cols = ("natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total")
    _check(r, {f"t3.carried_forward.{c}": 0 for c in cols}, name)
    # only 四、结转下年度继续办理 of Table 3 is on this page
    assert set(_no_number(r, "t3.")) == {f"t3.carried_forward.{c}" for c in cols}
    assert not _no_number(r, "t2.")


def test_xuwen_sifaju_blank_applicant_cells_stay_blank(shared_dir):
    """Applicant columns printed empty (only 总计 shows 0) are blank, not 0."""
    name = "xuwen_sifaju_2023.txt"
    r = fragment(shared_dir, name)
    _check(r, {"t2.normative_documents.issued": 3, "t2.normative_documents.in_force": 101,
               "t3.new_received.natural_person": 0, "t3.new_received.total": 0,
               "t3.carried_over.total": 0, "t3.granted.total": 0, "t3.withheld_state_secret.total": 0}, name)
    for key in ("t3.new_received.commercial", "t3.new_received.other_org", "t3.carried_over.natural_person",
                "t3.granted.natural_person", "t3.granted.legal_services", "t3.withheld_state_secret.natural_person"):
        c = r.cells[key]
        assert c.status == "blank" and c.value is None, (key, c)


def test_shenzhen_longgang_truncated_row_not_read(shared_dir):
    """The last row of the excerpt has 6 of its 7 values: it must not be read."""
    name = "shenzhen_longgang_qzfbm_2024.txt"
    r = fragment(shared_dir, name)
    _check(r, {"t3.new_received.natural_person": 58, "t3.new_received.commercial": 7,
               "t3.new_received.legal_services": 1, "t3.new_received.total": 66,
               "t3.carried_over.natural_person": 2, "t3.carried_over.total": 2,
               "t3.partially_granted.natural_person": 16, "t3.partially_granted.total": 17,
               "t3.withheld_internal_affairs.natural_person": 1, "t3.withheld_internal_affairs.total": 1,
               "t2.normative_documents.issued": 5, "t2.normative_documents.repealed": 1,
               "t2.normative_documents.in_force": 25}, name)
    assert not _no_number(r, "t3.withheld_enforcement_files.")


def test_suining_old_outline_fails_with_reason(shared_dir):
    name = "suining_xianzf_2019_oldstructure.txt"
    r = fragment(shared_dir, name)
    assert r.status == "failed"
    assert not [k for k, c in r.cells.items() if c.status == "number"]
    msgs = [i.message for i in r.issues if i.severity == "error"]
    assert any(re.search(r"pre-2019|2008|old(er)? outline", m) for m in msgs), (
        f"{name}: no error message says the report follows the pre-2019 outline: {msgs}"
    )
