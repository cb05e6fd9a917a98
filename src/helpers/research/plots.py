"""One figure style for every figure of the notebooks.

* :func:`setup` applies the style (paper column sizes, greys with markers,
  line styles and hatches so that every series survives black-and-white
  printing, TrueType font embedding) and chooses the language of the labels.
* :func:`find_cjk_font` finds a Simplified Chinese font file on the machine
  and registers it with matplotlib. Collections such as Debian's
  ``NotoSansCJK-Regular.ttc`` hold several faces, the first one Japanese; the
  face of the first family of ``cjk_families`` (``data/plot_style.json``) is
  chosen, so Chinese labels are drawn with "Noto Sans CJK SC" and not with
  Japanese glyph forms.
* :func:`label` turns codebook keys into short Chinese or English labels.
* :func:`savefig` writes ``<name>.png`` (300 dpi) and ``<name>.pdf`` (fonts
  embedded as TrueType subsets), byte-identical on reruns, atomically. Before
  writing, every visible text is checked against the character map of the
  fonts it is drawn with: a character that would come out as an empty box
  raises :class:`MissingGlyphError`.
* :func:`bar_with_ci`, :func:`funnel`, :func:`stacked_shares`, :func:`lorenz`
  and :func:`line_years` draw the figure types that recur in the notebooks;
  each takes its axis labels (and unit) and returns ``(fig, ax)``.

Style values, font preferences and fixed label texts are package data
(``data/plot_style.json``, ``data/plot_labels.csv``), not code.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib import cbook, font_manager
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.text import Text
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator, PercentFormatter

from .export import PER_UNIT_LIMIT

if TYPE_CHECKING:  # pandas is only handed in, never needed here
    import pandas as pd

__all__ = [
    "ENV_FONT",
    "LANGS",
    "CJKFont",
    "CJKFontMissing",
    "MissingGlyphError",
    "add_caption",
    "axis_label",
    "bar_with_ci",
    "check_glyphs",
    "current_font",
    "current_lang",
    "find_cjk_font",
    "funnel",
    "label",
    "line_years",
    "lorenz",
    "new_figure",
    "report_shares",
    "savefig",
    "setup",
    "source_line",
    "style",
    "stacked_shares",
]

_log = logging.getLogger(__name__)

ENV_FONT = "GIDR_CJK_FONT"
LANGS = ("zh", "en")

# Metadata that would change from run to run (timestamps) or from one
# matplotlib release to the next (software names): left out of the files.
PNG_METADATA = {"Software": None}
PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None}

_GLYPH_WARNING = re.compile(r"Glyph (\d+) .*missing from")
_GLYPH_WARNING_START = r"Glyph \d+ .*missing from"  # for warnings filters (matched at the start)


# --------------------------------------------------------------------------- errors


class CJKFontMissing(UserWarning):
    """Chinese labels were asked for but no Simplified Chinese font is installed."""


class MissingGlyphError(ValueError):
    """A text of a figure holds a character that its font cannot draw."""

    def __init__(self, text: str | None, char: str, fonts: Sequence[str] = ()):
        self.text = text
        self.char = char
        self.fonts = tuple(fonts)
        where = f"text {text!r}" if text is not None else "a text of the figure"
        font_list = ", ".join(self.fonts) if self.fonts else "the selected font"
        super().__init__(
            f"{where} holds {char!r} (U+{ord(char):04X}), which {font_list} cannot draw; "
            "it would come out as an empty box. Use setup('zh') with a Chinese font "
            "installed, or change the text."
        )


# --------------------------------------------------------------------------- data


@cache
def style() -> dict:
    """The style data (``data/plot_style.json``): fonts, sizes, greys, hatches, rcParams."""
    text = resources.files("helpers").joinpath("data/plot_style.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _fixed_labels() -> dict[str, dict[str, str]]:
    """``data/plot_labels.csv``: short forms and fixed texts, by key and language."""
    path = resources.files("helpers").joinpath("data/plot_labels.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["key"]: {"zh": row["label_zh"], "en": row["label_en"]} for row in csv.DictReader(fh)}


@cache
def _codebook_labels() -> dict[str, dict[str, str]]:
    """Codebook labels by key; a key in both editions keeps the labels of the newer one."""
    path = resources.files("helpers").joinpath("data/codebook.csv")
    out: dict[str, dict[str, str]] = {}
    newest: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            edition = max(row["editions"].split(";"))
            if row["key"] not in out or edition > newest[row["key"]]:
                out[row["key"]] = {"zh": row["label_zh"], "en": row["label_en"], "unit": row["unit"]}
                newest[row["key"]] = edition
    return out


# --------------------------------------------------------------------------- fonts


@dataclass(frozen=True, slots=True)
class CJKFont:
    """A font face: file, face index inside a collection, matplotlib family name."""

    path: str
    face_index: int
    family: str
    style: str
    source: str  # "env", "fontconfig" or "scan"


@dataclass(frozen=True, slots=True)
class _Face:
    path: str
    index: int
    names: tuple[str, ...]
    style: str
    source: str


def _fontconfig_faces() -> list[_Face]:
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    fmt = "%{file}\t%{index}\t%{family}\t%{style}\n"
    try:
        out = subprocess.run(
            [exe, "--format", fmt], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    faces = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[1].isdigit():
            continue
        names = tuple(n.strip() for n in parts[2].split(",") if n.strip())
        faces.append(_Face(parts[0], int(parts[1]), names, parts[3].split(",")[0], "fontconfig"))
    return faces


def _font_files(root: Path) -> list[Path]:
    suffixes = tuple(style()["font_suffixes"])
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    found = []
    for dirpath, _dirs, files in os.walk(root, followlinks=True):
        found.extend(Path(dirpath) / f for f in files if f.lower().endswith(suffixes))
    return sorted(found)


def _file_faces(path: Path, source: str) -> list[_Face]:
    """The faces of one font file, read with FreeType (cheap: headers only)."""
    from matplotlib import ft2font

    try:
        first = ft2font.FT2Font(str(path))
        fonts = [first] + [ft2font.FT2Font(str(path), face_index=i) for i in range(1, first.num_faces)]
    except (OSError, RuntimeError, ValueError):
        return []
    faces = []
    for i, ft in enumerate(fonts):
        names = (font_manager.ttfFontProperty(ft).name, ft.family_name)
        faces.append(_Face(str(path), i, tuple(dict.fromkeys(names)), ft.style_name, source))
    return faces


def _style_rank(style_name: str) -> int:
    s = style_name.lower()
    if s in ("regular", "book", "normal", "roman"):
        return 0
    return 2 if "bold" in s or "black" in s or "heavy" in s else 1


@lru_cache(maxsize=64)
def _cmap(path: str, index: int) -> frozenset[int]:
    """Code points of a face, from its Unicode character map (FreeType; fontTools
    for a face FreeType cannot open)."""
    from matplotlib import ft2font

    try:
        return frozenset(ft2font.FT2Font(path, face_index=index).get_charmap())
    except (OSError, RuntimeError, ValueError):
        pass
    from fontTools.ttLib import TTFont

    with open(path, "rb") as fh:
        collection = fh.read(4) == b"ttcf"
    kwargs = {"fontNumber": index} if collection else {}
    with TTFont(path, lazy=True, **kwargs) as font:
        cmap = font.getBestCmap() or {}
    return frozenset(cmap)


def _covers(path: str, index: int, text: str) -> bool:
    try:
        cmap = _cmap(path, index)
    except Exception:  # unreadable or not a TrueType/OpenType file
        return False
    return all(ord(c) in cmap for c in text)


@lru_cache(maxsize=8)
def _discover(dirs: tuple[str, ...], use_fontconfig: bool, env: str) -> tuple[CJKFont, ...]:
    """Every usable face of the best CJK family, best face first (empty: none found)."""
    prefs = [f.lower() for f in style()["cjk_families"]]
    probe = style()["cjk_probe"]

    faces: list[_Face] = []
    if env:
        for f in _font_files(Path(env).expanduser()):
            faces.extend(_file_faces(f, "env"))
    fc_faces = _fontconfig_faces() if use_fontconfig else []
    faces.extend(fc_faces)
    known = {os.path.realpath(f.path) for f in faces}
    for d in dirs:
        for f in _font_files(Path(d).expanduser()):
            if os.path.realpath(f) not in known:
                known.add(os.path.realpath(f))
                faces.extend(_file_faces(f, "scan"))

    def family_rank(face: _Face) -> int | None:
        ranks = [prefs.index(n.lower()) for n in face.names if n.lower() in prefs]
        if ranks:
            return min(ranks)
        # A file named by GIDR_CJK_FONT is accepted outside the list if it draws Chinese.
        return len(prefs) if face.source == "env" else None

    ranked = []
    for face in faces:
        rank = family_rank(face)
        if rank is None:
            continue
        key = (face.source != "env", rank, _style_rank(face.style), face.path, face.index)
        ranked.append((key, face))
    ranked.sort(key=lambda kv: kv[0])

    for _key, face in ranked:
        if not _covers(face.path, face.index, probe):
            continue
        family = _mpl_family(face)
        if family is None:
            continue
        best = CJKFont(face.path, face.index, family, face.style, face.source)
        # the other files of the same family (bold next to regular) come along
        rest = []
        for _k, other in ranked:
            if other is face or (other.path, other.index) == (face.path, face.index):
                continue
            if _mpl_family(other) == family and _covers(other.path, other.index, probe):
                rest.append(CJKFont(other.path, other.index, family, other.style, other.source))
        if env and best.source != "env":
            _log.warning("%s=%s holds no usable Chinese font; using %s", ENV_FONT, env, best.path)
        return (best, *rest)
    if env:
        _log.warning("%s=%s holds no usable Chinese font", ENV_FONT, env)
    return ()


def _mpl_family(face: _Face) -> str | None:
    """The family name matplotlib gives the face (what rcParams must name)."""
    from matplotlib import ft2font

    try:
        return font_manager.ttfFontProperty(ft2font.FT2Font(face.path, face_index=face.index)).name
    except (OSError, RuntimeError, ValueError):
        return None


def _register(font: CJKFont) -> None:
    real = os.path.realpath(font.path)
    have = {
        (os.path.realpath(e.fname), e.index) for e in font_manager.fontManager.ttflist
    }
    if (real, font.face_index) not in have:
        # addfont registers every face of a collection
        font_manager.fontManager.addfont(font.path)


def find_cjk_font(
    *,
    dirs: Iterable[str | os.PathLike] | None = None,
    use_fontconfig: bool = True,
    refresh: bool = False,
) -> CJKFont | None:
    """Find a Simplified Chinese font face on this machine and register it with matplotlib.

    Looks at the file or folder named by env ``GIDR_CJK_FONT`` first, then at
    ``fc-list`` output (when fontconfig is installed), then at the files of
    ``dirs`` (default: /usr/share/fonts, ~/.fonts, ~/.local/share/fonts) that
    fontconfig does not list. Faces are ranked by ``cjk_families`` in
    ``data/plot_style.json`` (regular weight first); the chosen face must draw
    the probe characters. All files of the chosen family (e.g. regular and
    bold) are registered with ``matplotlib.font_manager.fontManager.addfont``.
    Returns the face (``family`` is the name to put in rcParams), or None.
    The search runs once per process; ``refresh=True`` repeats it (e.g.
    after installing a font).
    """
    if refresh:
        _discover.cache_clear()
    folders = tuple(str(d) for d in (style()["font_dirs"] if dirs is None else dirs))
    found = _discover(folders, use_fontconfig, os.environ.get(ENV_FONT, ""))
    if not found:
        return None
    for font in found:
        _register(font)
    return found[0]


# --------------------------------------------------------------------------- style


_STATE: dict[str, object] = {"lang": "en", "font": None}


def current_lang() -> str:
    """The language set by the last :func:`setup` (``"en"`` before any)."""
    return str(_STATE["lang"])


def current_font() -> CJKFont | None:
    """The CJK font found by the last :func:`setup`, if any."""
    font = _STATE["font"]
    return font if isinstance(font, CJKFont) else None


def _lang(lang: str | None) -> str:
    lang = current_lang() if lang is None else lang
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    return lang


def setup(lang: str = "zh", *, strict_glyphs: bool = True) -> str:
    """Apply the figure style and choose the label language; returns the active language.

    ``lang="zh"`` needs a Simplified Chinese font (see :func:`find_cjk_font`);
    without one the figures fall back to English with one
    :class:`CJKFontMissing` warning. With ``lang="en"`` the Latin font draws
    and the CJK font, when present, is the fallback for Chinese names.

    ``strict_glyphs`` turns matplotlib's "Glyph … missing from font(s)"
    warning into an error wherever a figure is drawn (e.g. shown in a
    notebook), not only in :func:`savefig`.
    """
    lang = _lang(lang)
    st = style()
    mpl.rcParams.update(st["rc"])
    n = len(st["line_greys"])
    mpl.rcParams["axes.prop_cycle"] = (
        cycler(color=st["line_greys"])
        + cycler(marker=st["markers"][:n])
        + cycler(linestyle=st["linestyles"][:n])
    )
    mpl.rcParams["svg.hashsalt"] = st["hashsalt"]
    mpl.rcParams["figure.figsize"] = (st["widths_in"]["column"], st["heights_in"]["column"])

    font = find_cjk_font()
    if lang == "zh" and font is None:
        warnings.warn(
            CJKFontMissing(
                "No Simplified Chinese font found, so figures fall back to English labels. "
                "Install Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk) or set "
                f"{ENV_FONT} to a font file or folder (e.g. NotoSansCJK-Regular.ttc or "
                "NotoSansSC-Regular.otf)."
            ),
            stacklevel=2,
        )
        lang = "en"
    if lang == "zh":
        families = [font.family]
    else:
        families = [st["latin_family"]] + ([font.family] if font is not None else [])
    default_sans = list(mpl.rcParamsDefault["font.sans-serif"])
    mpl.rcParams["font.family"] = families
    mpl.rcParams["font.sans-serif"] = families + [f for f in default_sans if f not in families]

    primary = font_manager.findfont(font_manager.FontProperties(family=families[0]))
    # keep the true minus sign only when the font has it
    mpl.rcParams["axes.unicode_minus"] = 0x2212 in _cmap(str(primary), _face_index(primary))

    if strict_glyphs:
        warnings.filterwarnings("error", message=_GLYPH_WARNING_START, category=UserWarning)

    _STATE["lang"] = lang
    _STATE["font"] = font
    return lang


def _face_index(path: object) -> int:
    return int(getattr(path, "face_index", 0))


# --------------------------------------------------------------------------- labels

_ZH_ENUM = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[.．、])\s*")
_ZH_NOTE = re.compile(r"[（(][^（）()]*[）)]$")
_ZH_TOTAL = "总计"
_EN_TOTAL = " — Total"


def _short_zh(path: str) -> str:
    """``三 / （四）无法提供 / 1.本机关不掌握相关政府信息 × 总计`` → ``本机关不掌握相关政府信息``."""
    sides = []
    for side in path.split(" × "):
        last = side.split(" / ")[-1].strip()
        last = _ZH_NOTE.sub("", _ZH_ENUM.sub("", last)).strip()
        sides.append(last)
    if len(sides) > 1 and sides[-1] == _ZH_TOTAL:
        sides.pop()
    return " × ".join(sides)


def _short_en(text: str) -> str:
    """``Unable to provide: not held by this agency — Total`` → without ``— Total``."""
    return text.removesuffix(_EN_TOTAL)


def label(
    key_or_text: str,
    lang: str | None = None,
    *,
    extra: Mapping[str, str | Mapping[str, str]] | None = None,
    form: str = "short",
) -> str:
    """The label of a key in ``lang`` (default: the language of :func:`setup`).

    Looks in ``extra`` first (e.g. metric ids: ``{"grant_rate": {"zh": "公开率",
    "en": "Grant rate"}}`` or plain strings), then ``data/plot_labels.csv``
    (short forms, axis words), then the codebook: ``label_en`` / ``label_zh``
    whole (``form="full"``) or short (``form="short"``): the last component
    of the Chinese label path without enumerator and notes, the English
    label without "— Total"; the column "总计"/"Total" is left out. Anything else is returned
    unchanged, so free text passes through.
    """
    lang = _lang(lang)
    if form not in ("short", "full"):
        raise ValueError(f"form must be 'short' or 'full', not {form!r}")
    if extra and key_or_text in extra:
        value = extra[key_or_text]
        if isinstance(value, Mapping):
            return value.get(lang) or value.get("en") or key_or_text
        return str(value)
    fixed = _fixed_labels().get(key_or_text)
    if fixed and form == "short" and fixed[lang]:
        return fixed[lang]
    entry = _codebook_labels().get(key_or_text)
    if entry:
        if form == "full":
            return entry[lang]
        return _short_en(entry["en"]) if lang == "en" else _short_zh(entry["zh"])
    return key_or_text


def axis_label(text: str, unit: str | None = None, lang: str | None = None) -> str:
    """``text`` with its unit: ``Share (%)`` in English, ``占比（%）`` in Chinese."""
    lang = _lang(lang)
    text = label(text, lang)
    if not unit:
        return text
    unit = label(unit, lang)
    return f"{text}（{unit}）" if lang == "zh" else f"{text} ({unit})"


def source_line(n_reports: int, lang: str | None = None) -> str:
    """The caption line naming the data: ``Source: 812 reports, data/processed; own calculation.``"""
    return label("source", lang).format(n=f"{n_reports:,}")


# --------------------------------------------------------------------------- figures


def _size(width: str | float, height: float | None) -> tuple[float, float]:
    st = style()
    if isinstance(width, str):
        if width not in st["widths_in"]:
            raise ValueError(f"width must be one of {sorted(st['widths_in'])} or inches")
        w, h = st["widths_in"][width], st["heights_in"][width]
    else:
        w, h = float(width), float(width) * 0.7
    return w, (h if height is None else float(height))


def new_figure(width: str | float = "column", height: float | None = None) -> tuple[Figure, plt.Axes]:
    """A figure of a paper column (``"column"``, 3.5 in) or page width (``"full"``, 7 in)."""
    fig, ax = plt.subplots(figsize=_size(width, height))
    return fig, ax


def _wrap(text: str, width_pt: float, prop: font_manager.FontProperties) -> str:
    """Greedy line breaking by measured width: Latin words stay whole, CJK breaks anywhere."""
    measure = TextToPath()
    lines = []
    for para in text.split("\n"):
        tokens = re.findall(r"[A-Za-z0-9_.,;:!?%/()\[\]'\"+\-=&@#*]+\s*|\s+|.", para)
        line = ""
        for tok in tokens:
            trial = line + tok
            w = measure.get_text_width_height_descent(trial.rstrip(), prop, ismath=False)[0]
            if line and w > width_pt:
                lines.append(line.rstrip())
                line = tok.lstrip()
            else:
                line = trial
        lines.append(line.rstrip())
    return "\n".join(lines)


def add_caption(fig: Figure, text: str, *, fontsize: float = 6.0) -> Text:
    """A small footnote (source line) under the axes, wrapped to the figure width.

    Space for it is kept free by the layout engine; a second call replaces the first caption.
    """
    for old in [t for t in fig.texts if t.get_gid() == "caption"]:
        old.remove()
    prop = font_manager.FontProperties(size=fontsize)
    width_pt = fig.get_figwidth() * 72 * 0.97
    wrapped = _wrap(text, width_pt, prop)
    n_lines = wrapped.count("\n") + 1
    height_in = (n_lines * fontsize * 1.25 + 4) / 72
    frac = min(height_in / fig.get_figheight(), 0.5)
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(rect=(0, frac, 1, 1 - frac))
    else:
        fig.subplots_adjust(bottom=max(fig.subplotpars.bottom, frac + 0.1))
    caption = fig.text(
        0.015, 2 / 72 / fig.get_figheight(), wrapped, ha="left", va="bottom",
        fontproperties=prop, color="#333333", gid="caption", linespacing=1.15,
    )
    return caption


def _finish(fig: Figure, ax: plt.Axes, xlabel: str, ylabel: str, caption: str | None) -> None:
    if not str(xlabel).strip() or not str(ylabel).strip():
        raise ValueError("every figure needs a non-empty xlabel and ylabel")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if caption:
        add_caption(fig, caption)


def _axes(ax: plt.Axes | None, width: str | float, height: float | None) -> tuple[Figure, plt.Axes]:
    if ax is None:
        return new_figure(width, height)
    return ax.figure, ax


def bar_with_ci(
    df: pd.DataFrame,
    label_col: str,
    est: str,
    lo: str,
    hi: str,
    *,
    xlabel: str,
    ylabel: str,
    n: str | None = None,
    unit: str | None = None,
    percent: bool = False,
    sort: bool = True,
    ax: plt.Axes | None = None,
    width: str | float = "column",
    caption: str | None = None,
    lang: str | None = None,
) -> tuple[Figure, plt.Axes]:
    """Horizontal bars of ``est`` per ``label_col`` with interval whiskers ``lo``–``hi``
    (e.g. Wilson intervals) and, with ``n`` (a column name), ``n = …`` after each whisker.

    ``percent``: values are proportions (0–1) shown as percentages. Rows are
    sorted by estimate (largest on top) unless ``sort=False``.
    """
    lang = _lang(lang)
    d = df[[c for c in dict.fromkeys([label_col, est, lo, hi, n]) if c is not None]].copy()
    bad = d[d[[est, lo, hi]].isna().any(axis=1)]
    if len(bad):
        raise ValueError(f"missing estimate or interval for {list(bad[label_col])[:5]}")
    tol = 1e-9
    wrong = d[(d[lo] > d[est] + tol) | (d[hi] < d[est] - tol)]
    if len(wrong):
        raise ValueError(f"interval does not contain the estimate for {list(wrong[label_col])[:5]}")
    if sort:
        d = d.sort_values(est, kind="mergesort")
    else:
        d = d.iloc[::-1]
    height = None
    if ax is None:
        height = max(_size(width, None)[1], style()["row_height_in"] * len(d) + 0.9)
    fig, ax = _axes(ax, width, height)
    y = np.arange(len(d))
    values = d[est].to_numpy(float)
    err = np.vstack([values - d[lo].to_numpy(float), d[hi].to_numpy(float) - values]).clip(min=0)
    ax.barh(y, values, height=0.65, color=style()["fill_greys"][1], edgecolor="black", linewidth=0.6)
    ax.errorbar(values, y, xerr=err, fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
    ax.set_yticks(y, [str(v) for v in d[label_col]])
    ax.tick_params(axis="y", length=0)
    if n is not None:
        template = label("n_annot", lang)
        for yi, x, count in zip(y, d[hi].to_numpy(float), d[n]):
            ax.annotate(
                template.format(n=f"{int(count):,}"), (x, yi), xytext=(3, 0),
                textcoords="offset points", va="center", ha="left", fontsize=6,
            )
    left = min(0.0, float(d[lo].min()))
    right = float(d[hi].max())
    span = right - left or 1.0
    ax.set_xlim(left, right + span * (0.22 if n is not None else 0.05))
    ax.set_ylim(-0.6, len(d) - 0.4)
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    _finish(fig, ax, axis_label(xlabel, unit, lang), ylabel, caption)
    return fig, ax


def _limit_group(level: object, kind: object) -> tuple[float | None, bool]:
    """(level as a proportion, overdispersed?) of a row of a limits table."""
    od = any(isinstance(v, str) and "overdispers" in v.lower() for v in (level, kind))
    value: float | None
    try:
        value = float(str(level).rstrip("%"))
    except ValueError:
        value = None
    if value is not None and value > 1:
        value /= 100
    return value, od


def _percent_text(p: float | None) -> str:
    if p is None:
        return ""
    return f"{p * 100:.1f}".rstrip("0").rstrip(".") + "%"


def funnel(
    ax: plt.Axes | None,
    n: Sequence[float],
    rate: Sequence[float],
    limits_df: pd.DataFrame,
    target: float,
    labels: Sequence[str] | None = None,
    *,
    xlabel: str,
    ylabel: str,
    unit: str | None = None,
    percent: bool = False,
    annotate: str = "outside",
    overdispersed: str | None = None,
    width: str | float = "column",
    caption: str | None = None,
    lang: str | None = None,
) -> tuple[Figure, plt.Axes]:
    """Funnel plot: ``rate`` against ``n`` with the target and control limits.

    ``limits_df`` holds columns ``n, level, lo, hi`` (computed by the stats
    module), ``level`` as a proportion (0.95, 0.998), a percentage, or a text;
    a row whose ``level`` or optional ``kind`` column says "overdispersed" is
    drawn dotted. 95 % limits are dashed, 99.8 % solid. A wide table with
    overdispersed limits in extra columns (``lo_additive, hi_additive``, …)
    gets them drawn dotted with ``overdispersed="additive"`` (the column suffix).
    ``labels`` name the points (none when more than ``PER_UNIT_LIMIT`` would
    be named); with ``annotate="outside"`` only points
    outside the widest limits are named, with ``"all"`` every point, with
    ``"none"`` none.
    """
    lang = _lang(lang)
    if annotate not in ("outside", "all", "none"):
        raise ValueError("annotate must be 'outside', 'all' or 'none'")
    needed = {"n", "level", "lo", "hi"}
    if overdispersed is not None:
        needed |= {f"lo_{overdispersed}", f"hi_{overdispersed}"}
    missing = needed - set(limits_df.columns)
    if missing:
        raise ValueError(f"limits_df lacks columns {sorted(missing)}")
    fig, ax = _axes(ax, width, None)
    xs = np.asarray(n, float)
    ys = np.asarray(rate, float)
    if xs.shape != ys.shape:
        raise ValueError("n and rate differ in length")
    styles = style()["funnel_linestyles"]
    kinds = limits_df["kind"] if "kind" in limits_df.columns else [None] * len(limits_df)
    groups: dict[tuple[float | None, bool], list] = {}
    for idx, level, kind in zip(limits_df.index, limits_df["level"], kinds):
        groups.setdefault(_limit_group(level, kind), []).append(idx)
    # line sets: (level, overdispersed?, n, lo, hi)
    sets = []
    for (lvl, od), idx in groups.items():
        part = limits_df.loc[idx].sort_values("n", kind="mergesort")
        sets.append((lvl, od, part["n"], part["lo"], part["hi"]))
        if overdispersed is not None and not od:
            sets.append((lvl, True, part["n"], part[f"lo_{overdispersed}"], part[f"hi_{overdispersed}"]))
    sets.sort(key=lambda t: (t[1], t[0] if t[0] is not None else 2.0))
    for lvl, od, ns, lo_s, hi_s in sets:
        if od:
            ls = styles["overdispersed"]
        else:
            ls = next((styles[k] for k in ("0.95", "0.998") if lvl is not None and abs(lvl - float(k)) < 1e-9), styles["other"])
        text = label("limits_od" if od else "limits", lang).format(level=_percent_text(lvl)).strip()
        ax.plot(ns, lo_s, color="#4d4d4d", linestyle=ls, linewidth=0.8, marker="", label=text)
        ax.plot(ns, hi_s, color="#4d4d4d", linestyle=ls, linewidth=0.8, marker="")
    # the widest limits decide which points are outside
    outer = max(sets, key=lambda t: float(np.nanmean(t[4].to_numpy(float) - t[3].to_numpy(float))), default=None)
    ax.axhline(target, color="black", linewidth=0.9, linestyle="-", label=label("target", lang), zorder=1.5)
    ax.scatter(xs, ys, s=12, facecolor="white", edgecolor="black", linewidth=0.7, zorder=3, marker="o")
    if labels is not None and annotate != "none":
        names = list(labels)
        if len(names) != len(xs):
            raise ValueError("labels and n differ in length")
        flag = np.ones(len(xs), bool)
        if annotate == "outside" and outer is not None:
            lo_at = np.interp(xs, outer[2], outer[3])
            hi_at = np.interp(xs, outer[2], outer[4])
            flag = (ys < lo_at) | (ys > hi_at)
        if flag.sum() > PER_UNIT_LIMIT:  # names of so many points would cover the chart
            flag[:] = False
        for x, yv, name, show in zip(xs, ys, names, flag):
            if show:
                ax.annotate(str(name), (x, yv), xytext=(3, 2), textcoords="offset points", fontsize=6)
    # y range: the points, the target and the limits where there are points
    # (limits for very small n would squash everything else)
    shown = limits_df[limits_df["n"] >= xs.min()] if len(xs) else limits_df
    shown = shown if len(shown) else limits_df
    lo_cols = ["lo"] + ([f"lo_{overdispersed}"] if overdispersed else [])
    hi_cols = ["hi"] + ([f"hi_{overdispersed}"] if overdispersed else [])
    low = np.nanmin(np.r_[ys, target, shown[lo_cols].to_numpy(float).ravel()])
    high = np.nanmax(np.r_[ys, target, shown[hi_cols].to_numpy(float).ravel()])
    if percent:
        low, high = max(low, 0.0), min(high, 1.0)
    pad = 0.06 * ((high - low) or 1.0)
    ax.set_ylim(low - pad, high + pad)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(left=0)
    ax.legend(loc="upper right", handlelength=2.6)
    _finish(fig, ax, xlabel, axis_label(ylabel, unit, lang), caption)
    return fig, ax


def stacked_shares(
    df: pd.DataFrame,
    *,
    xlabel: str,
    ylabel: str,
    normalize: bool = True,
    names: Mapping[str, str] | None = None,
    percent: bool = True,
    ax: plt.Axes | None = None,
    width: str | float = "column",
    caption: str | None = None,
    lang: str | None = None,
) -> tuple[Figure, plt.Axes]:
    """Composition by year: one stacked bar per row of ``df`` (index: years),
    one segment per column, told apart by grey fill and hatch.

    ``normalize`` turns counts into shares of the row total. Column names are
    passed through :func:`label` (``names`` overrides them, e.g. metric ids).
    """
    lang = _lang(lang)
    st = style()
    k = df.shape[1]
    if k > len(st["hatches"]):
        raise ValueError(f"at most {len(st['hatches'])} parts can be told apart in grey; got {k}")
    data = df.astype(float)
    if normalize:
        totals = data.sum(axis=1)
        if (totals <= 0).any() or totals.isna().any():
            raise ValueError(f"rows without a positive total: {list(data.index[(totals <= 0) | totals.isna()])}")
        data = data.div(totals, axis=0)
    fig, ax = _axes(ax, width, None)
    x = np.arange(len(data))
    bottom = np.zeros(len(data))
    for i, col in enumerate(data.columns):
        vals = data[col].fillna(0).to_numpy()
        text = label(str(col), lang, extra=names)
        ax.bar(
            x, vals, bottom=bottom, width=0.7, label=text, color=st["fill_greys"][i],
            hatch=st["hatches"][i], edgecolor="black", linewidth=0.5,
        )
        bottom += vals
    ax.set_xticks(x, [str(v) for v in data.index])
    ax.tick_params(axis="x", length=0)
    if normalize:
        ax.set_ylim(0, 1)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0 if normalize else 100.0))
    handles, texts = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], texts[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0),
              handlelength=1.4, handleheight=1.2, borderaxespad=0)
    _finish(fig, ax, xlabel, ylabel, caption)
    return fig, ax


def report_shares(
    counts: pd.DataFrame,
    groups: pd.Series,
    *,
    report_label: str,
    group_label: str,
    ylabel: str,
    names: Mapping[str, str] | None = None,
    caption: str | None = None,
    limit: int | None = None,
    lang: str | None = None,
) -> tuple[Figure, plt.Axes, str | None]:
    """Composition by report, a view that suits the corpus size.

    Up to ``limit`` reports (``export.PER_UNIT_LIMIT``): one stacked bar per
    row of ``counts`` (index: the report's tick label).  Above it the counts are
    summed by ``groups`` (aligned with the rows, e.g. the report year) and drawn
    one bar per group, and the third value returned says so (None for the
    per-report view), for the notebook to print.
    """
    limit = PER_UNIT_LIMIT if limit is None else limit
    if len(counts) <= limit:
        fig, ax = stacked_shares(counts, xlabel=report_label, ylabel=ylabel, names=names, width="full", caption=caption, lang=lang)
        fig.set_size_inches(7.0, 4.2)
        plt.setp(ax.get_xticklabels(), rotation=60, ha="right", rotation_mode="anchor")
        return fig, ax, None
    pooled = counts.groupby(np.asarray(groups)).sum()
    fig, ax = stacked_shares(pooled, xlabel=group_label, ylabel=ylabel, names=names, width="full", caption=caption, lang=lang)
    note = f"{len(counts)} reports, more than {limit}: the figure pools their counts by {group_label} (one bar per value) instead of one bar per report"
    return fig, ax, note


def lorenz(
    ax: plt.Axes | None,
    x: Sequence[float],
    y: Sequence[float],
    gini: float | None,
    *,
    xlabel: str,
    ylabel: str,
    percent: bool = True,
    width: str | float = "column",
    caption: str | None = None,
    lang: str | None = None,
) -> tuple[Figure, plt.Axes]:
    """Lorenz curve of cumulative shares ``x`` (e.g. of agencies) and ``y`` (e.g. of
    requests), both from 0 to 1, with the line of equality and the Gini coefficient."""
    lang = _lang(lang)
    xs = np.asarray(x, float)
    ys = np.asarray(y, float)
    if xs.shape != ys.shape or xs.ndim != 1 or len(xs) == 0:
        raise ValueError("x and y must be 1-d sequences of the same length")
    if xs[0] != 0 or ys[0] != 0:
        xs, ys = np.r_[0.0, xs], np.r_[0.0, ys]
    if np.any(np.diff(xs) < 0) or np.any(np.diff(ys) < 0) or xs.max() > 1 + 1e-9 or ys.max() > 1 + 1e-9:
        raise ValueError("x and y must be non-decreasing cumulative shares within 0–1")
    if width == "column" and ax is None:
        fig, ax = new_figure(width, style()["widths_in"]["column"] * 0.85)
    else:
        fig, ax = _axes(ax, width, None)
    ax.plot([0, 1], [0, 1], color="#808080", linestyle="--", linewidth=0.8, marker="", label=label("equality", lang))
    ax.fill_between(xs, ys, xs, facecolor="#e6e6e6", edgecolor="none", linewidth=0)
    ax.plot(xs, ys, color="black", linewidth=1.2, marker="", linestyle="-", label=label("lorenz", lang))
    if gini is not None:
        ax.text(0.04, 0.96, label("gini", lang).format(gini=gini), transform=ax.transAxes, va="top", ha="left")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="lower right")
    _finish(fig, ax, xlabel, ylabel, caption)
    return fig, ax


def line_years(
    ax: plt.Axes | None,
    df: pd.DataFrame,
    *,
    xlabel: str,
    ylabel: str,
    unit: str | None = None,
    edition_year: int | Sequence[int] | None = None,
    names: Mapping[str, str] | None = None,
    percent: bool = False,
    width: str | float = "column",
    caption: str | None = None,
    lang: str | None = None,
) -> tuple[Figure, plt.Axes]:
    """One line per column of ``df`` over its index of years (greys, markers and
    line styles from the style cycle). ``edition_year`` marks the first year of a
    new report template ("2021 edition") with a thin vertical line half a year
    before it, between the last year of the old template and the first of the new.
    """
    lang = _lang(lang)
    fig, ax = _axes(ax, width, None)
    years = np.asarray(df.index, float)
    for col in df.columns:
        ax.plot(years, df[col].to_numpy(float), label=label(str(col), lang, extra=names))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    marks = [] if edition_year is None else ([edition_year] if np.ndim(edition_year) == 0 else list(edition_year))
    for year in marks:
        xv = float(year) - 0.5
        ax.axvline(xv, color="#808080", linewidth=0.7, linestyle=(0, (1, 1.5)), marker="", zorder=0.5)
        ax.text(xv, 1.0, " " + label("edition", lang).format(year=int(year)), transform=ax.get_xaxis_transform(),
                ha="left", va="top", fontsize=6, color="#333333")
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if df.shape[1] > 1:
        ax.legend(loc="best")
    _finish(fig, ax, xlabel, axis_label(ylabel, unit, lang), caption)
    return fig, ax


# --------------------------------------------------------------------------- glyphs and saving


def _plain_parts(text: Text, s: str) -> str:
    """The characters of ``s`` drawn with the text font (mathtext parts left out)."""
    if text.get_usetex():
        return ""
    if text.get_parse_math() and cbook.is_math_text(s):
        parts = re.split(r"(?<!\\)\$", s)
        return "".join(parts[0::2]).replace("\\$", "$")
    return s


def _fonts_for(prop: font_manager.FontProperties) -> list[object]:
    """The font files matplotlib draws ``prop`` with, in fallback order."""
    found: list[object] = []
    seen = set()
    for family in prop.get_family():
        p = prop.copy()
        p.set_family(family)
        try:
            path = font_manager.findfont(p, fallback_to_default=False)
        except ValueError:
            continue
        key = (str(path), _face_index(path))
        if key not in seen:
            seen.add(key)
            found.append(path)
    if not found:
        found.append(font_manager.findfont(prop))
    return found


def _font_name(path: object) -> str:
    try:
        from matplotlib import ft2font

        return ft2font.FT2Font(str(path), face_index=_face_index(path)).family_name
    except (OSError, RuntimeError, ValueError):
        return os.path.basename(str(path))


def _visible_texts(fig: Figure) -> Iterable[Text]:
    for t in fig.findobj(match=Text):
        if not t.get_visible() or not t.get_text():
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        yield t


def check_glyphs(fig: Figure) -> None:
    """Raise :class:`MissingGlyphError` if a visible text holds a character its fonts lack.

    Draws the figure once (tick labels exist only after drawing) while
    collecting matplotlib's "Glyph … missing" warnings, then checks every
    visible text against the character maps (fontTools) of its fonts.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.draw_without_rendering()
    for t in _visible_texts(fig):
        s = t.get_text()
        fonts = _fonts_for(t.get_fontproperties())
        cmaps = [_cmap(str(f), _face_index(f)) for f in fonts]
        for ch in _plain_parts(t, s):
            if ch in "\n\r\t":
                continue
            if not any(ord(ch) in c for c in cmaps):
                raise MissingGlyphError(s, ch, [_font_name(f) for f in fonts])
    glyph_warning = None
    for w in caught:
        m = _GLYPH_WARNING.search(str(w.message))
        if m and glyph_warning is None:
            glyph_warning = m
        elif not m:  # other warnings of the draw are passed on
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if glyph_warning is not None:
        raise MissingGlyphError(None, chr(int(glyph_warning.group(1))))


def savefig(
    fig: Figure, name: str, out_dir: str | os.PathLike, *, dpi: int | None = None
) -> tuple[Path, Path]:
    """Write ``<out_dir>/<name>.png`` and ``<out_dir>/<name>.pdf``; return both paths.

    PNG at 300 dpi (style ``dpi``), PDF with fonts embedded as TrueType
    subsets (``pdf.fonttype`` 42 from :func:`setup`), both without
    timestamps or software versions so reruns give identical bytes. Each file
    is written to a temporary file in ``out_dir`` and renamed into place.
    Raises :class:`MissingGlyphError` before writing anything if a text
    cannot be drawn with its font.
    """
    if not name or name in (".", "..") or "/" in name or os.sep in name:
        raise ValueError(f"figure name must be a plain file name, not {name!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    check_glyphs(fig)
    dpi = style()["dpi"] if dpi is None else dpi
    written: list[tuple[str, Path]] = []
    try:
        for ext, meta in (("png", PNG_METADATA), ("pdf", PDF_METADATA)):
            fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{name}.", suffix=f".{ext}.part")
            written.append((tmp, out / f"{name}.{ext}"))
            with os.fdopen(fd, "wb") as fh:
                with warnings.catch_warnings():
                    warnings.filterwarnings("error", message=_GLYPH_WARNING_START, category=UserWarning)
                    try:
                        fig.savefig(fh, format=ext, dpi=dpi, metadata=dict(meta))
                    except UserWarning as w:
                        m = _GLYPH_WARNING.search(str(w))
                        if not m:
                            raise
                        raise MissingGlyphError(None, chr(int(m.group(1)))) from None
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
        for tmp, final in written:
            os.replace(tmp, final)
    finally:
        for tmp, _final in written:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return written[0][1], written[1][1]
