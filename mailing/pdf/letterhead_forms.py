"""A background PDF turned into pre-serialised Form XObjects, one per page, for reportlab."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from typing import Any

from mailing.errors import DocumentError
from mailing.pdf.pypdf_adapter import encoded_data

MAX_BACKGROUND_PAGES = 5

# Dictionary keys never followed when copying a background page's objects: they
# point back into the letterhead's page tree or structure, not to what is drawn.
_SKIP_KEYS = frozenset({"/Parent", "/P", "/StructParent", "/StructParents", "/PieceInfo"})


# ---------------------------------------------------------------- object templates


@dataclass(frozen=True)
class _ObjTemplate:
    """One indirect object, serialised; ``int`` chunks are references to other objects."""

    chunks: tuple[bytes | int, ...]


@dataclass
class _Background:
    """One background PDF, ready to be placed: a form per page and the objects they need."""

    prefix: str
    objects: list[_ObjTemplate]
    names: list[str]  # reportlab's internal name of each object
    forms: list[str]  # per page: the form's external name (for canvas.doForm)
    closures: list[tuple[int, ...]]  # per page: object indexes the form needs
    # the encoded data of each stream object, by index: a font program the document
    # embeds too is then written once (see font_objects.py)
    streams: dict[int, bytes]


class _Serializer:
    """Turns the objects reachable from background pages into :class:`_ObjTemplate`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.objects: list[_ObjTemplate | None] = []
        self.names: list[str] = []
        self.index_of: dict[tuple[int, int], int] = {}
        self.deps: list[set[int]] = []
        self.streams: dict[int, bytes] = {}

    def _new_slot(self, name: str) -> int:
        self.objects.append(None)
        self.names.append(name)
        self.deps.append(set())
        return len(self.objects) - 1

    def ref(self, indirect: Any) -> int:
        key = (indirect.idnum, indirect.generation)
        if key in self.index_of:
            return self.index_of[key]
        slot = self._new_slot(f"{self.prefix}.o{len(self.objects)}")
        self.index_of[key] = slot  # before recursing: a circular reference ends here
        target = indirect.get_object()
        out: list[bytes | int] = []
        self._write(target, out, slot, top=True)
        self.objects[slot] = _ObjTemplate(_merge(out))
        return slot

    def _write(self, obj: Any, out: list[bytes | int], owner: int, top: bool = False) -> None:
        from pypdf.generic import (
            ArrayObject,
            DictionaryObject,
            IndirectObject,
            NullObject,
            StreamObject,
        )

        if isinstance(obj, IndirectObject):
            idx = self.ref(obj)
            self.deps[owner].add(idx)
            out.append(idx)
        elif isinstance(obj, StreamObject):
            if not top:
                raise DocumentError(
                    "The letterhead holds a stream where only a reference is allowed.",
                    field="letterhead",
                    fix="save the letterhead again from its original program as PDF.",
                )
            data = encoded_data(obj)  # still encoded: copied as is, never inflated here
            if _plain_flate(obj):  # the form our own font programs take: may be shared
                self.streams[owner] = data
            self._write_dict(obj, out, owner, skip_length=True)
            out.append(b"/Length %d>>\nstream\n" % len(data))
            out.append(data)
            out.append(b"\nendstream")
        elif isinstance(obj, DictionaryObject):
            self._write_dict(obj, out, owner)
            out.append(b">>")
        elif isinstance(obj, ArrayObject):
            out.append(b"[")
            for item in obj:
                self._write(item, out, owner)
                out.append(b" ")
            out.append(b"]")
        elif obj is None or isinstance(obj, NullObject):
            out.append(b"null")
        else:
            buf = io.BytesIO()
            obj.write_to_stream(buf)
            out.append(buf.getvalue())

    def _write_dict(
        self, obj: Any, out: list[bytes | int], owner: int, skip_length: bool = False
    ) -> None:
        out.append(b"<<")
        for key, value in obj.items():
            if key in _SKIP_KEYS or (skip_length and key == "/Length"):
                continue
            buf = io.BytesIO()
            key.write_to_stream(buf)
            out.append(buf.getvalue() + b" ")
            self._write(value, out, owner)
            out.append(b"\n")

    def form_from_page(self, page: Any, page_no: int) -> int:
        """A Form XObject drawing ``page``; returns its object index."""
        from pypdf.generic import DictionaryObject

        from mailing.pdf.reportlab_adapter import xobject_name

        name = f"{self.prefix}p{page_no}"
        slot = self._new_slot(xobject_name(name))
        box = page.mediabox
        x0, y0, x1, y1 = (float(v) for v in (box.left, box.bottom, box.right, box.top))
        content = page.get_contents()
        data = content.get_data() if content is not None else b""
        packed = zlib.compress(data, 6)
        out: list[bytes | int] = [
            b"<</Type /XObject /Subtype /Form /FormType 1 /BBox [%s %s %s %s] "
            % tuple(_num(v) for v in (x0, y0, x1, y1)),
            b"/Matrix [1 0 0 1 %s %s] /Resources " % (_num(-x0), _num(-y0)),
        ]
        resources = page.get("/Resources")
        if resources is None:
            resources = DictionaryObject()
        self._write(resources, out, slot)
        out.append(b" /Filter /FlateDecode /Length %d>>\nstream\n" % len(packed))
        out.append(packed)
        out.append(b"\nendstream")
        self.objects[slot] = _ObjTemplate(_merge(out))
        return slot

    def closure(self, start: int) -> tuple[int, ...]:
        seen: list[int] = []
        mark: set[int] = set()
        stack = [start]
        while stack:
            i = stack.pop()
            if i in mark:
                continue
            mark.add(i)
            seen.append(i)
            stack.extend(sorted(self.deps[i], reverse=True))
        return tuple(seen)


