"""A PDF object serialised once and written as is: only its references are filled in.

Letterhead pages (``letterhead_forms.py``) and font subsets (``font_objects.py``) are
made once per process as byte chunks; an ``int`` chunk is the index of another
object in ``names`` (written as ``N 0 R`` with that object's number in the document
being written), and :data:`NAME` is the document's internal name of a font subset.
"""

from __future__ import annotations

from typing import Any

NAME = -1  # in a chunk list: the ``name`` given to the object (a font subset's)

_RAW_CLASS: type | None = None


def raw_class() -> type:
    """reportlab's ``PDFObject`` subclass for pre-serialised objects (made on first use,
    so that importing this module does not import reportlab)."""
    global _RAW_CLASS
    if _RAW_CLASS is None:
        _RAW_CLASS = _make_raw_class()
    return _RAW_CLASS


def _make_raw_class() -> type:
    from mailing.pdf.reportlab_adapter import object_numbers, pdf_object_base

    class RawPDFObject(pdf_object_base()):  # type: ignore[misc]  # a class made at run time
        """A pre-serialised object; references are filled in when the document is written."""

        def __init__(
            self, chunks: tuple[bytes | int, ...] | bytes, names: list[str], name: bytes = b""
        ) -> None:
            self.chunks = chunks
            self.names = names
            self.name = name

        def format(self, document: Any) -> bytes:
            if isinstance(self.chunks, bytes):
                return self.chunks
            idmap = object_numbers(document)
            names = self.names
            return b"".join(
                c
                if isinstance(c, bytes)
                else self.name
                if c == NAME
                else b"%d 0 R" % idmap[names[c]][0]
                for c in self.chunks
            )

    return RawPDFObject
