"""Execute the notebooks and render them as HTML, reproducibly.

Used by ``make reproduce``, ``make html`` and ``make subset``; callable as
``python -m helpers.research.render {run,html,subset,index}``.

``run``     execute notebooks *in place* (kernel ``python3``, working directory
            ``notebooks/``), then render HTML and the index page
``html``    render HTML and the index page from the notebooks as they are saved
``subset``  execute every notebook through papermill with parameters into
            ``reports/subsets/<NAME>/`` (never touching ``notebooks/``)
``index``   rewrite only the index page

Reproducibility: an executed notebook keeps nothing that changes from one run
to the next — per-cell timing (``metadata.execution``), papermill timings,
widget state and transient display ids are dropped, execution counts are
renumbered 1..n in cell order, and the file is written atomically (temporary
file in the same folder, flushed, renamed over the old one).  The HTML pages
embed every image (``data:`` URIs) and contain nothing time-dependent, so two
runs on the same data give byte-identical notebooks and pages.

A notebook that fails keeps its saved version unchanged; the failing cell is
reported (number and first source line, error name and message), the other
notebooks are still run, and the command exits with status 1.

Paths: the processed data are read by the notebooks from ``GIDR_PROCESSED``
(default ``<repository>/data/processed``); figures and tables go to
``GIDR_REPORTS`` (default ``<repository>/reports``); HTML goes to
``<reports>/html/`` (full pages, ``no-code/`` pages without code cells,
``index.html``).  Which figures and tables each notebook exported is recorded
in ``<reports>/manifest.json`` when it is executed.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import html
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .load import repo_root, reports_dir

KERNEL_NAME = "python3"
CELL_TIMEOUT = 600  # seconds per cell
NO_CODE_DIR = "no-code"
INDEX_NAME = "index.html"
MANIFEST_NAME = "manifest.json"
PARAMETER_NAMES = ("YEARS", "PROVINCES", "LEVELS", "AGENCIES", "LANG")
SUBSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
TABLE_SUFFIXES = (".csv", ".tex", ".parquet", ".xlsx", ".md")


# --------------------------------------------------------------------------- paths


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"


def find_notebooks(folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """The notebooks of ``folder`` (default ``notebooks/``), sorted by name."""
    folder = Path(folder) if folder is not None else notebooks_dir()
    return sorted(p for p in folder.glob("*.ipynb") if p.is_file())


# --------------------------------------------------------------------------- results


@dataclass
class NotebookFailure:
    """Where and why a notebook stopped."""

    notebook: str
    cell_index: int | None  # 0-based index among all cells, None when not in a cell
    cell_number: int | None  # 1-based number among code cells
    first_line: str
    error: str  # "ename: evalue", or the exception text

    def text(self) -> str:
        if self.cell_index is None:
            return f"{self.notebook}: {self.error}"
        where = f"code cell {self.cell_number} (cell index {self.cell_index})"
        first = f" starting `{self.first_line}`" if self.first_line else ""
        return f"{self.notebook}: {where}{first} failed: {self.error}"


@dataclass
class RunReport:
    """Outcome of running several notebooks."""

    executed: list[Path] = field(default_factory=list)
    failed: list[NotebookFailure] = field(default_factory=list)
    html: list[Path] = field(default_factory=list)
    index: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


# --------------------------------------------------------------------------- normalising


def _is_code(cell) -> bool:
    return cell.get("cell_type") == "code"


def normalize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes between two executions of the same notebook (in place; returned).

    * per-cell ``metadata.execution`` (timestamps) and ``metadata.papermill``;
    * notebook ``metadata.widgets`` (widget state holds random model ids) and
      the papermill timing block (start and end times, duration);
    * ``transient`` parts of outputs (display ids);
    * execution counts: code cells that ran are numbered 1..n in cell order,
      their ``execute_result`` outputs carry the same number; cells that did
      not run keep ``None``.
    """
    meta = nb.setdefault("metadata", nbformat.NotebookNode())
    meta.pop("widgets", None)
    pm = meta.get("papermill")
    if isinstance(pm, dict):
        for key in ("start_time", "end_time", "duration", "exception", "input_path", "output_path", "environment_variables", "version"):
            pm.pop(key, None)
        if not pm:
            meta.pop("papermill")
    count = 0
    for cell in nb.get("cells", []):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []) and "id" in cell:
            cell["id"] = "injected-parameters"  # papermill gives it a random id
        cmeta = cell.get("metadata", {})
        cmeta.pop("execution", None)
        cmeta.pop("papermill", None)
        if not _is_code(cell):
            continue
        ran = cell.get("execution_count") is not None or bool(cell.get("outputs"))
        if ran:
            count += 1
            cell["execution_count"] = count
        else:
            cell["execution_count"] = None
        for out in cell.get("outputs", []):
            out.pop("transient", None)
            if out.get("output_type") == "execute_result":
                out["execution_count"] = cell["execution_count"]
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    """The notebook as saved by Jupyter (sorted keys, one-space indent, final newline)."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and
    a rename, so that readers see the old file or the new one, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    mode = None
    with contextlib.suppress(FileNotFoundError):
        mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode if mode is not None else 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------- execution


@contextlib.contextmanager
def _environ(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for ``None``, remove) environment variables for the duration."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = str(v)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _failure(name: str, nb, index: int | None, exc: BaseException) -> NotebookFailure:
    if index is None or not (0 <= index < len(nb.cells)):
        return NotebookFailure(name, None, None, "", f"{type(exc).__name__}: {exc}".strip())
    cell = nb.cells[index]
    number = sum(1 for c in nb.cells[: index + 1] if _is_code(c))
    first = next((ln.strip() for ln in str(cell.get("source", "")).splitlines() if ln.strip()), "")
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        error = f"{ename}: {evalue}" if evalue else str(ename)
    else:
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    return NotebookFailure(name, index, number, first[:120], error)


def _snapshot(folders: Sequence[Path]) -> dict[str, tuple[int, int]]:
    state: dict[str, tuple[int, int]] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for p in folder.rglob("*"):
            if p.is_file() and not p.name.startswith("."):
                st = p.stat()
                state[str(p)] = (st.st_mtime_ns, st.st_size)
    return state


def execute(
    source: str | os.PathLike[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: int = CELL_TIMEOUT,
    kernel_name: str = KERNEL_NAME,
) -> tuple[nbformat.NotebookNode, NotebookFailure | None]:
    """Run a notebook and return it normalised (see :func:`normalize`), with the
    failure when a cell raised (then the notebook returned is the partial run
    and should not be saved over the original).  Nothing is written.

    ``cwd`` defaults to the notebook's folder; ``env`` adds or removes
    environment variables for the kernel (e.g. ``GIDR_REPORTS``).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    source = Path(source)
    nb = nbformat.read(source, as_version=4)
    current: dict[str, int | None] = {"index": None}

    def on_start(cell=None, cell_index=None, **_):
        current["index"] = cell_index

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        allow_errors=False,
        record_timing=False,
        store_widget_state=False,
        coalesce_streams=True,
        resources={"metadata": {"path": str(Path(cwd) if cwd is not None else source.parent)}},
        on_cell_start=on_start,
    )
    failure = None
    with _environ({"PYTHONHASHSEED": "0", **(env or {})}):
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            failure = _failure(source.name, nb, current["index"], exc)
        except Exception as exc:  # kernel could not start, and the like
            failure = _failure(source.name, nb, None, exc)
    return normalize(nb), failure


