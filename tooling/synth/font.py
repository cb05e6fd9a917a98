"""The CJK font for synthetic PDFs, cut down once to the characters the generator can print.

Embedding the whole Noto Sans CJK collection in every PDF costs about 0.2 s
to parse plus the subsetting; a font holding only the few hundred characters
the generator uses (every character of this package's sources, of the
codebook and label tables, ASCII and full-width digits) is built once per
machine into the temporary folder and loads in milliseconds.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path

CJK_FONT = Path(os.environ.get("GIDR_SYNTH_CJK_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"))
CJK_FACE = 2  # Noto Sans CJK SC in the collection


@cache
def charset() -> str:
    chars = {chr(c) for c in range(0x20, 0x7F)} | {chr(0xFF10 + d) for d in range(10)}
    here = Path(__file__).parent
    for src in sorted(here.glob("*.py")):
        chars |= set(src.read_text(encoding="utf-8"))
    for name in ("codebook.csv", "labels.csv"):
        chars |= set(resources.files("helpers").joinpath("data", name).read_text(encoding="utf-8"))
    return "".join(sorted(c for c in chars if c.isprintable() or c == " "))


@cache
def font_path() -> Path:
    """The cut-down font file (built on first use, shared by processes through its content hash)."""
    if not CJK_FONT.is_file():
        raise FileNotFoundError(f"synthetic PDFs need a CJK font: {CJK_FONT} not found (set GIDR_SYNTH_CJK_FONT)")
    text = charset()
    digest = hashlib.sha256((str(CJK_FONT) + str(CJK_FACE) + text).encode("utf-8")).hexdigest()[:16]
    dest = Path(tempfile.gettempdir()) / f"gidr-synth-cjk-{digest}.ttf"
    if dest.is_file():
        return dest
    from fontTools import subset, ttLib

    font = ttLib.TTFont(str(CJK_FONT), fontNumber=CJK_FACE, lazy=False)
    opts = subset.Options()
    opts.layout_features = []
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    sub = subset.Subsetter(opts)
    sub.populate(text=text)
    sub.subset(font)
    _to_truetype(font)
    fd, tmp = tempfile.mkstemp(suffix=".ttf", dir=dest.parent)
    os.close(fd)
    font.save(tmp)
    os.replace(tmp, dest)
    return dest


def _to_truetype(font) -> None:
    """CFF outlines → quadratic TrueType outlines, in place.

    fpdf2 re-subsets the embedded font of every document; for CFF that means
    interpreting every charstring (about 1 s per PDF here), for ``glyf``
    outlines it is a copy.
    """
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 1 if attr == "maxZones" else 0)
    maxp.maxPoints = maxp.maxContours = maxp.maxCompositePoints = maxp.maxCompositeContours = 0
    maxp.maxComponentDepth = 0
    font["head"].glyphDataFormat = 0
    font["head"].indexToLocFormat = 0
    post = font["post"]
    post.formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"
