"""The embedded fonts of every PDF Mailroom draws, and text drawn per run of one face.

DejaVu Sans (regular and bold; Latin, Greek, Cyrillic and many symbols) is the main
face; Droid Sans Fallback (Chinese, Japanese, Korean) takes what DejaVu lacks. Both
are TrueType (glyf) fonts shipped in ``mailing/pdf/fonts/`` with their licences, so
reportlab embeds a subset of each into every PDF: no viewer ever substitutes a
font, and the PDF/A archive copy holds every glyph it shows.

Text is cut into runs of one face (:func:`runs`), measured (:func:`width`) and drawn
(:func:`draw`) run by run. A character that no face has is never drawn as a box:
:func:`missing` finds it, and the layout refuses the document naming the field.
The fallback face (4 MB) is read only when a text needs it.

What reportlab writes of a face into each PDF (the subsets' font programs, widths,
ToUnicode maps) is made once per process by ``font_objects.py``, with one fixed
first subset, so that invoices carry identical font programs and a letterhead drawn
with our faces shares them with the page.
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailing.pdf.font_objects import SEEDED, install

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

FONT = "MailroomSans"
FONT_BOLD = "MailroomSans-Bold"
FALLBACK = "MailroomFallback"

FONT_DIR = Path(__file__).resolve().parent / "fonts"
_FILES = {
    FONT: "DejaVuSans.ttf",
    FONT_BOLD: "DejaVuSans-Bold.ttf",
    FALLBACK: "DroidSansFallbackFull.ttf",
}


@cache
def _cmap(name: str) -> frozenset[int]:
    """Register the face ``name`` with reportlab (once per process); its code points."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    font = TTFont(name, str(FONT_DIR / _FILES[name]), asciiReadable=1)  # ASCII as is
    install(font, seed=SEEDED if name != FALLBACK else "")
    pdfmetrics.registerFont(font)
    return frozenset(font.face.charToGlyph)


def register() -> None:
    """Make the main faces known to reportlab; the fallback is loaded when needed.

    Also turns off reportlab's ASCII85 wrapping of compressed page streams: it only
    makes every page a quarter bigger and costs time (a PDF is binary anyway).
    """
    from reportlab import rl_config

    rl_config.useA85 = 0
    _cmap(FONT)
    _cmap(FONT_BOLD)


# Tabs, line breaks and other white space are drawn as a space (a layout line is one line).
_SPACES = {ord(c): " " for c in "\t\n\r\v\f\x1c\x1d\x1e\x1f\x85\u2028\u2029"}


def _has(name: str, ch: str) -> bool:
    return ord(ch) in _cmap(name)


def missing(text: str) -> list[str]:
    """The characters of ``text`` that no face has (each once, in order)."""
    if text.isascii() and text.isprintable():
        return []
    main = _cmap(FONT)
    out: list[str] = []
    for ch in text.translate(_SPACES):
        if ord(ch) in main or ch in out:
            continue
        if not _has(FALLBACK, ch):
            out.append(ch)
    return out


def describe(ch: str) -> str:
    """'"𐀀" (U+10000 LINEAR B SYLLABLE B008 A)' for a message."""
    name = unicodedata.name(ch, "")
    shown = repr(ch) if not ch.isprintable() else f'"{ch}"'
    return f"{shown} (U+{ord(ch):04X}{' ' + name if name else ''})"


def runs(text: str, font: str = FONT) -> list[tuple[str, str]]:
    """``text`` cut into (face, part) runs: the main face where it has the glyph.

    Raises ValueError for a character that no face has (the layout checks every
    field first, so a drawing never meets one).
    """
    if (text.isascii() and text.isprintable()) or font not in _FILES:
        return [(font, text)]
    text = text.translate(_SPACES)
    main = _cmap(font)
    if main.issuperset(map(ord, text)):
        return [(font, text)]
    out: list[tuple[str, str]] = []
    for ch in text:
        if ord(ch) in main:
            face = font
        elif _has(FALLBACK, ch):
            face = FALLBACK
        else:
            raise ValueError(f"no font has the character {describe(ch)}")
        if out and out[-1][0] == face:
            out[-1] = (face, out[-1][1] + ch)
        else:
            out.append((face, ch))
    return out


def width(text: str, font: str, size: float) -> float:
    """The width of ``text`` in points, each run measured in its own face."""
    return _unit_width(text, font) * size


@lru_cache(maxsize=8192)
def _unit_width(text: str, font: str) -> float:
    """Width at size 1 (invoices repeat their labels, amounts and articles: cached)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return float(sum(stringWidth(part, face, 1.0) for face, part in runs(text, font)))


def draw(
    c: Canvas, x: float, y: float, text: str, font: str, size: float, *, right: bool = False
) -> None:
    """Draw ``text`` at (x, y), left-aligned, or right-aligned on x when ``right``.

    Our faces are written as one text object straight into the page (reportlab's
    ``drawString`` builds a text object per string, ~3 times the work); other faces
    (the benchmark's Helvetica) go through reportlab's ``drawString``.
    """
    if font not in _FILES:
        if c._fontname != font or c._fontsize != size:
            c.setFont(font, size)
        if right:
            c.drawRightString(x, y, text)
        else:
            c.drawString(x, y, text)
        return
    from reportlab.lib.rl_accel import fp_str
    from reportlab.pdfbase.pdfmetrics import getFont

    if right:
        x -= width(text, font, size)
    doc = c._doc
    escape = c._escape
    # The font is set outside the text object and only when it changes (per page), as
    # reportlab's setFont does: text extractors read the lines as before.
    current = getattr(c, "_mailroom_tf", None)
    ops: list[str] = []
    shows: list[str] = []
    for face, part in runs(text, font):
        ttf = getFont(face)
        if part.isascii() and part.isprintable():  # reportlab's subset 0 holds ASCII as is
            split = [(0, part.encode("ascii"))]
        else:
            split = ttf.splitString(part, doc)
        for subset, data in split:
            tf = (c._pageNumber, _subset_name(c, ttf, subset), size)
            if tf != current:
                op = f"{tf[1]} {fp_str(size)} Tf {fp_str(size * 1.2)} TL"
                if shows:
                    shows.append(op)
                else:
                    ops.append(f"BT {op} ET")
                current = tf
            shows.append(f"({escape(data)}) Tj")
    c._mailroom_tf = current
    ops.append(f"BT 1 0 0 1 {fp_str(x)} {fp_str(y)} Tm {' '.join(shows)} T* ET")
    c._code.extend(ops)


def _subset_name(c: Canvas, ttf: Any, subset: int) -> str:
    """reportlab's name of a face's subset in this document, asked once per document."""
    names: dict[tuple[str, int], str] | None = getattr(c, "_mailroom_names", None)
    if names is None:
        names = c._mailroom_names = {}
    key = (ttf.fontName, subset)
    name = names.get(key)
    if name is None:
        name = names[key] = ttf.getSubsetInternalName(subset, c._doc)
    return name
