"""Synthetic reports (``tooling.synth``): the generator itself, and a seeded sample read back.

The long benchmark is ``benchmarks/layout_accuracy.py``; here a small seeded
sample of every form: undamaged renderings must be read exactly (every cell,
no wrong number), each damage kind alone must give no wrong number except
the failures listed in ``benchmarks/layout_failures.md`` (strict xfail: a
fix makes them pass and the list must shrink), and the generator must keep
the template's identities and be deterministic to the byte.
"""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

import pytest

from helpers.codebook import load
from helpers.extract import extract_file
from helpers.identities import expand
from tooling.synth import EDITIONS, FORMS, generate, render, render_ex, truth
from tooling.synth.compare import compare
from tooling.synth.damage import DAMAGE_KINDS

SEED = 20261203
N_UNDAMAGED = 10  # reports per form

# (form, damage kind) pairs whose seeded sample below gives wrong numbers today;
# each is a failure class of benchmarks/layout_failures.md
KNOWN_WRONG: set[tuple[str, str]] = set()


def _read(tmp_path, report, form, damage=False, seed=None):
    r = render_ex(report, form, seed=seed, damage=damage)
    path = tmp_path / f"synth_{report.seed}_{form}{r.suffix}"
    path.write_bytes(r.data)
    return compare(extract_file(str(path))[0], truth(report), r.unreadable), r


# --------------------------------------------------------------------------- the generator


@pytest.mark.parametrize("edition", list(EDITIONS))
def test_every_identity_holds_in_generated_reports(edition):
    for seed in range(150):
        report = generate(seed, edition=edition)
        assert report.edition == edition
        values = report.values
        for ident in expand(report.split_other):
            missing = [k for k in ident.lhs + ident.rhs if k not in values]
            assert not missing, f"seed {seed}: {ident.rule} needs {missing}"
            assert sum(values[k] for k in ident.lhs) == sum(values[k] for k in ident.rhs), (seed, ident.rule, ident.scope)
        for key, v in values.items():
            if not key.endswith("items_change"):
                assert v >= 0, (seed, key, v)


def test_editions_and_hybrids_print_the_right_rows():
    cb = load()
    for seed in range(40):
        for name, (t2_edition, split) in EDITIONS.items():
            r = generate(seed, edition=name)
            keys = set(r.values)
            t2 = {k for k in keys if k.startswith("t2.")}
            assert t2 == {k for k, v in cb.keys.items() if v.table == "t2" and t2_edition in v.editions}
            assert ("t3.other_unpaid_fee.total" in keys) == split
            assert ("t3.other.total" in keys) == (not split)
            assert len([k for k in keys if k.startswith("t4.")]) == 15


def test_blanks_only_for_zeros_and_switchable():
    seen_blank = False
    for seed in range(60):
        r = generate(seed)
        t = truth(r)
        for key, want in t.items():
            if want is None:
                seen_blank = True
                assert r.values[key] == 0 and r.printed[key] == ""
        none = generate(seed, blanks=False)
        assert None not in truth(none).values()
        assert none.values == r.values  # blanks change the printing, not the values
        some = generate(seed, blanks=True)
        assert some.blank_style != "none"
    assert seen_blank


def test_narrative_restates_headline_numbers():
    for seed in range(20):
        r = generate(seed)
        text = "".join(p for ps in r.narrative.values() for p in ps)
        assert f"全年共受理政府信息公开申请{r.values['t3.new_received.total']}件" in text
        assert f"结转下年度继续办理{r.values['t3.carried_forward.total']}件" in text
        assert len(text) > 600  # report-sized prose around the tables