def run_in_place(
    paths: Iterable[str | os.PathLike[str]],
    *,
    reports: str | os.PathLike[str] | None = None,
    html_dir: str | os.PathLike[str] | None = None,
    render: bool = True,
    env: Mapping[str, str | None] | None = None,
    log=print,
) -> RunReport:
    """Execute each notebook in place, then render HTML and the index page.

    A notebook that fails is left as it was saved, has no HTML page this run
    (a page from an earlier run is removed) and is reported; the others go on.
    """
    paths = [Path(p) for p in paths]
    reports = reports_dir(reports)
    html_dir = Path(html_dir) if html_dir is not None else reports / "html"
    report = RunReport()
    manifest = read_manifest(reports)
    watched = [reports / "figures", reports / "tables"]
    run_env = {**(env or {}), "GIDR_REPORTS": str(reports)}
    for path in paths:
        t0 = time.monotonic()
        log(f"run: executing {path.name}")
        before = _snapshot(watched)
        nb, failure = execute(path, cwd=path.parent, env=run_env)
        after = _snapshot(watched)
        if failure is not None:
            report.failed.append(failure)
            log(f"run: FAILED {failure.text()}; {path.name} is left unchanged")
            for page in (html_dir / f"{path.stem}.html", html_dir / NO_CODE_DIR / f"{path.stem}.html"):
                with contextlib.suppress(FileNotFoundError):
                    page.unlink()
            continue
        text = dumps(nb)
        if path.read_text(encoding="utf-8") != text:
            atomic_write(path, text)
        report.executed.append(path)
        written = sorted(p for p, st in after.items() if before.get(p) != st)
        _record_outputs(manifest, path.name, reports, written)
        log(f"run: {path.name} done in {time.monotonic() - t0:.1f} s")
    write_manifest(reports, manifest)
    if render:
        ok = [p for p in paths if p in report.executed]
        for path in ok:
            report.html.extend(render_html(path, html_dir))
        failed = {f.notebook for f in report.failed}
        report.index = write_index(paths, html_dir, reports=reports, failed=failed)
    return report


