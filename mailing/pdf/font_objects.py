"""The PDF objects of an embedded font subset, made once per process and written as is.

reportlab writes, for every subset of a TrueType font in every document, a font
dictionary with its widths, a ToUnicode CMap, a font descriptor and the subset's
font program — formatting ~130 numbers, building the CMap, cutting and compressing
the font each time. Our subsets are nearly always the same (reportlab puts all of
ASCII in the first subset, and an invoice rarely needs more), so the four objects
of a subset are serialised once per (face, subset number, glyphs) and then only
their references are filled in per document: the font costs almost nothing more
than Helvetica, and two documents carry byte-identical font programs.

:func:`install` replaces a registered ``TTFont``'s ``addObjects`` (the method
reportlab calls when it writes the document) with :func:`_add_objects`.
"""

from __future__ import annotations

import contextlib
import hashlib
import zlib
from dataclasses import dataclass
from typing import Any

from mailing.pdf.raw_object import NAME, raw_class
from mailing.pdf.reportlab_adapter import (
    add_object,
    can_write_own_subsets,
    char_to_glyph,
    char_width,
    face_facts,
    face_of,
    font_dictionary,
    forget_document,
    make_subset,
    number_format,
    object_reference,
    replace_add_objects,
    seed_first_subset,
    subset_internal_name,
    used_subsets,
)

# One cached subset per (subset number, glyphs); a face rarely sees more than a few.
MAX_CACHED = 64


@dataclass(frozen=True)
class _Subset:
    """The four objects of one subset, serialised; ints refer to the others by index."""

    font: tuple[bytes | int, ...]
    to_unicode: bytes
    descriptor: tuple[bytes | int, ...]
    font_file: bytes
    font_data: bytes  # the font program as compressed in ``font_file``


# The first subset of a face holds ASCII at its own codes (reportlab's "asciiReadable")
# and codes 1-31 for the first other characters a document uses, in the order it uses
# them — so "Zoë" before "vóór" and "vóór" before "Zoë" gave two different font programs.
# These 31 (the layout's own and the commonest of Dutch, German and French names) get
# codes 1-31 in every document: most documents then carry the very same subset, made
# once per process, and a letterhead drawn with our faces carries it too (one copy).
SEEDED = "·–€äöüÄÖÜËëïéèêàáâçóôíúñøåßÉ’“”"


def install(font: Any, *, seed: str = "") -> None:
    """Make the registered reportlab ``TTFont`` write its subsets from the cache.

    ``seed``: characters given codes 1-31 of the first subset in every document (those
    the face lacks are left out).
    """
    if not can_write_own_subsets(font):
        return  # another reportlab than the one this was written for: its own way
    glyphs = char_to_glyph(face_of(font))
    codes = [ord(ch) for ch in seed if ord(ch) in glyphs][:31]
    if codes:
        seed_first_subset(font, codes)
    font._mailroom_subsets = {}
    replace_add_objects(font, _add_objects)


def shared_streams(doc: Any) -> dict[bytes, str]:
    """The streams already in ``doc`` that a font may point to instead of writing its
    own copy: encoded data -> reportlab's name of the object (the letterhead fills it)."""
    streams: dict[bytes, str] | None = getattr(doc, "_mailroom_streams", None)
    if streams is None:
        streams = doc._mailroom_streams = {}
    return streams


def _add_objects(self: Any, doc: Any) -> None:
    """reportlab's ``TTFont.addObjects``, with every subset's objects made once."""
    cache: dict[tuple[int, tuple[int, ...]], _Subset] = self._mailroom_subsets
    font_dict = font_dictionary(doc)
    raw = raw_class()
    for n, subset in enumerate(used_subsets(self, doc)):
        internal = subset_internal_name(self, n, doc)[1:]
        key = (n, tuple(subset))
        objects = cache.get(key)
        if objects is None:
            objects = _serialise(self, n, subset)
            if len(cache) >= MAX_CACHED:
                with contextlib.suppress(StopIteration, RuntimeError, KeyError):  # threads
                    cache.pop(next(iter(cache)))
            cache[key] = objects
        base = f"mailroom:{self.fontName}:{n}"
        names = [internal, base + ":unicode", base + ":descriptor", base + ":file"]
        name = internal.encode()
        same = shared_streams(doc).get(objects.font_data)
        if same is not None:  # the letterhead embeds this very subset: point to its copy
            names[3] = same
        else:
            add_object(doc, raw(objects.font_file, names, name), names[3])
        add_object(doc, raw(objects.descriptor, names, name), names[2])
        add_object(doc, raw(objects.to_unicode, names, name), names[1])
        add_object(doc, raw(objects.font, names, name), internal)
        font_dict[internal] = object_reference(internal)
    forget_document(self, doc)


