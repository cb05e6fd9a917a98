"""Files holding several reports: compilations (汇编) and year-on-year comparisons.

Every multi-report fixture is built here, in tmp_path, from the real
transcriptions of ``../shared/corpus/transcribed`` (read in place, never
copied into the repository): the reports are concatenated under their titles,
or their tables are laid out under year headings, and rendered as text, HTML,
DOCX or PDF.  Each part of the bundle must extract exactly like the same report
rendered alone in the same form, so that no value of one report can reach
another's result.
"""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.extract import extract_file, extract_path
from helpers.parts import marker_of

SECTION = re.compile(r"^#+\s*([一二三四五六])、")
COMPILATION = ("hongze_2024", "huaian_2024", "sh_kewei_2024")
POOL = ("hongze_2023", "hongze_2024", "huaian_2024", "jinhu_2023", "sh_kewei_2024", "pingtan_2021", "shuyang_fgj_2023")


@cache
def transcription(shared: Path, name: str) -> str:
    return (shared / "corpus" / "transcribed" / f"{name}.txt").read_text(encoding="utf-8")


def sections(text: str) -> tuple[str, dict[str, list[str]]]:
    """A transcription's title and the lines under each outline section (heading included)."""
    lines = text.splitlines()
    title = lines[0].lstrip("# ").strip()
    out: dict[str, list[str]] = {}
    cur = None
    for line in lines[1:]:
        m = SECTION.match(line)
        if m:
            cur = m.group(1)
            out[cur] = []
        if cur is not None:
            out[cur].append(line)
    return title, out


def without_markers(text: str) -> str:
    """The report with its title, source note and 一、总体情况 dropped (nothing that marks where it starts)."""
    _, secs = sections(text)
    return "\n".join(line for s in "二三四五六" for line in secs.get(s, [])) + "\n"


def cells_of(result) -> dict:
    return {k: v.to_json() for k, v in result.cells.items()}


def alone(tmp_path: Path, name: str, text: str) -> object:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return extract_path(str(p))


# ---------------------------------------------------------------------------
# rendering the same text as HTML and DOCX


