"""Text that a reader of its script needs laid out: bidi order, shaping, marks in place.

Latin, Greek, Cyrillic and CJK are drawn one code point per glyph (``fonts.draw``'s
fast path). Arabic and Hebrew run right to left, Arabic letters join, Thai and
Devanagari form clusters and stack their marks: such a text is laid out here.

* the Unicode bidirectional algorithm (UAX #9, the pure-Python implementation
  shipped with ``python-bidi``, which exposes the resolved levels) gives each
  character its level; the paragraph direction is that of the first strong letter,
  so an Arabic name reads right to left even on a Dutch invoice;
* the level runs are put in visual order (rule L2), each run cut into parts of one
  face and one script, and each part shaped by HarfBuzz (``uharfbuzz``) in its
  direction: glyphs in visual order with their advances and mark offsets;
* :func:`draw` writes the glyphs with their positions (a ``TJ`` array, text rise
  for marks) inside a marked-content span whose ``/ActualText`` is the text in
  logical order, so ``pdftotext`` and a screen reader get the words as typed.

A glyph that has no code point of its own (a ligature, a conjunct, a positional
form without a presentation-form code) is given one in plane 15's private use area,
``0xF0000 + glyph id``, so that reportlab's subsets (code point -> glyph) carry it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from mailing.pdf.reportlab_adapter import (
    append_operators,
    char_to_glyph,
    char_width,
    char_widths,
    document,
    escaper,
    face_of,
    number_format,
    page_number,
    split_string,
)

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

# Scripts drawn through this module: RTL letters, combining marks, Indic and South-East
# Asian scripts, joiners, bidi controls, presentation forms.
_COMPLEX = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u0590-\u08ff\u0900-\u0dff\u0e00-\u0fff\u1000-\u109f"
    "\u1780-\u18af\u1ab0-\u1aff\u1dc0-\u1dff\u200c-\u200f\u202a-\u202e\u2066-\u2069"
    "\u20d0-\u20ff\ua8e0-\ua8ff\ufb1d-\ufdff\ufe00-\ufe0f\ufe20-\ufe2f\ufe70-\ufeff"
    "\U00010800-\U00010fff\U0001e800-\U0001efff]"
)
# Explicit embeddings and isolates: the level resolver predates isolates; a name or an
# address has no use for them, and they are never drawn.
_CONTROLS = {cp: None for cp in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
PRIVATE_BASE = 0xF0000  # glyphs without a code point of their own: PRIVATE_BASE + gid

# Script ranges this module tells HarfBuzz about (others: HarfBuzz guesses).
_SCRIPTS = (
    (0x0590, 0x05FF, "Hebr"),
    (0xFB1D, 0xFB4F, "Hebr"),
    (0x0600, 0x06FF, "Arab"),
    (0x0750, 0x077F, "Arab"),
    (0x0870, 0x08FF, "Arab"),
    (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"),
    (0x0900, 0x097F, "Deva"),
    (0xA8E0, 0xA8FF, "Deva"),
    (0x0E00, 0x0E7F, "Thai"),
)


def is_complex(text: str) -> bool:
    """Whether ``text`` needs the bidi algorithm or shaping to be drawn right."""
    return not text.isascii() and _COMPLEX.search(text) is not None


def _script(ch: str) -> str | None:
    cp = ord(ch)
    for lo, hi, name in _SCRIPTS:
        if lo <= cp <= hi:
            return name
    return None


def _inherits(ch: str) -> bool:
    """Marks, joiners, spaces, digits and punctuation go with the letters around them."""
    cat = unicodedata.category(ch)
    return cat[0] in "MZNP" or cat in ("Cf", "Sc", "Sm", "So")


# ---------------------------------------------------------------- levels (UAX #9)


def levels(text: str) -> list[int]:
    """The resolved embedding level of each character (even: left to right)."""
    from bidi import algorithm as uba  # python-bidi's UAX #9, with its levels exposed

    # Rule X9 removes boundary neutrals (joiners, soft hyphen): resolve the rest, and give
    # each of those the level of the character before it (they are drawn with it).
    kept = [i for i, ch in enumerate(text) if unicodedata.bidirectional(ch) != "BN"]
    storage: dict[str, Any] = uba.get_empty_storage()
    base = uba.get_base_level(text)
    storage["base_level"] = base
    storage["base_dir"] = ("L", "R")[base]
    uba.get_embedding_levels("".join(text[i] for i in kept), storage)
    uba.explicit_embed_and_overrides(storage)
    uba.resolve_weak_types(storage)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    resolved = {i: int(ch["level"]) for i, ch in zip(kept, storage["chars"], strict=True)}
    out: list[int] = []
    for i in range(len(text)):
        out.append(resolved.get(i, out[-1] if out else base))
    # L1: white space at the end of the line takes the paragraph level
    n = len(text)
    while n and text[n - 1] == " ":
        n -= 1
        out[n] = base
    return out


def visual_runs(text: str) -> list[tuple[int, int, int]]:
    """(start, end, level) runs of one level, in the order they are seen (rule L2)."""
    lv = levels(text)
    runs: list[tuple[int, int, int]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or lv[i] != lv[start]:
            runs.append((start, i, lv[start]))
            start = i
    if not runs:
        return runs
    top = max(r[2] for r in runs)
    lowest_odd = min((r[2] for r in runs if r[2] % 2), default=top + 1)
    for level in range(top, lowest_odd - 1, -1):
        i = 0
        while i < len(runs):
            if runs[i][2] >= level:
                j = i
                while j < len(runs) and runs[j][2] >= level:
                    j += 1
                runs[i:j] = runs[i:j][::-1]
                i = j
            else:
                i += 1
    return runs


# ---------------------------------------------------------------- shaping


@dataclass(frozen=True)
class Segment:
    """Glyphs of one face in visual order: one code point per glyph for the subset,
    and per glyph (shift before, adjustment after, rise) in thousandths of the size."""

    face: str
    codes: str
    moves: tuple[tuple[float, float, float], ...]
    text: str  # the characters shaped, in logical order
    rtl: bool


@dataclass(frozen=True)
class Shaped:
    text: str  # in logical order, as typed
    segments: tuple[Segment, ...]
    width: float  # at size 1
    notdef: tuple[str, ...]  # characters shaped to the empty glyph: they would not print


@cache
def _hb_font(face: str) -> Any:
    import uharfbuzz as hb

    from mailing.pdf.faces import font_path

    hb_face = hb.Face(font_path(face).read_bytes())
    font = hb.Font(hb_face)
    font.scale = (hb_face.upem, hb_face.upem)
    return font


def _parts(text: str, start: int, end: int, font: str) -> list[tuple[str, str | None, int, int]]:
    """(face, script, start, end) parts of text[start:end] in logical order."""
    from mailing.pdf.faces import face_for

    parts: list[tuple[str, str | None, int, int]] = []
    for i in range(start, end):
        ch = text[i]
        script = _script(ch)
        if ch == " " or (parts and text[parts[-1][2]] == " "):
            # words apart: nothing joins across a space, and a reader's tools find each
            # word on its own (an /ActualText span stays within a word)
            parts.append((face_for(ch, font), script, i, i + 1))
            continue
        if parts and _inherits(ch):
            face, prev_script, s, _ = parts[-1]
            if face == face_for(ch, font, prefer=face):
                parts[-1] = (face, prev_script, s, i + 1)
                continue
        face = face_for(ch, font)
        if parts and parts[-1][0] == face and (script is None or parts[-1][1] in (None, script)):
            _, prev_script, s, _ = parts[-1]
            parts[-1] = (face, prev_script or script, s, i + 1)
        else:
            parts.append((face, script, i, i + 1))
    return parts


def _shape_part(
    text: str, start: int, end: int, face: str, script: str | None, rtl: bool
) -> tuple[Segment, float, list[str]]:
    import uharfbuzz as hb
    from reportlab.pdfbase.pdfmetrics import getFont

    font = _hb_font(face)
    scale = 1000 / font.face.upem
    part = text[start:end]
    buf = hb.Buffer()
    buf.add_str(part)
    buf.direction = "rtl" if rtl else "ltr"
    if script is not None:
        buf.script = script
    buf.guess_segment_properties()
    hb.shape(font, buf, {"kern": True, "liga": True})
    infos, positions = buf.glyph_infos, buf.glyph_positions
    clusters = sorted({info.cluster for info in infos}) + [len(part)]
    nxt = {c: clusters[k + 1] for k, c in enumerate(clusters[:-1])}
    ttf_face = face_of(getFont(face))
    codes: list[str] = []
    moves: list[tuple[float, float, float]] = []
    notdef: list[str] = []
    width = 0.0
    for info, pos in zip(infos, positions, strict=True):
        gid, cluster = info.codepoint, info.cluster
        chars = part[cluster : nxt[cluster]]
        if gid == 0:
            notdef.extend(ch for ch in chars if not ch.isspace())
        code = _code(ttf_face, font, gid, chars)
        advance = pos.x_advance * scale
        dx, dy = pos.x_offset * scale, pos.y_offset * scale
        pdf_width = char_width(ttf_face, code)
        codes.append(chr(code))
        moves.append((dx, pdf_width - advance - dx, dy))
        width += advance
    seg = Segment(face, "".join(codes), tuple(moves), part, rtl)
    return seg, width / 1000, notdef


def _code(ttf_face: Any, font: Any, gid: int, chars: str) -> int:
    """A code point that reportlab's subset maps to glyph ``gid``: the character typed
    when it is that glyph."""
    to_glyph = char_to_glyph(ttf_face)
    for ch in chars:
        if to_glyph.get(ord(ch)) == gid:
            return ord(ch)
    # Any other glyph (a positional form, a ligature, a conjunct): a private code whose
    # ToUnicode entry is the characters typed, not a presentation form.
    code = PRIVATE_BASE + gid
    if code not in to_glyph:
        to_glyph[code] = gid
        char_widths(ttf_face)[code] = font.get_glyph_h_advance(gid) * 1000 / font.face.upem
        glyph_texts(ttf_face).setdefault(code, chars)
    return code


def glyph_texts(ttf_face: Any) -> dict[int, str]:
    """Private code -> the characters its glyph first stood for (for the ToUnicode map)."""
    texts: dict[int, str] | None = getattr(ttf_face, "_mailroom_glyph_texts", None)
    if texts is None:
        texts = ttf_face._mailroom_glyph_texts = {}
    return texts


@lru_cache(maxsize=4096)
def shape(text: str, font: str) -> Shaped:
    """``text`` (one line) laid out in ``font`` and its fallbacks: visual order, shaped."""
    from mailing.pdf.faces import SPACES

    logical = text.translate(SPACES)
    clean = logical.translate(_CONTROLS)
    segments: list[Segment] = []
    notdef: list[str] = []
    width = 0.0
    for start, end, level in visual_runs(clean):
        rtl = bool(level % 2)
        parts = _parts(clean, start, end, font)
        for face, script, s, e in reversed(parts) if rtl else parts:
            seg, w, bad = _shape_part(clean, s, e, face, script, rtl)
            segments.append(seg)
            width += w
            notdef += bad
    return Shaped(logical, tuple(segments), width, tuple(dict.fromkeys(notdef)))


# ---------------------------------------------------------------- drawing


def _actual_text(text: str) -> str:
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def draw(c: Canvas, x: float, y: float, text: str, font: str, size: float, right: bool) -> None:
    """Draw a complex ``text`` at (x, y) (right-aligned on x when ``right``)."""
    from reportlab.pdfbase.pdfmetrics import getFont

    from mailing.pdf.faces import subset_name

    fp_str = number_format()

    shaped = shape(text, font)
    if right:
        x -= shaped.width * size
    doc, escape = document(c), escaper(c)
    ops = [f"BT 1 0 0 1 {fp_str(x)} {fp_str(y)} Tm"]
    current = None
    rise = 0.0
    array: list[str] = []  # the TJ array being built
    chunk = bytearray()  # the glyphs of the string being built

    def close_string() -> None:
        if chunk:
            array.append(f"({escape(bytes(chunk))})")
            chunk.clear()

    def flush() -> None:
        close_string()
        if array:
            ops.append(f"[{' '.join(array)}] TJ")
            array.clear()

    def move(amount: float) -> None:
        if abs(amount) > 0.01:
            close_string()
            array.append(fp_str(-amount))

    for seg in shaped.segments:
        # A cluster, conjunct or ligature left to right: its text as typed for a reader.
        # Right-to-left glyphs carry their own characters (presentation forms included),
        # which readers put back in logical order themselves (pdftotext does).
        span = not seg.rtl and (seg.codes != seg.text or any(any(m) for m in seg.moves))
        if span:
            flush()
            ops.append(f"/Span <</ActualText {_actual_text(seg.text)}>> BDC")
        ttf = getFont(seg.face)
        glyphs: list[tuple[int, int]] = []
        for subset, data in split_string(ttf, seg.codes, doc):
            glyphs.extend((subset, b) for b in data)
        for (subset, byte), (dx, after, dy) in zip(glyphs, seg.moves, strict=True):
            tf = (subset_name(c, ttf, subset), size)
            if tf != current:
                flush()
                ops.append(f"{tf[0]} {fp_str(size)} Tf")
                current = tf
            new_rise = dy * size / 1000
            if abs(new_rise - rise) > 0.001:
                flush()
                ops.append(f"{fp_str(new_rise)} Ts")
                rise = new_rise
            move(dx)
            chunk.append(byte)
            move(-after)
        if span:
            flush()
            ops.append("EMC")
    flush()
    if rise:
        ops.append("0 Ts")
    ops.append("ET")
    c._mailroom_tf = (page_number(c), *current) if current else None
    append_operators(c, ops)
