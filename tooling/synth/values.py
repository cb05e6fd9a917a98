"""Random table values that satisfy every identity of the template.

:func:`generate` draws one clearly synthetic report: an agency whose name says
it is synthetic, a year, a template edition (or a hybrid of the two), the
printed string of every table cell, its value, and which zero cells are
printed blank.  Table 3 is drawn column by column (received and carried over,
then carried forward, the rest spread over the outcome rows), so the row
totals, the outcome total and the balance hold by construction; Table 4 draws
its four results per group and prints their sum as the total.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from helpers.codebook import load

from . import template
from .narrative import narrative

SYNTHETIC_NOTE = "（合成测试数据，非真实报告，种子 {seed}）"

# name: (Table 2 edition, Table 3 prints （六） as three sub-rows)
EDITIONS: dict[str, tuple[str, bool]] = {
    "2019": ("2019", False),
    "2021": ("2021", True),
    "2021-t3-2019": ("2021", False),  # revised Table 2, single （六） row (as 洪泽区 2023/2024 print)
    "2019-t3-2021": ("2019", True),  # first-edition Table 2, three （六） sub-rows
}
_EDITION_WEIGHTS = {"2019": 3, "2021": 5, "2021-t3-2019": 1, "2019-t3-2021": 1}
_YEARS = {"2019": (2019, 2020), "2021": (2021, 2025)}

AGENCIES = (
    "合成测试县人民政府",
    "合成测试市人民政府办公室",
    "合成测试区合成测试局",
    "合成测试县合成测试镇人民政府",
    "合成测试市合成测试区人民政府",
    "合成测试县合成测试街道办事处",
)

# how zeros are printed: (name, weight); see _blank
BLANK_STYLES = {"none": 12, "t3_applicants": 3, "t3_all": 2, "t4": 2, "everywhere": 1}


@dataclass
class SynthReport:
    """One synthetic report: what is printed, and what a perfect extractor reads."""

    seed: int
    agency: str
    year: int
    edition: str  # a key of EDITIONS
    t2_edition: str  # "2019" | "2021"
    split_other: bool  # （六） printed as three sub-rows
    values: dict[str, int | float]  # every printed cell's value (zeros included)
    printed: dict[str, str]  # every printed cell's text ("" = printed blank)
    blank_style: str
    narrative: dict[str, list[str]] = field(default_factory=dict)  # section -> paragraphs

    @property
    def cells(self) -> dict[str, int | float | None]:
        """codebook key -> value, None where the cell is printed blank."""
        return {k: (None if self.printed[k] == "" else v) for k, v in self.values.items()}

    @property
    def title(self) -> str:
        return f"{self.agency}{self.year}年政府信息公开工作年度报告"

    @property
    def synthetic_note(self) -> str:
        return SYNTHETIC_NOTE.format(seed=self.seed)

    def t3_keys(self) -> list[str]:
        return template.t3_keys(self.split_other)


def _size(rng: random.Random) -> int:
    """Requests received by natural persons: from none to a few thousand, most reports small."""
    band = rng.choices((0, 1, 2, 3, 4), weights=(1, 4, 5, 3, 1))[0]
    hi = (0, 9, 60, 400, 4000)[band]
    return rng.randint(hi // 8, hi) if hi else 0


def _spread(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """``total`` split over ``len(weights)`` parts roughly in proportion, exactly summing to ``total``."""
    if total == 0:
        return [0] * len(weights)
    s = sum(weights)
    parts = [int(total * w / s) for w in weights]
    for _ in range(total - sum(parts)):
        parts[rng.choices(range(len(weights)), weights=weights)[0]] += 1
    return parts


def _t3(rng: random.Random, split_other: bool) -> dict[str, int]:
    rows = [r.row for r in template.t3_rows(split_other)]
    outcomes = [r for r in rows if r not in ("new_received", "carried_over", "total_processed", "carried_forward")]
    cols = [c for c, _ in template.t3_columns()][:-1]
    # outcome weights shared by the report's columns: a few outcomes dominate, many are zero
    base = {r: (rng.random() ** 3 if rng.random() < 0.45 else 0.0) for r in outcomes}
    base["granted"] = 1 + 4 * rng.random()
    base["partially_granted"] = rng.random()
    base["unable_not_held"] = 2 * rng.random()
    out: dict[str, int] = {}
    for i, col in enumerate(cols):
        if i == 0:
            new = _size(rng)
        else:
            new = rng.choice((0, 0, 0, 1, 2, 3, 5, 8, 13, 40)) if rng.random() < (0.6 if i == 1 else 0.25) else 0
        carried = rng.randint(0, max(0, new // 6)) if rng.random() < 0.4 else 0
        forward = rng.randint(0, (new + carried) // 5) if rng.random() < 0.5 else 0
        handled = new + carried - forward
        weights = [base[r] * (0.5 + rng.random()) + 1e-9 for r in outcomes]
        split = _spread(rng, handled, weights)
        vals = {"new_received": new, "carried_over": carried, "total_processed": handled, "carried_forward": forward}
        vals.update(zip(outcomes, split))
        for r, v in vals.items():
            out[f"t3.{r}.{col}"] = v
    for r in rows:
        out[f"t3.{r}.total"] = sum(out[f"t3.{r}.{c}"] for c in cols)
    return out


def _t4(rng: random.Random) -> dict[str, int]:
    cb = load()
    out: dict[str, int] = {}
    for g in cb.t4_groups:
        n = rng.choice((0, 0, 1, 2, 3, 5, 9, 20, 60)) if rng.random() < 0.7 else 0
        parts = _spread(rng, n, [3, 1, 1, 1])
        for c, v in zip(cb.t4_cols[:-1], parts):
            out[f"t4.{g}.{c}"] = v
        out[f"t4.{g}.total"] = n
    return out


def _t2(rng: random.Random, edition: str) -> tuple[dict[str, int | float], dict[str, str]]:
    vals: dict[str, int | float] = {}
    printed: dict[str, str] = {}
    town = rng.random() < 0.6  # most units cannot make 规章

    def count(key: str, hi: int) -> None:
        v = rng.randint(0, hi) if rng.random() < 0.8 else 0
        vals[key], printed[key] = v, str(v)

    for block in template.t2_blocks(edition):
        for row, _, keys in block.rows:
            for key in keys:
                col = key.rsplit(".", 1)[1]
                if row == "regulations":
                    count(key, 0 if town else 4)
                elif col in ("issued", "made", "published"):
                    count(key, 60)
                elif col in ("repealed",):
                    count(key, 10)
                elif col in ("in_force", "published_total"):
                    count(key, 400)
                elif col == "items_prev_year":
                    count(key, 3000)
                elif col == "items_change":
                    v = rng.randint(-60, 60) if rng.random() < 0.5 else 0
                    vals[key] = v
                    printed[key] = (f"减{-v}" if rng.random() < 0.3 else str(v)) if v < 0 else str(v)
                elif col == "decisions":
                    count(key, rng.choice((30, 800, 20000)))
                elif col == "projects":
                    count(key, 300)
                elif key == "t2.fees.amount":  # 万元, decimals common
                    if rng.random() < 0.4:
                        vals[key], printed[key] = 0, "0"
                    else:
                        digits = rng.choice((0, 2, 2, 4, 6))
                        cents = rng.randint(1, 30_000 * 10**digits)
                        text = f"{cents / 10**digits:.{digits}f}"
                        vals[key], printed[key] = float(text), text
                elif key == "t2.procurement.amount":  # the unit is printed in the cell
                    if rng.random() < 0.7:
                        yuan = rng.randint(1000, 90_000_000)
                        fen = rng.choice((0, rng.randint(1, 99)))
                        text = f"{yuan}.{fen:02d}元" if fen else f"{yuan}元"
                        vals[key], printed[key] = float(text[:-1]) if fen else yuan, text
                    else:
                        wan = rng.randint(1, 900_000) / 100
                        text = f"{wan:.2f}万元"
                        vals[key], printed[key] = round(wan * 10_000, 2), text
                else:  # pragma: no cover - a codebook column the generator does not know
                    raise KeyError(f"synthetic generator: no rule for Table 2 cell {key}")
    return vals, printed


def _blank(rng: random.Random, style: str, key: str) -> bool:
    """Whether a zero cell is printed blank under a report's blank style."""
    if style == "none":
        return False
    if style == "t3_applicants":
        return key.startswith("t3.") and not key.endswith(".total") and rng.random() < 0.9
    if style == "t3_all":
        return key.startswith("t3.")
    if style == "t4":
        return key.startswith("t4.")
    return rng.random() < 0.7  # everywhere, not quite consistently


