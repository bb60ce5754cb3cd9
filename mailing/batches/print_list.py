"""The print list of a batch as one PDF, written as it is read: memory flat in its length.

pypdf's ``PdfWriter.append`` keeps every page with its objects until it writes: about
0.45 MiB per document, 1.3 GiB for the 3,000 documents to print of a batch of 50,000.
Here each document is read (pypdf), the objects its pages use are written out at once
under new numbers and dropped; only the byte offset of each object and the numbers of
the pages are kept for the cross-reference table and the page tree written at the end.
Inherited page attributes are resolved by pypdf onto each page; outlines, forms and
document-level metadata of the inputs are left out (a print list needs the pages).

The objects the pages use are copied as written, their references renumbered, without
parsing them (pypdf parsing every number of the fonts' width arrays cost 5.5 ms a
document, four times what drawing it costs); an object holding a string or a comment,
or a stream of an indirect length, is parsed by pypdf and written again.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
)

from mailing.pdf.pypdf_adapter import encoded_data, encoded_stream

# The raw copy of an object (``_Document._raw``): its header, a stream's start and end,
# a stream's direct length, a reference, and what it does not copy raw: strings
# (literal or hexadecimal, which may hold anything), comments and references to other
# generations than 0.
_HEADER = re.compile(rb"\s*(\d+)\s+0\s+obj")
_STREAM = re.compile(rb">>\s*stream(?:\r\n|\n)")
_END_STREAM = re.compile(rb"\s*endstream\s*")
_LENGTH = re.compile(rb"/Length\s+(\d+)(?![\d.])(?!\s+\d+\s+R)")
_OTHER_GENERATION = re.compile(rb"\d\s+0*[1-9]\d*\s+R(?!\w)")
_REF = re.compile(rb"(?<![\w.+#/-])(\d+)\s+0\s+R(?![\w])")


class _Out:
    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.offsets: list[int] = [0]  # object n at offsets[n]; 0: not written yet
        self.pos = 0
        self.put(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def put(self, data: bytes) -> None:
        self.fh.write(data)
        self.pos += len(data)

    def reserve(self) -> int:
        self.offsets.append(0)
        return len(self.offsets) - 1

    def write(self, num: int, obj: PdfObject) -> None:
        self.offsets[num] = self.pos
        self.put(f"{num} 0 obj\n".encode())
        start = self.fh.tell()
        obj.write_to_stream(self.fh)
        self.pos += self.fh.tell() - start
        self.put(b"\nendobj\n")

    def put_raw(self, num: int, parts: list[bytes]) -> None:
        self.offsets[num] = self.pos
        self.put(b"".join([b"%d 0 obj" % num, *parts, b"endobj\n"]))


class _Document:
    """One input PDF: its objects renumbered into the output as they are written."""

    def __init__(self, out: _Out, path: Path) -> None:
        self.out = out
        self.data = path.read_bytes()
        self.reader = PdfReader(io.BytesIO(self.data))
        self.numbers: dict[int, int] = {}
        self.todo: list[int] = []

    def ref(self, idnum: int) -> IndirectObject:
        return IndirectObject(self._ref_num(idnum), 0, None)

    def copy(self, obj: Any) -> Any:
        if isinstance(obj, IndirectObject):
            return self.ref(obj.idnum)
        if isinstance(obj, StreamObject):
            new = encoded_stream(encoded_data(obj))  # as stored (still encoded): unchanged
            for k, v in obj.items():
                if k != "/Length":
                    new[NameObject(k)] = self.copy(v)
            return new
        if isinstance(obj, DictionaryObject):
            d = DictionaryObject()
            for k, v in obj.items():
                d[NameObject(k)] = self.copy(v)
            return d
        if isinstance(obj, ArrayObject):
            return ArrayObject(self.copy(v) for v in obj)
        return obj

    def pages(self, parent: int) -> list[int]:
        nums = []
        for page in self.reader.pages:
            num = self.out.reserve()
            d = DictionaryObject()
            for k, v in page.items():
                if k not in ("/Parent", "/Annots", "/B", "/StructParents"):
                    d[NameObject(k)] = self.copy(v)
            d[NameObject("/Parent")] = IndirectObject(parent, 0, None)
            self.out.write(num, d)
            nums.append(num)
        while self.todo:
            idnum = self.todo.pop()
            raw = self._raw(idnum)
            if raw is not None:
                self.out.put_raw(self.numbers[idnum], raw)
                continue
            obj = self.reader.get_object(idnum)
            self.out.write(self.numbers[idnum], self.copy(obj))
        return nums

    def _raw(self, idnum: int) -> list[bytes] | None:
        """The object as written, its references renumbered, without parsing it; None
        when it holds anything but names, numbers, arrays, dictionaries, references and
        a stream of a direct length (a string, a comment: pypdf parses it instead)."""
        start = self.reader.xref.get(0, {}).get(idnum)
        if start is None or idnum in self.reader.xref_objStm:
            return None
        data = self.data
        head = _HEADER.match(data, start)
        if head is None or int(head[1]) != idnum:
            return None
        end = data.find(b"endobj", head.end())
        if end < 0:
            return None
        body = data[head.end() : end]
        tail = b""
        stream = _STREAM.search(body)
        if stream is not None:
            length = _LENGTH.search(body, 0, stream.start())
            if length is None:
                return None
            end = head.end() + stream.end() + int(length[1])
            after = _END_STREAM.match(data, end)
            if after is None:
                return None
            tail = data[head.end() + stream.start() : after.end()]
            body = body[: stream.start()]
        elif b"stream" in body:
            return None
        bare = body.replace(b"<<", b"").replace(b">>", b"")
        if any(c in bare for c in b"<>(%") or _OTHER_GENERATION.search(bare):
            return None
        return [_REF.sub(lambda m: b"%d 0 R" % self._ref_num(int(m[1])), body), tail]

    def _ref_num(self, idnum: int) -> int:
        if idnum not in self.numbers:
            self.numbers[idnum] = self.out.reserve()
            self.todo.append(idnum)
        return self.numbers[idnum]


def combine(paths: Iterable[Path], dest: Path) -> int:
    """Write the pages of ``paths``, in order, as one PDF to ``dest`` (under a temporary
    name, renamed when whole); return the number of pages."""
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        out = _Out(fh)
        pages_num = out.reserve()
        kids: list[int] = []
        for path in paths:
            kids.extend(_Document(out, path).pages(pages_num))
        tree = f"<< /Type /Pages /Count {len(kids)} /Kids [{' '.join(f'{k} 0 R' for k in kids)}] >>"
        out.offsets[pages_num] = out.pos
        out.put(f"{pages_num} 0 obj\n{tree}\nendobj\n".encode())
        catalog = out.reserve()
        out.offsets[catalog] = out.pos
        out.put(f"{catalog} 0 obj\n<< /Type /Catalog /Pages {pages_num} 0 R >>\nendobj\n".encode())
        xref = out.pos
        rows = [f"xref\n0 {len(out.offsets)}\n", "0000000000 65535 f \n"]
        rows += [f"{off:010d} 00000 n \n" for off in out.offsets[1:]]
        out.put("".join(rows).encode())
        out.put(
            f"trailer\n<< /Size {len(out.offsets)} /Root {catalog} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n".encode()
        )
    os.replace(tmp, dest)
    return len(kids)