def to_html(text: str) -> str:
    out = ["<html><head><meta charset='utf-8'></head><body>"]
    table: list[str] = []

    def flush() -> None:
        if table:
            out.append("<table border='1'>" + "".join(table) + "</table>")
            table.clear()

    for line in text.splitlines():
        if "\t" in line:
            table.append("<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in line.split("\t")) + "</tr>")
            continue
        flush()
        if line.strip():
            tag = "h1" if line.startswith("# ") else "p"
            out.append(f"<{tag}>{html.escape(line.lstrip('#> ').strip())}</{tag}>")
    flush()
    out.append("</body></html>")
    return "\n".join(out)


def to_docx(text: str, path: Path) -> None:
    docx = pytest.importorskip("docx")
    d = docx.Document()
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            width = max(len(r) for r in rows)
            t = d.add_table(rows=len(rows), cols=width)
            for i, r in enumerate(rows):
                for j, c in enumerate(r):
                    t.cell(i, j).text = c.strip()
            rows.clear()

    for line in text.splitlines():
        if "\t" in line:
            rows.append(line.split("\t"))
            continue
        flush()
        if line.strip():
            d.add_paragraph(line.lstrip("#> ").strip())
    flush()
    d.save(str(path))


def compilation_text(shared: Path, names) -> str:
    """A cover and a table of contents listing every title, then each report in full."""
    texts = [transcription(shared, n) for n in names]
    titles = [sections(t)[0] for t in texts]
    head = ["某市2024年度政府信息公开工作年度报告汇编", "目录", *titles, ""]
    return "\n".join(head) + "\n" + "\n".join(texts)


# ---------------------------------------------------------------------------
# compilations


def test_compilation_of_three_reports_gives_three_results(shared_dir, tmp_path):
    p = tmp_path / "compilation.txt"
    p.write_text(compilation_text(shared_dir, COMPILATION), encoding="utf-8")
    results = extract_file(str(p))
    assert [(r.part, r.parts) for r in results] == [(1, 3), (2, 3), (3, 3)]
    assert [(r.agency, r.year) for r in results] == [
        ("淮安市洪泽区人民政府", 2024),
        ("淮安市人民政府", 2024),
        ("上海市科学技术委员会", 2024),
    ]
    for r, name in zip(results, COMPILATION):
        own = extract_path(str(shared_dir / "corpus" / "transcribed" / f"{name}.txt"))
        assert r.path == str(p)
        assert r.status == own.status and r.edition == own.edition
        assert cells_of(r) == cells_of(own), name
        assert [i.rule for i in r.issues] == [i.rule for i in own.issues], name
    # 上海市科委 2024 prints 结转下年度 总计 blank: its issue names the file and the report
    blank = [i for i in results[2].issues if i.rule == "t3.blank_total"]
    assert blank and blank[0].message.startswith(f"{p} (report 3 of 3: 2024 上海市科学技术委员会): Table 3")
    assert blank[0].path == str(p)
    # the JSON lines carry part, parts, agency and year
    js = [r.to_json() for r in results]
    assert [(j["part"], j["parts"], j["year"]) for j in js] == [(1, 3, 2024), (2, 3, 2024), (3, 3, 2024)]


def test_extract_cli_prints_one_line_per_report(shared_dir, tmp_path):
    import json
    import subprocess
    import sys

    p = tmp_path / "compilation.txt"
    p.write_text(compilation_text(shared_dir, COMPILATION[:2]), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "helpers", "extract", str(p)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    lines = [json.loads(x) for x in out]
    assert [(x["path"], x["part"], x["parts"], x["agency"]) for x in lines] == [
        (str(p), 1, 2, "淮安市洪泽区人民政府"),
        (str(p), 2, 2, "淮安市人民政府"),
    ]
    assert lines[0]["cells"]["t3.new_received.total"]["value"] == 95
    assert lines[1]["cells"]["t3.new_received.total"]["value"] != 95


@pytest.mark.parametrize("form", ["html", "docx"])
def test_compilation_in_html_and_docx(shared_dir, tmp_path, form):
    """Each part equals the same report rendered alone in the same form."""
    names = COMPILATION

    def render(text: str, stem: str) -> Path:
        p = tmp_path / f"{stem}.{form}"
        if form == "html":
            p.write_text(to_html(text), encoding="utf-8")
        else:
            to_docx(text, p)
        return p

    bundle = render(compilation_text(shared_dir, names), "compilation")
    results = extract_file(str(bundle))
    assert [r.parts for r in results] == [3, 3, 3]
    assert [r.agency for r in results] == ["淮安市洪泽区人民政府", "淮安市人民政府", "上海市科学技术委员会"]
    for r, name in zip(results, names):
        own = extract_path(str(render(transcription(shared_dir, name), name)))
        assert own.status in ("ok", "partial") and own.cells
        assert cells_of(r) == cells_of(own), name
        assert r.kind == form


CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def to_pdf(text: str, path: Path) -> None:
    """One text line per PDF line (fields joined by spaces), in the Simplified Chinese face of Noto Sans CJK."""
    fpdf = pytest.importorskip("fpdf")
    if not CJK_FONT.exists():
        pytest.skip(f"no CJK font at {CJK_FONT}")
    pdf = fpdf.FPDF()
    pdf.add_font("cjk", "", str(CJK_FONT), collection_font_number=2)
    pdf.set_font("cjk", size=8)
    pdf.add_page()
    for line in text.splitlines():
        line = line.replace("\t", " ").strip()
        if line:
            pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def test_compilation_in_pdf(shared_dir, tmp_path):
    """Two reports without blank cells (a PDF text line cannot show a blank cell), each part equal to
    the same report printed alone."""
    names = ("hongze_2024", "huaian_2024")
    bundle = tmp_path / "compilation.pdf"
    to_pdf("\n".join(transcription(shared_dir, n) for n in names), bundle)
    results = extract_file(str(bundle))
    assert [(r.part, r.parts, r.agency, r.year, r.kind) for r in results] == [
        (1, 2, "淮安市洪泽区人民政府", 2024, "pdf"),
        (2, 2, "淮安市人民政府", 2024, "pdf"),
    ]
    for r, name in zip(results, names):
        alone_pdf = tmp_path / f"{name}.pdf"
        to_pdf(transcription(shared_dir, name), alone_pdf)
        own = extract_path(str(alone_pdf))
        assert own.status == "ok" and sum(c.status == "number" for c in own.cells.values()) > 150
        assert cells_of(r) == cells_of(own), name


# ---------------------------------------------------------------------------
# year-on-year comparisons


def test_two_years_one_after_the_other_under_year_headings(shared_dir, tmp_path):
    a, b = transcription(shared_dir, "pingtan_2023"), transcription(shared_dir, "pingtan_2024")
    text = (
        "平潭综合实验区2024年政府信息公开工作年度报告\n一、总体情况\n本年度与上年度数据对照如下。\n"
        f"2023年\n{without_markers(a)}2024年\n{without_markers(b)}"
    )
    p = tmp_path / "comparison.txt"
    p.write_text(text, encoding="utf-8")
    results = extract_file(str(p))
    assert [(r.part, r.parts, r.year, r.agency) for r in results] == [
        (1, 2, 2023, "平潭综合实验区"),
        (2, 2, 2024, "平潭综合实验区"),
    ]
    for r, src in zip(results, (a, b)):
        own = alone(tmp_path, "own.txt", without_markers(src))
        assert cells_of(r) == cells_of(own)


def test_two_years_interleaved_table_by_table(shared_dir, tmp_path):
    """二、 2023年 Table 2, 2024年 Table 2; 三、 2023年 Table 3, 2024年 Table 3; …"""
    (_, sa), (_, sb) = sections(transcription(shared_dir, "pingtan_2023")), sections(transcription(shared_dir, "pingtan_2024"))
    lines = ["# 平潭综合实验区2024年政府信息公开工作年度报告", "## 一、总体情况", "（从略）"]
    for s in "二三四":
        lines.append(sa[s][0])  # the section heading, once
        lines += ["2023年", *sa[s][1:], "2024年", *sb[s][1:]]
    p = tmp_path / "interleaved.txt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = extract_file(str(p))
    assert [(r.year, r.agency, r.parts) for r in results] == [(2023, "平潭综合实验区", 2), (2024, "平潭综合实验区", 2)]
    for r, secs in zip(results, (sa, sb)):
        own = alone(tmp_path, "own.txt", "\n".join(line for s in "二三四" for line in secs[s]) + "\n")
        assert cells_of(r) == cells_of(own)
        assert r.status == "ok"


# ---------------------------------------------------------------------------
# what cannot be separated is not read


def test_inseparable_bundle_reads_nothing(shared_dir, tmp_path):
    text = without_markers(transcription(shared_dir, "hongze_2024")) + without_markers(transcription(shared_dir, "huaian_2024"))
    p = tmp_path / "bundle.txt"
    p.write_text(text, encoding="utf-8")
    results = extract_file(str(p))
    assert len(results) == 1
    r = results[0]
    assert (r.status, r.part, r.parts, r.cells, r.agency, r.year, r.edition) == ("failed", 1, 1, {}, None, None, None)
    assert [i.rule for i in r.issues] == ["extract.several_reports"]
    msg = r.issues[0].message
    assert msg.startswith(f"{p}: the file holds several reports (")
    assert "Table 3 (收到和处理申请) 2 times" in msg and "none of them is read" in msg
    # extract_path still reads the file as one report, as before (first printing wins, duplicates reported)
    assert any(i.rule == "extract.duplicate_row" for i in extract_path(str(p)).issues)


def test_a_table_printed_twice_under_one_year_is_inseparable(shared_dir, tmp_path):
    """Two year headings of the same year cannot separate two Table 3s."""
    _, s = sections(transcription(shared_dir, "hongze_2024"))
    lines = ["# 淮安市洪泽区人民政府 2024 年政府信息公开工作年度报告", "2024年", *s["三"], "2024年", *s["三"]]
    p = tmp_path / "twice.txt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (r,) = extract_file(str(p))
    assert r.status == "failed" and not r.cells
    assert "between Table 3 (收到和处理申请) at table 4 row 4 and its next printing at table 7 row 4" in r.issues[0].message


def test_a_third_table_without_its_year_is_inseparable(shared_dir, tmp_path):
    """2023年 Table 3, 2024年 Table 3, then a Table 3 under no heading: it would fall to 2024 twice."""
    _, s = sections(transcription(shared_dir, "hongze_2024"))
    lines = ["2023年", *s["三"], "2024年", *s["三"], "说明：下表为汇总。", *s["三"][1:]]
    p = tmp_path / "third.txt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (r,) = extract_file(str(p))
    assert (r.status, r.cells) == ("failed", {})
    assert "Table 3 (收到和处理申请) 3 times" in r.issues[0].message
    assert "report 2 would hold Table 3 (收到和处理申请) twice" in r.issues[0].message


# ---------------------------------------------------------------------------
# single reports are untouched


def test_every_single_report_of_the_corpus_extracts_as_before(shared_dir):
    files = sorted((shared_dir / "corpus" / "originals").iterdir()) + sorted((shared_dir / "corpus" / "fragments").iterdir())
    files += sorted((shared_dir / "corpus" / "transcribed").iterdir())
    assert len(files) >= 70
    for f in files:
        got = extract_file(str(f))
        assert len(got) == 1, f
        assert got[0].to_json() == extract_path(str(f)).to_json(), f


def test_a_single_report_quoting_last_year_and_reusing_a_heading_stays_one(shared_dir, tmp_path):
    text = transcription(shared_dir, "hongze_2024").replace(
        "（从略）",
        "2023年，本机关收到政府信息公开申请95件。\n一、总体情况\n"
        "现将《淮安市洪泽区人民政府2023年政府信息公开工作年度报告》中的数据对照如下：上年新收申请80件。",
        1,
    )
    p = tmp_path / "single.txt"
    p.write_text(text, encoding="utf-8")
    results = extract_file(str(p))
    assert len(results) == 1 and results[0].parts == 1
    assert cells_of(results[0]) == cells_of(extract_path(str(shared_dir / "corpus" / "transcribed" / "hongze_2024.txt")))


@pytest.mark.parametrize(
    "text, kind, year",
    [
        ("# 淮安市人民政府 2024 年政府信息公开工作年度报告", "title", None),
        ("2023年度政府信息公开工作年度报告", "title", None),
        ("一、总体情况", "outline", None),
        ("2023年", "year", 2023),
        ("（二）2024年度数据：", "year", 2024),
        ("现将《淮安市2024年政府信息公开工作年度报告》公布如下", None, None),
        ("关于做好2022年政府信息公开工作年度报告编制发布工作的通知", None, None),
        ("2023年，本机关共收到申请12件", None, None),
        ("某市2024年度政府信息公开工作年度报告汇编", None, None),
        ("（一）总体情况", None, None),
    ],
)
def test_markers(text, kind, year):
    m = marker_of(text)
    assert (m.kind if m else None) == kind
    if m is not None:
        assert m.year == year


# ---------------------------------------------------------------------------
# metamorphic: any bundle of reports is read as the reports themselves


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(POOL), min_size=2, max_size=4, unique=True))
def test_no_value_crosses_from_one_part_to_another(shared_dir, tmp_path, names):
    p = tmp_path / "bundle.txt"
    p.write_text(compilation_text(shared_dir, names), encoding="utf-8")
    results = extract_file(str(p))
    own = [extract_path(str(shared_dir / "corpus" / "transcribed" / f"{n}.txt")) for n in names]
    assert len(results) == len(names)
    for i, r in enumerate(results):
        assert (r.agency, r.year) == (own[i].agency, own[i].year)
        for key, cell in r.cells.items():
            assert cell.to_json() == own[i].cells[key].to_json(), (names[i], key)
            for j, other in enumerate(own):
                theirs = other.cells.get(key)
                if j != i and theirs is not None and theirs.printed != own[i].cells[key].printed:
                    # a value printed only by report j never appears in report i
                    assert cell.printed != theirs.printed, (names[i], names[j], key)


