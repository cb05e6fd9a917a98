"""Fuzzing in the test suite: a seeded sample of the mutation fuzzer, and
hypothesis-generated inputs.

The fuzzer itself is :mod:`tooling.fuzzing`; the long run (10⁵ inputs and more)
is ``make fuzz`` / ``python scripts/fuzz.py``, not part of the tests.  Here:

* a deterministic sample of mutated real reports (every original and a few
  fragments, several operators stacked) through
  ``extract_document(read_document(name, data))`` in two worker processes:
  no uncaught exception, no hang, no caught internal error, no invariant
  violation (every number printed in the input, with the value it says), and
  inputs that were only re-encoded or re-lined read exactly like their seed;
* hypothesis strategies that build arbitrary text and HTML-ish input from real
  label strings (the codebook's label paths), numbers in many printed forms,
  separators (tab, ``|``, newlines, spaces) and HTML tags: extraction never
  raises and never yields a number that is not in the input;
* the fuzzer's own machinery: mutations are deterministic, and the checker
  and the runner do catch invented values, exceptions and hangs.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tooling import fuzzing
from helpers.extract import extract_document
from tooling.fuzzing import Case, check, internal_errors, label_strings
from helpers.read import read_document
from helpers.result import CellValue, ExtractResult

N_SAMPLE = 480
SAMPLE_SEED = 20240601
FRAGMENTS = 6  # the first fragments by name (they include cut-off tables and Traditional/pinyin mirrors)


@pytest.fixture(scope="module")
def seeds(shared_dir: Path) -> list[fuzzing.Seed]:
    paths = fuzzing.corpus_paths(shared_dir, fragments=False)
    frags = sorted((shared_dir / "corpus" / "fragments").iterdir())
    wanted = frags[:FRAGMENTS] + [p for p in frags if "trad" in p.name][:2]
    return fuzzing.load_seeds(paths + wanted)


# --------------------------------------------------------------------------- the seeded sample


def test_seeded_sample_of_mutated_reports(seeds, tmp_path):
    assert {s.kind for s in seeds} >= {"text", "html", "pdf", "docx"}
    stats = fuzzing.run(seeds, N_SAMPLE, SAMPLE_SEED, timeout_s=10.0, out=tmp_path, workers=2)
    report = stats.summary() + "\n" + "\n".join(
        f"{kind}: {ex}" for kind in ("exceptions", "hangs", "violations", "internal", "metamorphic") for ex in stats.examples[kind]
    )
    assert stats.inputs == N_SAMPLE, report
    assert stats.exceptions == 0, report
    assert stats.hangs == 0, report
    assert stats.violations == 0, report
    assert stats.internal_errors == 0, report
    assert stats.metamorphic == 0, report  # re-encoded / re-lined inputs read exactly like their seed
    # the sample reaches every reader and produces numbers to check
    assert set(stats.kinds) >= {"text", "html", "pdf", "docx"}, report
    assert stats.with_numbers > N_SAMPLE // 4 and stats.numbers_checked > 10_000, report
    assert (tmp_path / "summary.json").is_file()


def test_mutations_are_deterministic(seeds):
    for i in (0, 1, 17, 123):
        a, b = fuzzing.make_case(seeds, 7, i), fuzzing.make_case(seeds, 7, i)
        assert (a.seed, a.name, a.data, a.ops) == (b.seed, b.name, b.data, b.ops)
    assert fuzzing.make_case(seeds, 7, 1).data != fuzzing.make_case(seeds, 8, 1).data


def test_every_operator_runs_on_every_seed_it_applies_to(seeds):
    rng = random.Random(1)
    for name, fn, kinds, _, _ in fuzzing.OPERATORS:
        for seed in seeds:
            if seed.kind in kinds:
                ctx = fuzzing._Ctx(seed.name, seed.kind, seeds)
                out = fn(rng, seed.data, ctx)
                assert isinstance(out, bytes), name


def test_traditional_operator_is_undone_by_the_extractors_folding():
    from helpers.normalize import fold_variants

    label = "本年新收政府信息公开申请数量"
    trad = label.translate(fuzzing._s2t())
    assert trad != label and fold_variants(trad) == label


# --------------------------------------------------------------------------- the checker and the runner


def _result(printed: str, value, status: str = "number", key: str = "t3.new_received.total") -> ExtractResult:
    return ExtractResult(path="x.txt", status="ok", cells={key: CellValue(value, status, printed)})


def test_checker_accepts_printed_values():
    data = "一、本年新收政府信息公开申请数量\t１２\t7,730.28万元\t减4".encode("utf-8")
    assert check(data, _result("１２", 12)) == []
    assert check(data, _result("7,730.28万元", 77302800.0, key="t2.procurement.amount")) == []
    assert check(data, _result("7,730.28万元", 7730.28, key="t2.fees.amount")) == []
    assert check(data, _result("减4", -4)) == []


def test_checker_finds_invented_and_misread_values():
    data = "一、本年新收政府信息公开申请数量\t1 2\t37".encode("utf-8")
    # (whitespace is not compared: "1 2" in the input would admit a printed "12")
    assert check(data, _result("13", 13))
    assert check(data, _result("38", 38))
    assert check(data, _result("37", 38))  # printed 37, value 38
    assert check(data, _result("37", 37.5))
    assert check(data, _result("", None, status="blank")) == []
    assert check(data, _result("", 0, status="blank"))  # a blank with a value
    assert check(data, _result("37", float("inf")))
    assert check(data, ExtractResult(path="x.txt", status="bogus"))  # type: ignore[arg-type]


def test_checker_reads_html_as_the_reader_does():
    data = b"<table><tr><td>\xe8\xa7\x84\xe7\xab\xa0</td><td>1<span>2</span></td><td>&#51;4</td></tr></table>"
    assert check(data, _result("12", 12)) == []
    assert check(data, _result("34", 34)) == []
    gbk = "<meta charset='gbk'><table><tr><td>规章</td><td>56</td></tr></table>".encode("gbk")
    assert check(gbk, _result("56", 56), path="x.html") == []


def test_runner_reports_exceptions_and_hangs(monkeypatch):
    import helpers.extract

    def boom(doc, level=None):
        raise RuntimeError("boom")

    def slow(doc, level=None):
        time.sleep(3)

    case = Case(0, "seed", "x.txt", b"abc", ["none"])
    monkeypatch.setattr(helpers.extract, "extract_document", boom)
    o = fuzzing.run_one(case, timeout_s=5)
    assert o["exception"] and "RuntimeError: boom" in o["exception"] and o["hang"] is None
    monkeypatch.setattr(helpers.extract, "extract_document", slow)
    o = fuzzing.run_one(case, timeout_s=0.3)
    assert o["hang"] and o["exception"] is None and o["elapsed"] < 2


# --------------------------------------------------------------------------- hypothesis

LABELS = label_strings()
HEADINGS = [
    "2023年某某县人民政府政府信息公开工作年度报告",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
]
SEPARATORS = ["\t", "|", "\n", " ", "  ", "\u3000", "\r\n", "\t\t", " | ", ""]
TAGS = ["<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", "<th>", '<td rowspan="2">', '<td colspan="3">',
        '<td rowspan="0">', '<td colspan="99999">', "<p>", "</p>", "<br>", "<span>", "</span>", "&nbsp;", "&#49;",
        "<div>", "</div>", "<!-- -->", "<tbody>"]

FULLWIDTH = str.maketrans("0123456789,.-", "０１２３４５６７８９，．－")


@st.composite
def printed_numbers(draw) -> str:
    n = draw(st.one_of(st.integers(0, 99), st.integers(0, 10**7), st.integers(0, 10**30)))
    s = str(n)
    form = draw(st.integers(0, 9))
    if form == 1:
        s = f"{n:,}"
    elif form == 2:
        s = s + "." + str(draw(st.integers(0, 999999)))
    elif form == 3:
        s = draw(st.sampled_from(["-", "减", "增加", "+", "－"])) + s
    elif form == 4:
        s = s + draw(st.sampled_from(["万元", "元", "亿元", "件", "%"]))
    elif form == 5:
        s = s.translate(FULLWIDTH)
    elif form == 6:
        s = draw(st.sampled_from(["/", "-", "—", "无", "", "0"]))
    return s


@st.composite
def table_rows(draw) -> str:
    """A label followed by values, the way rows of the standard tables are printed."""
    label = draw(st.sampled_from(LABELS))
    sep = draw(st.sampled_from(["\t", "|", " ", "\n", ""]))
    values = draw(st.lists(printed_numbers(), min_size=0, max_size=16))
    return label + sep + sep.join(values)


pieces = st.one_of(
    st.sampled_from(LABELS),
    st.sampled_from(HEADINGS),
    printed_numbers(),
    st.sampled_from(SEPARATORS),
    table_rows(),
    st.text(alphabet="0123456789 \t|\n.,-元万", max_size=30),
    st.text(max_size=8),
)
texts = st.lists(pieces, min_size=0, max_size=60).map("".join)
html_pieces = st.one_of(pieces, st.sampled_from(TAGS), st.sampled_from(TAGS), table_rows().map(lambda r: "<tr><td>" + r.replace("\t", "</td><td>") + "</td></tr>"))
htmls = st.lists(html_pieces, min_size=0, max_size=80).map(lambda ps: "<html><body>" + "".join(ps))

HYP = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _extract_and_check(name: str, data: bytes) -> None:
    r = extract_document(read_document(name, data))  # must not raise
    assert not internal_errors(r), internal_errors(r)
    problems = check(data, r, name)
    assert not problems, problems


@settings(max_examples=200, **HYP)
@given(text=texts, encoding=st.sampled_from(["utf-8", "gb18030", "utf-16", "utf-8-sig"]))
def test_generated_text_never_raises_or_invents(text, encoding):
    _extract_and_check("generated.txt", text.encode(encoding, errors="replace"))


@settings(max_examples=150, **HYP)
@given(page=htmls)
def test_generated_html_never_raises_or_invents(page):
    _extract_and_check("generated.html", page.encode("utf-8"))


@settings(max_examples=100, **HYP)
@given(rows=st.lists(table_rows(), min_size=1, max_size=40), heading=st.sampled_from(HEADINGS))
def test_generated_table_rows_never_raise_or_invent(rows, heading):
    _extract_and_check("rows.txt", (heading + "\n" + "\n".join(rows)).encode("utf-8"))


def test_checker_reads_html_with_nuls_as_the_reader_does():
    """UTF-32 read as UTF-16 leaves a NUL after every character; the HTML reader drops them."""
    page = "<table><tr><td>规章</td><td><span>73802895.90</span><span>元</span></td></tr></table>"
    data = "".join(ch + "\x00" for ch in page).encode("utf-8")
    assert check(data, _result("73802895.90元", 73802895.9, key="t2.procurement.amount"), path="x.html") == []
