"""reportlab's ``Canvas.save``, written again for speed: the same bytes, a third of the time.

reportlab writes a document by walking its object model (``PDFDocument.format``): every
name, number and string of every dictionary goes through a generic ``format`` that asks
each value what it is, encodes it with reportlab's PDFDoc codec and builds temporary
dictionaries, and each page's dictionary and resources are assembled anew. For an
invoice that walk cost ~0.7 ms, more than drawing its text. :func:`pdf_bytes` walks the
same objects in the same order and writes the same bytes (its unit test compares them with
reportlab's own ``getpdfdata``, object for object): the PDF value types reportlab uses
here (dictionaries, arrays, names, numbers, references, strings, streams, the catalog,
pages, page resources and document information) are formatted directly, names and
strings cached per process; any other object is formatted by reportlab itself. A document
that uses what this does not know (encryption, PDF comments, multi-line output) is written
by reportlab's ``getpdfdata``.

Like ``reportlab_adapter.py`` this module names reportlab's internals (it is the second of
the two modules allowed to: ``tests/unit/test_library_internals.py`` checks that no other
does, and pins this one by comparing its output with reportlab's for real documents).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

_NAMES: dict[str, bytes] = {}  # "Type" -> b"/Type"
_TEXT: dict[str, bytes] = {}  # a str value (a name such as "/Page") -> its bytes
_STRINGS: dict[str, bytes] = {}  # a document-information string -> "(...)"
_CACHE_LIMIT = 4096
_OTHER_PAGE_ENTRIES: list[str] = []  # a page's entries that our canvases never set


def pdf_bytes(c: Canvas) -> bytes:
    """What ``c.getpdfdata()`` returns, byte for byte (the canvas is finished after)."""
    from reportlab import rl_config
    from reportlab.pdfbase import pdfdoc

    doc = c._doc
    if (
        rl_config.pdfComments
        or rl_config.pdfMultiLine
        or type(doc.encrypt) is not pdfdoc.NoEncryption
        or getattr(doc, "_digiSigs", None)
    ):
        data: bytes = c.getpdfdata()
        return data
    if len(c._code):
        c.showPage()
    _prepare(doc, c)
    return _Writer(doc).write()


def _prepare(doc: Any, c: Canvas) -> None:
    """``PDFDocument.GetPDFData`` and the start of ``format``, up to the objects."""
    for font in doc.delayedFonts:
        font.addObjects(doc)
    doc.info.invariant = doc.invariant
    doc.info.digest(doc.signature)
    doc.Reference(doc.Catalog)
    doc.Reference(doc.info)
    doc.Outlines.prepare(doc, c)
    if doc.Outlines.ready < 0:
        doc.Catalog.Outlines = None
    doc.encrypt.prepare(doc)
    doc.Reference(doc.Catalog)
    doc.Reference(doc.info)


def _name(key: str) -> bytes:
    got = _NAMES.get(key)
    if got is None:
        from reportlab.pdfbase.pdfdoc import PDFName, pdfdocEnc

        got = pdfdocEnc(PDFName(key))
        if len(_NAMES) < _CACHE_LIMIT:
            _NAMES[key] = got
    return got


def _text(value: str) -> bytes:
    got = _TEXT.get(value)
    if got is None:
        from reportlab.pdfbase.pdfdoc import pdfdocEnc

        got = pdfdocEnc(value)
        if len(_TEXT) < _CACHE_LIMIT:
            _TEXT[value] = got
    return got


class _Writer:
    def __init__(self, doc: Any) -> None:
        from reportlab.lib.rl_accel import fp_str
        from reportlab.pdfbase import pdfdoc

        self.doc = doc
        self.pdfdoc = pdfdoc
        self.fp_str: Callable[..., str] = fp_str
        self.numbers: dict[str, tuple[int, int]] = doc.idToObjectNumberAndVersion
        self.reference_class = pdfdoc.PDFObjectReference
        self.object_class = pdfdoc.PDFObject
        self.formats: dict[type, Callable[[Any], bytes]] = {
            pdfdoc.PDFDictionary: self._dictionary,
            pdfdoc.PDFArray: self._array,
            pdfdoc.PDFStream: self._stream,
            pdfdoc.PDFCatalog: self._catalog,
            pdfdoc.PDFPages: self._catalog,
            pdfdoc.PDFPage: self._page,
            pdfdoc.PDFResourceDictionary: self._resources,
            pdfdoc.PDFInfo: self._info,
        }

    # -- the document

    def write(self) -> bytes:
        doc, pdfdoc = self.doc, self.pdfdoc
        out = [pdfdoc.PDFFile(doc._pdfVersion).strings[0]]
        offset = len(out[0])
        offsets: list[tuple[int, int]] = []
        number_to_id, id_to_object = doc.numberToId, doc.idToObject
        counter = 0
        while True:  # objects may be added while others are written (references)
            counter += 1
            if counter not in number_to_id:
                break
            name = number_to_id[counter]
            n, v = self.numbers[name]
            body = self._value(id_to_object[name], top=True)
            chunk = b"%d %d obj\n%s%sendobj\n" % (
                n,
                v,
                body,
                b"" if body.endswith(b"\n") else b"\n",
            )
            offsets.append((offset, v))
            out.append(chunk)
            offset += len(chunk)
        count = counter - 1
        if count != len(number_to_id):
            raise ValueError(f"counter {count} doesn't match {len(number_to_id)} objects")
        entries = [b"xref\n0 %d\n0000000000 65535 f " % (count + 1)]
        entries += [b"%010d %05d n " % o for o in offsets]
        xref = b"\n".join(entries) + b"\n"
        catalog = self.numbers[doc.Reference(doc.Catalog).name]
        info = self.numbers[doc.Reference(doc.info).name]
        trailer = b"trailer\n<<\n/ID %s\n/Info %d %d R\n/Root %d %d R\n/Size %d\n>>" % (
            doc.ID(),
            *info,
            *catalog,
            count + 1,
        )
        out += [xref, trailer, b"\nstartxref\n%d\n%%%%EOF\n" % offset]
        return b"".join(out)

    # -- values (reportlab's ``pdfdoc.format``)

    def _value(self, value: Any, top: bool = False) -> bytes:
        kind = type(value)
        if kind is str:
            return _text(value)
        if kind is bytes:
            return value  # type: ignore[no-any-return]  # bytes, as is
        if kind is int or kind is float:
            return self.fp_str(value).encode("latin-1")
        if kind is self.reference_class:
            return b"%d %d R" % self.numbers[value.name]
        if isinstance(value, self.object_class):
            if not top and hasattr(value, "__RefOnly__"):
                ref = self.doc.Reference(value)
                return b"%d %d R" % self.numbers[ref.name]
            method = self.formats.get(kind)
            if method is not None:
                return method(value)
            data: bytes = value.format(self.doc)  # the raw objects, anything else
            return data
        data = self.pdfdoc.format(value, self.doc, toplevel=int(top))
        return data

    def _pairs(self, items: dict[str, Any]) -> list[bytes]:
        keys = list(items)
        if not isinstance(items, OrderedDict):
            keys.sort()
        value = self._value
        return [_name(k) + b" " + value(items[k]) for k in keys]

    def _dict(self, items: dict[str, Any], forced: bool = False) -> bytes:
        pairs = self._pairs(items)
        if forced:
            return b"<<\n" + b"\n ".join(pairs) + b"\n>>"
        for i in reversed(range(6, len(pairs), 6)):  # reportlab breaks every 6 entries
            pairs.insert(i, b"\n ")
        return b"<<\n" + b" ".join(pairs) + b"\n>>"

    def _dictionary(self, d: Any) -> bytes:
        return self._dict(d.dict, d.multiline == "forced")

    def _array(self, a: Any) -> bytes:
        value = self._value
        items = [value(e) for e in a.sequence]
        if a.multiline == "forced":
            return b"[ " + b"\n ".join(items) + b" ]"
        for i in reversed(range(10, len(items), 10)):  # and arrays every 10 elements
            items.insert(i, b"\n ")
        return b"[ " + b" ".join(items) + b" ]"

    def _stream(self, s: Any) -> bytes:
        items = s.dictionary.dict.copy()
        content = s.content
        if content is None:
            raise ValueError("stream content not set")
        filters = s.filters
        if filters is None:
            filters = self.doc.defaultStreamFilters
        if filters is not None and "Filter" not in items:
            names: list[str] = []
            for f in reversed(list(filters)):
                content = f.encode(content)
                names.insert(0, "/" + f.pdfname)
            items["Filter"] = self.pdfdoc.PDFArray(names)
        data = content if type(content) is bytes else self.pdfdoc.pdfdocEnc(content)
        items["Length"] = len(content)
        return self._dict(items) + b"\nstream\n" + data + b"endstream\n"

    def _catalog(self, cat: Any) -> bytes:
        """``PDFCatalog.format`` (the catalog, the page tree and each page)."""
        cat.check_format(self.doc)
        items: dict[str, Any] = {}
        for k, v in cat.__Defaults__.items():
            v = getattr(cat, k, v)
            if v is not None:
                items[k] = v
        for k in cat.__NoDefault__:
            v = getattr(cat, k, None)
            if v is not None:
                items[k] = v
        for k in cat.__Refs__:
            if k in items:
                items[k] = self.doc.Reference(items[k])
        return self._dict(items)

    def _page(self, page: Any) -> bytes:
        """``PDFPage.format`` of a page as our canvases make them (its own content stream,
        fonts and forms only); any other page by :meth:`_catalog`."""
        from reportlab import rl_config

        pdfdoc = self.pdfdoc
        if (
            page.Override_default_compilation
            or page.MediaBox
            or page.Annots
            or page.Contents
            or not page.stream
            or page.Resources
            or page.Parent
            or page._colorsUsed
            or getattr(page, "_shadingUsed", None)
            or type(page.Trans) is not pdfdoc.PDFDictionary
            or type(page.Rotate) is not int
            or rl_config.useA85
            or any(getattr(page, k) is not None for k in self._other_page_entries())
        ):
            return self._catalog(page)
        doc = self.doc
        page.Parent = doc.Reference(doc.Pages)  # in reportlab's order: the tree, then the stream
        stream = pdfdoc.PDFStream(content=page.stream)
        if page.compression:
            stream.filters = [pdfdoc.PDFZCompress]
        page.Contents = stream
        contents = doc.Reference(stream)
        procs = pdfdoc.PDFResourceDictionary.stdprocs
        resources: dict[str, Any] = {
            "Font": pdfdoc.PDFObjectReference(pdfdoc.BasicFonts),
            "ProcSet": pdfdoc.PDFArray(procs if page.hasImages else procs[:2]),
        }
        for key, value in (
            ("XObject", page.XObjects),
            ("ExtGState", getattr(page, "ExtGState", None)),
        ):
            if value:
                resources[key] = pdfdoc.PDFDictionary(value) if isinstance(value, dict) else value
        w, h = page.pagewidth, page.pageheight
        box = [0, 0, h, w] if page.Rotate in (90, 270) else [0, 0, w, h]
        items = {
            "Type": "/Page",
            "Parent": page.Parent,
            "MediaBox": pdfdoc.PDFArray(box),
            "Resources": self._dict(resources),
            "Contents": contents,
            "Rotate": page.Rotate,
            "Trans": page.Trans,
        }
        return self._dict(items)

    def _other_page_entries(self) -> list[str]:
        if not _OTHER_PAGE_ENTRIES:
            written = {"Parent", "MediaBox", "Resources", "Contents", "Rotate", "Trans", "Annots"}
            names = self.pdfdoc.PDFPage.__NoDefault__
            _OTHER_PAGE_ENTRIES.extend(sorted(set(names) - written))
        return _OTHER_PAGE_ENTRIES

    def _resources(self, r: Any) -> bytes:
        items: dict[str, Any] = {}
        for key in r.dict_attributes:
            v = getattr(r, key)
            if isinstance(v, dict):
                if v:
                    items[key] = self.pdfdoc.PDFDictionary(v)
            else:
                items[key] = v
        procs = r.ProcSet
        if isinstance(procs, (list, tuple)):
            if procs:
                items["ProcSet"] = self.pdfdoc.PDFArray(procs)
        else:
            items["ProcSet"] = procs
        return self._dict(items)

    def _info(self, info: Any) -> bytes:
        date = self.pdfdoc.PDFDate(ts=self.doc._timeStamp, dateFormatter=info._dateFormatter)
        when = date.format(self.doc)
        items = {
            "Title": self._string(info.title),
            "Author": self._string(info.author),
            "ModDate": when,
            "CreationDate": when,
            "Producer": self._string(info.producer),
            "Creator": self._string(info.creator),
            "Subject": self._string(info.subject),
            "Keywords": self._string(info.keywords),
            "Trapped": _name(info.trapped),
        }
        return self._dict(items)

    def _string(self, text: str) -> bytes:
        got = _STRINGS.get(text)
        if got is None:
            got = self.pdfdoc.PDFString(text).format(self.doc)
            if len(_STRINGS) < _CACHE_LIMIT:
                _STRINGS[text] = got
        return got