def test_repeated_titles_do_not_move_prose_between_reports(shared_dir, tmp_path):
    """Report 1's title repeated before its Table 4 and at its end (running headers), report 2's
    title printed twice:
    each report keeps its own prose, so every number its narrative states agrees with its tables."""
    names = ("hongze_2024", "huaian_2024")
    texts = []
    for n in names:
        own = extract_path(str(shared_dir / "corpus" / "transcribed" / f"{n}.txt"))
        received = own.cells["t3.new_received.total"].value
        title, _ = sections(transcription(shared_dir, n))
        text = transcription(shared_dir, n).replace("（从略）", f"全年共受理政府信息公开申请{received}件。", 1)
        texts.append((title, text))
    (t1, r1), (t2, r2) = texts
    first = r1.replace("#### 四、", t1 + "\n#### 四、", 1)  # among its own tables
    second = r2.replace("## 二、", t2 + "\n## 二、", 1)  # after its narrative
    bundle = "\n".join([first, t1, second])
    p = tmp_path / "headers.txt"
    p.write_text(bundle, encoding="utf-8")
    results = extract_file(str(p))
    assert [(r.agency, r.year) for r in results] == [("淮安市洪泽区人民政府", 2024), ("淮安市人民政府", 2024)]
    for r, n in zip(results, names):
        assert [(v.pattern, v.agrees) for v in r.narrative] == [("received", True)], n
        own = extract_path(str(shared_dir / "corpus" / "transcribed" / f"{n}.txt"))
        assert cells_of(r) == cells_of(own)


