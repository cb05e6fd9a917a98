"""Figure style: CJK font discovery, glyph check, deterministic export, figure helpers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402
from PIL import Image  # noqa: E402

from helpers.research import plots  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
ZH_TEXT = "政府信息公开工作年度报告"


@pytest.fixture(autouse=True)
def _isolated_style():
    """Each test starts from matplotlib's defaults and leaves them as it found them."""
    with mpl.rc_context():
        yield
    plt.close("all")
    plots._STATE.update(lang="en", font=None)


@pytest.fixture(scope="session")
def cjk_font() -> plots.CJKFont:
    """The CJK font of this machine. Missing: skipped locally, a failure under CI."""
    font = plots.find_cjk_font()
    if font is None:
        msg = (
            "no Simplified Chinese font found: install Debian's fonts-noto-cjk "
            f"or set {plots.ENV_FONT} to a font file"
        )
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return font


def _face_family(path: str, index: int) -> str:
    """Family name (name ID 1) of a face, read with fontTools."""
    with open(path, "rb") as fh:
        collection = fh.read(4) == b"ttcf"
    kwargs = {"fontNumber": index} if collection else {}
    with TTFont(path, lazy=True, **kwargs) as font:
        return font["name"].getDebugName(1)


def _limits(target: float = 0.4) -> pd.DataFrame:
    n = np.linspace(5, 1000, 50)
    se = np.sqrt(target * (1 - target) / n)
    parts = [
        pd.DataFrame({"n": n, "level": 0.95, "lo": target - 1.96 * se, "hi": target + 1.96 * se}),
        pd.DataFrame({"n": n, "level": 0.998, "lo": target - 3.09 * se, "hi": target + 3.09 * se}),
        pd.DataFrame({"n": n, "level": 0.998, "kind": "overdispersed",
                      "lo": target - 4.5 * se, "hi": target + 4.5 * se}),
    ]
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- fonts


def test_find_cjk_font_picks_simplified_chinese_face(cjk_font):
    prefs = plots.style()["cjk_families"]
    assert cjk_font.family in prefs
    assert _face_family(cjk_font.path, cjk_font.face_index) == cjk_font.family
    assert FT2Font(cjk_font.path, face_index=cjk_font.face_index).family_name == cjk_font.family
    if os.path.basename(cjk_font.path).startswith("NotoSansCJK"):
        # Debian's collection: face 0 is Japanese; the SC face must have been chosen
        assert cjk_font.family == "Noto Sans CJK SC"
        assert "JP" in _face_family(cjk_font.path, 0)
        assert cjk_font.face_index != 0
    assert cjk_font.style.lower() in ("regular", "book", "normal")


def test_chinese_text_is_drawn_with_the_sc_face(cjk_font):
    assert plots.setup("zh") == "zh"
    fig, ax = plots.new_figure()
    title = ax.set_title(ZH_TEXT)
    ax.set_xlabel("年份")
    fig.canvas.draw()
    for text in (title, ax.xaxis.label):
        used = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
        index = getattr(used, "face_index", 0)
        assert os.path.realpath(used) == os.path.realpath(cjk_font.path)
        assert index == cjk_font.face_index
        family = _face_family(str(used), index)
        assert family == cjk_font.family
        assert not family.endswith(("JP", "KR", "TC", "HK"))


def _render(text: str, **font) -> np.ndarray:
    fig = plt.figure(figsize=(1.2, 0.4), dpi=100, layout="none")
    fig.text(0.05, 0.2, text, fontsize=14, **font)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., 0].copy()
    plt.close(fig)
    return pixels


def test_glyph_forms_are_simplified_chinese_not_japanese(cjk_font):
    plots.setup("zh")
    text = "骨直"  # drawn differently in the SC and JP faces
    default = _render(text)
    assert np.array_equal(default, _render(text, fontfamily=cjk_font.family))
    if cjk_font.family == "Noto Sans CJK SC":
        assert not np.array_equal(default, _render(text, fontfamily="Noto Sans CJK JP"))


def test_font_scan_without_fontconfig_finds_the_same_family(cjk_font, monkeypatch):
    monkeypatch.delenv(plots.ENV_FONT, raising=False)
    found = plots.find_cjk_font(dirs=[os.path.dirname(cjk_font.path)], use_fontconfig=False)
    assert found is not None
    assert found.family == cjk_font.family
    assert (found.path, found.face_index) == (cjk_font.path, cjk_font.face_index)


