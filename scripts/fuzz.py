"""Mutation fuzzing of the extractor over the real report files (the long run).

    python scripts/fuzz.py --n 100000 --seed 1 --out fuzz-out/

Mutates the originals and fragments of the shared corpus (``$GIDR_SHARED`` or
``../shared``; see :mod:`tooling.fuzzing` for the operators), runs every input
through ``extract_document(read_document(name, data))`` in worker processes
with a per-input time limit, checks the invariants, and prints the figures:
inputs, uncaught exceptions, hangs, invariant violations, caught internal
errors, refusals, statuses, throughput.  ``--out`` receives ``summary.json``
and the failing inputs (``exceptions/``, ``hangs/``, ``violations/``,
``internal/``, ``metamorphic/``), each with a text file naming its seed file, operators and
traceback.  ``--replay I`` re-runs input ``I`` of the run in this process and
writes it to ``--out``.

Exit status 0 when there were no exceptions, hangs or violations, else 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root, for tooling/

from tooling import benchinfo, fuzzing  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="number of mutated inputs (default 100000)")
    ap.add_argument("--seed", type=int, default=1, help="run seed: input i is always the same bytes for a seed")
    ap.add_argument("--out", type=Path, default=Path("fuzz-out"), help="folder for summary.json and failing inputs")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per input before it counts as a hang")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--shared", type=Path, default=None, help="shared reference folder (default $GIDR_SHARED or ../shared)")
    ap.add_argument("--no-fragments", action="store_true", help="mutate only the originals")
    ap.add_argument("--replay", type=int, default=None, metavar="I", help="re-run input I alone and save it")
    args = ap.parse_args(argv)

    shared = args.shared or fuzzing.env_shared()
    if shared is None or not (shared / "corpus" / "originals").is_dir():
        print("fuzz: shared corpus not found; set GIDR_SHARED or pass --shared", file=sys.stderr)
        return 2
    seeds = fuzzing.load_seeds(fuzzing.corpus_paths(shared, fragments=not args.no_fragments))

    if args.replay is not None:
        case = fuzzing.make_case(seeds, args.seed, args.replay)
        o = fuzzing.run_one(case, args.timeout)
        args.out.mkdir(parents=True, exist_ok=True)
        ext = case.name.rsplit(".", 1)[-1] if "." in case.name else "bin"
        dest = args.out / f"replay-{args.seed}-{args.replay}.{ext}"
        dest.write_bytes(case.data)
        print(json.dumps({k: v for k, v in o.items()}, ensure_ascii=False, indent=2))
        print(f"input written to {dest}")
        return 0 if not (o["exception"] or o["hang"] or o["violations"]) else 1

    print(f"fuzz: {len(seeds)} seeds from {shared / 'corpus'}, {args.n:,} inputs, seed {args.seed}, "
          f"{args.workers} workers, timeout {args.timeout:g} s, output in {args.out}/", flush=True)

    def progress(s: fuzzing.FuzzStats) -> None:
        print(f"  {time.strftime('%H:%M:%S')} {s.inputs:,}/{args.n:,} inputs, {s.inputs_per_s:.1f}/s, "
              f"exceptions {s.exceptions}, hangs {s.hangs}, violations {s.violations}, "
              f"internal {s.internal_errors}", flush=True)

    commit = benchinfo.commit("src", "tooling")
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    stats = fuzzing.run(seeds, args.n, args.seed, timeout_s=args.timeout, out=args.out, workers=args.workers,
                        progress=progress, progress_every_s=30.0)
    summary = json.loads((args.out / "summary.json").read_text(encoding="utf-8"))
    summary.update({"commit": commit, "started": started, "seed_files": len(seeds), "python": sys.version.split()[0]})
    (args.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print()
    print(stats.summary())
    for kind in ("exceptions", "hangs", "violations", "internal", "metamorphic"):
        for ex in stats.examples[kind][:5]:
            print(f"  {kind}: input {ex['index']} ({ex['seed']}; {' '.join(ex['ops'])}) -> {ex.get('saved')}")
    print(f"summary written to {args.out / 'summary.json'}")
    return 0 if stats.ok else 1


if __name__ == "__main__":
    sys.exit(main())
