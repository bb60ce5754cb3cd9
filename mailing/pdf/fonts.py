"""The embedded fonts of every PDF Mailroom draws, and text drawn per run of one face.

DejaVu Sans (regular and bold; Latin, Greek, Cyrillic, Hebrew, Arabic and many
symbols) is the main face; Noto Sans Thai and Noto Sans Devanagari (regular and bold)
take those scripts, Droid Sans Fallback (Chinese, Japanese, Korean) what is left.
All are TrueType (glyf) fonts shipped in ``mailing/pdf/fonts/`` with their licences, so
reportlab embeds a subset of each into every PDF: no viewer ever substitutes a
font, and the PDF/A archive copy holds every glyph it shows.

Text is cut into runs of one face (:func:`runs`), measured (:func:`width`) and drawn
(:func:`draw`) run by run. A character that no face has is never drawn as a box:
:func:`missing` finds it, and the layout refuses the document naming the field.
The fallback faces are read only when a text needs them (Droid Sans Fallback is 4 MB).
Text that needs the bidi algorithm or shaping (Arabic, Hebrew, Thai, Devanagari,
combining marks) is laid out and drawn by ``shaping.py``.

What reportlab writes of a face into each PDF (the subsets' font programs, widths,
ToUnicode maps) is made once per process by ``font_objects.py``, with one fixed
first subset, so that invoices carry identical font programs and a letterhead drawn
with our faces shares them with the page.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from mailing.pdf import shaping
from mailing.pdf.faces import (
    _FILES,
    _SPACES,
    FACE_LIST,
    FACES,
    FALLBACK,
    FONT,
    FONT_BOLD,
    SPACES,
    _cmap,
    _has,
    describe,
    face_for,
    font_path,
    missing,
    register,
    subset_name,
)
from mailing.pdf.reportlab_adapter import (
    append_operators,
    current_font,
    document,
    escaper,
    number_format,
    page_number,
    page_operators,
    split_string,
)
from mailing.pdf.shaping import is_complex, shape

__all__ = [
    "FACES",
    "FACE_LIST",
    "FALLBACK",
    "FONT",
    "FONT_BOLD",
    "SPACES",
    "describe",
    "draw",
    "face_for",
    "font_path",
    "missing",
    "register",
    "runs",
    "subset_name",
    "width",
]

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas


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
        face = font if ord(ch) in main else face_for(ch, font)
        if not _has(face, ch):
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

    if font in _FILES and is_complex(text):
        return shape(text, font).width
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
        if current_font(c) != (font, size):
            c.setFont(font, size)
        if right:
            c.drawRightString(x, y, text)
        else:
            c.drawString(x, y, text)
        return
    if text.isascii() and text.isprintable():
        _draw_ascii(c, x, y, text, font, size, right)
        return
    from reportlab.pdfbase.pdfmetrics import getFont

    if is_complex(text):
        shaping.draw(c, x, y, text, font, size, right)
        return
    if right:
        x -= width(text, font, size)
    fp_str = number_format()
    doc = document(c)
    escape = escaper(c)
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
            split = split_string(ttf, part, doc)
        for subset, data in split:
            tf = (page_number(c), subset_name(c, ttf, subset), size)
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
    append_operators(c, ops)


_PDF_SPECIAL = frozenset("\\()")  # what a ( ) string escapes in printable ASCII


def _draw_ascii(
    c: Canvas, x: float, y: float, text: str, font: str, size: float, right: bool
) -> None:
    """:func:`draw` of printable ASCII in one of our faces: the same operators, ~3x quicker.

    ASCII has its own codes in the first subset (reportlab's, seeded by font_objects.py),
    so the text is its bytes; the subset's name is asked once per document.
    """
    names: dict[tuple[str, int], str] | None = getattr(c, "_mailroom_names", None)
    name = names.get((font, 0)) if names is not None else None
    if name is None:
        from reportlab.pdfbase.pdfmetrics import getFont

        name = subset_name(c, getFont(font), 0)
    if right:
        x -= _unit_width(text, font) * size
    code = page_operators(c)
    tf = (page_number(c), name, size)
    if tf != getattr(c, "_mailroom_tf", None):
        code.append(f"BT {name} {_number(size)} Tf {_number(size * 1.2)} TL ET")
        c._mailroom_tf = tf
    if not _PDF_SPECIAL.isdisjoint(text):
        text = escaper(c)(text.encode("ascii"))
    code.append(f"BT 1 0 0 1 {_number(x)} {_number(y)} Tm ({text}) Tj T* ET")


_NUMBERS: dict[float, str] = {}


def _number(value: float) -> str:
    """reportlab's ``fp_str`` of a coordinate or size, remembered: a layout puts its
    texts at the same few positions in every document."""
    text = _NUMBERS.get(value)
    if text is None:
        text = number_format()(value)
        if len(_NUMBERS) < 8192:
            _NUMBERS[value] = text
    return text
