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

Validation (:func:`validate_letterhead`) runs in a child process with a time and
memory limit, so a damaged or hostile PDF (a "zip bomb", a circular reference)
can never hang or exhaust the application.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailing.errors import DocumentError

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

    from store.records import LanguageCode
    from store.store import Store

A4_WIDTH = 595.2756  # points: 210 mm
A4_HEIGHT = 841.8898  # points: 297 mm
SIZE_TOLERANCE = 3.0  # points (about 1 mm)
MAX_BACKGROUND_PAGES = 5
MAX_LETTERHEAD_BYTES = 20_000_000
VALIDATE_TIMEOUT_SECONDS = 15.0
VALIDATE_MEMORY_BYTES = 1024 * 1024 * 1024
# Decoded size above which one stream of a letterhead is refused as a "zip bomb".
MAX_DECODED_STREAM_BYTES = 50 * 1024 * 1024

# Dictionary keys never followed when copying a background page's objects: they
# point back into the letterhead's page tree or structure, not to what is drawn.
_SKIP_KEYS = frozenset({"/Parent", "/P", "/StructParent", "/StructParents", "/PieceInfo"})

_DO_RE = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+Do\b")

_KNOWN_SIZES = {
    "US Letter": (612.0, 792.0),
    "US Legal": (612.0, 1008.0),
    "A3": (841.89, 1190.55),
    "A5": (419.53, 595.28),
    "A4 landscape": (A4_HEIGHT, A4_WIDTH),
}


def _mm(points: float) -> float:
    return points * 25.4 / 72


def describe_size(width: float, height: float) -> str:
    """'215.9 × 279.4 mm (US Letter)' for a page size in points."""
    text = f"{_mm(width):.1f} × {_mm(height):.1f} mm"
    for name, (w, h) in _KNOWN_SIZES.items():
        if abs(width - w) <= SIZE_TOLERANCE and abs(height - h) <= SIZE_TOLERANCE:
            return f"{text} ({name})"
    return text


def is_a4(width: float, height: float) -> bool:
    return abs(width - A4_WIDTH) <= SIZE_TOLERANCE and abs(height - A4_HEIGHT) <= SIZE_TOLERANCE


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


def _make_raw_class() -> type:
    from reportlab.pdfbase.pdfdoc import PDFObject

    class RawPDFObject(PDFObject):  # type: ignore[misc]
        """A pre-serialised object; references are filled in when the document is written."""

        def __init__(self, chunks: tuple[bytes | int, ...], names: list[str]) -> None:
            self.chunks = chunks
            self.names = names

        def format(self, document: Any) -> bytes:
            idmap = document.idToObjectNumberAndVersion
            names = self.names
            return b"".join(
                c if isinstance(c, bytes) else b"%d 0 R" % idmap[names[c]][0] for c in self.chunks
            )

    return RawPDFObject


_RAW_CLASS: type | None = None


def _raw_class() -> type:
    global _RAW_CLASS
    if _RAW_CLASS is None:
        _RAW_CLASS = _make_raw_class()
    return _RAW_CLASS