# --------------------------------------------------------------------------- manifest


def read_manifest(reports: Path) -> dict[str, dict[str, list[str]]]:
    path = reports / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    nbs = data.get("notebooks", {}) if isinstance(data, dict) else {}
    return {str(k): {kind: [str(x) for x in v.get(kind, [])] for kind in ("figures", "tables")} for k, v in nbs.items() if isinstance(v, dict)}


def _record_outputs(manifest: dict, name: str, reports: Path, written: Sequence[str]) -> None:
    """Files written under figures/ and tables/ by this run, plus those recorded
    before that still exist (a module may skip rewriting identical bytes)."""
    entry = {"figures": set(), "tables": set()}
    for p in written:
        rel = Path(p).relative_to(reports).as_posix()
        kind = rel.split("/", 1)[0]
        if kind in entry:
            entry[kind].add(rel.split("/", 1)[1])
    for kind, names in manifest.get(name, {}).items():
        entry[kind].update(n for n in names if (reports / kind / n).is_file())
    manifest[name] = {k: sorted(v) for k, v in entry.items()}


def write_manifest(reports: Path, manifest: Mapping[str, Mapping[str, Sequence[str]]]) -> Path:
    path = reports / MANIFEST_NAME
    body = {
        "about": "figures and tables (relative to this folder's figures/ and tables/) exported by each notebook when it was last executed",
        "notebooks": {k: {kind: sorted(v.get(kind, [])) for kind in ("figures", "tables")} for k, v in sorted(manifest.items())},
    }
    text = json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write(path, text)
    return path


# --------------------------------------------------------------------------- HTML


