"""The notebook pipeline: execution, nbval, HTML rendering, index page, screenshots.

Tests about the machinery use small notebooks generated here (they read the
processed tables through ``GIDR_PROCESSED`` and write through
``GIDR_REPORTS`` as the real ones do); tests about the notebooks themselves
use ``notebooks/*.ipynb`` when they exist and a generated notebook otherwise.
Nothing here writes into the repository except ``reports/screenshots/``.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.research import render

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
SANITIZE = NOTEBOOKS / "sanitize.cfg"
SCREENSHOTS = REPO / "reports" / "screenshots"
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
GLYPH_PROBLEMS = re.compile(r"missing from (current )?font|Glyph \d+|MissingGlyphError")

PARAMETERS = 'YEARS = None\nPROVINCES = None\nLEVELS = None\nAGENCIES = None\nLANG = "zh"'
LOAD = (
    "import os\n"
    "from pathlib import Path\n"
    "import pandas as pd\n"
    'PROCESSED = Path(os.environ["GIDR_PROCESSED"])\n'
    'REPORTS = Path(os.environ["GIDR_REPORTS"])\n'
    'reports = pd.read_csv(PROCESSED / "reports.csv")\n'
    "if YEARS:\n"
    '    reports = reports[reports["year"].isin(YEARS)]\n'
    'print(len(reports), "reports")'
)


# --------------------------------------------------------------------------- helpers


def real_notebooks() -> list[Path]:
    return render.find_notebooks(NOTEBOOKS)


def executed(path: Path) -> bool:
    """Whether a saved notebook holds the outputs of a run (nbval compares only those)."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    return bool(code) and all(c.get("execution_count") is not None for c in code) and any(c.get("outputs") for c in code)


def make_notebook(path: Path, title: str, *cells: str, markdown: str = "") -> Path:
    """A notebook in the project's convention: a heading, a ``parameters`` cell, code cells."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    params = new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [new_markdown_cell(f"# {title}\n\n{markdown}"), params, *(new_code_cell(c) for c in cells)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def data_env(root: Path) -> dict[str, str]:
    """The environment that points notebooks at ``root``'s raw, processed and reports folders."""
    return {
        "GIDR_RAW": str(root / "data" / "raw"),
        "GIDR_PROCESSED": str(root / "data" / "processed"),
        "GIDR_REPORTS": str(root / "reports"),
    }


def copy_raw(root: Path) -> Path:
    raw = root / "data" / "raw"
    shutil.copytree(REPO / "data" / "raw", raw)
    return raw


def build(root: Path) -> Path:
    out = root / "data" / "processed"
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "build", "--raw", str(root / "data" / "raw"), "--out", str(out), "--no-progress"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "reports.csv").is_file()
    return out


def rewrite_sources(raw: Path, change) -> None:
    """Apply ``change(row)`` to every row of ``sources.csv`` (same columns, same line ends)."""
    path = raw / "sources.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys())
    for row in rows:
        change(row)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def bump_last_number(raw: Path, file: str, label: str, by: int = 1000) -> tuple[int, int]:
    """Add ``by`` to the last number printed on the first line of ``file``
    containing ``label`` (a transcription slip in the thousands digit, large
    enough to move percentages printed to one decimal) and record the file's
    new sha256 in ``sources.csv`` (so the build accepts it).  Returns (old, new)."""
    path = raw / file
    lines = path.read_text(encoding="utf-8").split("\n")
    i = next(i for i, ln in enumerate(lines) if label in ln)
    m = list(re.finditer(r"\d+", lines[i]))[-1]
    old = int(m.group(0))
    lines[i] = lines[i][: m.start()] + str(old + by) + lines[i][m.end() :]
    path.write_text("\n".join(lines), encoding="utf-8")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    rewrite_sources(raw, lambda row: row.update(sha256=digest) if row["file"] == file else None)
    return old, old + by


