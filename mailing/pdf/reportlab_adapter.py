"""reportlab's private parts that Mailroom uses, in one place.

reportlab is pinned (pyproject.toml) and these are not its documented API (underscore
names, undocumented attributes and modules), so each use goes through here, and
``tests/unit/test_library_internals.py`` pins exactly these: an upgrade that changes
one fails that test by name instead of a PDF. Importing this module does not import
reportlab (every import is inside the function that needs it).

- the canvas: ``_doc``, ``_code`` (the page's operators), ``_escape``, ``_pageNumber``,
  ``_fontname`` / ``_fontsize`` (text drawn straight into the page, fonts.py, shaping.py);
  ``_startPage`` and the page state in ``__dict__`` ("page N of M", reports/pdf.py);
- the document: ``Reference``, ``idToObject["BasicFonts"].dict``,
  ``idToObjectNumberAndVersion``, ``Catalog`` and its ``__NoDefault__``, ``_timeStamp``
  (objects written as is, the PDF/A catalog, the fixed dates);
- the module ``pdfbase.pdfdoc`` (``PDFObject``, ``PDFObjectReference``, ``xObjectName``,
  the PDF value types of pdfa.py), ``lib.rl_accel.fp_str``, ``rl_config.useA85``;
- a ``TTFont``: ``state`` (one ``TTFont.State`` per document: ``subsets``,
  ``assignments``, ``nextCode``, ``frozen``), ``_assignState``, ``getSubsetInternalName``,
  ``splitString``, ``addObjects`` (replaced: font_objects.py), and its ``face``
  (``charToGlyph``, ``charWidths``, ``getCharWidth``, ``makeSubset``, ``name``,
  ``subfontNameX``, ``flags``, ``bbox``, ``italicAngle``, ``ascent``, ``descent``,
  ``capHeight``, ``stemV``, ``defaultWidth``) and ``ttfonts.FF_SYMBOLIC`` /
  ``FF_NONSYMBOLIC``.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

# ---------------------------------------------------------------- numbers, settings


def number_format() -> Callable[..., str]:
    """reportlab's own formatting of numbers in a PDF (``fp_str``: "1.5", "12", "-.3")."""
    from reportlab.lib.rl_accel import fp_str

    fmt: Callable[..., str] = fp_str
    return fmt


def turn_off_ascii85() -> None:
    """No ASCII85 wrapping of compressed page streams (a quarter bigger, and slower)."""
    from reportlab import rl_config

    rl_config.useA85 = 0


# ---------------------------------------------------------------- the canvas


def document(c: Canvas) -> Any:
    """The canvas's ``PDFDocument``."""
    return c._doc


def page_number(c: Canvas) -> int:
    """The number of the page being drawn (1 for the first)."""
    number: int = c._pageNumber
    return number


def current_font(c: Canvas) -> tuple[str, float]:
    """The canvas's font and size as set by ``setFont``."""
    return c._fontname, c._fontsize


def escaper(c: Canvas) -> Callable[[bytes], str]:
    """The canvas's escaping of a string's bytes for ``( ) Tj``."""
    escape: Callable[[bytes], str] = c._escape
    return escape


def page_operators(c: Canvas) -> list[str]:
    """The operators of the page being drawn, to append to (a new list on each page)."""
    code: list[str] = c._code
    return code


def append_operators(c: Canvas, ops: list[str]) -> None:
    """Add content-stream operators to the page being drawn, as written."""
    c._code.extend(ops)


def page_numbering_canvas(footer: Callable[[Any, int, int], None]) -> type:
    """A ``Canvas`` class that keeps its pages until it is saved and then calls
    ``footer(canvas, page, pages)`` on each ("page N of M"; reportlab's own recipe: a
    page is its canvas's ``__dict__``, ``_startPage`` begins the next one)."""
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no types: Any
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._mailroom_pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._mailroom_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            pages = self._mailroom_pages
            for state in pages:
                self.__dict__.update(state)
                footer(self, self._pageNumber, len(pages))
                super().showPage()
            super().save()

    return NumberedCanvas


# ---------------------------------------------------------------- the document


def add_object(doc: Any, obj: Any, name: str | None = None) -> Any:
    """Put ``obj`` in the document (under ``name``); its reference."""
    return doc.Reference(obj) if name is None else doc.Reference(obj, name)


def font_dictionary(doc: Any) -> dict[str, Any]:
    """The document's font resources: internal name -> reference."""
    fonts: dict[str, Any] = doc.idToObject["BasicFonts"].dict
    return fonts


def object_numbers(doc: Any) -> dict[str, tuple[int, int]]:
    """Name -> (object number, version), filled in when the document is written."""
    numbers: dict[str, tuple[int, int]] = doc.idToObjectNumberAndVersion
    return numbers


def object_reference(name: str) -> Any:
    """A reference to the object ``name`` (written ``N 0 R``)."""
    from reportlab.pdfbase.pdfdoc import PDFObjectReference

    return PDFObjectReference(name)


def pdf_object_base() -> type:
    """The base class of every object reportlab writes (``format(document) -> bytes``)."""
    from reportlab.pdfbase.pdfdoc import PDFObject

    base: type = PDFObject
    return base


def xobject_name(name: str) -> str:
    """reportlab's internal name of the Form XObject ``name`` (as ``doForm`` takes it)."""
    from reportlab.pdfbase.pdfdoc import xObjectName

    return str(xObjectName(name))