def generate(seed: int, edition: str | None = None, blanks: bool | None = None) -> SynthReport:
    """A synthetic report for ``seed`` (always the same report for the same arguments).

    ``blanks``: whether zeros may be printed blank (as many agencies do; the
    damage kind ``blank_zeros`` of the benchmark): None = as the seed draws it
    (most reports print every zero), True = always in one of the blank styles,
    False = never.  The values are the same whatever ``blanks`` says.
    """
    rng = random.Random(f"synth-report:{seed}:{edition}")
    if edition is None:
        edition = rng.choices(list(_EDITION_WEIGHTS), weights=list(_EDITION_WEIGHTS.values()))[0]
    if edition not in EDITIONS:
        raise ValueError(f"unknown synthetic edition {edition!r}; expected one of {', '.join(EDITIONS)}")
    t2_edition, split_other = EDITIONS[edition]
    lo, hi = _YEARS["2021" if (t2_edition == "2021" or split_other) else "2019"]
    year = rng.randint(lo, hi)
    agency = rng.choice(AGENCIES)
    values, printed = _t2(rng, t2_edition)
    for k, v in [*_t3(rng, split_other).items(), *_t4(rng).items()]:
        values[k], printed[k] = v, str(v)
    brng = random.Random(f"synth-blanks:{seed}:{edition}")  # apart, so that blanks do not change the values
    styles = [s for s in BLANK_STYLES if blanks is None or (s != "none") == blanks]
    style = brng.choices(styles, weights=[BLANK_STYLES[s] for s in styles])[0]
    for k in sorted(values):
        if values[k] == 0 and printed[k] == "0" and _blank(brng, style, k):
            printed[k] = ""
    report = SynthReport(seed, agency, year, edition, t2_edition, split_other, values, printed, style)
    report.narrative = narrative(report, rng)
    return report