def run_nbval(notebook: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval", str(notebook), "--nbval-sanitize-with", str(SANITIZE)],
        cwd=REPO,
        env={**os.environ, **env, "JUPYTER_PREFER_ENV_PATH": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )


def outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")))
            parts.append(str(out.get("evalue", "")) + str(out.get("ename", "")))
            for key, value in out.get("data", {}).items():
                if key.startswith("text/"):
                    parts.append(str(value))
    return "\n".join(parts)


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        msg = "chromium not found: install Debian's chromium (`make test` does so as root) for the screenshot test"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


def screenshot(page: Path, target: Path, tmp: Path, height: int = 4000) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'chromium-profile'}", f"--screenshot={target}", f"--window-size=1280,{height}", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert target.is_file(), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return target


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    """A copy of data/raw built into <tmp>/data/processed."""
    root = tmp_path_factory.mktemp("original")
    copy_raw(root)
    build(root)
    return root


@pytest.fixture(scope="module")
def figure_notebook(tmp_path_factory) -> Path:
    """A generated notebook with a table, a printed number and a figure with Chinese labels."""
    folder = tmp_path_factory.mktemp("generated")
    return make_notebook(
        folder / "01-generated.ipynb",
        "生成的笔记本 · Generated notebook",
        LOAD,
        't3 = pd.read_csv(PROCESSED / "t3.csv")\n'
        'received = t3[t3["row"] == "new_received"].groupby("report")["total"].sum()\n'
        'print("received requests, all reports:", int(received.sum()))\n'
        "received.head(3)",
        "from helpers.research import plots\n"
        'plots.setup("zh")\n'
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(figsize=(4, 3))\n"
        'ax.bar(["收到申请", "予以公开"], [3, 5])\n'
        'ax.set_title("申请数量（件）")\n'
        'plots.savefig(fig, "01_requests", REPORTS / "figures")\n'
        "plt.show()",
    )


# --------------------------------------------------------------------------- unit level


def test_normalize_drops_volatile_metadata_and_renumbers():
    nb = new_notebook()
    nb.metadata["widgets"] = {"state": {"model": {"id": "random"}}}
    nb.metadata["papermill"] = {"start_time": "2026-01-01T00:00:00", "duration": 1.5, "parameters": {"YEARS": [2024]}}
    nb.cells = [new_code_cell("1"), new_code_cell(""), new_code_cell("2")]
    nb.cells[0].execution_count = 7
    nb.cells[0].metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=7)]
    nb.cells[2].execution_count = 9
    nb.cells[2].metadata["papermill"] = {"duration": 0.1}
    render.normalize(nb)
    assert "widgets" not in nb.metadata
    assert nb.metadata["papermill"] == {"parameters": {"YEARS": [2024]}}
    assert [c.execution_count for c in nb.cells] == [1, None, 2]
    assert nb.cells[0].outputs[0].execution_count == 1
    assert "execution" not in nb.cells[0].metadata and "papermill" not in nb.cells[2].metadata


def test_parameters_from_arguments_and_file(tmp_path):
    assert render.parameters("2019-2021,2024", "江苏省,上海市", "", None, "en") == {
        "YEARS": [2019, 2020, 2021, 2024],
        "PROVINCES": ["江苏省", "上海市"],
        "LANG": "en",
    }
    f = tmp_path / "p.yml"
    f.write_text("years: [2023]\nAGENCIES: [平潭综合实验区]\nlang: zh\n", encoding="utf-8")
    assert render.parameters(lang="en", file=f) == {"YEARS": [2023], "AGENCIES": ["平潭综合实验区"], "LANG": "en"}
    assert render.parameters() == {}
    with pytest.raises(ValueError):
        render.parameters(years="last year")
    with pytest.raises(ValueError):
        render.parameters(lang="fr")
    with pytest.raises(ValueError):
        render.run_subset("../escape", {}, [])


def test_gitignore_keeps_readmes_and_ignores_built_files():
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO).returncode == 0

    assert not ignored("data/processed/README.md") and not ignored("reports/README.md")
    assert not ignored("reports/figures/01_x.png") and not ignored("reports/tables/01_x.csv")
    for path in ("data/processed/cells.csv", "data/processed/t3.parquet", "data/.processed.lock", "reports/html/index.html", "reports/subsets/a/x.ipynb", "reports/screenshots/a.png"):
        assert ignored(path), path


