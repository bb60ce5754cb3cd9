"""Letterhead (*pdf-achtergrond*): the language code's background PDFs under a document.

A letterhead is parsed once (per batch, per worker process) with pypdf and turned
into ready-made PDF object templates: each background page becomes one Form
XObject whose resources (fonts, images, ...) are kept as the letterhead had them,
still compressed. Drawing a document then costs only registering those
pre-serialised objects in reportlab's document and one ``Do`` per page: no
re-parsing, no re-compression, no second PDF pass with pypdf.

Which background goes under which page (SPEC §3): the first background's pages go
under the document's first pages, in order (all of them are used: a document
shorter than the first background gets extra pages carrying only the
background); the pages after that get the second background's pages, in turn, or
the first background's again when there is no second.

Validation (:func:`validate_letterhead`, letterhead_check.py) runs in a child
process with a time and memory limit, so a damaged or hostile PDF (a "zip bomb", a
circular reference) can never hang or exhaust the application. The parsing into
Form XObjects lives in letterhead_forms.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mailing.pdf.font_objects import shared_streams
from mailing.pdf.letterhead_check import validate_letterhead as validate_letterhead
from mailing.pdf.letterhead_forms import _prepare
from mailing.pdf.raw_object import raw_class
from mailing.pdf.reportlab_adapter import add_object, document

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

    from store.records import LanguageCode
    from store.store import Store

# ---------------------------------------------------------------- the letterhead


class Letterhead:
    """First (and optional second) background, parsed once, placed under many documents."""

    def __init__(self, first: bytes, second: bytes | None = None) -> None:
        self.first_bytes = first
        self.second_bytes = second
        self._first = _prepare(first, "LH1", "first background")
        self._second = _prepare(second, "LH2", "second background") if second else None
        # Whether documents on it can be PDF/A: a letterhead stored before that rule
        # (fonts not embedded, transparency...) gets documents drawn as plain PDF.
        self.pdfa_problems = _pdfa_problems(first) + (_pdfa_problems(second) if second else [])
        self.conforms = not self.pdfa_problems

    @classmethod
    def from_bytes(cls, first: bytes, second: bytes | None = None) -> Letterhead:
        return cls(first, second)

    @classmethod
    def from_refs(cls, store: Store, language_code: LanguageCode | None) -> Letterhead | None:
        """The language code's letterhead, or None when it has no first background.

        Cached per process by the files' SHA-256: a batch (or a worker) parses it once.
        """
        if language_code is None or language_code.first_background is None:
            return None
        first = language_code.first_background
        second = language_code.second_background
        key = (first.sha256, second.sha256 if second else "")
        cached = _CACHE.get(key)
        if cached is None:
            cached = cls(store.files.read(first), store.files.read(second) if second else None)
            if len(_CACHE) >= 16:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = cached
        return cached

    # Pickled (to a worker process) as the bytes only; parsed again there once.
    def __getstate__(self) -> dict[str, Any]:
        return {"first": self.first_bytes, "second": self.second_bytes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["first"], state["second"])  # type: ignore[misc]  # re-parse in the worker: unpickling runs no __init__

    @property
    def first_page_count(self) -> int:
        return len(self._first.forms)

    def background_for(self, page_index: int) -> tuple[str, int]:
        """('first'|'second', page of that background) for document page ``page_index`` (0-based)."""
        n = len(self._first.forms)
        if page_index < n:
            return "first", page_index
        if self._second is not None:
            return "second", (page_index - n) % len(self._second.forms)
        return "first", (page_index - n) % n

    def applier(self, canvas: Canvas) -> LetterheadApplier:
        return LetterheadApplier(self, canvas)


class LetterheadApplier:
    """Places a letterhead's backgrounds on the pages of one reportlab canvas."""

    def __init__(self, letterhead: Letterhead, canvas: Canvas) -> None:
        self.letterhead = letterhead
        self.canvas = canvas
        self._registered: set[tuple[str, int]] = set()

    def draw(self, page_index: int) -> None:
        """Draw the background for ``page_index``; call first thing on the page."""
        which, n = self.letterhead.background_for(page_index)
        bg = self.letterhead._first if which == "first" else self.letterhead._second
        assert bg is not None
        doc = document(self.canvas)
        raw = raw_class()
        streams = shared_streams(doc)
        for idx in bg.closures[n]:
            if (which, idx) in self._registered:
                continue
            self._registered.add((which, idx))
            add_object(doc, raw(bg.objects[idx].chunks, bg.names), bg.names[idx])
            if idx in bg.streams:
                streams.setdefault(bg.streams[idx], bg.names[idx])
        self.canvas.doForm(bg.forms[n])


def _pdfa_problems(data: bytes) -> list[str]:
    from mailing.pdf.letterhead_forms import _open_reader
    from mailing.pdf.letterhead_pdfa import pdfa_problems

    reader = _open_reader(data, "letterhead")
    return pdfa_problems(reader, list(reader.pages))


_CACHE: dict[tuple[str, str], Letterhead] = {}
