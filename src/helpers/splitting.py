"""Split digits that a text rendering ran together, using the template identities.

Some text renderings print a table row's cells with no separator:
``640020470`` is the row ``64 | 0 | 0 | 2 | 0 | 4 | 70`` of Table 3.  A
split is valid when every part is a well-formed number (no leading zero
except ``0`` itself, a sign only in front) and the row's identities hold
(``总计`` = sum of the applicant columns; each Table 4 group total = the sum
of its four parts).

The identities of both tables have one shape: a *group* of consecutive cells
whose last cell is the sum of the others.  :func:`split_runs` therefore works
group by group: it chooses where a group ends and what its total is, then
cuts the digits before the total into parts whose sum must reach it exactly,
abandoning a branch as soon as the running sum passes the total.  A search
budget bounds the work on hostile input.  Rows without identities (Table 2)
are cut in every well-formed way.

Callers keep a result only when it is unique (or made unique by the column
identities across rows) and otherwise report the cells as ambiguous: no
split is ever guessed.
"""

from __future__ import annotations

# An identity on positions of a row: parts[total] == sum(parts[i] for i in components)
RowIdentity = tuple[int, tuple[int, ...]]

MAX_SOLUTIONS = 64  # stop enumerating beyond this: the row is ambiguous anyway
MAX_STEPS = 100_000  # search budget per row: hostile input cannot make a split hang
MAX_DIGITS = 80  # longer runs are not table rows
MAX_PART = 15  # digits of one cell (and of a group total)
SEP = "|"  # marks a boundary printed in the source (whitespace between runs)


class _Budget(Exception):
    pass


def _wellformed(s: str) -> bool:
    if s.startswith("-"):
        s = s[1:]
    if not s or SEP in s or "-" in s or s.startswith(".") or s.endswith(".") or s.count(".") > 1:
        return False
    return not (len(s) > 1 and s[0] == "0" and s[1] != ".")


def _digit_sum(s: str, a: int, b: int) -> int:
    return sum(ord(c) - 48 for c in s[a:b] if "0" <= c <= "9")


def _num(s: str) -> float | int:
    return float(s) if "." in s else int(s)


def _groups(n: int, identities) -> list[tuple[int, int]] | None:
    """Identities as contiguous groups ``(start, end)`` whose last cell is the
    sum of the others and which tile ``0..n``; ``None`` when they do not."""
    if not identities:
        return None
    spans = []
    for total, comps in identities:
        comps = tuple(sorted(comps))
        start = comps[0]
        if comps != tuple(range(start, total)):
            return None
        spans.append((start, total + 1))
    spans.sort()
    pos = 0
    for a, b in spans:
        if a != pos:
            return None
        pos = b
    return spans if pos == n else None


def split_runs(
    runs: list[str],
    n: int,
    identities: list[RowIdentity] = (),  # type: ignore[assignment]
    max_solutions: int = MAX_SOLUTIONS,
) -> list[list[str]]:
    """See :func:`search_splits`; returns only the solutions."""
    return search_splits(runs, n, identities, max_solutions)[0]


