"""Extraction speed on the real corpus (a benchmark, not a test).

    python benchmarks/bench_extract.py [SHARED_DIR]

Reports, per form: reports per second on one core (median of repeated runs),
and for HTML the time of our reader against ``pandas.read_html`` on the same
page.  Figures depend on the machine; the README records the ones measured
on the project's reference machine (2 cores).
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helpers.extract import extract_document, extract_path  # noqa: E402
from helpers.read import read_document  # noqa: E402
from helpers.read.html import read_html  # noqa: E402


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("GIDR_SHARED", ROOT.parent / "shared"))
    originals = shared / "corpus" / "originals"
    text_files = sorted((ROOT / "data" / "raw").glob("*.txt")) + sorted(originals.glob("*.txt")) + [originals / "sh_kewei_2024.md"]
    html_files = sorted(originals.glob("*.html"))
    pdf_files = sorted(originals.glob("*.pdf"))

    for f in text_files + html_files + pdf_files:  # warm caches and imports
        extract_path(str(f))

    def run(files):
        for f in files:
            extract_path(str(f))

    for name, files, rep in (("text dumps", text_files, 7), ("HTML pages", html_files, 5), ("PDFs", pdf_files, 9)):
        sec = timed(lambda: run(files), rep)
        print(f"{name:11s} {len(files):3d} files  {len(files) / sec:8.1f} reports/s  ({1000 * sec / len(files):.2f} ms per report, full extract + validate)")

    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        return
    print("HTML reader vs pandas.read_html (median of 5):")
    ratios = []
    for f in html_files:
        data = f.read_bytes()
        ours = timed(lambda: read_html(str(f), data), 5)
        text = data.decode("utf-8", errors="replace")
        theirs = timed(lambda: pd.read_html(io.StringIO(text)), 5)
        full = timed(lambda: extract_document(read_html(str(f), data)), 5)
        ratios.append(ours / theirs)
        print(f"  {f.name:20s} read_html {1000 * ours:7.1f} ms   pandas {1000 * theirs:7.1f} ms   ratio {ours / theirs:.2f}   full extract {1000 * full:7.1f} ms")
    print(f"  median ratio {statistics.median(ratios):.2f} (target ≤ 0.5)")


if __name__ == "__main__":
    main()
