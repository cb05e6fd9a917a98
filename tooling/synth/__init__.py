"""Clearly synthetic 政府信息公开工作年度报告 in every raw form, with known cell values.

    from tooling.synth import generate, render, truth
    report = generate(7)                       # or generate(7, edition="2021-t3-2019")
    data, suffix = render(report, "pdf", seed=7, damage=True)
    want = truth(report)                       # {codebook key: value, None = printed blank}

* :func:`generate` draws a report whose counts satisfy every identity of the
  template (``helpers/data/identities.csv``), of the 2019 or 2021 edition or a
  hybrid of the two (:data:`EDITIONS`), with narrative paragraphs that restate
  its headline numbers.  The agency name and a note under the title say that
  it is synthetic; PDF, DOCX and HTML say it in their metadata too.
* :func:`render` prints it as ``text`` (the layout of the transcriptions),
  ``pipe``, ``html``, ``docx``, ``pdf`` or ``markdown`` (:data:`FORMS`),
  optionally with seeded layout damage (:mod:`tooling.synth.damage`);
  :func:`render_ex` also says which damage kinds were applied.
* :func:`truth` is what a perfect extractor outputs for the printed cells.

Same seed, form and damage → byte-identical output.  The generator is test
and benchmark tooling; nothing here is real data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from . import layout
from .damage import DAMAGE_KINDS, apply_damage, choose_kinds
from .values import EDITIONS, SynthReport, generate

FORMS = ("text", "pipe", "html", "docx", "pdf", "markdown")
SUFFIX = {"text": ".txt", "pipe": ".txt", "html": ".html", "docx": ".docx", "pdf": ".pdf", "markdown": ".md"}


@dataclass(frozen=True)
class Rendering:
    data: bytes
    suffix: str
    form: str
    damage: tuple[str, ...]  # damage kinds applied (``blank_zeros`` when the report prints zeros blank)
    unreadable: frozenset[str]  # keys whose value the damage made unreadable (unset allowed)


def truth(report: SynthReport) -> dict[str, int | float | None]:
    """codebook key -> value for every printed cell (None where the cell is printed blank)."""
    return dict(report.cells)


def render_ex(report: SynthReport, form: str, seed: int | None = None, damage: bool | float | str | list[str] | tuple[str, ...] = False) -> Rendering:
    """Render ``report`` as ``form``; ``damage``: False, True (each kind with its default
    probability), a probability for every kind, or the names of the kinds to apply."""
    if form not in FORMS:
        raise ValueError(f"unknown synthetic form {form!r}; expected one of {', '.join(FORMS)}")
    rng = random.Random(f"synth-render:{report.seed if seed is None else seed}:{form}")
    blocks = layout.blocks(report)
    kinds = choose_kinds(rng, form, damage)
    unreadable = apply_damage(blocks, kinds, rng, form, report) if kinds else frozenset()
    title, note = report.title, report.synthetic_note
    if form in ("text", "pipe"):
        from .render_text import render_text

        data = render_text(blocks, pipe=form == "pipe")
    elif form == "html":
        from .render_html import render_html

        data = render_html(blocks, title, note)
    elif form == "docx":
        from .render_docx import render_docx

        data = render_docx(blocks, title, note)
    elif form == "pdf":
        from .render_pdf import render_pdf

        data = render_pdf(blocks, title, note, running_header="page_markers" in kinds)
    else:
        from .render_markdown import render_markdown

        data = render_markdown(blocks, rng, damaged="markdown_loose" in kinds)
    applied = (("blank_zeros",) if report.blank_style != "none" else ()) + tuple(kinds)
    return Rendering(data, SUFFIX[form], form, applied, frozenset(unreadable))


def render(report: SynthReport, form: str, seed: int | None = None, damage: bool | float | str | list[str] | tuple[str, ...] = False) -> tuple[bytes, str]:
    """(bytes, file suffix) of ``report`` rendered as ``form`` (see :func:`render_ex`)."""
    r = render_ex(report, form, seed=seed, damage=damage)
    return r.data, r.suffix


__all__ = ["generate", "render", "render_ex", "truth", "SynthReport", "Rendering", "FORMS", "EDITIONS", "DAMAGE_KINDS"]
