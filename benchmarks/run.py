"""Extraction and build benchmarks on synthetic reports (a benchmark, not a test).

    python benchmarks/run.py [--build-n 5000] [--t3-reports 1000000] [--quick]

Everything is measured in one run on the same files, all of them synthetic
(:mod:`tooling.synth`, written to a temporary folder, never to data/raw):

* throughput per form (reports per second on one core, median of several
  runs of the full extract: read, tokens, codebook, validation), with the
  baselines beside it as ratios: for text the floor (read the bytes, decode,
  one regex for every number), for HTML ``pandas.read_html`` and an lxml parse,
  for PDF pdfplumber ``extract_tables`` and pypdfium2 text, for DOCX the
  python-docx load;
* where the time of one extract goes, per form (cProfile, top functions);
* a full build of ``--build-n`` text reports with 1 and 2 workers (peak RSS of
  the build and its workers), a no-change rebuild, adding one report, a build
  of synthetic PDFs;
* a national corpus of ``--national-n`` full-size text reports, one agency
  each: built with 2 workers (time, peak RSS), rebuilt without change, one
  report added, every table written from the cache, and the seven notebooks
  executed on the result;
* the memory of loading Table 3 of ``--t3-reports`` reports (a synthetic
  ``t3.parquet`` with the build's columns).

It prints a table and writes ``benchmarks/results.md`` with the machine, the
commit and the date.  Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import hashlib
import io
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from helpers.extract import extract_file  # noqa: E402
from helpers.read import sandbox  # noqa: E402
from helpers.sources import FIELDS  # noqa: E402
from tooling.synth import generate, render  # noqa: E402
from tooling.synth.values import AGENCIES  # noqa: E402

NUMBER = re.compile(r"\d+(?:\.\d+)?")
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colours in a notebook's traceback
LINES: list[str] = []


def say(line: str = "") -> None:
    print(line, flush=True)
    LINES.append(line)


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def synth_files(folder: Path, form: str, n: int, seed0: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        data, suffix = render(generate(seed0 + i), form, seed=seed0 + i)
        p = folder / f"synthetic_{form}_{seed0 + i:06d}{suffix}"
        p.write_bytes(data)
        out.append(p)
    return out


# ----------------------------------------------------------------- baselines


def floor_text(p: Path) -> None:
    NUMBER.findall(p.read_bytes().decode("utf-8", errors="replace"))


def pandas_html(p: Path) -> None:
    import pandas as pd

    pd.read_html(io.StringIO(p.read_bytes().decode("utf-8", errors="replace")))


def lxml_html(p: Path) -> None:
    import lxml.html

    lxml.html.fromstring(p.read_bytes())


def pdfplumber_tables(p: Path) -> None:
    import pdfplumber

    with pdfplumber.open(p) as pdf:
        for page in pdf.pages:
            page.extract_tables()


def pdfium_text(p: Path) -> None:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(p))
    for page in doc:
        page.get_textpage().get_text_range()
    doc.close()


def docx_load(p: Path) -> None:
    import docx

    docx.Document(str(p))


BASELINES = {
    "text": [("regex floor", floor_text)],
    "html": [("pandas.read_html", pandas_html), ("lxml parse", lxml_html)],
    "pdf": [("pdfplumber extract_tables", pdfplumber_tables), ("pypdfium2 text", pdfium_text)],
    "docx": [("python-docx load", docx_load)],
}


def per_form(tmp: Path, sizes: dict[str, int], repeat: int, originals: Path | None = None) -> dict:
    """Throughput per form on synthetic files, or, with ``originals``, on the
    real reports of that folder (read in place, by suffix)."""
    what = f"real reports of {originals}" if originals else "synthetic reports"
    say(f"## Extraction throughput per form, {what} (one core, median of {repeat} runs)")
    say()
    say("| form | files | ours ms/report | reports/s | baseline | baseline ms | ours / baseline |")
    say("|---|---:|---:|---:|---|---:|---:|")
    suffixes = {"text": (".txt", ".md"), "html": (".html", ".htm"), "pdf": (".pdf",), "docx": (".docx",)}
    out = {}
    for form, n in sizes.items():
        if originals:
            files = sorted(p for p in originals.iterdir() if p.suffix.lower() in suffixes[form])
        else:
            files = synth_files(tmp / "forms" / form, form, n)
        if not files:
            continue
        n = len(files)
        for f in files:  # warm imports and caches
            extract_file(str(f))
            for _name, fn in BASELINES[form]:
                fn(f)
        ours = median_time(lambda: [extract_file(str(f)) for f in files], repeat) / n
        out[form] = {"ms": ours * 1000}
        for name, fn in BASELINES[form]:
            base = median_time(lambda: [fn(f) for f in files], repeat) / n
            out[form][name] = base * 1000
            say(f"| {form} | {n} | {ours * 1000:.2f} | {1 / ours:.0f} | {name} | {base * 1000:.3f} | {ours / base:.2f} |")
    say()
    return out


def profiles(tmp: Path, top: int) -> None:
    say("## Where the time of one extract goes (cProfile, own time of the top functions)")
    say()
    for form in ("text", "html", "pdf", "docx"):
        files = sorted((tmp / "forms" / form).iterdir())
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(3):
            for f in files:
                extract_file(str(f))
        prof.disable()
        st = pstats.Stats(prof)
        total = st.total_tt
        rows = sorted(st.stats.items(), key=lambda kv: -kv[1][2])[:top]
        say(f"**{form}** ({1000 * total / (3 * len(files)):.2f} ms per report under the profiler)")
        say()
        say("| function | own time % | cumulative % |")
        say("|---|---:|---:|")
        for (file, line, fn), (_cc, _nc, tt, ct, _callers) in rows:
            where = f"{Path(file).parent.name}/{Path(file).name}:{line} {fn}" if file != "~" else fn
            say(f"| `{where}` | {100 * tt / total:.1f} | {100 * ct / total:.1f} |")
        say()


# ----------------------------------------------------------------- builds

BUILD = """
import json, resource, sys, time
sys.path[:0] = {paths!r}
from helpers.build import build
t = time.perf_counter()
s = build({raw!r}, {out!r}, jobs={jobs}, progress=False, cache_dir={cache!r})
sec = time.perf_counter() - t
ru_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ru_kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({{"seconds": sec, "rss_self_kb": ru_self, "rss_workers_kb": ru_kids, "extracted": s.n_extracted,
                  "hashed": s.n_hashed, "up_to_date": s.up_to_date, "files": s.n_files}}))