# The "lab" page without the require.js <script> it loads from a CDN (only
# widget and JavaScript outputs would need it; the pages keep working offline).
_PAGE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
"""


def _exporter(exclude_input: bool):
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exp = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"gidr-page.html.j2": _PAGE_TEMPLATE})],
        template_file="gidr-page.html.j2",
    )
    exp.language_code = "zh"
    exp.embed_images = True
    exp.exclude_input = exclude_input
    exp.exclude_input_prompt = exclude_input
    exp.exclude_output_prompt = exclude_input
    return exp


def html_page(nb: nbformat.NotebookNode, name: str, *, exclude_input: bool = False, path: str | os.PathLike[str] | None = None) -> str:
    """One self-contained HTML page for a notebook (images embedded as ``data:`` URIs).

    ``path`` is the folder against which images referenced from Markdown
    cells are resolved (the notebook's folder)."""
    resources = {"metadata": {"name": name, "path": str(path) if path is not None else ""}}
    body, _ = _exporter(exclude_input).from_notebook_node(copy.deepcopy(nb), resources=resources)
    return body if body.endswith("\n") else body + "\n"


def render_html(nb_path: str | os.PathLike[str], html_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``<html_dir>/<name>.html`` (full) and ``<html_dir>/no-code/<name>.html``
    (no code cells, for appendices); files already identical are not rewritten."""
    nb_path = Path(nb_path)
    html_dir = Path(html_dir)
    nb = nbformat.read(nb_path, as_version=4)
    out = []
    for exclude, target in ((False, html_dir / f"{nb_path.stem}.html"), (True, html_dir / NO_CODE_DIR / f"{nb_path.stem}.html")):
        text = html_page(nb, nb_path.stem, exclude_input=exclude, path=nb_path.parent)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            atomic_write(target, text)
        out.append(target)
    return out


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")


def notebook_title(nb: nbformat.NotebookNode, default: str) -> str:
    """The first Markdown heading of the notebook (plain text, not escaped), else ``default``."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for line in str(cell.get("source", "")).splitlines():
            m = _HEADING.match(line)
            if m:
                title = re.sub(r"[*_`]", "", m.group(1)).strip()
                if title:
                    return title
    return default


def _mentioned(nb: nbformat.NotebookNode, names: Iterable[str]) -> set[str]:
    """Which of ``names`` (file names) appear in the notebook's sources or text outputs."""
    parts = []
    for cell in nb.get("cells", []):
        parts.append(str(cell.get("source", "")))
        for out in cell.get("outputs", []):
            if "text" in out:
                parts.append(str(out["text"]))
            data = out.get("data", {})
            for key in ("text/plain", "text/markdown", "text/html"):
                if key in data:
                    parts.append(str(data[key]))
    blob = "\n".join(parts)
    return {n for n in names if n in blob}


def _listing(folder: Path, suffixes: Sequence[str]) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith("."))


def _href(target: Path, start: Path) -> str:
    from urllib.parse import quote

    return quote(Path(os.path.relpath(target, start)).as_posix())


def write_index(
    paths: Iterable[str | os.PathLike[str]],
    html_dir: str | os.PathLike[str],
    *,
    reports: str | os.PathLike[str] | None = None,
    failed: Iterable[str] = (),
    heading: str = "Notebooks",
) -> Path:
    """Write ``<html_dir>/index.html``: for every notebook its title (escaped),
    links to the full page and to the page without code, and the figures it
    exported: those the manifest records for it, those whose file name starts
    with the notebook's number (``03_…`` for ``03-….ipynb``) and any figure
    file named in the notebook."""
    paths = [Path(p) for p in paths]
    html_dir = Path(html_dir)
    reports = reports_dir(reports)
    failed = set(failed)
    manifest = read_manifest(reports)
    all_figures = _listing(reports / "figures", FIGURE_SUFFIXES)
    esc = html.escape
    rows = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        title = notebook_title(nb, path.stem)
        figs = set(f for f in manifest.get(path.name, {}).get("figures", []) if f in all_figures)
        by_name = {Path(f).name: f for f in all_figures}
        figs |= {by_name[n] for n in _mentioned(nb, by_name)}
        number = re.match(r"\d+", path.stem)
        if number:  # figures are named <notebook number>_<stem> (helpers.research.notebook)
            figs |= {f for f in all_figures if re.match(rf"{number.group(0)}[_-]", Path(f).name)}
        item = [f'<li class="notebook" id="{esc(path.stem)}">', f"<h2>{esc(title)}</h2>", f"<p class=\"file\"><code>{esc(path.name)}</code>"]
        if path.name in failed:
            item.append(" — <strong>execution failed in this run; no page rendered</strong></p>")
        else:
            full = html_dir / f"{path.stem}.html"
            nocode = html_dir / NO_CODE_DIR / f"{path.stem}.html"
            item.append(
                f' — <a href="{esc(_href(full, html_dir))}">full page</a>'
                f' · <a href="{esc(_href(nocode, html_dir))}">without code</a></p>'
            )
        if figs:
            item.append('<ul class="figures">')
            for f in sorted(figs):
                item.append(f'<li><a href="{esc(_href(reports / "figures" / f, html_dir))}">{esc(f)}</a></li>')
            item.append("</ul>")
        else:
            item.append('<p class="figures">no figures exported</p>')
        item.append("</li>")
        rows.append("\n".join(item))
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="zh">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(heading)}</title>",
            "<style>",
            "body{font-family:system-ui,'Noto Sans CJK SC','Noto Sans',sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.5;color:#222}",
            "h1{font-size:1.6em}h2{font-size:1.2em;margin:0 0 .2em}ul.notebooks{list-style:none;padding:0}",
            "li.notebook{border-top:1px solid #ddd;padding:.8em 0}ul.figures{margin:.3em 0;font-size:.9em}p.figures{color:#777;font-size:.9em}",
            "</style>",
            "</head>",
            "<body>",
            f"<h1>{esc(heading)}</h1>",
            '<ul class="notebooks">',
            *rows,
            "</ul>",
            "</body>",
            "</html>",
            "",
        ]
    )
    target = html_dir / INDEX_NAME
    if not target.is_file() or target.read_text(encoding="utf-8") != page:
        atomic_write(target, page)
    return target