def pdf_types() -> types.ModuleType:
    """reportlab's PDF value types (``PDFArray``, ``PDFDictionary``, ``PDFName``,
    ``PDFStream``, ``PDFString``, ``PDFZCompress``)."""
    from reportlab.pdfbase import pdfdoc

    module: types.ModuleType = pdfdoc
    return module


def catalog(doc: Any, *extra: str) -> Any:
    """The document catalog, which then writes the entries ``extra`` too."""
    cat = doc.Catalog
    cat.__NoDefault__ = [*type(cat).__NoDefault__, *extra]
    return cat


def fix_dates(doc: Any, day: dt.date) -> None:
    """The document's creation and modification dates: ``day``, midnight, UTC."""
    stamp = doc._timeStamp
    stamp.YMDhms = (day.year, day.month, day.day, 0, 0, 0)
    stamp.dhh = stamp.dmm = 0


# ---------------------------------------------------------------- TrueType fonts


def can_write_own_subsets(font: Any) -> bool:
    """Whether ``font`` has the parts font_objects.py replaces (else reportlab's way)."""
    from reportlab.pdfbase import ttfonts

    needed = ("_assignState", "getSubsetInternalName", "state", "addObjects")
    return all(hasattr(font, a) for a in needed) and all(
        hasattr(ttfonts, a) for a in ("FF_SYMBOLIC", "FF_NONSYMBOLIC", "TTFont")
    )


def seed_first_subset(font: Any, codes: list[int]) -> None:
    """Give ``codes`` (at most 31) codes 1.. of the first subset in every document."""
    from weakref import WeakKeyDictionary

    from reportlab.pdfbase.ttfonts import TTFont

    first = TTFont.State(1, font)
    for n, code in enumerate(codes, start=1):
        first.subsets[0][n] = code
        first.assignments[code] = n
    first.nextCode = 128 if len(codes) == 31 else len(codes) + 1

    def seeded() -> Any:  # a copy of the first (a State is made by a loop over ASCII)
        state = TTFont.State.__new__(TTFont.State)
        for key, value in first.__dict__.items():
            if isinstance(value, dict):
                value = dict(value)
            elif isinstance(value, list):
                value = [list(v) if isinstance(v, list) else v for v in value]
            setattr(state, key, value)
        return state

    class States(WeakKeyDictionary[Any, Any]):  # doc -> reportlab's State
        def __getitem__(self, doc: Any) -> Any:
            try:
                return super().__getitem__(doc)
            except KeyError:
                state = self[doc] = seeded()
                return state

    font.state = States()


def replace_add_objects(font: Any, add_objects: Callable[[Any, Any], None]) -> None:
    """``add_objects(font, doc)`` writes the font's subsets when a document is written."""
    font.addObjects = types.MethodType(add_objects, font)


def used_subsets(font: Any, doc: Any) -> list[list[int]]:
    """The subsets (code points, by code) ``font`` has in ``doc``, frozen: no more."""
    state = font._assignState(doc)
    state.frozen = 1
    subsets: list[list[int]] = state.subsets
    return subsets


def forget_document(font: Any, doc: Any) -> None:
    """Drop what ``font`` kept for ``doc`` (written)."""
    del font.state[doc]


def subset_internal_name(font: Any, subset: int, doc: Any) -> str:
    """reportlab's name of a subset in ``doc`` ("/F3+0"), used by ``Tf``."""
    return str(font.getSubsetInternalName(subset, doc))


def split_string(font: Any, text: str, doc: Any) -> list[tuple[int, bytes]]:
    """``text`` as (subset number, its codes) runs, codes assigned in ``doc``."""
    split: list[tuple[int, bytes]] = font.splitString(text, doc)
    return split


def face_of(font: Any) -> Any:
    """The ``TTFontFace`` of a registered ``TTFont``."""
    return font.face


def char_to_glyph(face: Any) -> dict[int, int]:
    """Code point -> glyph id (a private code added here is used by the subsets)."""
    glyphs: dict[int, int] = face.charToGlyph
    return glyphs


def char_widths(face: Any) -> dict[int, float]:
    """Code point -> width in 1/1000 em (a private code added here is used)."""
    widths: dict[int, float] = face.charWidths
    return widths


def char_width(face: Any, code: int) -> float:
    """The width of code point ``code`` in 1/1000 em."""
    return float(face.getCharWidth(code))


def make_subset(face: Any, subset: list[int]) -> bytes:
    """The font program of the glyphs of ``subset`` (code points)."""
    return bytes(face.makeSubset(subset))


@dataclass(frozen=True)
class FaceFacts:
    """What a font descriptor says of a face."""

    name: bytes  # its PostScript name
    subfont_name: bytes  # reportlab's suffix for a face of a collection (b"" otherwise)
    symbolic_flags: int  # its flags, marked symbolic (a subset has its own encoding)
    bbox: tuple[float, ...]
    italic_angle: float
    ascent: float
    descent: float
    cap_height: float
    stem_v: float
    default_width: float


def face_facts(face: Any) -> FaceFacts:
    from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC

    return FaceFacts(
        name=face.name,
        subfont_name=face.subfontNameX,
        symbolic_flags=(face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
        bbox=tuple(face.bbox),
        italic_angle=face.italicAngle,
        ascent=face.ascent,
        descent=face.descent,
        cap_height=face.capHeight,
        stem_v=face.stemV,
        default_width=face.defaultWidth,
    )