"""


CODE: list[str] = []  # where the builds import helpers from: a snapshot taken at the start


def snapshot_code(tmp: Path) -> None:
    """Copy src/ once, so that every build of the run uses the same code (and
    the same extractor version) even if the working tree changes meanwhile."""
    shutil.copytree(ROOT / "src" / "helpers", tmp / "code" / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    CODE[:] = [str(tmp / "code"), str(ROOT)]


def run_build(raw: Path, out: Path, jobs: int, cache: Path | None) -> dict:
    code = BUILD.format(paths=CODE, raw=str(raw), out=str(out), jobs=jobs, cache=None if cache is None else str(cache))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["wall"] = time.perf_counter() - t  # with interpreter start and imports
    return res


def write_sources(raw: Path, kind: str = "original") -> None:
    rows = []
    for p in sorted(raw.iterdir()):
        if p.name == "sources.csv":
            continue
        row = {k: "" for k in FIELDS}
        row.update(file=p.name, sha256=hashlib.sha256(p.read_bytes()).hexdigest(), kind=kind,
                   source="synthetic (tooling.synth), benchmark only", retrieved="2026-01-01")
        rows.append(row)
    with open(raw / "sources.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(FIELDS), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


STEMS = "甲乙丙丁戊己庚辛壬癸"


def own_agency(data: bytes, i: int) -> bytes:
    """A synthetic text report with its agency renamed for file ``i`` (合成测试县…
    → 合成测试乙丙甲县…, no digits): a national corpus has about one report per
    agency and year, not thousands of reports of six synthetic agencies."""
    tag = "".join(STEMS[int(d)] for d in f"{i:06d}")
    text = data.decode("utf-8")
    for name in sorted(AGENCIES, key=len, reverse=True):
        text = text.replace(name, name.replace("合成测试", "合成测试" + tag, 1))
    return text.encode("utf-8")


def corpus(raw: Path, form: str, n: int, distinct: int) -> None:
    """``n`` synthetic reports of ``form``: ``distinct`` generated ones, the rest
    copies of them under other names (generating is slower than extracting).
    Text reports each get their own agency (:func:`own_agency`); PDF copies
    keep theirs, so they group as duplicates of their agency and year."""
    made = synth_files(raw, form, min(n, distinct))
    texts = [p.read_bytes() for p in made] if form == "text" else []
    for i in range(n):
        src = made[i % len(made)]
        dest = raw / f"synthetic_{form}_{i:06d}{src.suffix}"
        if texts:
            dest.write_bytes(own_agency(texts[i % len(made)], i))
        elif i >= len(made):
            shutil.copyfile(src, dest)
    write_sources(raw)


def builds(tmp: Path, n: int, distinct: int, n_pdf: int) -> dict:
    say(f"## Builds of {n:,} synthetic text reports ({distinct} generated, the rest copies under other names)")
    say()
    raw = tmp / "build" / "raw"
    corpus(raw, "text", n, distinct)
    res = {}
    say("| build | seconds | reports/s | extracted | peak RSS main (MiB) | peak RSS one worker (MiB) |")
    say("|---|---:|---:|---:|---:|---:|")

    def row(label, r):
        say(f"| {label} | {r['seconds']:.2f} | {r['files'] / r['seconds']:.0f} | {r['extracted']} | "
            f"{r['rss_self_kb'] / 1024:.0f} | {r['rss_workers_kb'] / 1024:.0f} |")

    for jobs in (1, 2):
        r = run_build(raw, tmp / "build" / f"out{jobs}", jobs, None)
        res[f"full_{jobs}"] = r
        row(f"full, {jobs} worker(s), no cache", r)
    cache = tmp / "build" / "cache"
    r = run_build(raw, tmp / "build" / "out", 2, cache)
    row("full, 2 workers, filling the cache", r)
    r = run_build(raw, tmp / "build" / "out", 2, cache)
    res["nochange"] = r
    row("no-change rebuild", r)
    synth_files(raw, "text", 1, seed0=10**6)
    write_sources(raw)
    r = run_build(raw, tmp / "build" / "out", 2, cache)
    res["add_one"] = r
    row("one report added", r)
    r = run_build(raw, tmp / "build" / "out2", 2, cache)
    res["from_cache"] = r
    row("everything from the cache, tables written", r)
    say()
    if n_pdf:
        praw = tmp / "build" / "pdf"
        corpus(praw, "pdf", n_pdf, min(n_pdf, 100))
        r = run_build(praw, tmp / "build" / "pdfout", 2, None)
        res["pdf_2"] = r
        say(f"Build of {n_pdf} synthetic PDFs with 2 workers: {r['seconds']:.1f} s, {n_pdf / r['seconds']:.1f} reports/s "
            f"(10,000 would take {10_000 * r['seconds'] / n_pdf / 60:.1f} min at this rate).")
        say()
    return res


def many_files(tmp: Path, n: int) -> None:
    """The per-file overhead at national scale: ``n`` tiny synthetic text files
    (one line, no table: each is a ``failed`` report, extracted in about a
    millisecond), built with 2 workers, rebuilt without change, and rebuilt
    after adding one more.  What a no-change rebuild costs does not depend on
    what the files hold (stat, cache keys, fingerprint); adding one report here
    rebuilds tables of ``n`` reports without cells, so it is a lower bound for
    real reports."""
    raw = tmp / "many" / "raw"
    raw.mkdir(parents=True)
    for i in range(n):
        (raw / f"synthetic_tiny_{i:07d}.txt").write_text(f"合成测试文件（synthetic, benchmark only）第 {i} 号，无表格\n", encoding="utf-8")
    write_sources(raw)
    cache = tmp / "many" / "cache"
    say(f"## {n:,} tiny synthetic files (no tables): the per-file overhead")
    say()
    say("| build | seconds | extracted | hashed | peak RSS main (MiB) |")
    say("|---|---:|---:|---:|---:|")
    for label in ("full, 2 workers, filling the cache", "no-change rebuild", "one file added"):
        if label == "one file added":
            (raw / "synthetic_tiny_extra.txt").write_text("合成测试文件（synthetic）新增\n", encoding="utf-8")
            write_sources(raw)
        r = run_build(raw, tmp / "many" / "out", 2, cache)
        say(f"| {label} | {r['seconds']:.2f} | {r['extracted']} | {r['hashed']} | {r['rss_self_kb'] / 1024:.0f} |")
    say()


NOTEBOOK = """
import resource, subprocess, sys, time
t = time.perf_counter()
proc = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                       "--ExecutePreprocessor.timeout=1800", "--output-dir", {outdir!r}, {nb!r}],
                      capture_output=True, text=True)