def render_all(
    paths: Iterable[str | os.PathLike[str]],
    *,
    reports: str | os.PathLike[str] | None = None,
    html_dir: str | os.PathLike[str] | None = None,
) -> RunReport:
    """Render the saved notebooks (no execution) and the index page."""
    paths = [Path(p) for p in paths]
    reports = reports_dir(reports)
    html_dir = Path(html_dir) if html_dir is not None else reports / "html"
    report = RunReport()
    for path in paths:
        report.html.extend(render_html(path, html_dir))
    report.index = write_index(paths, html_dir, reports=reports)
    return report


# --------------------------------------------------------------------------- subsets


def _split(value: str) -> list[str]:
    return [x.strip() for x in re.split(r"[,，;；\s]+", value) if x.strip()]


def _years(value) -> list[int] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)):
        return sorted({int(v) for v in value})
    years: set[int] = set()
    for part in _split(str(value)):
        m = re.fullmatch(r"(\d{4})\s*[-–:]\s*(\d{4})", part)
        if m:
            a, b = sorted((int(m.group(1)), int(m.group(2))))
            years.update(range(a, b + 1))
        elif re.fullmatch(r"\d{4}", part):
            years.add(int(part))
        else:
            raise ValueError(f"YEARS: {part!r} is not a year or a range such as 2019-2024")
    return sorted(years)


def _names(value) -> list[str] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return _split(str(value))


