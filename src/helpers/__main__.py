"""Command line: ``python -m helpers {extract,build,validate,add,fetch,release,verify}``.

``extract FILE…``  one JSON object per line per report (the contract documented
                   in the README: path, part, parts, status, edition, agency,
                   year, cells, issues); a file holding several reports gives
                   several lines with the same path
``build``          data/raw → data/processed (see :mod:`helpers.build`)
``validate``       the issue report, problems first, with cell coordinates
``add PATH…``      copy downloaded reports (files, folders, zip archives) into
                   data/raw and record them
``fetch URL…``     download reports into data/raw with provenance and a fetch log
``release``        data/processed → a documented data package (see :mod:`helpers.release`)
``verify``         check data/raw against the sha256 in sources.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__


def _limits(args: argparse.Namespace):
    from .limits import from_args

    try:
        return from_args(args)
    except ValueError as exc:
        print(f"python -m helpers {args.cmd}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _cmd_extract(args: argparse.Namespace) -> int:
    from .extract import extract_file

    limits = _limits(args)
    out = sys.stdout
    for path in args.files:
        for r in extract_file(path, limits=limits):  # one line per report the file holds
            obj = r.to_json()
            out.write(json.dumps(obj, ensure_ascii=False, indent=2 if args.pretty else None) + "\n")
        out.flush()
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _cmd_build(args: argparse.Namespace) -> int:
    import signal

    # SIGTERM stops a build as Ctrl-C does: the staging folder is removed and
    # the previous outputs stay in place
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        from .build import build

        limits = _limits(args)
        summary = build(
            args.raw, args.out, jobs=args.jobs, progress=not args.no_progress, limits=limits,
            cache_dir=None if args.no_cache else (args.cache or "auto"), rehash=args.rehash,
            executor=args.executor, scheduler=args.scheduler,
        )
    except KeyboardInterrupt:
        print(f"build interrupted; {args.out} is left as it was before this build", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(summary.text())
    return 0


def _issue_lines(df, min_severity: str) -> list[str]:
    rank = {"error": 0, "warning": 1, "info": 2}
    limit = rank[min_severity]
    lines = []
    for sev in ("error", "warning", "info"):
        part = df[df["severity"] == sev]
        if rank[sev] > limit or part.empty:
            continue
        lines.append(f"== {sev}: {len(part)}")
        for row in part.itertuples(index=False):
            cells = f" [{row.cells}]" if row.cells else ""
            lines.append(f"{row.report}\t{row.rule}{cells}\t{row.message}")
    return lines


def _cmd_validate(args: argparse.Namespace) -> int:
    import pandas as pd

    issues_csv = Path(args.processed) / "issues.csv"
    if issues_csv.exists() and not args.fresh:
        df = pd.read_csv(issues_csv, dtype=str, keep_default_na=False)
    else:
        from .build import attach_meta, chain_issues, raw_files, source_records, tables
        from .extract import extract_file
        from .identity import resolve
        from .sources import load_sources

        raw = Path(args.raw)
        listed = {s.file: s for s in load_sources(raw)} if (raw / "sources.csv").exists() else {}
        results, meta = attach_meta([(p.name, extract_file(str(p))) for p in raw_files(raw)], listed)
        resolution = resolve(source_records(results, meta))
        df = tables(results, meta, chain_issues(results, meta, resolution), resolution=resolution)["issues"]
    counts = df["severity"].value_counts().to_dict()
    for line in _issue_lines(df, args.min_severity):
        print(line)
    print(
        f"{len(df)} issue(s): "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("error", "warning", "info"))
    )
    return 1 if args.strict and counts.get("error", 0) else 0


def detect_report(path, limits=None):
    """What ``add`` and ``fetch`` record of a file: agency, year, edition and
    ``parts``, the number of reports it holds (through ``extract_file``)."""
    from types import SimpleNamespace

    from .extract import extract_file

    results = extract_file(str(path), limits=limits)
    first = results[0]
    parts = max(len(results), getattr(first, "parts", 1) or 1)
    return SimpleNamespace(
        agency=first.agency, year=first.year, edition=first.edition, parts=parts, status=first.status
    )


def _cmd_add(args: argparse.Namespace) -> int:
    from .sources import run_add

    limits = _limits(args)
    return run_add(args, detect=lambda path: detect_report(path, limits), limits=limits)


def _cmd_fetch(args: argparse.Namespace) -> int:
    from .fetch import run

    limits = _limits(args)
    return run(args, limits, detect=lambda path: detect_report(path, limits))


def _cmd_release(args: argparse.Namespace) -> int:
    from .release import run

    return run(args)


def _cmd_verify(args: argparse.Namespace) -> int:
    from .sources import run_verify

    return run_verify(args.raw_dir)


def main(argv: list[str] | None = None) -> int:
    from .limits import add_arguments as add_limit_arguments

    p = argparse.ArgumentParser(prog="python -m helpers", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=__version__)
    sub = p.add_subparsers(dest="cmd", required=True)

    e = sub.add_parser("extract", help="print one JSON object per file")
    e.add_argument("files", nargs="+")
    e.add_argument("--pretty", action="store_true", help="indent the JSON (no longer one line per file)")
    add_limit_arguments(e)
    e.set_defaults(func=_cmd_extract)

    b = sub.add_parser("build", help="turn data/raw into data/processed")
    b.add_argument("--raw", default="data/raw")
    b.add_argument("--out", default="data/processed")
    b.add_argument("--jobs", type=int, default=None, help="worker processes (default: 1 for small corpora, else one per core)")
    b.add_argument("--no-progress", action="store_true")
    b.add_argument("--cache", default=None, help="folder of the per-file cache (default: cache/ next to --out)")
    b.add_argument("--no-cache", action="store_true", help="extract every file, keep nothing")
    b.add_argument("--rehash", action="store_true", help="hash every raw file (default: trust unchanged size, mtime, inode)")
    b.add_argument("--executor", choices=("local", "dask"), default="local", help="where files are extracted")
    b.add_argument("--scheduler", default=None, help="dask.distributed scheduler address (with --executor dask)")
    add_limit_arguments(b)
    b.set_defaults(func=_cmd_build)

    v = sub.add_parser("validate", help="print the issue report, problems first")
    v.add_argument("--processed", default="data/processed")
    v.add_argument("--raw", default="data/raw")
    v.add_argument("--fresh", action="store_true", help="re-extract data/raw instead of reading issues.csv")
    v.add_argument("--min-severity", choices=("error", "warning", "info"), default="info")
    v.add_argument("--strict", action="store_true", help="exit 1 when there is an error")
    v.set_defaults(func=_cmd_validate)

    from .sources import add_arguments

    a = sub.add_parser("add", help="copy downloaded reports (files, folders, zip archives) into data/raw and record their provenance")
    add_arguments(a)
    add_limit_arguments(a)
    a.set_defaults(func=_cmd_add)

    from .fetch import add_arguments as add_fetch_arguments

    g = sub.add_parser("fetch", help="download reports (and their attachments) into data/raw, politely, with a fetch log")
    add_fetch_arguments(g)
    add_limit_arguments(g)
    g.set_defaults(func=_cmd_fetch)

    from .release import add_arguments as add_release_arguments

    r = sub.add_parser("release", help="write data/processed as a documented data package (Frictionless, Stata, SHA256SUMS)")
    add_release_arguments(r)
    r.set_defaults(func=_cmd_release)

    f = sub.add_parser("verify", help="check data/raw against sources.csv")
    f.add_argument("--raw-dir", default="data/raw")
    f.set_defaults(func=_cmd_verify)

    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