class _Serializer:
    """Turns the objects reachable from background pages into :class:`_ObjTemplate`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.objects: list[_ObjTemplate | None] = []
        self.names: list[str] = []
        self.index_of: dict[tuple[int, int], int] = {}
        self.deps: list[set[int]] = []

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
            data = obj._data  # still encoded: copied as is, never inflated here
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

        name = f"{self.prefix}p{page_no}"
        from reportlab.pdfbase.pdfdoc import xObjectName

        slot = self._new_slot(xObjectName(name))
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
    )


# ---------------------------------------------------------------- the letterhead


class Letterhead:
    """First (and optional second) background, parsed once, placed under many documents."""

    def __init__(self, first: bytes, second: bytes | None = None) -> None:
        self.first_bytes = first
        self.second_bytes = second
        self._first = _prepare(first, "LH1", "first background")
        self._second = _prepare(second, "LH2", "second background") if second else None

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
        self.__init__(state["first"], state["second"])  # type: ignore[misc]

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
        doc = self.canvas._doc
        raw = _raw_class()
        for idx in bg.closures[n]:
            if (which, idx) in self._registered:
                continue
            self._registered.add((which, idx))
            doc.Reference(raw(bg.objects[idx].chunks, bg.names), bg.names[idx])
        self.canvas.doForm(bg.forms[n])


_CACHE: dict[tuple[str, str], Letterhead] = {}


# ---------------------------------------------------------------- validation


def _inspect(data: bytes) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a letterhead PDF; runs inside the bounded child process."""
    from pypdf.errors import LimitReachedError, PyPdfError
    from pypdf.generic import IndirectObject, StreamObject

    errors: list[str] = []
    warnings: list[str] = []
    try:
        reader = _open_reader(data, "letterhead")
        pages = list(reader.pages)
    except DocumentError as exc:
        return [exc.message], []
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        return [f"The letterhead cannot be read ({type(exc).__name__}: {_short(exc)})."], []
    if not pages:
        return ["The letterhead has no pages."], []
    if len(pages) > MAX_BACKGROUND_PAGES:
        return [
            f"The letterhead has {len(pages)} pages; at most {MAX_BACKGROUND_PAGES} are allowed."
        ], []
    if len(pages) > 1:
        warnings.append(
            f"The letterhead has {len(pages)} pages; all of them are used under the first "
            f"{len(pages)} pages of every document. A one-page PDF is advised."
        )
    for n, page in enumerate(pages, start=1):
        try:
            box = page.mediabox
            width, height = float(box.width), float(box.height)
            rotate = int(page.get("/Rotate", 0) or 0) % 360
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
            errors.append(f"Page {n} of the letterhead has no readable size ({_short(exc)}).")
            continue
        if rotate:
            errors.append(
                f"Page {n} of the letterhead is rotated by {rotate}°; rotated pages are not "
                "supported as background."
            )
        elif not is_a4(width, height):
            errors.append(
                f"Page {n} of the letterhead is {describe_size(width, height)}, not A4 "
                "(210.0 × 297.0 mm)."
            )
        if page.get("/Annots"):
            warnings.append(
                f"Page {n} of the letterhead has links or form fields; they are not carried "
                "into the documents."
            )
    if errors:
        return errors, warnings
    # Decode every stream reachable from the pages, with a limit: refuses "zip bombs"
    # and proves the content can be read.
    seen: set[tuple[int, int]] = set()

    def visit(obj: Any, depth: int) -> None:
        if depth > 200:
            raise DocumentError("The letterhead's objects are nested too deeply.")
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                return  # shared, or a circular reference: each object is read once
            seen.add(key)
            visit(obj.get_object(), depth + 1)
            return
        if isinstance(obj, StreamObject):
            if len(obj.get_data()) > MAX_DECODED_STREAM_BYTES:
                raise LimitReachedError("stream too large")
        if hasattr(obj, "items"):
            for key, value in obj.items():
                if key not in _SKIP_KEYS:
                    visit(value, depth + 1)
        elif isinstance(obj, list):
            for value in obj:
                visit(value, depth + 1)

    # Forms that draw themselves (directly or through others) would make every
    # viewer recurse without end: follow the `Do` operators as a viewer would.
    done: set[tuple[int, int]] = set()

    def draws(data: bytes, resources: Any, stack: tuple[tuple[int, int], ...]) -> None:
        if len(stack) > 50:
            raise DocumentError("The letterhead's forms are nested too deeply.")
        xobjects: Any = resources.get("/XObject") if hasattr(resources, "get") else None
        if xobjects is not None and hasattr(xobjects, "get_object"):
            xobjects = xobjects.get_object()
        if not hasattr(xobjects, "raw_get"):
            return
        for name in set(_DO_RE.findall(data)):
            try:
                ref = xobjects.raw_get("/" + name.decode("latin-1"))
            except KeyError:
                continue
            if not isinstance(ref, IndirectObject):
                continue
            key = (ref.idnum, ref.generation)
            target = ref.get_object()
            if not isinstance(target, StreamObject) or target.get("/Subtype") != "/Form":
                continue
            if key in stack:
                raise DocumentError(
                    f"The letterhead has a circular reference: form object {key[0]} draws "
                    "itself, which would make every PDF viewer loop."
                )
            if key in done:
                continue
            draws(target.get_data(), target.get("/Resources") or resources, (*stack, key))
            done.add(key)

    try:
        for page in pages:
            resources = page.get("/Resources")
            visit(resources, 0)
            visit(page.get("/Contents"), 0)
            content = page.get_contents()
            if content is not None:
                draws(content.get_data(), resources.get_object() if resources else {}, ())
        _prepare(data, "LH1", "letterhead")
    except DocumentError as exc:
        errors.append(exc.message)
    except LimitReachedError:
        errors.append(
            "The letterhead holds a compressed stream that inflates to more than "
            f"{MAX_DECODED_STREAM_BYTES // 1_000_000} MB (a 'zip bomb')."
        )
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        RecursionError,
        zlib.error,
    ) as exc:
        errors.append(
            f"The letterhead's content cannot be read ({type(exc).__name__}: {_short(exc)})."
        )
    return errors, warnings