@pytest.mark.parametrize("form", FORMS)
def test_renderings_are_deterministic_and_say_they_are_synthetic(form):
    for seed in (1, 2) if form not in ("docx", "pdf") else (1,):
        report = generate(seed)
        a = render(report, form, seed=seed, damage=True)
        b = render(generate(seed), form, seed=seed, damage=True)
        assert a == b, f"{form} seed {seed}: two renderings differ"
        data, suffix = a
        assert suffix.startswith(".")
        if form == "docx":
            xml = zipfile.ZipFile(BytesIO(data)).read("docProps/core.xml").decode("utf-8")
            assert "合成测试数据" in xml
        elif form == "pdf":
            from pypdfium2 import PdfDocument

            meta = PdfDocument(data).get_metadata_dict()
            assert "合成测试数据" in meta["Title"] and "合成测试数据" in meta["Author"]
        else:
            head = data.decode("utf-8")[:3000]
            assert "合成测试数据" in head and "合成测试" in head
    assert render(generate(1), form, seed=1) != render(generate(2), form, seed=2)


def test_rendering_does_not_change_the_report():
    report = generate(5)
    before = dict(report.printed), dict(report.values)
    for form in FORMS:
        render(report, form, seed=5, damage=1.0)
    assert (dict(report.printed), dict(report.values)) == before


def test_every_damage_kind_applies_and_is_recorded():
    report = generate(9, blanks=False)
    plain = {form: render(report, form, seed=9)[0] for form in FORMS}
    for kind, (_, forms) in DAMAGE_KINDS.items():
        for form in forms:
            if form in ("docx", "pdf") and kind not in ("page_markers", "t4_extra_cells", "label_split_rows"):
                continue  # the slow forms: a few kinds are enough to show the renderer takes them
            r = render_ex(report, form, seed=9, damage=[kind])
            assert r.damage == (kind,)
            assert r.data != plain[form], f"{kind} changed nothing in {form}"
    with pytest.raises(ValueError, match="unknown damage kinds"):
        render(report, "text", damage=["no_such_kind"])
    with pytest.raises(ValueError, match="unknown synthetic form"):
        render(report, "rtf")


def test_pdf_has_page_markers_inside_long_tables():
    from pypdfium2 import PdfDocument

    hits = 0
    for seed in range(6):
        data, _ = render(generate(seed), "pdf", seed=seed)
        pdf = PdfDocument(data)
        pages = ["".join(pdf[i].get_textpage().get_text_range()) for i in range(len(pdf))]
        for i, page in enumerate(pages[:-1]):
            assert f"— {i + 1} —" in page
            nxt = pages[i + 1]
            if re.search(r"[三四]、本年度|（[一二三四五六七]）|结转下年度", nxt[:400]) and "三、收到和处理" not in nxt[:200]:
                hits += 1
    assert hits, "no sample PDF breaks Table 3 over a page"


# --------------------------------------------------------------------------- read back


@pytest.mark.parametrize("form", FORMS)
def test_undamaged_renderings_are_read_exactly(form, tmp_path):
    exact = cells = 0
    for i in range(N_UNDAMAGED):
        report = generate(SEED + i, blanks=False)
        c, _ = _read(tmp_path, report, form)
        assert c.wrong == 0 and c.spurious == 0, f"{form} report {SEED + i}: wrong cells {c.wrong_cells[:5]}"
        assert c.unset == 0, f"{form} report {SEED + i}: unset cells {c.unset_cells[:5]}"
        exact, cells = exact + c.exact, cells + c.cells
    assert exact == cells > 0


_PAIRS = [(f, k) for k, (_, forms) in DAMAGE_KINDS.items() for f in forms] + [(f, "blank_zeros") for f in FORMS]


@pytest.mark.parametrize(
    "form,kind",
    [pytest.param(f, k, marks=pytest.mark.xfail(strict=True, reason="see benchmarks/layout_failures.md"))
     if (f, k) in KNOWN_WRONG else (f, k) for f, k in _PAIRS],
)
def test_one_damage_kind_gives_no_wrong_number(form, kind, tmp_path):
    seed = SEED + 100 + sorted(DAMAGE_KINDS).index(kind) if kind in DAMAGE_KINDS else SEED + 99
    report = generate(seed, blanks=kind == "blank_zeros")
    c, r = _read(tmp_path, report, form, damage=False if kind == "blank_zeros" else [kind], seed=seed)
    assert kind in r.damage
    assert c.wrong == 0 and c.spurious == 0, f"{form} / {kind}, report {seed}: wrong cells {c.wrong_cells[:5]}"