# --------------------------------------------------------------------------- a. a changed number fails nbval


def _change_target() -> tuple[Path | None, str]:
    """The real notebook to check (02 when executed, else the first executed one)
    and the Table 3 row whose printed total is changed for it."""
    nbs = [p for p in real_notebooks() if executed(p)]
    preferred = [p for p in nbs if p.name.startswith("02-")]
    target = (preferred or nbs or [None])[0]
    label = "本年新收" if target is None or target.name.startswith("02-") else "予以公开"
    return target, label


def test_nbval_fails_when_one_raw_number_changes(tmp_path, original, figure_notebook):
    target, label = _change_target()
    if target is None:
        # no executed notebook yet: a generated one, saved with its outputs on the original data
        target = tmp_path / "nb" / "02-generated.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(figure_notebook, target)
        rep = render.run_in_place([target], reports=tmp_path / "saved" / "reports", render=False, env=data_env(original), log=lambda *_: None)
        assert rep.ok, [f.text() for f in rep.failed]
    before = target.read_bytes()

    ok = run_nbval(target, {**data_env(original), "GIDR_REPORTS": str(tmp_path / "run1" / "reports")})
    assert ok.returncode == 0, f"nbval fails on the unchanged data:\n{ok.stdout[-6000:]}"

    changed = tmp_path / "changed"
    old, new = bump_last_number(copy_raw(changed), "huaian_2024.transcribed.txt", label)
    build(changed)
    bad = run_nbval(target, {**data_env(changed), "GIDR_REPORTS": str(tmp_path / "run2" / "reports")})
    assert bad.returncode != 0, f"changing {old} to {new} ({label}, huaian 2024) went unnoticed by nbval on {target.name}"
    assert "mismatch" in bad.stdout or "Cell outputs differ" in bad.stdout, bad.stdout[-4000:]
    assert target.read_bytes() == before  # nbval never writes the notebook


# --------------------------------------------------------------------------- b. escaping


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """data/raw with the agency of one report set to a script tag in sources.csv, built."""
    root = tmp_path_factory.mktemp("hostile")
    raw = copy_raw(root)
    rewrite_sources(raw, lambda row: row.update(agency=SCRIPT) if row["file"] == "yindu_office_2024.txt" else None)
    build(root)
    return root


def _assert_escaped(page: str, where: str) -> None:
    assert SCRIPT not in page, f"{where}: the agency name reaches the page as an executable <script>"
    assert ESCAPED in page, f"{where}: the agency name {SCRIPT!r} is not shown (escaped) on the page"


def test_agency_name_is_escaped_in_generated_page(tmp_path, hostile):
    nb_path = make_notebook(tmp_path / "00-corpus.ipynb", "Corpus <i>&</i> quality", LOAD, 'reports[["report", "agency", "year"]]')
    nb, failure = render.execute(nb_path, env={**data_env(hostile), "GIDR_REPORTS": str(tmp_path / "reports")})
    assert failure is None, failure.text()
    assert SCRIPT in outputs_text(nb)  # the name did reach the notebook
    _assert_escaped(render.html_page(nb, "00-corpus"), "generated notebook")
    nbformat.write(nb, nb_path)
    index = render.write_index([nb_path], tmp_path / "html", reports=tmp_path / "reports").read_text(encoding="utf-8")
    assert "Corpus &lt;i&gt;&amp;&lt;/i&gt; quality" in index and "<i>" not in index


def test_agency_name_is_escaped_in_real_corpus_notebook(tmp_path, hostile):
    nbs = [p for p in real_notebooks() if p.name.startswith("00-")]
    if not nbs:
        pytest.skip("notebooks/00-*.ipynb does not exist yet; test_agency_name_is_escaped_in_generated_page covers the machinery")
    nb, failure = render.execute(nbs[0], env={**data_env(hostile), "GIDR_REPORTS": str(tmp_path / "reports")})
    assert failure is None, failure.text()
    for exclude in (False, True):
        _assert_escaped(render.html_page(nb, nbs[0].stem, exclude_input=exclude, path=NOTEBOOKS), f"{nbs[0].name} (exclude_input={exclude})")