def subset_tag(face_name: bytes, subset: list[int]) -> bytes:
    """Six capital letters naming a subset by what it holds (PDF 32000 §9.6.4): two
    different subsets of a face never share a name, the same subset always has it."""
    digest = hashlib.sha256(face_name + b":" + ",".join(map(str, subset)).encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    letters = []
    for _ in range(6):
        number, r = divmod(number, 26)
        letters.append(65 + r)
    return bytes(letters)


def _to_unicode(name: str, subset: list[int], glyph_texts: dict[int, str]) -> bytes:
    """The ToUnicode CMap: each code of the subset to its character, a shaped glyph
    without a code point of its own (plane 15, see shaping.py) to the text it stands for."""

    def utf16(text: str) -> str:
        return text.encode("utf-16-be").hex().upper()

    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        f"/CIDSystemInfo << /Registry ({name}) /Ordering ({name}) /Supplement 0 >> def",
        f"/CMapName /{name} def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        f"<00> <{len(subset) - 1:02X}>",
        "endcodespacerange",
        f"{len(subset)} beginbfchar",
    ]
    for i, code in enumerate(subset):
        text = glyph_texts.get(code, "\ufffd") if code >= 0xF0000 else chr(code)
        lines.append(f"<{i:02X}> <{utf16(text) or 'FFFD'}>")
    lines += ["endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop"]
    lines += ["end", "end"]
    return "\n".join(lines).encode("latin-1")


def _stream(head: bytes, data: bytes) -> bytes:
    return b"<<%s /Filter /FlateDecode /Length %d>>\nstream\n%s\nendstream" % (
        head,
        len(data),
        data,
    )


def _serialise(font: Any, n: int, subset: list[int]) -> _Subset:
    fp_str = number_format()
    face = face_of(font)
    facts = face_facts(face)
    base = subset_tag(facts.name, subset) + b"+" + facts.name + facts.subfont_name
    widths = b" ".join(fp_str(char_width(face, c)).encode() for c in subset)
    font_obj: tuple[bytes | int, ...] = (
        b"<< /Type /Font /Subtype /TrueType /BaseFont /%s /Name /" % base,
        NAME,
        b" /FirstChar 0 /LastChar %d /Widths [%s] /ToUnicode " % (len(subset) - 1, widths),
        1,
        b" /FontDescriptor ",
        2,
        b" >>",
    )
    cmap = _to_unicode(base.decode("latin-1"), subset, getattr(face, "_mailroom_glyph_texts", {}))
    raw = make_subset(face, subset)
    bbox = b" ".join(fp_str(v).encode() for v in facts.bbox)
    descriptor: tuple[bytes | int, ...] = (
        b"<< /Type /FontDescriptor /FontName /%s /Flags %d /FontBBox [%s] /ItalicAngle %s "
        b"/Ascent %s /Descent %s /CapHeight %s /StemV %s /MissingWidth %s /FontFile2 "
        % (
            base,
            facts.symbolic_flags,
            bbox,
            fp_str(facts.italic_angle).encode(),
            fp_str(facts.ascent).encode(),
            fp_str(facts.descent).encode(),
            fp_str(facts.cap_height).encode(),
            fp_str(facts.stem_v).encode(),
            fp_str(facts.default_width).encode(),
        ),
        3,
        b" >>",
    )
    data = zlib.compress(raw, 9)
    return _Subset(
        font=font_obj,
        to_unicode=_stream(b"", zlib.compress(cmap, 9)),
        descriptor=descriptor,
        font_file=_stream(b" /Length1 %d" % len(raw), data),
        font_data=data,
    )