@pytest.mark.parametrize("form", ["text", "markdown", "html"])
def test_pairs_of_synthetic_reports_with_layout_damage(tmp_path, form):
    """Two synthetic reports (tooling.synth, damaged layouts) joined into one file are read as
    each one alone: cells, year and the numbers of the narrative."""
    synth = pytest.importorskip("tooling.synth")
    import re as _re

    for i in range(6):
        texts, alone = [], []
        for j in range(2):
            data, name = synth.render(synth.generate(4200 + 2 * i + j), form, seed=i, damage=True)
            ext = Path(name).suffix or ".txt"
            p = tmp_path / f"alone{i}{j}{ext}"
            p.write_bytes(data)
            alone.append(extract_path(str(p)))
            text = data.decode("utf-8")
            if form == "html":
                text = _re.sub(r"(?is)^.*?<body[^>]*>|</body>.*$", "", text)
            texts.append(text)
        body = "\n".join(texts)
        if form == "html":
            body = f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>"
        bundle = tmp_path / f"pair{i}{ext}"
        bundle.write_text(body, encoding="utf-8")
        results = extract_file(str(bundle))
        assert [r.parts for r in results] == [2, 2], (i, [x.message for r in results for x in r.issues][:3])
        for r, own in zip(results, alone):
            assert cells_of(r) == cells_of(own), i
            assert (r.year, r.agency) == (own.year, own.agency), i
            assert [(v.pattern, v.value) for v in r.narrative] == [(v.pattern, v.value) for v in own.narrative], i