# --------------------------------------------------------------------------- c. screenshot and glyphs


def _non_blank(png: Path) -> None:
    import numpy as np
    from matplotlib import image

    px = image.imread(png)
    assert px.ndim == 3 and px.shape[0] > 100 and px.shape[1] > 100
    grey = px[..., :3].mean(axis=2)
    dark = float((grey < 0.5).mean())
    assert grey.std() > 0.05 and dark > 0.002, f"{png} looks blank (std {grey.std():.3f}, dark share {dark:.4f})"


def test_screenshot_of_rendered_page_and_no_missing_glyphs(tmp_path, original, figure_notebook):
    reals = [p for p in real_notebooks() if executed(p)]
    if reals:
        # every saved output of every executed notebook is free of glyph warnings
        for p in reals:
            text = outputs_text(nbformat.read(p, as_version=4))
            assert not GLYPH_PROBLEMS.search(text), f"{p.name}: a figure was drawn with a missing glyph: {GLYPH_PROBLEMS.search(text).group(0)}"
        # the page with the most figures
        page_nb = max(reals, key=lambda p: (json.dumps(nbformat.read(p, as_version=4).dict()).count("image/png"), p.name))
        nb = nbformat.read(page_nb, as_version=4)
        name = page_nb.stem
        path = NOTEBOOKS
    else:
        nb, failure = render.execute(figure_notebook, env={**data_env(original), "GIDR_REPORTS": str(tmp_path / "reports")})
        assert failure is None, failure.text()
        text = outputs_text(nb)
        assert not GLYPH_PROBLEMS.search(text), text
        assert (tmp_path / "reports" / "figures" / "01_requests.png").is_file()
        name, path = figure_notebook.stem, figure_notebook.parent
    page = tmp_path / "html" / f"{name}.html"
    page.parent.mkdir()
    page.write_text(render.html_page(nb, name, path=path), encoding="utf-8")
    body = page.read_text(encoding="utf-8")
    assert "data:image/png;base64," in body, "the page has no embedded image"
    assert not re.search(r"<img[^>]+src=\"(?!data:)", body), "an image is linked, not embedded"
    shot = screenshot(page, SCREENSHOTS / f"{name}.png", tmp_path)
    _non_blank(shot)


# --------------------------------------------------------------------------- d. determinism


def test_two_runs_give_identical_notebook_html_and_figures(tmp_path, original, figure_notebook):
    nb_path = tmp_path / "nb" / figure_notebook.name
    nb_path.parent.mkdir()
    shutil.copy(figure_notebook, nb_path)
    reports = tmp_path / "reports"

    def run() -> dict[str, str]:
        rep = render.run_in_place([nb_path], reports=reports, env=data_env(original) | {"GIDR_REPORTS": str(reports)}, log=lambda *_: None)
        assert rep.ok, [f.text() for f in rep.failed]
        files = [nb_path, *sorted(p for p in reports.rglob("*") if p.is_file())]
        return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}

    first = run()
    second = run()
    assert first == second
    names = {Path(p).relative_to(tmp_path).as_posix() for p in first}
    assert {"html/01-generated.html", "html/no-code/01-generated.html", "html/index.html", "figures/01_requests.png", "manifest.json"} <= {
        n.removeprefix("reports/") for n in names
    }
    saved = json.loads(nb_path.read_text(encoding="utf-8"))
    assert [c.get("execution_count") for c in saved["cells"] if c["cell_type"] == "code"] == [1, 2, 3, 4]
    assert not any("execution" in c["metadata"] for c in saved["cells"]) and "widgets" not in saved["metadata"]
    nocode = (reports / "html" / "no-code" / "01-generated.html").read_text(encoding="utf-8")
    assert "plots.setup" not in nocode and "received requests, all reports:" in nocode