if proc.returncode:
    sys.exit(proc.stderr[-2000:])
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def national(tmp: Path, n: int, distinct: int, notebooks: bool) -> None:
    """A corpus of national size: ``n`` synthetic text reports of full size,
    one agency each (:func:`corpus`), built with 2 workers filling the cache,
    rebuilt without change, rebuilt after one report is added, and built again
    from the cache into another folder (every table written); then the
    notebooks executed on what was built."""
    say(f"## A national corpus: {n:,} synthetic text reports ({distinct} generated, the rest copies, one agency each)")
    say()
    raw = tmp / "national" / "raw"
    t = time.perf_counter()
    corpus(raw, "text", n, distinct)
    say(f"Writing the corpus took {time.perf_counter() - t:.0f} s ({sum(p.stat().st_size for p in raw.iterdir()) / 2**20:.0f} MiB).")
    say()
    say("| build | seconds | reports/s | extracted | hashed | peak RSS main (MiB) | peak RSS one worker (MiB) |")
    say("|---|---:|---:|---:|---:|---:|---:|")
    cache = tmp / "national" / "cache"
    out = tmp / "national" / "processed"
    for label in ("full, 2 workers, filling the cache", "no-change rebuild", "one report added",
                  "everything from the cache, tables written"):
        if label == "one report added":
            synth_files(raw, "text", 1, seed0=10**6)
            write_sources(raw)
        target = tmp / "national" / "processed-again" if label.startswith("everything") else out
        r = run_build(raw, target, 2, cache)
        say(f"| {label} | {r['seconds']:.2f} | {r['files'] / r['seconds']:.0f} | {r['extracted']} | {r['hashed']} | "
            f"{r['rss_self_kb'] / 1024:.0f} | {r['rss_workers_kb'] / 1024:.0f} |")
    say()
    if not notebooks:
        return
    say(f"### The seven notebooks on these {n:,} reports")
    say()
    say("Each executed with nbconvert in a fresh kernel (`GIDR_PROCESSED` set to the build above); "
        "seconds include starting the kernel, peak RSS is the kernel's.")
    say()
    say("| notebook | seconds | peak RSS (MiB) |")
    say("|---|---:|---:|")
    env = {**os.environ, "GIDR_PROCESSED": str(out), "GIDR_RAW": str(raw), "GIDR_REPORTS": str(tmp / "national" / "reports"),
           "PYTHONPATH": os.pathsep.join(CODE)}
    total, peak = 0.0, 0
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        code = NOTEBOOK.format(outdir=str(tmp / "national" / "executed"), nb=str(nb))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
        if proc.returncode:  # recorded, and the run goes on
            last = [line for line in proc.stderr.splitlines() if line.strip()][-1:] or ["no message"]
            print(proc.stderr[-3000:], file=sys.stderr)
            message = ANSI.sub("", last[0])[:200]
            say(f"| {nb.stem} | failed: {message} | |")
            continue
        sec, rss = proc.stdout.split()
        total, peak = total + float(sec), max(peak, int(rss))
        say(f"| {nb.stem} | {float(sec):.1f} | {int(rss) / 1024:.0f} |")
    say(f"| **all seven, one after the other** | **{total:.1f}** | {peak / 1024:.0f} |")
    say()