def parameters(
    years=None,
    provinces=None,
    levels=None,
    agencies=None,
    lang=None,
    file: str | os.PathLike[str] | None = None,
) -> dict:
    """The papermill parameters of a subset run.

    ``file`` (JSON or YAML, keys ``YEARS`` ``PROVINCES`` ``LEVELS`` ``AGENCIES``
    ``LANG``, upper or lower case) is read first; arguments given override it.
    Lists may be given as text: ``"2019-2021,2024"``, ``"江苏省,上海市"``.
    Unset parameters are left out, so the notebook's own defaults apply.
    """
    raw: dict = {}
    if file:
        import yaml

        loaded = yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{file}: expected a mapping of parameter names to values")
        for k, v in loaded.items():
            key = str(k).upper()
            if key not in PARAMETER_NAMES:
                raise ValueError(f"{file}: unknown parameter {k!r} (known: {', '.join(PARAMETER_NAMES)})")
            raw[key] = v
    for key, v in (("YEARS", years), ("PROVINCES", provinces), ("LEVELS", levels), ("AGENCIES", agencies), ("LANG", lang)):
        if v not in (None, "", []):
            raw[key] = v
    out: dict = {}
    if "YEARS" in raw and _years(raw["YEARS"]) is not None:
        out["YEARS"] = _years(raw["YEARS"])
    for key in ("PROVINCES", "LEVELS", "AGENCIES"):
        if key in raw and _names(raw[key]) is not None:
            out[key] = _names(raw[key])
    if raw.get("LANG") not in (None, ""):
        lang_value = str(raw["LANG"]).strip()
        if lang_value not in ("zh", "en"):
            raise ValueError(f"LANG: {lang_value!r}; use zh or en")
        out["LANG"] = lang_value
    return out


