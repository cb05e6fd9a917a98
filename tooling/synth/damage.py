"""Seeded layout damage of the kind real renderings show (filled in below)."""

from __future__ import annotations

import random

DAMAGE_KINDS: dict[str, tuple[float, tuple[str, ...]]] = {}


def choose_kinds(rng: random.Random, form: str, damage) -> list[str]:
    if damage is False or damage is None or damage == 0:
        return []
    if isinstance(damage, str):
        damage = [damage]
    if isinstance(damage, (list, tuple, set, frozenset)):
        unknown = [k for k in damage if k not in DAMAGE_KINDS]
        if unknown:
            raise ValueError(f"unknown damage kinds {unknown}; known: {', '.join(DAMAGE_KINDS)}")
        return [k for k in DAMAGE_KINDS if k in damage and form in DAMAGE_KINDS[k][1]]
    p_all = None if damage is True else float(damage)
    return [k for k, (p, forms) in DAMAGE_KINDS.items() if form in forms and rng.random() < (p if p_all is None else p_all)]


def apply_damage(blocks, kinds, rng, form, report) -> set[str]:
    return set()