def _limit_pypdf() -> None:
    """Lower pypdf's decompression limits to what a letterhead may need."""
    try:
        from pypdf import overwrite_configuration  # pypdf >= 7
    except ImportError:  # pypdf 6: module-level limits
        from pypdf import filters

        filters.ZLIB_MAX_OUTPUT_LENGTH = MAX_DECODED_STREAM_BYTES
        return
    overwrite_configuration(
        zlib_maximum_output_length=MAX_DECODED_STREAM_BYTES,
        lzw_maximum_output_length=MAX_DECODED_STREAM_BYTES,
        run_length_maximum_output_length=MAX_DECODED_STREAM_BYTES,
        array_based_stream_maximum_output_length=MAX_DECODED_STREAM_BYTES,
    )


def _child_main() -> int:
    """Entry of the bounded child: PDF bytes on stdin, JSON (errors, warnings) on stdout."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (VALIDATE_MEMORY_BYTES, VALIDATE_MEMORY_BYTES))
        cpu = int(VALIDATE_TIMEOUT_SECONDS) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    except (ImportError, ValueError, OSError):
        pass  # the parent's timeout still bounds the time
    import logging

    logging.disable(logging.CRITICAL)  # pypdf's warnings would go to stderr
    data = sys.stdin.buffer.read()
    try:
        _limit_pypdf()
        errors, warnings = _inspect(data)
    except MemoryError:
        errors, warnings = (
            ["Reading the letterhead needs more memory than allowed (a 'zip bomb'?)."],
            [],
        )
    sys.stdout.write(json.dumps({"errors": errors, "warnings": warnings}))
    return 0


def validate_letterhead(data: bytes, what: str = "letterhead") -> list[str]:
    """Check a letterhead PDF before it is stored; returns warnings.

    Raises DocumentError when it cannot be opened, is encrypted, is not A4 (naming the
    size found), has too many pages, holds a "zip bomb" or a circular reference.
    The check runs in a child process bounded in time and memory.
    """
    fix = "choose an unencrypted, undamaged one-page PDF of A4 size (210 × 297 mm)."
    if not data.startswith(b"%PDF") and b"%PDF" not in data[:1024]:
        raise DocumentError(f"The {what} is not a PDF file.", field=what, fix=fix)
    if len(data) > MAX_LETTERHEAD_BYTES:
        raise DocumentError(
            f"The {what} is {len(data) / 1e6:.1f} MB; at most "
            f"{MAX_LETTERHEAD_BYTES // 1_000_000} MB is allowed.",
            field=what,
            fix="use a smaller PDF (compress its images).",
        )
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "from mailing.pdf.letterhead import _child_main as m; raise SystemExit(m())",
            ],
            input=data,
            capture_output=True,
            timeout=VALIDATE_TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DocumentError(
            f"Reading the {what} took longer than {VALIDATE_TIMEOUT_SECONDS:.0f} s; it is damaged "
            "or built to exhaust resources (a circular reference or a 'zip bomb').",
            field=what,
            fix=fix,
        ) from None
    try:
        result = json.loads(proc.stdout.decode("utf-8"))
        errors, warnings = list(result["errors"]), list(result["warnings"])
    except (ValueError, KeyError, UnicodeDecodeError):
        raise DocumentError(
            f"Reading the {what} failed (the checker stopped with exit code {proc.returncode}); "
            "it is damaged or needs more memory than allowed (a 'zip bomb'?).",
            field=what,
            fix=fix,
        ) from None
    if errors:
        text = " ".join(e.replace("letterhead", what, 1) for e in errors)
        raise DocumentError(text, field=what, fix=fix)
    return [w.replace("letterhead", what, 1) for w in warnings]