def test_font_from_env_variable(cjk_font, monkeypatch, tmp_path):
    folder = tmp_path / "fonts"
    folder.mkdir()
    (folder / os.path.basename(cjk_font.path)).symlink_to(cjk_font.path)
    monkeypatch.setenv(plots.ENV_FONT, str(folder))
    found = plots.find_cjk_font(dirs=[], use_fontconfig=False)
    assert found is not None
    assert found.source == "env"
    assert found.family == cjk_font.family
    assert found.face_index == cjk_font.face_index


def test_no_font_in_empty_folders(monkeypatch, tmp_path):
    monkeypatch.delenv(plots.ENV_FONT, raising=False)
    assert plots.find_cjk_font(dirs=[tmp_path], use_fontconfig=False) is None


def test_zh_without_cjk_font_falls_back_to_english_with_one_warning(monkeypatch, tmp_path):
    monkeypatch.setattr(plots, "find_cjk_font", lambda **kw: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lang = plots.setup("zh")
        fig, ax = plots.new_figure()
        ax.plot([2019, 2020], [1, 2])
        ax.set_xlabel(plots.label("year"))
        ax.set_ylabel(plots.label("t3.granted.total"))
        plots.savefig(fig, "fallback", tmp_path)
    assert lang == "en" and plots.current_lang() == "en"
    assert len(caught) == 1, [str(w.message) for w in caught]
    warning = caught[0]
    assert issubclass(warning.category, plots.CJKFontMissing)
    assert issubclass(warning.category, UserWarning)
    assert "fonts-noto-cjk" in str(warning.message)
    assert plots.ENV_FONT in str(warning.message)
    assert ax.get_xlabel() == "Year"
    # Chinese text in the fallback style is an error, not boxes
    ax.set_title(ZH_TEXT)
    with pytest.raises(plots.MissingGlyphError):
        plots.savefig(fig, "fallback_zh", tmp_path)


# --------------------------------------------------------------------------- style


def test_setup_applies_the_style():
    lang = plots.setup("en")
    assert lang == "en"
    rc = mpl.rcParams
    assert rc["pdf.fonttype"] == 42 and rc["ps.fonttype"] == 42
    assert rc["svg.hashsalt"] == plots.style()["hashsalt"]
    assert not rc["axes.spines.top"] and not rc["axes.spines.right"]
    assert tuple(rc["figure.figsize"]) == (3.5, plots.style()["heights_in"]["column"])
    cycle = list(rc["axes.prop_cycle"])
    assert len(cycle) >= 6
    # every series differs from every other by marker and line style, not only by grey
    assert len({(c["marker"], c["linestyle"]) for c in cycle}) == len(cycle)
    assert len({c["marker"] for c in cycle}) == len(cycle)
    for c in cycle:
        r, g, b = mpl.colors.to_rgb(c["color"])
        assert r == g == b  # greys only
    hatches = plots.style()["hatches"]
    assert len(set(hatches)) == len(hatches)


def test_unicode_minus_follows_the_font(cjk_font):
    plots.setup("zh")
    primary = font_manager.findfont(font_manager.FontProperties(family=mpl.rcParams["font.family"][0]))
    has_minus = 0x2212 in plots._cmap(str(primary), getattr(primary, "face_index", 0))
    assert mpl.rcParams["axes.unicode_minus"] == has_minus


def test_setup_rejects_unknown_language():
    with pytest.raises(ValueError):
        plots.setup("fr")


def test_labels():
    assert plots.label("t3.unable_not_held.total", "zh") == "本机关不掌握相关政府信息"
    assert plots.label("t3.unable_not_held.total", "en") == "Unable to provide: not held by this agency"
    assert plots.label("t3.unable_not_held.total", "en", form="full").endswith("— Total")
    assert plots.label("t3.unable_not_held.research", "en").endswith("— Research institutions")
    assert plots.label("t3.unable_not_held.natural_person", "zh") == "本机关不掌握相关政府信息 × 自然人"
    assert plots.label("t3.unable_not_held.total", "zh", form="full").startswith("三 / （四）无法提供")
    assert plots.label("t2.fees.amount", "zh") == "本年收费金额"
    assert plots.label("t3.granted.total", "zh") == "予以公开"  # short form from plot_labels.csv
    assert plots.label("year", "en") == "Year"
    metrics = {"grant_rate": {"zh": "公开率", "en": "Grant rate"}, "n": "Reports"}
    assert plots.label("grant_rate", "zh", extra=metrics) == "公开率"
    assert plots.label("grant_rate", "en", extra=metrics) == "Grant rate"
    assert plots.label("n", "zh", extra=metrics) == "Reports"
    assert plots.label("free text", "zh") == "free text"
    assert plots.axis_label("share", "percent", "en") == "Share (%)"
    assert plots.axis_label("share", "%", "zh") == "占比（%）"
    assert "812" in plots.source_line(812, "en") and "812" in plots.source_line(812, "zh")
    with pytest.raises(ValueError):
        plots.label("year", "de")


# --------------------------------------------------------------------------- glyphs


def test_chinese_title_with_latin_only_font_raises(tmp_path):
    plots.setup("en")
    fig, ax = plots.new_figure()
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(ZH_TEXT, fontfamily="DejaVu Sans")
    with pytest.raises(plots.MissingGlyphError) as err:
        plots.savefig(fig, "broken", tmp_path)
    assert err.value.text == ZH_TEXT
    assert err.value.char == ZH_TEXT[0]
    assert ZH_TEXT in str(err.value) and "U+" in str(err.value)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary files left


@pytest.mark.filterwarnings("ignore:Glyph")
def test_glyph_check_does_not_rely_on_matplotlib_warning_text(monkeypatch):
    monkeypatch.setattr(plots, "_GLYPH_WARNING", re.compile(r"(?!)"))
    plots.setup("en")
    fig, ax = plots.new_figure()
    ax.set_xlabel("数量", fontfamily="DejaVu Sans")
    ax.set_ylabel("y")
    with pytest.raises(plots.MissingGlyphError) as err:
        plots.check_glyphs(fig)
    assert err.value.char == "数"


def test_drawing_a_missing_glyph_is_an_error_too():
    plots.setup("en")
    fig, ax = plots.new_figure()
    ax.set_title(ZH_TEXT, fontfamily="DejaVu Sans")
    with pytest.raises(UserWarning, match="missing from font"):
        fig.canvas.draw()


def test_chinese_with_cjk_font_passes_the_check(cjk_font):
    plots.setup("zh")
    fig, ax = plots.new_figure()
    ax.plot([2019, 2020, 2021], [-1, 0, 1])
    ax.set_title(ZH_TEXT)
    ax.set_xlabel("年份")
    ax.set_ylabel("变化（件）")
    ax.text(0.5, 0.5, r"$\chi^2$ 检验", transform=ax.transAxes)
    plots.check_glyphs(fig)  # saving such a figure: see the ``sample`` fixture


# --------------------------------------------------------------------------- export

_SCRIPT = textwrap.dedent(
    """
    import sys
    import matplotlib
    matplotlib.use("Agg")
    from helpers.research import plots

    lang = plots.setup(sys.argv[2])
    fig, ax = plots.new_figure()
    ax.bar([2019, 2020, 2021], [3, 5, 4], hatch="////", edgecolor="black", color="#d9d9d9")
    ax.plot([2019, 2020, 2021], [1, -2, 3])
    ax.set_xlabel(plots.label("year"))
    ax.set_ylabel(plots.label("t3.granted.total"))
    plots.add_caption(fig, plots.source_line(812))
    plots.savefig(fig, "fig", sys.argv[1])
    """
)


def test_png_and_pdf_are_byte_identical_across_processes(tmp_path):
    lang = "zh" if plots.find_cjk_font() is not None else "en"
    first, second = tmp_path / "a", tmp_path / "b"
    script = tmp_path / "make_fig.py"
    script.write_text(_SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["PYTHONPATH"] = str(REPO_ROOT / "src")
    env["MPLBACKEND"] = "Agg"
    # two fresh interpreters (own hash seeds, own font caches in memory), run side by side
    procs = [
        subprocess.Popen([sys.executable, str(script), str(out), lang], env=env, cwd=tmp_path,
                         stderr=subprocess.PIPE)
        for out in (first, second)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode(errors="replace")
    for name in ("fig.png", "fig.pdf"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    pdf = (first / "fig.pdf").read_bytes()
    assert b"CreationDate" not in pdf and b"ModDate" not in pdf
    assert b"Matplotlib" not in pdf and matplotlib.__version__.encode() not in pdf


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[str, Path, Path]:
    """One figure saved once for the export checks: Chinese when a CJK font exists."""
    out = tmp_path_factory.mktemp("sample") / "nested" / "out"
    with mpl.rc_context():
        lang = plots.setup("zh" if plots.find_cjk_font() is not None else "en")
        fig, ax = plots.new_figure()
        ax.plot([2019, 2020, 2021], [-1, 0, 1])
        ax.set_xlabel(plots.label("year"))
        ax.set_ylabel(plots.label("t3.granted.total"))
        ax.set_title(ZH_TEXT if lang == "zh" else "Granted")
        ax.text(0.5, 0.5, r"$\chi^2$ test", transform=ax.transAxes)
        png, pdf = plots.savefig(fig, "sample", out)
        plt.close(fig)
    plots._STATE.update(lang="en", font=None)
    return lang, png, pdf


def test_pdf_embeds_truetype_subset_of_the_cjk_font(cjk_font, sample):
    lang, png, pdf = sample
    assert lang == "zh"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"/Type0" in data and b"/FontFile2" in data
    postscript = FT2Font(cjk_font.path, face_index=cjk_font.face_index).postscript_name
    assert re.search(rb"/BaseFont /(?:[A-Z]{6}\+)?" + re.escape(postscript.encode()), data)
    assert b"/Type3" not in data


def test_png_300_dpi_without_software_tag(sample):
    _lang, png, pdf = sample
    assert png.name == "sample.png" and pdf.name == "sample.pdf"
    assert sorted(p.name for p in png.parent.iterdir()) == ["sample.pdf", "sample.png"]
    with Image.open(png) as im:
        dpi = im.info["dpi"]
        assert dpi[0] == pytest.approx(300, abs=0.5) and dpi[1] == pytest.approx(300, abs=0.5)
        assert "Software" not in im.info
        assert im.size == (round(3.5 * 300), round(plots.style()["heights_in"]["column"] * 300))
    assert b"/FontFile2" in pdf.read_bytes()  # embedded as TrueType (Type 42), not Type 3


def test_savefig_rejects_paths_as_names(tmp_path):
    plots.setup("en")
    fig, ax = plots.new_figure()
    with pytest.raises(ValueError):
        plots.savefig(fig, "../escape", tmp_path)


# --------------------------------------------------------------------------- figure helpers


def _bar(lang):
    df = pd.DataFrame({"agency": ["A", "B", "C"], "p": [0.2, 0.5, 0.7],
                       "lo": [0.1, 0.4, 0.6], "hi": [0.3, 0.6, 0.8], "n": [40, 300, 90]})
    return plots.bar_with_ci(df, "agency", "p", "lo", "hi", n="n", xlabel="rate", unit="percent",
                             ylabel="agency", percent=True, caption=plots.source_line(3, lang))


def _funnel(lang):
    rng = np.random.default_rng(0)
    n = rng.integers(10, 900, 30)
    rate = np.clip(rng.normal(0.4, 0.05, 30), 0, 1)
    rate[0] = 0.95
    return plots.funnel(None, n, rate, _limits(), 0.4, labels=[f"a{i}" for i in range(30)],
                        xlabel="requests", ylabel="rate", percent=True)


def _stacked(lang):
    df = pd.DataFrame({"t3.granted.total": [5, 6], "t3.partially_granted.total": [2, 1],
                       "other": [1, 1]}, index=[2021, 2022])
    return plots.stacked_shares(df, xlabel="year", ylabel="share", width="full")


def _lorenz(lang):
    x = np.linspace(0.1, 1, 10)
    return plots.lorenz(None, x, x**2, 0.31, xlabel="agency", ylabel="requests")


def _lines(lang):
    df = pd.DataFrame({"t3.granted.total": [0.4, 0.5, 0.45], "t3.partially_granted.total": [0.1, 0.2, 0.1]},
                      index=[2020, 2021, 2022])
    return plots.line_years(None, df, xlabel="year", ylabel="share", edition_year=2021)


@pytest.mark.parametrize("make", [_bar, _funnel, _stacked, _lorenz, _lines])
def test_figure_helpers_label_their_axes(make):
    plots.setup("en")
    fig, ax = make("en")
    assert ax.figure is fig
    assert ax.get_xlabel().strip() and ax.get_ylabel().strip()
    plots.check_glyphs(fig)


def test_bar_with_ci_whiskers_and_counts():
    plots.setup("en")
    fig, ax = _bar("en")
    assert ax.get_xlabel() == "Rate (%)"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C"]  # largest on top
    assert {t.get_text() for t in ax.texts} == {"n = 40", "n = 300", "n = 90"}
    assert any(t.get_gid() == "caption" for t in fig.texts)
    bad = pd.DataFrame({"g": ["A"], "p": [0.5], "lo": [0.6], "hi": [0.7]})
    with pytest.raises(ValueError):
        plots.bar_with_ci(bad, "g", "p", "lo", "hi", xlabel="x", ylabel="y")


def test_funnel_limit_line_styles_and_outliers():
    plots.setup("en")
    fig, ax = _funnel("en")
    styles = {line.get_label(): line.get_linestyle() for line in ax.get_lines()
              if not line.get_label().startswith("_")}
    assert styles["95% limits"] == "--"
    assert styles["99.8% limits"] == "-"
    assert styles["99.8% limits, overdispersed"] == ":"
    assert [t.get_text() for t in ax.texts] == ["a0"]  # only the point outside the limits


def test_funnel_draws_overdispersed_columns_of_a_wide_table():
    plots.setup("en")
    n = np.array([10.0, 100.0, 1000.0])
    se = np.sqrt(0.24 / n)
    wide = pd.DataFrame({"n": n, "level": 0.998, "lo": 0.4 - 3.09 * se, "hi": 0.4 + 3.09 * se,
                         "lo_additive": 0.4 - 3.09 * se - 0.1, "hi_additive": 0.4 + 3.09 * se + 0.1})
    fig, ax = plots.funnel(None, [50, 500], [0.41, 0.62], wide, 0.4, labels=["in", "out"],
                           overdispersed="additive", xlabel="n", ylabel="rate")
    styles = {line.get_label(): line.get_linestyle() for line in ax.get_lines()
              if not line.get_label().startswith("_")}
    assert styles == {"99.8% limits": "-", "99.8% limits, overdispersed": ":", "Overall rate": "-"}
    assert [t.get_text() for t in ax.texts] == ["out"]
    with pytest.raises(ValueError):
        plots.funnel(None, [1], [0.5], wide, 0.4, overdispersed="multiplicative", xlabel="n", ylabel="r")


def test_stacked_shares_parts_differ_in_hatch_and_grey():
    plots.setup("en")
    fig, ax = _stacked("en")
    first = [ax.patches[i] for i in range(0, len(ax.patches), 2)]
    assert len({p.get_hatch() for p in first}) == 3
    assert len({p.get_facecolor() for p in first}) == 3
    tops = np.array([p.get_y() + p.get_height() for p in ax.patches]).reshape(3, 2)
    assert np.allclose(tops[-1], 1.0)
    with pytest.raises(ValueError):
        plots.stacked_shares(pd.DataFrame({str(i): [1] for i in range(20)}), xlabel="x", ylabel="y")


def test_line_years_marks_the_edition_change():
    plots.setup("en")
    fig, ax = _lines("en")
    vlines = [line for line in ax.get_lines() if np.allclose(line.get_xdata(), 2020.5)]
    assert len(vlines) == 1
    assert any(t.get_text().strip() == "2021 edition" for t in ax.texts)


def test_caption_is_wrapped_to_the_figure_width():
    plots.setup("en")
    fig, ax = plots.new_figure()
    caption = plots.add_caption(fig, "Source: " + "a long line of words " * 12)
    assert caption.get_text().count("\n") >= 1
    plots.add_caption(fig, "short")
    assert [t.get_text() for t in fig.texts if t.get_gid() == "caption"] == ["short"]
