"""Extraction accuracy on synthetic reports with layout damage (a benchmark, not a timed test).

    python benchmarks/layout_accuracy.py                       # 10,000 reports per form
    python benchmarks/layout_accuracy.py --n 1000 --forms text,pdf --seed 1 --jobs 2

For every form of :data:`tooling.synth.FORMS`, report ``i`` is
``generate(seed + i)`` rendered with, in turn, no damage (a quarter of the
reports, every zero printed), exactly one damage kind (cycling through the
kinds that apply to the form, ``blank_zeros`` among them; three eighths) or
the random mix of ``damage=True`` with the seed's own blanks (three eighths).  Each rendering is written to a temporary folder, extracted with
``helpers.extract.extract_file`` and compared cell by cell with
``tooling.synth.truth`` (:mod:`tooling.synth.compare`): exact, unset,
allowed (unset in a cell the damage made unreadable), wrong (a different
number, or a number where a blank is printed), spurious (a number for a
key the report does not print).  The target is ≥ 99.9 % exact per form and
no wrong cell.

Prints a table per form and per damage kind and the first wrong cells (file,
key, got, want), and writes ``benchmarks/layout_accuracy.md`` with the
machine, commit and date (``--out`` to write elsewhere, ``--keep DIR`` keeps
the rendered files).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tooling import benchinfo  # noqa: E402
from tooling.synth import FORMS, generate, render_ex, truth  # noqa: E402
from tooling.synth.compare import compare  # noqa: E402
from tooling.synth.damage import DAMAGE_KINDS, REPORT_KINDS  # noqa: E402

MAX_EXAMPLES = 40


def kinds_for(form: str) -> list[str]:
    return [k for k, (_, forms) in {**REPORT_KINDS, **DAMAGE_KINDS}.items() if form in forms]


def plan(form: str, i: int) -> str | bool:
    """The damage of report ``i``: False, one kind's name, or True (the random mix)."""
    kinds = kinds_for(form)
    slot = i % 8
    if slot < 2:
        return False
    if slot < 5:
        return kinds[(i // 8 * 3 + slot - 2) % len(kinds)]
    return True


def _one(args: tuple[str, int, int, str | None]) -> dict:
    from helpers.extract import extract_file

    form, seed, i, keep = args
    damage = plan(form, i)
    t0 = time.perf_counter()
    blanks = {False: False, True: None, "blank_zeros": True}.get(damage, False)
    report = generate(seed + i, blanks=blanks)
    r = render_ex(report, form, seed=seed + i, damage=False if damage == "blank_zeros" else damage)
    t1 = time.perf_counter()
    folder = keep or tempfile.mkdtemp(prefix="gidr-layout-")
    path = os.path.join(folder, f"synth_{form}_{seed + i}{r.suffix}")
    with open(path, "wb") as f:
        f.write(r.data)
    try:
        results = extract_file(path)
    finally:
        if keep is None:
            os.unlink(path)
            os.rmdir(folder)
    t2 = time.perf_counter()
    res = results[0]
    c = compare(res, truth(report), r.unreadable)
    group = "none" if damage is False else ("mixed" if damage is True else damage)
    return {
        "form": form,
        "group": group,
        "kinds": r.damage,
        "file": os.path.basename(path),
        "edition_ok": res.edition == report.t2_edition,
        "parts": len(results),
        "status": res.status,
        # the prose restates the tables' numbers correctly, so any narrative mismatch is a false alarm
        "narrative": sum(1 for i in res.issues if i.rule.startswith("narrative.")),
        "exact": c.exact, "unset": c.unset, "allowed": c.allowed, "wrong": c.wrong, "spurious": c.spurious,
        "wrong_cells": c.wrong_cells[:5],
        "unset_cells": c.unset_cells[:3],
        "render_s": t1 - t0,
        "extract_s": t2 - t1,
    }


class Tally:
    def __init__(self) -> None:
        self.n = self.exact = self.unset = self.allowed = self.wrong = self.spurious = 0
        self.edition_bad = self.failed = self.multipart = self.narrative = 0

    def add(self, r: dict) -> None:
        self.n += 1
        for k in ("exact", "unset", "allowed", "wrong", "spurious"):
            setattr(self, k, getattr(self, k) + r[k])
        self.edition_bad += not r["edition_ok"]
        self.failed += r["status"] in ("failed", "unsupported")
        self.multipart += r["parts"] > 1
        self.narrative += r["narrative"] > 0

    @property
    def cells(self) -> int:
        return self.exact + self.unset + self.allowed + self.wrong

    def row(self, name: str) -> str:
        pct = 100.0 * self.exact / self.cells if self.cells else float("nan")
        return (f"| {name} | {self.n:,} | {self.cells:,} | {pct:.3f} % | {self.unset:,} | {self.allowed:,} | "
                f"{self.wrong:,} | {self.spurious:,} | {self.edition_bad:,} | {self.failed:,} | {self.multipart:,} | {self.narrative:,} |")


HEAD = ("| {what} | reports | cells | exact | unset | unset (allowed) | wrong | spurious | edition wrong | failed | split in parts | narrative alarms |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="reports per form (default 10000)")
    ap.add_argument("--forms", default=",".join(FORMS), help=f"comma-separated forms (default {','.join(FORMS)})")
    ap.add_argument("--seed", type=int, default=1, help="report i of a form is generate(seed + i)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "layout_accuracy.md", help="Markdown summary")
    ap.add_argument("--keep", type=Path, default=None, help="keep the rendered files in this folder")
    args = ap.parse_args(argv)
    forms = [f.strip() for f in args.forms.split(",") if f.strip()]
    for f in forms:
        if f not in FORMS:
            ap.error(f"unknown form {f!r}; expected one of {', '.join(FORMS)}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    started = _dt.datetime.now(_dt.timezone.utc)
    commit = benchinfo.commit("src", "tooling") or "unknown"  # the code the workers run is the code at the start
    jobs = [(f, args.seed, i, str(args.keep) if args.keep else None) for f in forms for i in range(args.n)]
    per_form: dict[str, Tally] = defaultdict(Tally)
    per_kind: dict[tuple[str, str], Tally] = defaultdict(Tally)
    examples: list[tuple[str, str, str, object, object, str, tuple]] = []
    unset_examples: dict[tuple[str, str], list] = defaultdict(list)
    times: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    t0 = time.perf_counter()
    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    with ctx.Pool(args.jobs) as pool:
        for k, r in enumerate(pool.imap(_one, jobs, chunksize=8), 1):
            per_form[r["form"]].add(r)
            per_kind[(r["form"], r["group"])].add(r)
            times[r["form"]][0] += r["render_s"]
            times[r["form"]][1] += r["extract_s"]
            for key, got, want, printed in r["wrong_cells"]:
                if len(examples) < MAX_EXAMPLES:
                    examples.append((r["form"], r["file"], key, got, want, printed, r["kinds"]))
            if r["unset_cells"] and len(unset_examples[(r["form"], r["group"])]) < 3:
                unset_examples[(r["form"], r["group"])].append((r["file"], r["kinds"], r["unset_cells"]))
            if k % 500 == 0:
                print(f"  {k:,}/{len(jobs):,} reports, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - t0

    lines = [
        "# Extraction accuracy on synthetic reports with layout damage",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {benchinfo.machine()}; commit {commit}; "
        f"`python benchmarks/layout_accuracy.py --n {args.n} --forms {','.join(forms)} --seed {args.seed} --jobs {args.jobs}` "
        f"({elapsed:.0f} s). The reports are synthetic (`tooling.synth`); see `docs/synthetic.md`.",
        "",
        "Per form (a quarter of the reports undamaged, three eighths with one damage kind, three eighths with a random mix). "
        "Cells are the printed cells of the truth; *spurious* counts numbers for keys the report does not print; "
        "*edition wrong*, *failed* (status failed or unsupported), *split in parts* (the file read as several reports) and "
        "*narrative alarms* (reports with a `narrative.*` issue, all false since the prose restates the tables) count reports.",
        "",
        HEAD.format(what="form"),
    ]
    for f in forms:
        lines.append(per_form[f].row(f))
    lines += ["", "Per form and damage (`none` = undamaged, a kind = that kind alone, `mixed` = the random mix):", ""]
    lines.append(HEAD.format(what="form / damage"))
    for f in forms:
        groups = ["none", *kinds_for(f), "mixed"]
        for g in groups:
            if (f, g) in per_kind:
                lines.append(per_kind[(f, g)].row(f"{f} / {g}"))
    lines += ["", "Time per report (one worker; render = generate + render, extract = `extract_file`):", "",
              "| form | render ms | extract ms |", "|---|---:|---:|"]
    for f in forms:
        n = per_form[f].n or 1
        lines.append(f"| {f} | {1000 * times[f][0] / n:.1f} | {1000 * times[f][1] / n:.1f} |")
    lines += ["", f"First wrong cells (at most {MAX_EXAMPLES}):", ""]
    if examples:
        lines += ["| form | file | key | got | want | printed | damage |", "|---|---|---|---|---|---|---|"]
        for form, file, key, got, want, printed, kinds in examples:
            lines.append(f"| {form} | {file} | {key} | {got} | {want} | `{printed}` | {', '.join(kinds) or 'none'} |")
    else:
        lines.append("None.")
    lines += ["", "Examples of unset cells (file, damage, then key, status, want, printed):", ""]
    for (f, g), items in sorted(unset_examples.items()):
        for file, kinds, cells in items[:1]:
            shown = "; ".join(f"{k} {s} {w} `{p}`" for k, s, w, p in cells)
            lines.append(f"* {f} / {g}: {file} ({', '.join(kinds) or 'none'}): {shown}")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    print(f"written to {args.out}", file=sys.stderr)
    ok = all(per_form[f].wrong == 0 and per_form[f].spurious == 0 and per_form[f].exact >= 0.999 * per_form[f].cells for f in forms)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
