"""Which edition of the State Council format a report uses, read from its labels.

Every Table 2 label that exists in only one edition's part of the codebook is
a vote for that edition (本年制发件数 → 2021, 上一年项目数量 → 2019, …).  Table 2
decides; only when it says nothing do the three （六） sub-rows of Table 3
(revised edition only) decide.  The report year and the cited notice are never
used: real reports contradict both.
"""

from __future__ import annotations

from collections import Counter
from functools import cache

from .codebook import EDITIONS, Codebook, LabelEntry, load
from .tokens import LABEL, Row


@cache
def _editions_of(entry: LabelEntry) -> frozenset[str]:
    cb = load()
    if entry.kind == "t2_col":
        eds = {e for k in cb.keys.values() if k.table == "t2" and k.col == entry.target for e in k.editions}
    elif entry.kind == "t2_row":
        eds = {e for k in cb.keys.values() if k.table == "t2" and k.row == entry.target for e in k.editions}
    elif entry.kind == "t2_block":
        eds = {e for k in cb.keys.values() if k.table == "t2" and cb.t2_row_block[k.row] == entry.target for e in k.editions}
    elif entry.kind == "t3_row":
        eds = set(cb.t3_row_editions.get(entry.target, EDITIONS))
    else:
        eds = set(EDITIONS)
    return frozenset(eds)


def detect(rows: list[Row], cb: Codebook | None = None) -> tuple[str | None, dict[str, int]]:
    """Return the edition ("2019", "2021" or None) and the votes behind it."""
    t2: Counter[str] = Counter()
    t3: Counter[str] = Counter()
    for row in rows:
        for tok in row.tokens:
            if tok.kind != LABEL:
                continue
            for e in tok.entries:
                eds = _editions_of(e)
                if len(eds) != 1:
                    continue
                (ed,) = eds
                if e.kind.startswith("t2"):
                    t2[ed] += 1
                elif e.kind == "t3_row":
                    t3[ed] += 1
    votes = {f"t2:{k}": v for k, v in t2.items()} | {f"t3:{k}": v for k, v in t3.items()}
    for counter in (t2, t3):
        if counter:
            (best, n), *rest = counter.most_common()
            if rest and rest[0][1] == n:
                return None, votes
            return best, votes
    return None, votes