def _plain_flate(stream: Any) -> bool:
    """Whether ``stream`` is only Flate-compressed (no other filter, no parameters)."""
    filters = stream.get("/Filter")
    if isinstance(filters, list) and len(filters) == 1:
        filters = filters[0]
    return filters == "/FlateDecode" and "/DecodeParms" not in stream


def _num(value: float) -> bytes:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return (text if text not in ("", "-0") else "0").encode()


def _merge(chunks: list[bytes | int]) -> tuple[bytes | int, ...]:
    merged: list[bytes | int] = []
    for c in chunks:
        if isinstance(c, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] = merged[-1] + c
        else:
            merged.append(c)
    return tuple(merged)


def _open_reader(data: bytes, what: str) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DocumentError(
                f"The {what} is encrypted (password-protected); it cannot be used as letterhead.",
                field=what,
                fix="save it again without a password or restrictions.",
            )
        reader.pages[0]
    except DocumentError:
        raise
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        IndexError,
        AttributeError,
        RecursionError,
        zlib.error,
    ) as exc:
        raise DocumentError(
            f"The {what} cannot be opened as a PDF ({type(exc).__name__}: {_short(exc)}).",
            field=what,
            fix="choose an undamaged PDF file of A4 size.",
        ) from None
    return reader


def _short(exc: BaseException) -> str:
    text = str(exc) or "no detail"
    return text if len(text) <= 120 else text[:117] + "..."


def _prepare(data: bytes, prefix: str, what: str) -> _Background:
    from pypdf.errors import PyPdfError

    reader = _open_reader(data, what)
    ser = _Serializer(prefix)
    forms: list[str] = []
    starts: list[int] = []
    try:
        pages = list(reader.pages)
        if not pages:
            raise DocumentError(
                f"The {what} has no pages.", field=what, fix="choose a PDF with one A4 page."
            )
        if len(pages) > MAX_BACKGROUND_PAGES:
            raise DocumentError(
                f"The {what} has {len(pages)} pages; at most {MAX_BACKGROUND_PAGES} are allowed "
                "(all pages of a background are used, so a one-page PDF is advised).",
                field=what,
                value=len(pages),
                fix="save just the letterhead page(s) as a PDF.",
            )
        for n, page in enumerate(pages):
            slot = ser.form_from_page(page, n)
            starts.append(slot)
            forms.append(f"{prefix}p{n}")
    except DocumentError:
        raise
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        RecursionError,
        zlib.error,
    ) as exc:
        raise DocumentError(
            f"The {what} cannot be read ({type(exc).__name__}: {_short(exc)}).",
            field=what,
            fix="choose an undamaged PDF file of A4 size.",
        ) from None
    objects = [o if o is not None else _ObjTemplate((b"null",)) for o in ser.objects]
    return _Background(
        prefix=prefix,
        objects=objects,
        names=ser.names,
        forms=forms,
        closures=[ser.closure(s) for s in starts],
        streams=ser.streams,
    )