def run_subset(
    name: str,
    params: Mapping,
    paths: Iterable[str | os.PathLike[str]] | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
    env: Mapping[str, str | None] | None = None,
    log=print,
) -> RunReport:
    """Run every notebook through papermill with ``params`` into
    ``<root>/<name>/`` (default root ``<reports>/subsets``):
    ``notebooks/`` (executed copies), ``figures/`` and ``tables/`` (what the
    notebooks exported, via ``GIDR_REPORTS``), ``html/`` (pages and index) and
    ``parameters.json``.  The notebooks of ``notebooks/`` are only read."""
    import papermill as pm

    if not SUBSET_NAME.match(name or ""):
        raise ValueError(f"subset name {name!r}: use letters, digits, '.', '_' or '-' (no '/'), starting with a letter or digit")
    paths = [Path(p) for p in (paths if paths is not None else find_notebooks())]
    base = Path(root) if root is not None else reports_dir() / "subsets"
    out = base / name
    nb_out = out / "notebooks"
    nb_out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "parameters.json", json.dumps(dict(params), ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    report = RunReport()
    manifest = read_manifest(out)
    watched = [out / "figures", out / "tables"]
    run_env = {"PYTHONHASHSEED": "0", **(env or {}), "GIDR_REPORTS": str(out)}
    executed: list[Path] = []
    for path in paths:
        target = nb_out / path.name
        log(f"subset {name}: executing {path.name}")
        before = _snapshot(watched)
        try:
            with _environ(run_env):
                nb = pm.execute_notebook(
                    str(path),
                    None,
                    parameters=dict(params),
                    kernel_name=KERNEL_NAME,
                    cwd=str(path.parent),
                    progress_bar=False,
                    log_output=False,
                    request_save_on_cell_execute=False,
                    execution_timeout=CELL_TIMEOUT,
                )
        except pm.PapermillExecutionError as exc:
            failure = NotebookFailure(path.name, None, exc.exec_count, "", f"{exc.ename}: {exc.evalue}")
            failure.cell_index = exc.cell_index
            failure.cell_number = exc.exec_count
            report.failed.append(failure)
            log(f"subset {name}: FAILED {failure.text()}")
            continue
        except Exception as exc:
            failure = NotebookFailure(path.name, None, None, "", f"{type(exc).__name__}: {exc}")
            report.failed.append(failure)
            log(f"subset {name}: FAILED {failure.text()}")
            continue
        after = _snapshot(watched)
        atomic_write(target, dumps(normalize(nb)))
        executed.append(target)
        report.executed.append(target)
        _record_outputs(manifest, path.name, out, sorted(p for p, st in after.items() if before.get(p) != st))
    write_manifest(out, manifest)
    html_dir = out / "html"
    for target in executed:
        report.html.extend(render_html(target, html_dir))
    listed = [nb_out / p.name for p in paths if (nb_out / p.name).is_file()]
    desc = ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "notebook defaults"
    report.index = write_index(listed, html_dir, reports=out, failed={f.notebook for f in report.failed}, heading=f"Subset {name} ({desc})")
    return report


# --------------------------------------------------------------------------- command line


def _resolve(paths: Sequence[str]) -> list[Path]:
    return [Path(p) for p in paths] if paths else find_notebooks()


def _finish(report: RunReport, what: str) -> int:
    for f in report.failed:
        print(f"{what}: FAILED {f.text()}", file=sys.stderr)
    if report.index is not None:
        print(f"{what}: index page {report.index}")
    if report.failed:
        print(f"{what}: {len(report.failed)} notebook(s) failed; their saved versions are unchanged", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.research.render", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="execute notebooks in place, then render HTML and the index")
    r.add_argument("notebooks", nargs="*", help="default: notebooks/*.ipynb")
    r.add_argument("--reports", help="figures/tables/HTML root (default: $GIDR_REPORTS or reports/)")
    r.add_argument("--no-html", action="store_true", help="execute only")

    h = sub.add_parser("html", help="render HTML and the index from the saved notebooks (no execution)")
    h.add_argument("notebooks", nargs="*")
    h.add_argument("--reports")

    i = sub.add_parser("index", help="rewrite only the index page")
    i.add_argument("notebooks", nargs="*")
    i.add_argument("--reports")

    s = sub.add_parser("subset", help="run every notebook with parameters into reports/subsets/NAME/")
    s.add_argument("name")
    s.add_argument("notebooks", nargs="*")
    s.add_argument("--years", help="e.g. 2023 or 2019-2021,2024")
    s.add_argument("--provinces", help="comma-separated, e.g. 江苏省,上海市")
    s.add_argument("--levels", help="comma-separated levels as in sources.csv")
    s.add_argument("--agencies", help="comma-separated agency names")
    s.add_argument("--lang", help="zh or en")
    s.add_argument("--params", help="JSON or YAML file with YEARS, PROVINCES, LEVELS, AGENCIES, LANG")
    s.add_argument("--root", help="where subset folders go (default: <reports>/subsets)")

    args = p.parse_args(argv)
    if args.cmd == "run":
        paths = _resolve(args.notebooks)
        if not paths:
            print("run: no notebooks in notebooks/; nothing to do")
            return 0
        report = run_in_place(paths, reports=args.reports, render=not args.no_html)
        return _finish(report, "run")
    if args.cmd == "html":
        paths = _resolve(args.notebooks)
        report = render_all(paths, reports=args.reports)
        print(f"html: {len(report.html)} page(s) for {len(paths)} notebook(s)")
        return _finish(report, "html")
    if args.cmd == "index":
        reports = reports_dir(args.reports)
        path = write_index(_resolve(args.notebooks), reports / "html", reports=reports)
        print(f"index: {path}")
        return 0
    try:
        params = parameters(args.years, args.provinces, args.levels, args.agencies, args.lang, file=args.params)
    except (ValueError, OSError) as exc:
        print(f"subset: error: {exc}", file=sys.stderr)
        return 2
    paths = _resolve(args.notebooks)
    if not paths:
        print("subset: no notebooks in notebooks/; nothing to do")
        return 0
    try:
        report = run_subset(args.name, params, paths, root=args.root)
    except ValueError as exc:
        print(f"subset: error: {exc}", file=sys.stderr)
        return 2
    return _finish(report, f"subset {args.name}")


__all__ = [
    "NotebookFailure",
    "RunReport",
    "atomic_write",
    "dumps",
    "execute",
    "find_notebooks",
    "html_page",
    "normalize",
    "notebook_title",
    "parameters",
    "read_manifest",
    "render_all",
    "render_html",
    "run_in_place",
    "run_subset",
    "write_index",
    "write_manifest",
]


if __name__ == "__main__":
    raise SystemExit(main())
