"""Split digits that a text rendering ran together, using the template identities.

Some text renderings print a table row's cells with no separator:
``640020470`` is the row ``64 | 0 | 0 | 2 | 0 | 4 | 70`` of Table 3.  A
split is valid when every part is a well-formed number (no leading zero
except ``0`` itself) and the row's identities hold (``总计`` = sum of the
applicant columns; each Table 4 group total = the sum of its four parts).

:func:`split_runs` enumerates every valid split by depth-first search with
pruning; callers keep a result only when it is unique (or made unique by the
column identities across rows), and otherwise report the cells as ambiguous.
No split is ever guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

# An identity on positions of a row: parts[total] == sum(parts[i] for i in components)
RowIdentity = tuple[int, tuple[int, ...]]

MAX_SOLUTIONS = 64  # stop enumerating beyond this: the row is ambiguous anyway
MAX_STEPS = 20_000  # search budget per row: hostile input cannot make a split hang
MAX_DIGITS = 80  # longer runs are not table rows


@dataclass(frozen=True, slots=True)
class Piece:
    """One printed run and the number of parts it must give (unknown: 0)."""

    text: str


def _is_wellformed(s: str) -> bool:
    if s.startswith("-"):
        s = s[1:]
    if not s or "-" in s or s.startswith("."):
        return False
    if len(s) > 1 and s[0] == "0" and s[1] != ".":
        return False
    if s.endswith("."):
        return False
    return s.count(".") <= 1


def _num(s: str) -> float | int:
    return float(s) if "." in s else int(s)


def split_runs(
    runs: list[str],
    n: int,
    identities: list[RowIdentity] = (),  # type: ignore[assignment]
    max_solutions: int = MAX_SOLUTIONS,
) -> list[list[str]]:
    """All ways to cut ``runs`` (digit strings, in order) into ``n`` parts.

    Each run yields at least one part; parts never cross run boundaries.  A
    decimal point may appear inside a part (fee amounts) but not start or end
    it.  Returns lists of ``n`` printed parts.

    >>> split_runs(["640020470"], 7, [(6, (0, 1, 2, 3, 4, 5))])
    [['64', '0', '0', '2', '0', '4', '70']]
    >>> len(split_runs(["220000022"], 7, [(6, (0, 1, 2, 3, 4, 5))]))
    2
    """
    runs = [r for r in runs if r]
    total_len = sum(len(r) for r in runs)
    if not runs or total_len < n or len(runs) > n or total_len > MAX_DIGITS:
        return []
    # identities checked as soon as their last position is assigned
    by_last: dict[int, list[RowIdentity]] = {}
    for total, comps in identities:
        last = max((total, *comps))
        by_last.setdefault(last, []).append((total, comps))

    # totals placed after all their parts: their text is forced by the sum
    totals_at = {total: comps for total, comps in identities if all(i < total for i in comps)}
    solutions: list[list[str]] = []
    parts: list[str] = []
    values: list[float | int] = []
    steps = [0]

    def check(pos: int) -> bool:
        for total, comps in by_last.get(pos, ()):
            if values[total] != sum(values[i] for i in comps):
                return False
        return True

    def rec(run_i: int, offset: int) -> None:
        steps[0] += 1
        if len(solutions) >= max_solutions or steps[0] > MAX_STEPS:
            return
        k = len(parts)
        run = runs[run_i]
        rest_runs = len(runs) - run_i - 1
        if k == n:
            if run_i == len(runs) - 1 and offset == len(run):
                solutions.append(list(parts))
            return
        # digits that must remain for the parts still to come
        remaining_after_run = sum(len(r) for r in runs[run_i + 1:])
        parts_left = n - k
        max_len = len(run) - offset
        lengths: range | tuple[int, ...] = range(1, max_len + 1)
        forced = totals_at.get(k)
        if forced is not None:
            # a total whose parts are all known can only be printed one way
            want = sum(values[i] for i in forced)
            if isinstance(want, int):
                text = str(want)
                if run[offset:offset + len(text)] != text:
                    return
                lengths = (len(text),)
        for length in lengths:
            piece = run[offset:offset + length]
            end_of_run = offset + length == len(run)
            # parts left after this one must fit into what is left
            left_here = len(run) - offset - length
            if parts_left - 1 > left_here + remaining_after_run:
                break
            if end_of_run and parts_left - 1 < rest_runs:
                continue
            if not end_of_run and parts_left - 1 < 1 + rest_runs:
                continue
            if not _is_wellformed(piece):
                if piece[0] == "0" and piece[1:2] != ".":
                    break  # longer pieces keep the leading zero
                if "-" in piece[1:]:
                    break  # a sign can only start a part
                continue
            parts.append(piece)
            values.append(_num(piece))
            if check(k):
                if end_of_run:
                    if run_i + 1 < len(runs):
                        rec(run_i + 1, 0)
                    elif len(parts) == n:
                        solutions.append(list(parts))
                else:
                    rec(run_i, offset + length)
            parts.pop()
            values.pop()

    rec(0, 0)
    if steps[0] > MAX_STEPS and len(solutions) < max_solutions:
        # budget spent: the answer is unknown, so it is reported as ambiguous
        # (at least two "solutions") rather than risk a wrong unique split
        return solutions if len(solutions) >= 2 else []
    return solutions
