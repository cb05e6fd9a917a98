"""Cell accuracy of `extract` against the hand-verified values in ../shared/corpus/expected.

Usage: python scripts/accuracy.py [SHARED_DIR] [-v]
Prints one line per original file and the overall cell accuracy.  A cell
counts as correct when its value equals the expected one (null when the
expected is null); cells listed in `ambiguous_in` for that file may instead
be unset.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from helpers.extract import extract_path  # noqa: E402


def compare(result, exp: dict, fname: str) -> list[str]:
    amb = set(exp.get("ambiguous_in", {}).get(fname, []))
    wrong = []
    for key, want in exp["cells"].items():
        cell = result.cells.get(key)
        got = cell.value if cell is not None else None
        if key in amb and got is None:
            continue
        if want is None:
            ok = got is None
        else:
            ok = got is not None and abs(float(got) - float(want)) < 1e-9
        if not ok:
            wrong.append(f"{key}: expected {want!r}, got {got!r} ({cell.status if cell else 'missing'} {cell.printed if cell else ''!r})")
    return wrong


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    shared = Path(args[0] if args else os.environ.get("GIDR_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    total = correct = 0
    for ef in sorted((shared / "corpus" / "expected").glob("*.json")):
        exp = json.loads(ef.read_text(encoding="utf-8"))
        for fname in exp["files"]:
            r = extract_path(str(shared / "corpus" / "originals" / fname))
            wrong = compare(r, exp, fname)
            n = len(exp["cells"])
            total += n
            correct += n - len(wrong)
            flags = []
            if r.edition != exp["edition"]:
                flags.append(f"edition {r.edition} != {exp['edition']}")
            if r.year != exp["year"]:
                flags.append(f"year {r.year} != {exp['year']}")
            print(f"{fname:28s} {r.status:11s} ed={r.edition} year={r.year} cells {n - len(wrong)}/{n} {' '.join(flags)}")
            if verbose:
                for w in wrong[:40]:
                    print("    ", w)
    print(f"TOTAL {correct}/{total} = {100 * correct / max(total, 1):.2f} %")
    return 0 if correct == total else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