LOAD_T3 = """
import resource, sys, time
sys.path[:0] = {paths!r}
from helpers.research.load import load
t = time.perf_counter()
df = load("t3", {columns!r}, processed={folder!r}, canonical=False)
print(len(df), time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def load_t3(tmp: Path, n_reports: int) -> None:
    """A synthetic t3 table of ``n_reports`` reports (25 rows each) with the
    build's columns and dtypes, then ``load("t3", …)`` in a fresh process."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from helpers.derive import T3_COLUMNS

    folder = tmp / "t3"
    folder.mkdir()
    rows_per = 25
    rng = np.random.default_rng(0)
    writer = None
    chunk = 100_000
    for start in range(0, n_reports, chunk):
        k = min(chunk, n_reports - start)
        reports = np.repeat(np.array([f"synthetic_{i:07d}.txt" for i in range(start, start + k)], dtype=object), rows_per)
        df = pd.DataFrame({"report": reports, "agency": "合成测试单位（synthetic）", "year": pd.array(2020 + (np.arange(len(reports)) // rows_per + start) % 6, dtype="Int64"),
                           "edition": "2021", "row": np.tile(np.array([f"r{j:02d}" for j in range(rows_per)], dtype=object), k)})
        for c in T3_COLUMNS[2:]:
            if c in ("total_recomputed", "derived_row"):
                df[c] = rng.random(len(df)) < 0.05
            elif c == "n_blank_as_zero":
                df[c] = rng.integers(0, 3, len(df))
            else:
                df[c] = rng.integers(0, 50, len(df)).astype("float64")
        table = pa.Table.from_pandas(df, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(folder / "t3.parquet", table.schema, compression="zstd")
        writer.write_table(table)
    writer.close()
    say(f"## Loading Table 3 of {n_reports:,} synthetic reports ({n_reports * rows_per:,} rows)")
    say()
    say("| columns | rows | seconds | peak RSS (MiB) |")
    say("|---|---:|---:|---:|")
    for columns in (["report", "row", "total"], ["report", "year", "row", "natural_person", "commercial", "total"], None):
        code = LOAD_T3.format(paths=CODE, columns=columns, folder=str(folder))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "GIDR_RAW": str(tmp)})
        if proc.returncode:
            raise SystemExit(proc.stderr[-3000:])
        n, sec, rss = proc.stdout.split()
        say(f"| {', '.join(columns) if columns else 'all ' + str(len(T3_COLUMNS) + 3)} | {int(n):,} | {float(sec):.1f} | {int(rss) / 1024:.0f} |")
    say()


def machine() -> str:
    """The machine, the commit and the time of this run (:mod:`tooling.benchinfo`)."""
    from tooling import benchinfo

    return (f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores ({benchinfo.cpu_name()}); "
            f"commit {benchinfo.commit('src')}; {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-n", type=int, default=5000)
    ap.add_argument("--distinct", type=int, default=500)
    ap.add_argument("--pdf-n", type=int, default=200)
    ap.add_argument("--t3-reports", type=int, default=1_000_000)
    ap.add_argument("--national-n", type=int, default=100_000, help="full-size text reports for the national build (0: skip)")
    ap.add_argument("--no-notebooks", action="store_true", help="do not execute the notebooks on the national build")
    ap.add_argument("--many-n", type=int, default=0, help="tiny files for the per-file overhead (0: skip)")
    ap.add_argument("--only-many", action="store_true", help="measure only the tiny-files builds (appended to --out)")
    ap.add_argument("--originals", default=None, help="also time the real reports of this folder (e.g. ../shared/corpus/originals)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small sizes, to check that the benchmark runs")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results.md"))
    args = ap.parse_args()
    sizes = {"text": 100, "html": 40, "pdf": 12, "docx": 12}
    if args.quick:
        sizes = {k: 3 for k in sizes}
        args.build_n, args.distinct, args.pdf_n, args.t3_reports, args.repeat, args.many_n = 60, 10, 6, 2000, 1, 200
        args.national_n = 300
    say("# Benchmark results")
    say()
    say(f"Machine: {machine()}.  All inputs synthetic (tooling.synth); timings on a shared machine are noisy.")
    say()
    # PDFs are read as the build reads them: one pooled, memory-capped pdfium child
    sandbox.use_pool(True)
    with tempfile.TemporaryDirectory(prefix="gidr-bench-") as tmp:
        tmp = Path(tmp)
        snapshot_code(tmp)
        if args.only_many:
            LINES[:] = [f"Measured separately: {machine()}.", ""]
            many_files(tmp, args.many_n)
            with open(args.out, "a", encoding="utf-8") as f:
                f.write("\n" + "\n".join(LINES) + "\n")
            print(f"appended to {args.out}")
            return
        per_form(tmp, sizes, args.repeat)
        if args.originals:
            per_form(tmp, sizes, args.repeat, Path(args.originals))
        builds(tmp, args.build_n, args.distinct, args.pdf_n)
        if args.national_n:
            national(tmp, args.national_n, args.distinct, not args.no_notebooks)
        if args.many_n:
            many_files(tmp, args.many_n)
        load_t3(tmp, args.t3_reports)
        profiles(tmp, 8)
    if not args.quick:
        Path(args.out).write_text("\n".join(LINES) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