def search_splits(
    runs: list[str],
    n: int,
    identities: list[RowIdentity] = (),  # type: ignore[assignment]
    max_solutions: int = MAX_SOLUTIONS,
    max_steps: int | None = None,
    used: list[int] | None = None,
) -> tuple[list[list[str]], bool]:
    """All ways to cut ``runs`` (digit strings, in order) into ``n`` parts.

    Each run yields at least one part; parts never cross run boundaries.  A
    decimal point may appear inside a part (fee amounts) but not start or end
    it.  Returns lists of ``n`` printed parts (at most ``max_solutions``).
    When the search budget runs out, fewer than two solutions are never
    returned as if certain: the result is then empty or ambiguous.

    >>> search_splits(["640020470"], 7, [(6, (0, 1, 2, 3, 4, 5))])
    ([['64', '0', '0', '2', '0', '4', '70']], True)
    >>> split_runs(["640020470"], 7, [(6, (0, 1, 2, 3, 4, 5))])
    [['64', '0', '0', '2', '0', '4', '70']]
    >>> len(split_runs(["220000022"], 7, [(6, (0, 1, 2, 3, 4, 5))]))
    2
    >>> split_runs(["35-15"], 2)
    [['35', '-15']]
    """
    runs = [r for r in runs if r]
    total_len = sum(len(r) for r in runs)
    if not runs or total_len < n or len(runs) > n:
        return [], True
    if total_len > MAX_DIGITS:
        return [], False
    s = SEP.join(runs)
    groups = _groups(n, identities)
    steps = [0]
    limit = MAX_STEPS if max_steps is None else max_steps
    solutions: list[list[str]] = []

    def tick() -> None:
        steps[0] += 1
        if steps[0] > limit:
            raise _Budget

    def parts_summing(p: int, end: int, k: int, target=None) -> list[list[str]]:
        """Cut ``s[p:end]`` into ``k`` parts, whose values sum to ``target`` unless it is None
        (``p`` may sit on a separator: the boundary printed before the first part)."""
        out: list[list[str]] = []
        free = target is None
        signed = "-" in s[p:end]
        plain = not free and not signed and "." not in s[p:end] and isinstance(target, int)

        def rec(q: int, left: int, acc: list[str], total) -> None:
            tick()
            if q < end and s[q] == SEP:
                if not acc:
                    return
                q += 1
            if left == 0:
                if q == end and (free or abs(total - target) < 1e-9):
                    out.append(list(acc))
                return
            for r in range(q + 1, end + 1):
                piece = s[q:r]
                if SEP in piece:
                    break
                if not _wellformed(piece):
                    if piece[0] == "0" and piece[1:2] != ".":
                        break
                    continue
                v = _num(piece)
                if not free and v >= 0 and total + v > target + 1e-9 and not signed:
                    break  # longer pieces only grow (no negative part can follow)
                if s.count(SEP, r, end) > left - 1:
                    continue
                if plain and left > 1:
                    # each part still to come is at most the rest of the sum, so it has at
                    # most as many digits; all the digits left must fit into them
                    rest = int(target - total - v)
                    digits_left = end - r - s.count(SEP, r, end)
                    if digits_left > (left - 1) * len(str(rest)):
                        continue
                    # …and together they can reach it: the largest value left - 1 parts
                    # can take from digits_left digits is below 10 ** (digits_left - left + 2) + 9 * left
                    if rest >= 10 ** (digits_left - left + 2) + 9 * left:
                        continue
                acc.append(piece)
                rec(r, left - 1, acc, total + v)
                acc.pop()
                if len(out) >= max_solutions:
                    return

        rec(p, k, [], 0)
        return out

    memo: dict[tuple[int, int], list[list[str]]] = {}

    def solve(p: int, gi: int) -> list[list[str]]:
        """Every cut of ``s[p:]`` into the groups ``gi…`` (memoised by position)."""
        key = (p, gi)
        if key in memo:
            return memo[key]
        out: list[list[str]] = []
        if gi == len(groups):
            if p == len(s):
                out.append([])
            memo[key] = out
            return out
        if p < len(s) and s[p] == SEP:
            p += 1
        a, b = groups[gi]
        size = b - a
        last = gi == len(groups) - 1
        # choose where the group's total starts (t0) and ends (end); no part can
        # have more digits than the total, which bounds both loops
        for t0 in range(p + 1, len(s)):
            body_end = t0 - 1 if s[t0 - 1] == SEP else t0
            body_digits = body_end - p - s.count(SEP, p, body_end)
            if body_digits > (size - 1) * MAX_PART:
                break
            if body_digits < size - 1 or s[t0] == SEP:
                continue
            tails_by_end: dict[int, list[list[str]]] = {}
            plain = "." not in s[p:body_end] and "-" not in s[p:body_end]
            for end in range(t0 + 1, min(len(s), t0 + MAX_PART) + 1):
                total_text = s[t0:end]
                if SEP in total_text:
                    break
                if last and end != len(s):
                    continue
                if plain and total_text.isdigit() and _digit_sum(s, p, body_end) % 9 != _digit_sum(total_text, 0, len(total_text)) % 9:
                    # the parts' digits are exactly the body's digits, and a number is congruent
                    # to its digit sum modulo 9: parts summing to the total need equal residues
                    continue
                if plain and total_text.isdigit():
                    # parts of a plain sum: none longer than the total, and the largest
                    # at least one digit shorter than it
                    digits = len(total_text.lstrip("0")) or 1
                    if body_digits > (size - 1) * digits:
                        continue
                    if total_text != "0" and body_digits < (digits - 1) + (size - 2):
                        break
                tick()
                if not _wellformed(total_text):
                    continue
                bodies = parts_summing(p, body_end, size - 1, _num(total_text))
                if not bodies:
                    continue
                tails = tails_by_end.get(end)
                if tails is None:
                    tails = tails_by_end[end] = solve(end, gi + 1)
                for body in bodies:
                    for tail in tails:
                        out.append(body + [total_text] + tail)
                        if len(out) >= max_solutions:
                            memo[key] = out
                            return out
        memo[key] = out
        return out

    try:
        if groups is None:
            if identities:
                # not of the group shape: cut every way, then check the identities
                for parts in parts_summing(0, len(s), n):
                    vals = [_num(x) for x in parts]
                    if all(abs(vals[t] - sum(vals[i] for i in c)) < 1e-9 for t, c in identities):
                        solutions.append(parts)
            else:
                solutions.extend(parts_summing(0, len(s), n))
        else:
            solutions.extend(solve(0, 0))
    except _Budget:
        if used is not None:
            used[0] += steps[0]
        return (solutions if len(solutions) >= 2 else []), False
    if used is not None:
        used[0] += steps[0]
    # the same cut can be reached twice when a separator sits at a group edge
    unique: list[list[str]] = []
    for sol in solutions:
        if sol not in unique:
            unique.append(sol)
    return unique[:max_solutions], True
