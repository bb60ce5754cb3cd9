"""Importing documents: JSON, CSV and UBL 2.1 invoices (docs/import-formats.md).

An import checks everything first and stores nothing when anything is wrong: the
user gets one :class:`ImportProblems` listing every problem with where it is (the
CSV line, the JSON path or the UBL element). Re-importing a document number that
exists is refused unless ``replace`` is given.

Files are hostile until checked: the import file and every attachment must be a
regular file whose size (``fstat`` of the opened descriptor) is within the limit
before a byte is read; attachments come only from one folder (the import file's, or
the one given with ``--attachments``), never through ``..``, an absolute path, a link
that leaves the folder, or /proc, /sys and /dev. The data is bounded before it is
parsed (nesting depth, number of JSON values, CSV rows and field length, XML tags)
and every number must be finite, within a sane bound and have at most 4 decimals.

This package owns the whole import, from the file's bytes to the stored documents;
each module holds one part of it:

- ``problems``: the problem collector, :class:`ImportProblems`, values shortened for messages
- ``files``: reading an untrusted file (regular, size checked first, in chunks)
- ``text``: UTF-8 decoding with the bad lines named; unusable characters
- ``numbers``: numbers parsed and bounded before any arithmetic
- ``attachments``: the one attachments folder and the checks of each path
- ``candidate``: a document as read, before the checks
- ``json_reader``, ``csv_reader``, ``ubl_reader``: the three formats
- ``checks``: the checks of the documents read (relations, dates, lines, totals)
- this module: :func:`import_documents`, which reads, checks and stores
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

from mailing.importer.attachments import (
    MAX_ATTACHMENT_BYTES,
    MAX_PATH_CHARS,
    SYSTEM_FOLDERS,
    _AttachmentFile,
    _attachments_folder,
    _read_attachment,
)
from mailing.importer.candidate import MAX_DOCUMENTS, MAX_LINES
from mailing.importer.checks import TOTAL_TOLERANCE, _check
from mailing.importer.csv_reader import (
    CSV_DOCUMENT_FIELDS,
    CSV_FIELDS,
    CSV_ITEM_FIELDS,
    CSV_LINE_FIELDS,
    CSV_REQUIRED,
    CSV_TOTAL_FIELDS,
    MAX_CSV_FIELD,
    MAX_CSV_ROWS,
    MAX_CSV_SEPARATORS,
    _read_csv,
)
from mailing.importer.files import MAX_IMPORT_BYTES, MB, _read_import_file
from mailing.importer.json_reader import (
    MAX_DOCUMENT_VALUES,
    MAX_FIELDS,
    MAX_JSON_DEPTH,
    MAX_JSON_VALUES,
    MAX_NAME_CHARS,
    _read_json,
)
from mailing.importer.numbers import MAX_AMOUNT, MAX_DECIMALS, MAX_QUANTITY
from mailing.importer.problems import (
    MAX_PROBLEMS_KEPT,
    MAX_PROBLEMS_SHOWN,
    ImportProblems,
    _Problems,
    _short,
)
from mailing.importer.text import _bad_text
from mailing.importer.ubl_reader import MAX_XML_TAGS, NS, _read_ubl
from store.records import Document, StoredFileRef
from store.store import Store

__all__ = [
    "CSV_DOCUMENT_FIELDS",
    "CSV_FIELDS",
    "CSV_ITEM_FIELDS",
    "CSV_LINE_FIELDS",
    "CSV_REQUIRED",
    "CSV_TOTAL_FIELDS",
    "MAX_AMOUNT",
    "MAX_ATTACHMENT_BYTES",
    "MAX_CSV_FIELD",
    "MAX_CSV_ROWS",
    "MAX_CSV_SEPARATORS",
    "MAX_DECIMALS",
    "MAX_DOCUMENTS",
    "MAX_DOCUMENT_VALUES",
    "MAX_FIELDS",
    "MAX_IMPORT_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_JSON_VALUES",
    "MAX_LINES",
    "MAX_NAME_CHARS",
    "MAX_PATH_CHARS",
    "MAX_PROBLEMS_KEPT",
    "MAX_PROBLEMS_SHOWN",
    "MAX_QUANTITY",
    "MAX_XML_TAGS",
    "MB",
    "NS",
    "SYSTEM_FOLDERS",
    "TOTAL_TOLERANCE",
    "ImportProblems",
    "ImportResult",
    "detect_format",
    "import_documents",
]


@dataclass
class ImportResult:
    count: int
    documents: list[Document] = field(default_factory=list)


# ---------------------------------------------------------------- entry point


def detect_format(path: Path, head: bytes) -> str:
    ext = path.suffix.lower()
    if ext == ".json":
        return "json"
    if ext == ".csv":
        return "csv"
    if ext in (".xml", ".ubl"):
        return "ubl"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"{", b"[")):
        return "json"
    if text.startswith(b"<"):
        return "ubl"
    return "csv"


def import_documents(
    store: Store,
    path: str | Path,
    *,
    administration: str | None,
    replace: bool = False,
    attachments_dir: str | Path | None = None,
) -> ImportResult:
    """Read, check and store the documents in ``path``; all of them or none.

    Attachment paths in the file are relative to ``attachments_dir`` when given,
    else to the import file's folder (see :func:`_attachment`).
    """
    path = Path(path)
    source = _short(str(path)) if _bad_text(str(path)) else str(path)
    folder = _attachments_folder(path, attachments_dir, source)
    raw = _read_import_file(path, source)
    fmt = detect_format(path, raw[:64])
    problems = _Problems()
    if fmt == "json":
        candidates = list(_read_json(raw, folder, problems))
    elif fmt == "csv":
        candidates = list(_read_csv(raw, problems))
    else:
        candidates = list(_read_ubl(raw, problems))
    docs = _check(store, candidates, administration, replace, problems)
    if problems.count:
        raise ImportProblems(source, problems.items, total=problems.count)
    if not docs:
        raise ImportProblems(source, [("file", "holds no documents")])
    # Everything checked: now copy the files in and store the documents in one write.
    stored: list[Document] = []
    copied: dict[tuple[int, int], StoredFileRef] = {}
    for cand, doc in docs:
        refs: list[StoredFileRef] = []
        for name, src, ctype in cand.files:
            if isinstance(src, _AttachmentFile):
                ref = copied.get((src.dev, src.ino))
                if ref is None:
                    ref = store.files.add_bytes(name, _read_attachment(src, source), ctype or None)
                    copied[(src.dev, src.ino)] = ref
                elif ref.name != name:
                    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
                    ref = ref.model_copy(update={"name": name, "content_type": guessed})
            else:
                ref = store.files.add_bytes(name, src, ctype)
            refs.append(ref)
        if refs:
            doc = doc.model_copy(update={"attachments": [*doc.attachments, *refs]})
        if cand.ubl is not None:
            ubl_ref = store.files.add_bytes(f"{doc.number}.xml", cand.ubl, "application/xml")
            doc = doc.model_copy(update={"ubl": ubl_ref})
        stored.append(doc)
    store.put_many(stored)
    return ImportResult(count=len(stored), documents=stored)
