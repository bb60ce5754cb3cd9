"""The embedded faces: which file each is, which characters it has, which face draws a
character (the main face, a script's face, the fallback). See fonts.py."""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailing.pdf.font_objects import SEEDED, install
from mailing.pdf.reportlab_adapter import (
    char_to_glyph,
    document,
    face_of,
    subset_internal_name,
    turn_off_ascii85,
)

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

FONT = "MailroomSans"
FONT_BOLD = "MailroomSans-Bold"
FALLBACK = "MailroomFallback"
THAI, THAI_BOLD = "MailroomThai", "MailroomThai-Bold"
DEVANAGARI, DEVANAGARI_BOLD = "MailroomDevanagari", "MailroomDevanagari-Bold"

FONT_DIR = Path(__file__).resolve().parent / "fonts"
_FILES = {
    FONT: "DejaVuSans.ttf",
    FONT_BOLD: "DejaVuSans-Bold.ttf",
    FALLBACK: "DroidSansFallbackFull.ttf",
    THAI: "NotoSansThai-Regular.ttf",
    THAI_BOLD: "NotoSansThai-Bold.ttf",
    DEVANAGARI: "NotoSansDevanagari-Regular.ttf",
    DEVANAGARI_BOLD: "NotoSansDevanagari-Bold.ttf",
}
# What each face is, in words, for messages and the docs.
FACES = {
    FONT: "DejaVu Sans",
    FONT_BOLD: "DejaVu Sans Bold",
    FALLBACK: "Droid Sans Fallback",
    THAI: "Noto Sans Thai",
    THAI_BOLD: "Noto Sans Thai Bold",
    DEVANAGARI: "Noto Sans Devanagari",
    DEVANAGARI_BOLD: "Noto Sans Devanagari Bold",
}
# The faces of a script that the main faces lack: (first, last code point, regular, bold).
_SCRIPT_FACES = (
    (0x0E00, 0x0E7F, THAI, THAI_BOLD),
    (0x0900, 0x097F, DEVANAGARI, DEVANAGARI_BOLD),
    (0xA8E0, 0xA8FF, DEVANAGARI, DEVANAGARI_BOLD),
    (0x1CD0, 0x1CFF, DEVANAGARI, DEVANAGARI_BOLD),
)
# What the PDF says the embedded faces are, for messages.
FACE_LIST = "DejaVu Sans, Noto Sans Thai, Noto Sans Devanagari, Droid Sans Fallback"


def font_path(name: str) -> Path:
    return FONT_DIR / _FILES[name]


@cache
def _cmap(name: str) -> frozenset[int]:
    """Register the face ``name`` with reportlab (once per process); its code points."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    font = TTFont(name, str(FONT_DIR / _FILES[name]), asciiReadable=1)  # ASCII as is
    install(font, seed=SEEDED if name in (FONT, FONT_BOLD) else "")
    pdfmetrics.registerFont(font)
    return frozenset(char_to_glyph(face_of(font)))


def register() -> None:
    """Make the main faces known to reportlab; the fallback is loaded when needed.

    Also turns off reportlab's ASCII85 wrapping of compressed page streams: it only
    makes every page a quarter bigger and costs time (a PDF is binary anyway).
    """
    turn_off_ascii85()
    _cmap(FONT)
    _cmap(FONT_BOLD)


# Tabs, line breaks and other white space are drawn as a space (a layout line is one line).
SPACES = _SPACES = {ord(c): " " for c in "\t\n\r\v\f\x1c\x1d\x1e\x1f\x85\u2028\u2029"}


def _has(name: str, ch: str) -> bool:
    return ord(ch) in _cmap(name)


def face_for(ch: str, font: str = FONT, prefer: str | None = None) -> str:
    """The face that draws ``ch`` in text of ``font``: ``prefer`` when it has the glyph,
    else the main face, else the script's face, else the fallback (which may lack it:
    :func:`missing` tells)."""
    if prefer is not None and _has(prefer, ch):
        return prefer
    if _has(font, ch):
        return font
    cp = ord(ch)
    for lo, hi, regular, bold in _SCRIPT_FACES:
        if lo <= cp <= hi:
            face = bold if font == FONT_BOLD else regular
            if _has(face, ch):
                return face
    return FALLBACK


def missing(text: str) -> list[str]:
    """The characters of ``text`` that no face has (each once, in order)."""
    if text.isascii() and text.isprintable():
        return []
    main = _cmap(FONT)
    out: list[str] = []
    for ch in text.translate(_SPACES):
        if ord(ch) in main or ch in out:
            continue
        if not _has(face_for(ch), ch):
            out.append(ch)
    return out


def describe(ch: str) -> str:
    """'"𐀀" (U+10000 LINEAR B SYLLABLE B008 A)' for a message."""
    name = unicodedata.name(ch, "")
    shown = repr(ch) if not ch.isprintable() else f'"{ch}"'
    return f"{shown} (U+{ord(ch):04X}{' ' + name if name else ''})"


def subset_name(c: Canvas, ttf: Any, subset: int) -> str:
    """reportlab's name of a face's subset in this document, asked once per document."""
    names: dict[tuple[str, int], str] | None = getattr(c, "_mailroom_names", None)
    if names is None:
        names = c._mailroom_names = {}
    key = (ttf.fontName, subset)
    name = names.get(key)
    if name is None:
        name = names[key] = subset_internal_name(ttf, subset, document(c))
    return name