def test_failing_notebook_is_reported_left_unchanged_and_others_run(tmp_path, original):
    good = make_notebook(tmp_path / "nb" / "01-good.ipynb", "Good", LOAD)
    bad = make_notebook(tmp_path / "nb" / "02-bad.ipynb", "Bad", LOAD, 'raise RuntimeError("no such table")')
    before = bad.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "helpers.research.render", "run", str(bad), str(good), "--reports", str(tmp_path / "reports")],
        cwd=REPO,
        env={**os.environ, **data_env(original), "GIDR_REPORTS": str(tmp_path / "reports")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "02-bad.ipynb: code cell 3 (cell index 3) starting `raise RuntimeError" in proc.stderr
    assert "RuntimeError: no such table" in proc.stderr
    assert bad.read_bytes() == before
    assert executed(good)
    html_dir = tmp_path / "reports" / "html"
    assert (html_dir / "01-good.html").is_file() and not (html_dir / "02-bad.html").exists()
    assert "execution failed" in (html_dir / "index.html").read_text(encoding="utf-8")


def test_subset_runs_with_parameters_without_touching_the_notebook(tmp_path, original, figure_notebook):
    src = tmp_path / "nb" / figure_notebook.name
    src.parent.mkdir()
    shutil.copy(figure_notebook, src)
    before = src.read_bytes()
    rep = render.run_subset("y2024", {"YEARS": [2024]}, [src], root=tmp_path / "subsets", env=data_env(original), log=lambda *_: None)
    assert rep.ok, [f.text() for f in rep.failed]
    assert src.read_bytes() == before
    out = tmp_path / "subsets" / "y2024"
    nb = nbformat.read(out / "notebooks" / src.name, as_version=4)
    n2024 = sum(1 for row in csv.DictReader((original / "data" / "processed" / "reports.csv").open(encoding="utf-8")) if row["year"] == "2024")
    assert f"{n2024} reports" in outputs_text(nb)
    assert (out / "figures" / "01_requests.png").is_file()
    assert (out / "html" / f"{src.stem}.html").is_file() and (out / "html" / "index.html").is_file()
    assert json.loads((out / "parameters.json").read_text(encoding="utf-8")) == {"YEARS": [2024]}


# --------------------------------------------------------------------------- e. index page


def _check_index(index: Path, notebooks: list[Path]) -> None:
    page = index.read_text(encoding="utf-8")
    for p in notebooks:
        title = render.notebook_title(nbformat.read(p, as_version=4), p.stem)
        assert f"<h2>{html.escape(title)}</h2>" in page, f"{p.name} is not listed with its title"
        assert f'href="{p.stem}.html"' in page and f'href="no-code/{p.stem}.html"' in page
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert hrefs
    for href in hrefs:
        assert (index.parent / unquote(html.unescape(href))).is_file(), f"index.html links to a missing file: {href}"


def test_index_lists_every_notebook_with_existing_links(tmp_path, original, figure_notebook):
    second = make_notebook(tmp_path / "nb" / "02-second.ipynb", "Second <notebook> & more", LOAD)
    first = tmp_path / "nb" / figure_notebook.name
    shutil.copy(figure_notebook, first)
    reports = tmp_path / "reports"
    rep = render.run_in_place([first, second], reports=reports, env=data_env(original) | {"GIDR_REPORTS": str(reports)}, log=lambda *_: None)
    assert rep.ok, [f.text() for f in rep.failed]
    _check_index(rep.index, [first, second])
    page = rep.index.read_text(encoding="utf-8")
    assert "01_requests.png" in page and "01_requests.pdf" in page
    assert "Second &lt;notebook&gt; &amp; more" in page


def test_index_of_the_real_notebooks(tmp_path):
    nbs = real_notebooks()
    if not nbs:
        pytest.skip("no notebooks in notebooks/ yet; test_index_lists_every_notebook_with_existing_links covers the machinery")
    rep = render.render_all(nbs, reports=REPO / "reports", html_dir=tmp_path / "html")
    _check_index(rep.index, nbs)
    for p in nbs:
        body = (tmp_path / "html" / f"{p.stem}.html").read_text(encoding="utf-8")
        assert not re.search(r"<img[^>]+src=\"(?!data:)", body), f"{p.name}: an image is linked, not embedded"
