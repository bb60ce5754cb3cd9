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
"""

from __future__ import annotations

import codecs
import csv
import json
import mimetypes
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from mailing.addresses import check_address
from mailing.errors import AddressError
from store.errors import MailroomError, RecordError
from store.files import MAX_FILE_BYTES
from store.records import (
    SUPPLIER_DOC_TYPES,
    Administration,
    Document,
    Relation,
    StoredFileRef,
)
from store.store import Store

MB = 1024 * 1024
MAX_IMPORT_BYTES = 50 * MB
MAX_ATTACHMENT_BYTES = MAX_FILE_BYTES  # what the data folder stores (store/files.py)
MAX_DOCUMENTS = 20_000  # per import file
MAX_LINES = 10_000  # lines (or open items) of one document; entries of any JSON list in it
MAX_FIELDS = 64  # fields of one JSON object in a document (a document has 17)
MAX_DOCUMENT_VALUES = 100_000  # fields and entries in one JSON document, all levels
MAX_JSON_DEPTH = 64  # nested objects/lists; a document needs 5
MAX_JSON_VALUES = 1_000_000  # values in a JSON file, counted before it is parsed
MAX_CSV_ROWS = 100_000
MAX_CSV_FIELD = 131_072  # characters in one CSV field: the csv module's default field_size_limit
MAX_XML_TAGS = 500_000  # '<' in a UBL file, counted before it is parsed
MAX_CSV_SEPARATORS = 10_000  # separators on one line of a CSV file, counted before parsing
MAX_AMOUNT = Decimal("1e12")  # prices, amounts and totals lie strictly between -10¹² and 10¹²
MAX_QUANTITY = Decimal("1e9")  # quantities likewise between -10⁹ and 10⁹
MAX_DECIMALS = 4
MAX_PATH_CHARS = 1024
MAX_NAME_CHARS = 200
MAX_PROBLEMS_SHOWN = 200
MAX_PROBLEMS_KEPT = 10_000
TOTAL_TOLERANCE = Decimal("0.02")  # rounding differences per document, in currency units
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")  # never a source of attachments
_STEP = Decimal(1).scaleb(-MAX_DECIMALS)  # 0.0001
_CHUNK = MB


class ImportProblems(MailroomError):
    """An import found problems; nothing was imported. ``problems`` is [(where, what)].

    ``total`` counts the problems found when more were found than ``problems`` keeps.
    """

    def __init__(
        self, source: str, problems: list[tuple[str, str]], *, total: int | None = None
    ) -> None:
        self.problems = problems
        count = max(total or 0, len(problems))
        shown = problems[:MAX_PROBLEMS_SHOWN]
        lines = [f"Nothing was imported from {source}: {count} problem(s) found."]
        lines += [f"  - {where}: {what}" for where, what in shown]
        if count > len(shown):
            lines.append(f"  ... and {count - len(shown)} more.")
        super().__init__(
            "\n".join(lines),
            field=problems[0][0] if problems else "",
            value=source,
            fix="correct the file and import it again; see docs/import-formats.md.",
        )


@dataclass
class ImportResult:
    count: int
    documents: list[Document] = field(default_factory=list)


@dataclass(frozen=True)
class _Folder:
    """The one folder attachments may come from (its real path, links resolved)."""

    real: str
    described: str  # for messages: which folder this is and why


@dataclass(frozen=True)
class _AttachmentFile:
    """An attachment that passed the checks: a regular file inside the folder."""

    where: str  # documents[0].attachments[1]
    given: str  # the path as written in the file
    real: str
    dev: int
    ino: int


@dataclass
class _Candidate:
    """A document as read from the file, before the checks."""

    where: str  # "documents[3]", "line 4", "/Invoice"
    data: dict[str, Any]
    locate: dict[str, str] = field(default_factory=dict)  # field path -> where
    files: list[tuple[str, _AttachmentFile | bytes, str]] = field(default_factory=list)
    ubl: bytes | None = None
    totals: dict[str, Decimal] = field(default_factory=dict)  # totals the file states
    party: tuple[list[str], list[str]] | None = None  # UBL customer: (ids, names)
    flawed: bool = False  # a number was refused while reading: skip the sums


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.count = 0

    def add(self, where: str, what: str) -> None:
        self.count += 1
        if len(self.items) < MAX_PROBLEMS_KEPT:
            self.items.append((where, what))


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


# ---------------------------------------------------------------- files


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode cannot be read as a document or attachment, or None."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is not a regular file but a pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is not a regular file but a device"
    if stat.S_ISSOCK(mode):
        return "is not a regular file but a socket"
    return "is not a regular file"


def _open(path: str, *, nofollow: bool) -> tuple[int, os.stat_result]:
    """Open for reading without blocking (a pipe, a terminal) and fstat the descriptor."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    if nofollow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        return fd, os.fstat(fd)
    except OSError:
        os.close(fd)
        raise


def _read_fd(fd: int, limit: int) -> bytes | None:
    """All bytes of ``fd`` in chunks, or None as soon as there are more than ``limit``."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            return None


def _mb(size: int) -> str:
    return f"{size / MB:,.1f} MB"


def _read_import_file(path: Path, source: str) -> bytes:
    """The bytes of the import file: a regular file of at most MAX_IMPORT_BYTES."""

    def refused(what: str) -> ImportProblems:
        return ImportProblems(source, [("file", what)])

    too_big = (
        f"is larger than {MAX_IMPORT_BYTES // MB} MB, the most one import takes; "
        "split it into smaller files"
    )
    try:
        st = os.stat(path)
    except OSError as exc:
        raise refused(f"cannot be read ({exc.strerror})") from None
    except ValueError:  # a NUL character, a name the system cannot encode
        raise refused("is not a usable file name") from None
    why = _not_regular(st.st_mode)
    if why:
        raise refused(f"{why}; import a JSON, CSV or UBL XML file saved on disk")
    if st.st_size > MAX_IMPORT_BYTES:
        raise refused(too_big.replace("is larger", f"is {_mb(st.st_size)}, larger"))
    try:
        fd, fst = _open(str(path), nofollow=False)
    except OSError as exc:
        raise refused(f"cannot be read ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(fst.st_mode) or (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
            raise refused("was replaced while it was being read; import it again")
        data = _read_fd(fd, MAX_IMPORT_BYTES)
    except OSError as exc:
        raise refused(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if data is None:
        raise refused(too_big)
    return data


def _in_system_folder(real: str) -> bool:
    return any(real == top or real.startswith(top + "/") for top in SYSTEM_FOLDERS)


def _inside(real: str, folder: str) -> bool:
    return real == folder or real.startswith(folder.rstrip("/") + "/")


def _attachments_folder(path: Path, given: str | Path | None, source: str) -> _Folder:
    """The folder attachment paths are relative to: ``--attachments DIR`` or the file's own."""
    if given is None:
        real = os.path.realpath(os.path.abspath(path.parent))
        return _Folder(real, f"the import file's folder {real}")
    shown = _short(str(given))
    if _bad_text(str(given)):
        raise ImportProblems(source, [("--attachments", f"{shown} is not a usable folder name")])
    real = os.path.realpath(os.path.abspath(os.path.expanduser(str(given))))
    problem = ""
    if _in_system_folder(real):
        problem = (
            f"{shown} is a system folder ({', '.join(SYSTEM_FOLDERS)}); name the folder "
            "that holds the documents' files"
        )
    else:
        try:
            st = os.stat(real)
        except FileNotFoundError:
            problem = f"the folder {shown} does not exist; name the folder that holds the files"
        except OSError as exc:
            problem = f"the folder {shown} cannot be used ({exc.strerror})"
        else:
            if not stat.S_ISDIR(st.st_mode):
                problem = f"{shown} is not a folder; name the folder that holds the files"
    if problem:
        raise ImportProblems(source, [("--attachments", problem)])
    return _Folder(real, f"the --attachments folder {real}")


def _bad_text(text: str) -> bool:
    """Control or format characters (line breaks, NUL, escape, bidi overrides), or
    lone surrogates (not text; a file name the system cannot encode)."""
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in text)


def _attachment(
    spec: Any, folder: _Folder, where: str, problems: _Problems
) -> _AttachmentFile | None:
    """Check one attachment path; add a problem and return None when it is refused.

    The rules: a relative path without any '..' part, joined to the folder; all links
    resolved, the result must lie inside the folder and outside /proc, /sys and /dev;
    it must be a regular file (not a pipe, device, socket or folder) of at most
    MAX_ATTACHMENT_BYTES according to fstat of the opened descriptor (O_NOFOLLOW).
    Not one byte is read here.
    """
    if not isinstance(spec, str) or not spec.strip():
        problems.add(where, f'must be a file path like "terms.pdf" (value: {_short(spec)})')
        return None
    shown = _short(spec)
    elsewhere = "or name the folder that holds it with --attachments DIR"
    if len(spec) > MAX_PATH_CHARS or _bad_text(spec):
        problems.add(
            where,
            f"{shown} is not a usable file path (too long, or control characters in it)",
        )
        return None
    if os.path.isabs(spec) or spec.startswith("~"):
        problems.add(
            where,
            f"{shown} is an absolute path; attachment paths are relative to "
            f"{folder.described}: give the path from there, {elsewhere}",
        )
        return None
    if ".." in spec.replace("\\", "/").split("/"):
        problems.add(
            where,
            f"{shown} goes up a folder with '..'; only files in {folder.described} and "
            f"its subfolders can be attached: move the file there, {elsewhere}",
        )
        return None
    real = os.path.realpath(os.path.join(folder.real, spec))
    if _in_system_folder(real):
        problems.add(
            where,
            f"{shown} leads into a system folder ({_short(real)}); attach an ordinary "
            "file, never one from /proc, /sys or /dev",
        )
        return None
    if not _inside(real, folder.real):
        problems.add(
            where,
            f"{shown} is a link to {_short(real)}, outside {folder.described}; copy the "
            "file into the folder instead of linking to it",
        )
        return None
    try:
        st = os.lstat(real)
    except FileNotFoundError:
        problems.add(
            where, f"{shown} does not exist in {folder.described}; check the name, {elsewhere}"
        )
        return None
    except OSError as exc:
        problems.add(where, f"{shown} cannot be read ({exc.strerror}); check its permissions")
        return None
    why = _not_regular(st.st_mode)
    if why:
        problems.add(where, f"{shown} {why}; attach an ordinary file")
        return None
    try:
        fd, fst = _open(real, nofollow=True)
    except OSError as exc:
        problems.add(where, f"{shown} cannot be read ({exc.strerror}); check its permissions")
        return None
    os.close(fd)
    why = _not_regular(fst.st_mode)
    if why or (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
        problems.add(where, f"{shown} changed while it was checked; import again")
        return None
    if fst.st_size > MAX_ATTACHMENT_BYTES:
        problems.add(
            where,
            f"{shown} is {_mb(fst.st_size)}; an attachment can be at most "
            f"{MAX_ATTACHMENT_BYTES // MB} MB: attach a smaller file or share it another way",
        )
        return None
    return _AttachmentFile(where, spec, real, fst.st_dev, fst.st_ino)


def _read_attachment(src: _AttachmentFile, source: str) -> bytes:
    """The bytes of a checked attachment, read in chunks; it must still be the same file."""

    def refused(what: str) -> ImportProblems:
        return ImportProblems(source, [(src.where, f"{_short(src.given)} {what}")])

    try:
        fd, st = _open(src.real, nofollow=True)
    except OSError as exc:
        raise refused(f"cannot be read ({exc.strerror})") from None
    try:
        if (
            not stat.S_ISREG(st.st_mode)
            or (st.st_dev, st.st_ino) != (src.dev, src.ino)
            or st.st_size > MAX_ATTACHMENT_BYTES
        ):
            raise refused("changed while it was imported; import again")
        data = _read_fd(fd, MAX_ATTACHMENT_BYTES)
    except OSError as exc:
        raise refused(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if data is None:
        raise refused("grew while it was imported; import again")
    return data


def _decode(raw: bytes, problems: _Problems) -> str | None:
    """UTF-8 text (a BOM at the start is dropped); else the lines that are not UTF-8."""
    body = raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        first = exc.start
    view = memoryview(body)
    pos, found = first, 0
    while pos >= 0 and found < 5:
        start = body.rfind(b"\n", 0, pos) + 1
        end = body.find(b"\n", pos)
        end = len(body) if end < 0 else end
        near = body[max(start, pos - 30) : min(end, pos + 30)]
        line = near.decode("utf-8", errors="replace").rstrip("\r")
        lineno = body.count(b"\n", 0, start) + 1
        problems.add(
            f"line {lineno}",
            f"is not UTF-8 text (near {_short(line)}); save the file as UTF-8 "
            "(in Excel: 'CSV UTF-8'; in other programs: encoding UTF-8)",
        )
        found += 1
        try:
            codecs.utf_8_decode(view[end:], "strict", True)
            pos = -1
        except UnicodeDecodeError as exc:
            pos = end + exc.start
    return None


# ---------------------------------------------------------------- the checks


def _check(
    store: Store,
    candidates: list[_Candidate],
    administration: str | None,
    replace: bool,
    problems: _Problems,
) -> list[tuple[_Candidate, Document]]:
    with store.view() as tx:
        admins = {a["code"] for a in tx.raw(Administration)}
        relations = {(r["administration"], r["code"]): r for r in tx.raw(Relation)}
    with store.view(Document) as tx:
        existing = {
            f"{d.get('administration')}/{d.get('type')}/{d.get('number')}" for d in tx.raw(Document)
        }
    if administration is not None and administration not in admins:
        problems.add(
            "--admin",
            f"administration {_short(administration)} does not exist"
            + (f" (known: {', '.join(sorted(admins))})" if admins else ""),
        )
    seen: dict[str, str] = {}
    out: list[tuple[_Candidate, Document]] = []
    for cand in candidates:
        data = dict(cand.data)
        given = data.get("administration")
        at_admin = cand.locate.get("administration", cand.where)
        if given is not None and not isinstance(given, str):
            problems.add(at_admin, f"administration {_short(given)} must be a code (text)")
            continue
        if administration is not None:
            if given not in (None, "", administration):
                problems.add(
                    at_admin,
                    f"administration {_short(given)} differs from --admin "
                    f"{_short(administration)}; leave it empty or make them the same",
                )
                continue
            data["administration"] = administration
        elif not given:
            problems.add(
                at_admin, "no administration: give --admin CODE or fill in the administration"
            )
            continue
        elif given not in admins:
            problems.add(
                at_admin,
                f"administration {_short(given)} does not exist"
                + (f" (known: {', '.join(sorted(admins))})" if admins else ""),
            )
            continue
        crowded = [
            (key, len(data[key]))
            for key in ("lines", "open_items")
            if isinstance(data.get(key), list) and len(data[key]) > MAX_LINES
        ]
        if crowded:
            key, n = crowded[0]
            problems.add(
                cand.locate.get(key, cand.where),
                f"the document has {n:,} {key.replace('_', ' ')}; at most {MAX_LINES:,} "
                "fit in one document: split it into several documents",
            )
            continue
        if cand.party is not None:
            code = _match_party(cand, data["administration"], relations, problems)
            if code is None:
                continue
            data["relation"] = code
        try:
            doc = Document.parse(data)
        except RecordError as exc:
            for loc, value, msg in exc.problems:
                place, label = _locate(cand, loc)
                shown = "" if isinstance(value, dict) else f" (value: {_short(value)})"
                problems.add(place, f"{label} {_plain(msg)}{shown}")
            continue
        before = problems.count
        _check_document(doc, cand, relations, problems)
        if doc.id in seen:
            problems.add(
                cand.where,
                f"{doc.type} {doc.number} appears twice in the file (also at {seen[doc.id]})",
            )
        else:
            seen[doc.id] = cand.where
        if doc.id in existing and not replace:
            problems.add(
                cand.locate.get("number", cand.where),
                f"{doc.type} {doc.number} already exists in administration "
                f"{doc.administration}; use --replace to replace it",
            )
        if problems.count == before:
            out.append((cand, doc))
    return out


def _check_document(
    doc: Document,
    cand: _Candidate,
    relations: dict[tuple[str, str], dict[str, Any]],
    problems: _Problems,
) -> None:
    at = cand.locate.get
    before = problems.count
    rel = relations.get((doc.administration, doc.relation))
    if rel is None:
        problems.add(
            at("relation", cand.where),
            f"relation {_short(doc.relation)} does not exist in administration "
            f"{doc.administration}; add the relation first or correct the code",
        )
    else:
        want = "supplier" if doc.type in SUPPLIER_DOC_TYPES else "customer"
        kind = rel.get("kind", "customer")
        if kind != want:
            problems.add(
                at("relation", cand.where),
                f"relation {_short(doc.relation)} is a {kind}; a {doc.type} goes to a {want}",
            )
    if doc.invoice_debtor and (doc.administration, doc.invoice_debtor) not in relations:
        problems.add(
            at("invoice_debtor", cand.where),
            f"invoice debtor {_short(doc.invoice_debtor)} does not exist in administration "
            f"{doc.administration}; add the relation first or correct the code",
        )
    if not (1990 <= doc.date.year <= 2100):
        problems.add(at("date", cand.where), f"date {doc.date} is not plausible")
    if doc.due_date is not None and doc.due_date < doc.date:
        problems.add(
            at("due_date", cand.where), f"due date {doc.due_date} is before the date {doc.date}"
        )
    # A number refused while reading was replaced by 0: its sums would only mislead.
    sums = not cand.flawed
    if doc.type == "reminder":
        if not doc.open_items:
            problems.add(cand.where, "a reminder needs at least one open item")
        for i, item in enumerate(doc.open_items):
            where = at(f"open_items.{i}", f"{cand.where}.open_items[{i}]")
            amounts = (item.amount, item.open_amount)
            if not all(_sane(v, MAX_AMOUNT) for v in amounts):
                problems.add(where, "amount is not a number or too large")
                continue
            if sums and item.amount >= 0 and not (0 <= item.open_amount <= item.amount):
                problems.add(
                    where,
                    f"open amount {item.open_amount} must lie between 0 and the amount {item.amount}",
                )
            if item.due_date < item.date:
                problems.add(where, f"due date {item.due_date} is before the date {item.date}")
    elif not doc.lines and sums:  # (a UBL line with a refused number is left out)
        problems.add(cand.where, f"a {doc.type} needs at least one line")
    for i, ln in enumerate(doc.lines):
        where = at(f"lines.{i}", f"{cand.where}.lines[{i}]")
        ok = True
        for name, bound in (
            ("quantity", MAX_QUANTITY),
            ("unit_price", MAX_AMOUNT),
            ("vat_rate", MAX_AMOUNT),
        ):
            value: Decimal = getattr(ln, name)
            if not _sane(value, bound):
                problems.add(where, f"{name} {_short(str(value))} is not a number or too large")
                ok = False
        if not ln.description.strip():
            problems.add(where, "description is empty")
        if ok and not (0 <= ln.vat_rate <= 100):
            problems.add(where, f"VAT rate {ln.vat_rate} must be between 0 and 100")
        if ok and abs(ln.quantity * ln.unit_price) >= MAX_AMOUNT:
            problems.add(
                where,
                f"line amount {ln.quantity} × {ln.unit_price} is too large; it must be "
                f"less than {MAX_AMOUNT:,.0f}",
            )
    if doc.order_override is not None:
        for kind in ("to", "cc", "bcc"):
            for addr in getattr(doc.order_override, kind):
                try:
                    check_address(addr, f"order_override.{kind}")
                except AddressError as exc:
                    problems.add(
                        at("order_override", cand.where),
                        f"{kind} address {_short(addr)} is not a valid e-mail address; {exc.fix}",
                    )
    # Totals the file states must agree with the lines.
    if problems.count > before or not sums:
        return
    stated = cand.totals
    computed = {
        "total_excl": doc.total_excl,
        "total_vat": doc.total_vat,
        "total_incl": doc.total_incl,
    }
    for key, value in stated.items():
        if value is None:
            continue
        if abs(value - computed[key]) > TOTAL_TOLERANCE:
            problems.add(
                at(key, cand.where),
                f"{key} is {value} in the file but the lines add up to {computed[key]}",
            )


def _match_party(
    cand: _Candidate,
    administration: str,
    relations: dict[tuple[str, str], dict[str, Any]],
    problems: _Problems,
) -> str | None:
    """The relation code of a UBL customer: by PartyIdentification/ID, else by name."""
    assert cand.party is not None
    ids, names = cand.party
    where = cand.locate.get("relation", cand.where)
    for pid in ids:
        if (administration, pid) in relations:
            return pid
    wanted = {n.casefold() for n in names}
    found = [
        code
        for (adm, code), rel in relations.items()
        if adm == administration and str(rel.get("name", "")).casefold() in wanted
    ]
    if len(found) == 1:
        return found[0]
    shown = (
        ", ".join([*(f"id {_short(i)}" for i in ids[:5]), *(f"name {_short(n)}" for n in names)])
        or "nothing"
    )
    if found:
        problems.add(
            where,
            f"the customer ({shown}) matches several relations: {', '.join(sorted(found))}; "
            "put the relation code in cac:PartyIdentification/cbc:ID",
        )
    else:
        problems.add(
            where,
            f"no relation in administration {administration} matches the customer ({shown}); "
            "the relation code goes in cac:PartyIdentification/cbc:ID",
        )
    return None


def _locate(cand: _Candidate, loc: str) -> tuple[str, str]:
    """Where a validation problem at ``loc`` (``lines.0.unit_price``) is in the file,
    and the field's name to put in the message (``unit_price``)."""
    parts = loc.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in cand.locate:
            rest = parts[n:] or parts[-1:]
            return cand.locate[key], _field_name(rest)
    return cand.where, _field_name(parts)


def _clip(name: str) -> str:
    """A field name from the file, shortened for a message."""
    return name if len(name) <= 40 else name[:37] + "..."


def _field_name(parts: list[str]) -> str:
    out = ""
    for p in map(_clip, parts):
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "the document"


# Pydantic's wording, in words for an office administrator.
_PLAIN = (
    ("Input should be a valid decimal", "is not a number; write digits like 1234.50"),
    ("Decimal input should be", "is not a number; write digits like 1234.50"),
    ("Input should be a finite number", "is not a usable number; write digits like 1234.50"),
    ("Input should be a valid number", "is not a number; write digits like 1234.50"),
    ("Input should be a valid date", "is not a real date; write it as YYYY-MM-DD, e.g. 2025-03-31"),
    ("Datetimes provided to dates", "must be a date without a time, e.g. 2025-03-31"),
    ("Input should be a valid string", "must be text"),
    ("Input should be a valid list", "must be a list [...]"),
    ("Input should be a valid dictionary", "must be an object {...}"),
    ("Input should be an object", "must be an object {...}"),
    ("Input should be a valid integer", "must be a whole number"),
    ("Input should be", "should be"),
)


def _plain(msg: str) -> str:
    for prefix, plain in _PLAIN:
        if msg.startswith(prefix):
            return plain if prefix != "Input should be" else plain + msg[len(prefix) :]
    return msg


def _short(value: Any) -> str:
    """A value from the file for a message: quoted, escaped, at most 60 characters."""
    if isinstance(value, dict):
        return "{...}" if value else "{}"
    if isinstance(value, list | tuple):
        return "[...]" if value else "[]"
    text = str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _decimal(value: Any) -> Decimal | Any:
    """A number from a file: '12.50', '12,50' (comma when there is no dot), 12.5."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, str) and len(value) <= 1000:
        text = value.strip().replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            return Decimal(text)
        except InvalidOperation:
            return value  # validation names it
    return value


def _sane(value: Decimal, bound: Decimal) -> bool:
    """Finite and strictly between -bound and bound; no arithmetic that could overflow."""
    return value.is_finite() and value.copy_abs() < bound


def _number(raw: Any, label: str, bound: Decimal) -> tuple[Decimal, str | None]:
    """A number read from the file, checked before any arithmetic: (value, None), or
    (0, what is wrong) so that the document can still be checked for other problems."""
    value = _decimal(raw)
    shown = _short(str(raw) if isinstance(raw, Decimal) else raw)
    if not isinstance(value, Decimal):
        return Decimal(0), f"{label} {shown} is not a number; write digits like 1234.50"
    if not value.is_finite():
        return Decimal(0), (
            f"{label} {shown} is not a usable number (infinite or not a number); "
            "write digits like 1234.50"
        )
    if value.copy_abs() >= bound:
        return Decimal(0), (
            f"{label} {shown} is too large; it must be less than {bound:,.0f} "
            f"(and more than -{bound:,.0f})"
        )
    if value != value.quantize(_STEP):
        return Decimal(0), (
            f"{label} {shown} has more than {MAX_DECIMALS} decimals; round it to at most "
            f"{MAX_DECIMALS}"
        )
    return value, None


# Which bound each number field has; a VAT rate is further checked to be 0-100.
_BOUNDS = {
    "quantity": MAX_QUANTITY,
    "unit_price": MAX_AMOUNT,
    "vat_rate": MAX_AMOUNT,
    "amount": MAX_AMOUNT,
    "open_amount": MAX_AMOUNT,
    "total_excl": MAX_AMOUNT,
    "total_vat": MAX_AMOUNT,
    "total_incl": MAX_AMOUNT,
}


# ---------------------------------------------------------------- JSON

_TOTAL_KEYS = ("total_excl", "total_vat", "total_incl")
# A JSON string; one that is never closed runs to the end of the text (the closing
# quote is optional), so that no quote is tried twice: linear time on any input.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def _json_int(text: str) -> int | Decimal:
    # A long integer as a Decimal: Python refuses int('9' * 5000), and the number
    # checks then name the field and say it is too large.
    return int(text) if len(text) <= 18 else Decimal(text)


def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - text.rfind(chr(10), 0, pos)}"


def _json_bounded(text: str, problems: _Problems) -> bool:
    """Count the values and measure the nesting before parsing; both are bounded."""
    skeleton = _JSON_STRING.sub('""', text)  # what is left outside strings
    values = skeleton.count(",") + skeleton.count("[") + skeleton.count("{")
    if values > MAX_JSON_VALUES:
        problems.add(
            "file",
            f"holds more than {MAX_JSON_VALUES:,} values; split it into smaller files",
        )
        return False
    depth = 0
    for n, m in enumerate(_BRACKET.finditer(skeleton), start=1):
        if m.group() in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                problems.add(
                    _line_col(text, _nth_bracket(text, n)),
                    f"the data is nested more than {MAX_JSON_DEPTH} levels deep; a document "
                    "file needs only a few levels: check that this is a document export",
                )
                return False
        else:
            depth -= 1
    return True


def _nth_bracket(text: str, n: int) -> int:
    """Where the n-th bracket outside strings is in ``text``."""
    for m in _JSON_TOKEN.finditer(text):
        if m.group()[0] != '"':
            n -= 1
            if n == 0:
                return m.start()
    return 0


def _read_json(raw: bytes, folder: _Folder, problems: _Problems) -> Iterator[_Candidate]:
    text = _decode(raw, problems)
    if text is None or not _json_bounded(text, problems):
        return
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=_json_int, parse_constant=Decimal)
    except json.JSONDecodeError as exc:
        problems.add(f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}")
        return
    except (ValueError, RecursionError):  # bounded above; never a traceback all the same
        problems.add("file", "cannot be read as JSON; export the documents again")
        return
    del text
    if isinstance(data, dict) and "documents" in data:
        items, base = data["documents"], "documents"
    elif isinstance(data, list):
        items, base = data, ""
    else:
        problems.add("file", 'must hold a list of documents or {"documents": [...]}')
        return
    if not isinstance(items, list):
        problems.add(base, "must be a list of documents")
        return
    if len(items) > MAX_DOCUMENTS:
        problems.add(
            base or "file",
            f"holds {len(items):,} documents; at most {MAX_DOCUMENTS:,} can be imported at "
            "once: split the file",
        )
        return
    for i, item in enumerate(items):
        where = f"{base}[{i}]"
        if not isinstance(item, dict):
            problems.add(where, f"must be an object {{...}} (value: {_short(item)})")
            continue
        shape = _json_shape(item, where)
        if shape is not None:
            problems.add(*shape)
            continue
        doc = dict(item)
        cand = _Candidate(where=where, data=doc)
        for k in _TOTAL_KEYS:
            if k in doc:
                value, problem = _number(doc.pop(k), k, _BOUNDS[k])
                if problem:
                    problems.add(f"{where}.{k}", problem)
                    cand.flawed = True
                else:
                    cand.totals[k] = value
        attachments = doc.pop("attachments", [])
        if not isinstance(attachments, list):
            problems.add(
                f"{where}.attachments",
                f'must be a list of file paths like ["terms.pdf"] (value: {_short(attachments)})',
            )
            attachments = []
        for j, att in enumerate(attachments):
            at = f"{where}.attachments[{j}]"
            name = None
            if isinstance(att, dict):
                unknown = [str(k) for k in att if k not in ("path", "name")]
                if unknown:
                    problems.add(
                        at,
                        f"unknown key(s) {', '.join(_short(k) for k in unknown[:5])}; "
                        'an attachment is a path, or {"path": ..., "name": ...}',
                    )
                    continue
                spec, name = att.get("path"), att.get("name")
                if name is not None and (
                    not isinstance(name, str)
                    or not name.strip()
                    or len(name) > MAX_NAME_CHARS
                    or _bad_text(name)
                    or "/" in name
                    or "\\" in name
                ):
                    problems.add(
                        at,
                        f"name {_short(name)} must be a plain file name like "
                        f'"Terms.pdf" (at most {MAX_NAME_CHARS} characters, no folders)',
                    )
                    continue
            else:
                spec = att
            src = _attachment(spec, folder, at, problems)
            if src is not None:
                cand.files.append((name or os.path.basename(src.given), src, ""))
        for key in ("lines", "open_items"):
            if isinstance(doc.get(key), list):
                rows = []
                for j, row in enumerate(doc[key]):
                    row, flawed = _numbers(row, f"{where}.{key}[{j}]", problems)
                    cand.flawed |= flawed
                    rows.append(row)
                doc[key] = rows
        locate = {k: f"{where}.{_clip(k)}" for k in doc}
        locate.setdefault("administration", f"{where}.administration")
        for key in ("lines", "open_items"):
            if isinstance(doc.get(key), list):
                for j in range(len(doc[key])):
                    locate[f"{key}.{j}"] = f"{where}.{key}[{j}]"
        locate.update({k: f"{where}.{k}" for k in _TOTAL_KEYS})
        cand.locate = locate
        yield cand


def _json_shape(doc: dict[str, Any], where: str) -> tuple[str, str] | None:
    """(where, what) when a list or object in the document is larger than any document
    needs; checked before validation, which would otherwise report each entry."""
    stack: list[tuple[Any, str]] = [(doc, where)]
    total = 0
    while stack:
        value, at = stack.pop()
        if isinstance(value, dict):
            if len(value) > MAX_FIELDS:
                return at, (
                    f"has {len(value):,} fields; at most {MAX_FIELDS} are possible: "
                    "check that this is a document export"
                )
            items: Iterable[tuple[Any, Any]] = value.items()
        else:
            if len(value) > MAX_LINES:
                return at, (
                    f"has {len(value):,} entries; at most {MAX_LINES:,} fit in one document: "
                    "split it into several documents"
                )
            items = enumerate(value)
        total += len(value)
        if total > MAX_DOCUMENT_VALUES:
            return where, (
                f"holds more than {MAX_DOCUMENT_VALUES:,} values; split it into several documents"
            )
        for k, v in items:
            if isinstance(v, dict | list):
                stack.append((v, f"{at}[{k}]" if isinstance(k, int) else f"{at}.{_clip(k)}"))
    return None


def _numbers(item: Any, where: str, problems: _Problems) -> tuple[Any, bool]:
    """A line or open item with its numbers checked; True when one was refused."""
    if not isinstance(item, dict):
        return item, False
    out = dict(item)
    flawed = False
    for key in ("quantity", "unit_price", "vat_rate", "amount", "open_amount"):
        if key in out:
            value, problem = _number(out[key], key, _BOUNDS[key])
            if problem:
                problems.add(where, problem)
                flawed = True
            out[key] = value
    return out, flawed


# ---------------------------------------------------------------- CSV

CSV_DOCUMENT_FIELDS = (
    "administration",
    "type",
    "number",
    "relation",
    "invoice_debtor",
    "date",
    "due_date",
    "currency",
    "reference",
    "description",
)
CSV_LINE_FIELDS = ("article", "line_description", "quantity", "unit_price", "vat_rate")
CSV_ITEM_FIELDS = ("item_number", "item_date", "item_due_date", "item_amount", "item_open_amount")
CSV_TOTAL_FIELDS = _TOTAL_KEYS
CSV_FIELDS = (*CSV_DOCUMENT_FIELDS, *CSV_LINE_FIELDS, *CSV_ITEM_FIELDS, *CSV_TOTAL_FIELDS)
CSV_REQUIRED = ("type", "number", "relation", "date")


class _TooWide(Exception):
    """A CSV line with more separators than any document export has."""


def _text_lines(text: str, delimiter: str) -> Iterator[str]:
    """The lines of ``text``, one at a time (a copy of a 50 MB text is not needed),
    each checked for its number of separators before the csv module splits it."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        end = size if end < 0 else end + 1
        line = text[start:end]
        if line.count(delimiter) > MAX_CSV_SEPARATORS:
            raise _TooWide
        yield line
        start = end


def _csv_rows(text: str, delimiter: str, problems: _Problems) -> Iterator[tuple[int, list[str]]]:
    """(line number where the row starts, fields); a row that cannot be read ends it."""
    reader = csv.reader(_text_lines(text, delimiter), delimiter=delimiter)
    count = 0
    while True:
        lineno = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except _TooWide:
            problems.add(
                f"line {reader.line_num + 1}",
                f"has more than {MAX_CSV_SEPARATORS:,} {'semicolons' if delimiter == ';' else 'commas'}; "
                "a document file has one per column: check that this is a document export",
            )
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                problems.add(
                    f"line {lineno}",
                    f"a field is longer than {MAX_CSV_FIELD:,} characters (perhaps a quote "
                    '" that is never closed); shorten the field or close the quote',
                )
            else:
                problems.add(f"line {lineno}", "cannot be read as CSV; save it again as CSV")
            return
        count += 1
        if count > MAX_CSV_ROWS + 1:  # + the header
            problems.add(
                f"line {lineno}",
                f"the file has more than {MAX_CSV_ROWS:,} rows; at most that many can be "
                "imported at once: split the file",
            )
            return
        yield lineno, row


def _read_csv(raw: bytes, problems: _Problems) -> Iterator[_Candidate]:
    text = _decode(raw, problems)
    if text is None:
        return
    first = text.split("\n", 1)[0] if len(text) < 4096 else text[:4096].split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = _csv_rows(text, delimiter, problems)
    try:
        _, header_row = next(rows)
    except StopIteration:
        return
    header = [h.strip() for h in header_row]
    unknown = [h for h in header if h not in CSV_FIELDS]
    if unknown:
        shown = ", ".join(_short(h) for h in unknown[:10])
        problems.add(
            "line 1",
            f"unknown column(s): {shown}{' ...' if len(unknown) > 10 else ''}; the columns "
            "are listed in docs/import-formats.md",
        )
    missing = [h for h in CSV_REQUIRED if h not in header]
    if missing:
        problems.add("line 1", f"missing column(s): {', '.join(missing)}")
    twice = sorted({h for h in header if header.count(h) > 1 and h in CSV_FIELDS})
    if twice:
        problems.add("line 1", f"column(s) given twice: {', '.join(twice)}")
    if unknown or missing or twice:
        return
    groups: dict[tuple[str, str, str], _Candidate] = {}
    first_line: dict[tuple[str, str, str], int] = {}
    for lineno, fields in rows:
        if not fields:
            continue
        if len(fields) > len(header):
            problems.add(f"line {lineno}", "has more fields than the header")
            continue
        row = {h: (fields[i].strip() if i < len(fields) else "") for i, h in enumerate(header)}
        if not any(row.values()):
            continue
        key = (row.get("administration", ""), row["type"], row["number"])
        docfields = {k: row[k] for k in CSV_DOCUMENT_FIELDS if k in row}
        cand = groups.get(key)
        if cand is None:
            if len(groups) >= MAX_DOCUMENTS:
                problems.add(
                    f"line {lineno}",
                    f"the file holds more than {MAX_DOCUMENTS:,} documents; at most that "
                    "many can be imported at once: split the file",
                )
                return
            data: dict[str, Any] = {k: v for k, v in docfields.items() if v != ""}
            data["lines"], data["open_items"] = [], []
            cand = _Candidate(where=f"line {lineno}", data=data)
            cand.locate = {k: f"line {lineno}, column {k}" for k in CSV_DOCUMENT_FIELDS}
            groups[key] = cand
            first_line[key] = lineno
        else:
            for k, v in docfields.items():
                if v != "" and str(cand.data.get(k, "")) != v:
                    problems.add(
                        f"line {lineno}, column {k}",
                        f"{_short(v)} differs from {_short(cand.data.get(k, ''))} on line "
                        f"{first_line[key]} of the same document; give it the same value",
                    )

        for k in CSV_TOTAL_FIELDS:
            if row.get(k):
                cand.totals[k] = _csv_number(row, k, k, lineno, cand, problems)
                cand.locate[k] = f"line {lineno}, column {k}"
        has_line = any(row.get(k) for k in CSV_LINE_FIELDS)
        has_item = any(row.get(k) for k in CSV_ITEM_FIELDS)
        if has_line and has_item:
            problems.add(f"line {lineno}", "holds both a document line and an open item")
        elif has_line:
            n = len(cand.data["lines"])
            line: dict[str, Any] = {"description": row.get("line_description", "")}
            if row.get("article"):
                line["article"] = row["article"]
            for k in ("quantity", "unit_price", "vat_rate"):
                if row.get(k):
                    line[k] = _csv_number(row, k, k, lineno, cand, problems)
            cand.data["lines"].append(line)
            cand.locate[f"lines.{n}"] = f"line {lineno}"
        elif has_item:
            n = len(cand.data["open_items"])
            cand.data["open_items"].append(
                {
                    "number": row.get("item_number", ""),
                    "date": row.get("item_date", ""),
                    "due_date": row.get("item_due_date", ""),
                    "amount": _csv_number(row, "item_amount", "amount", lineno, cand, problems),
                    "open_amount": _csv_number(
                        row, "item_open_amount", "open_amount", lineno, cand, problems
                    ),
                }
            )
            cand.locate[f"open_items.{n}"] = f"line {lineno}"
    yield from groups.values()


def _csv_number(
    row: dict[str, str],
    column: str,
    name: str,
    lineno: int,
    cand: _Candidate,
    problems: _Problems,
) -> Decimal:
    value, problem = _number(row[column], name, _BOUNDS[name])
    if problem:
        problems.add(f"line {lineno}, column {column}", problem)
        cand.flawed = True
    return value


# ---------------------------------------------------------------- UBL 2.1

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_CODE_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")


def _read_ubl(raw: bytes, problems: _Problems) -> Iterator[_Candidate]:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    if raw.count(b"<") > MAX_XML_TAGS:
        problems.add(
            "file",
            f"holds more than {MAX_XML_TAGS:,} XML tags; one invoice never needs that many",
        )
        return
    try:
        root = fromstring(raw, forbid_dtd=True)
    except DefusedXmlException:
        problems.add(
            "file",
            "refused: the XML uses DTDs or entities, which an e-invoice never needs; "
            "export it again as plain UBL",
        )
        return
    except ParseError as exc:
        problems.add(f"line {exc.position[0]}", f"invalid XML: {exc}")
        return
    except LookupError:
        problems.add("line 1", "the XML declares an encoding that is not known; save it as UTF-8")
        return
    except (ValueError, RecursionError):  # never a traceback
        problems.add("file", "cannot be read as XML; export it again as UBL")
        return
    tag = root.tag
    if tag == f"{{{NS['inv']}}}Invoice":
        credit, rootname, line_tag, qty_tag = False, "/Invoice", "InvoiceLine", "InvoicedQuantity"
    elif tag == f"{{{NS['cn']}}}CreditNote":
        credit, rootname, line_tag, qty_tag = (
            True,
            "/CreditNote",
            "CreditNoteLine",
            "CreditedQuantity",
        )
    else:
        problems.add("/", f"the root element is {_short(tag)}, not a UBL 2.1 Invoice or CreditNote")
        return

    def text(el: Any, xpath: str) -> str:
        found = el.find(xpath, NS)
        return (found.text or "").strip() if found is not None and found.text else ""

    def where(name: str) -> str:
        return f"{rootname}/{name}"

    data: dict[str, Any] = {"type": "sales_invoice"}
    locate: dict[str, str] = {}
    flawed = False

    def number(raw_value: str, place: str, label: str, bound: Decimal) -> Decimal | None:
        nonlocal flawed
        value, problem = _number(raw_value, label, bound)
        if problem:
            problems.add(place, problem)
            flawed = True
            return None
        return value

    number_id = text(root, "cbc:ID")
    locate["number"] = where("cbc:ID")
    if not number_id:
        problems.add(where("cbc:ID"), "the invoice number is missing")
    elif not _CODE_OK.match(number_id):
        problems.add(
            where("cbc:ID"),
            f"invoice number {_short(number_id)} must be 1-40 letters, digits, '.', '_' or '-'",
        )
    data["number"] = number_id
    data["date"] = text(root, "cbc:IssueDate")
    locate["date"] = where("cbc:IssueDate")
    due = text(root, "cbc:DueDate") or text(root, "cac:PaymentMeans/cbc:PaymentDueDate")
    if due:
        data["due_date"] = due
    locate["due_date"] = where("cbc:DueDate")
    cur = text(root, "cbc:DocumentCurrencyCode")
    if cur:
        data["currency"] = cur
    locate["currency"] = where("cbc:DocumentCurrencyCode")
    ref = text(root, "cbc:BuyerReference") or text(root, "cac:OrderReference/cbc:ID")
    if ref:
        data["reference"] = ref[:200]
    note = text(root, "cbc:Note")
    if note:
        data["description"] = note.splitlines()[0][:200]

    party = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    locate["relation"] = where("cac:AccountingCustomerParty")
    if party is None:
        problems.add(where("cac:AccountingCustomerParty"), "the customer is missing")
        party_ids: list[str] = []
        party_names: list[str] = []
    else:
        party_ids = [
            (e.text or "").strip() for e in party.findall("cac:PartyIdentification/cbc:ID", NS)
        ]
        party_names = [
            n
            for n in (
                text(party, "cac:PartyName/cbc:Name"),
                text(party, "cac:PartyLegalEntity/cbc:RegistrationName"),
            )
            if n
        ]

    lines: list[dict[str, Any]] = []
    sign = Decimal(-1) if credit else Decimal(1)
    for i, el in enumerate(root.findall(f"cac:{line_tag}", NS), start=1):
        at = where(f"cac:{line_tag}[{i}]")
        locate[f"lines.{i - 1}"] = at
        name = text(el, "cac:Item/cbc:Name") or text(el, "cac:Item/cbc:Description")
        checked = [
            number(text(el, xp) or default, f"{at}/{xp}", label, bound)
            for label, xp, default, bound in (
                ("quantity", f"cbc:{qty_tag}", "1", MAX_QUANTITY),
                ("price", "cac:Price/cbc:PriceAmount", "", MAX_AMOUNT),
                ("base quantity", "cac:Price/cbc:BaseQuantity", "1", MAX_QUANTITY),
                ("VAT percent", "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", "0", MAX_AMOUNT),
            )
        ]
        qty, price, base_qty, rate = checked
        if qty is None or price is None or base_qty is None or rate is None:
            continue
        if base_qty <= 0:
            problems.add(
                f"{at}/cac:Price/cbc:BaseQuantity", f"base quantity {base_qty} must be more than 0"
            )
            flawed = True
            continue
        unit = price / base_qty
        if (qty * unit).copy_abs() >= MAX_AMOUNT:
            problems.add(
                at,
                f"the line amount (quantity {qty} × price {price} / base quantity {base_qty}) "
                f"is too large; it must be less than {MAX_AMOUNT:,.0f}",
            )
            flawed = True
            continue
        line: dict[str, Any] = {
            "description": name,
            "quantity": qty * sign,
            "unit_price": unit,
            "vat_rate": rate,
        }
        article = text(el, "cac:Item/cac:SellersItemIdentification/cbc:ID")
        if article:
            line["article"] = article[:40]
        lines.append(line)
        stated_text = text(el, "cbc:LineExtensionAmount")
        if stated_text:
            xp = f"{at}/cbc:LineExtensionAmount"
            stated = number(stated_text, xp, "line amount", MAX_AMOUNT)
            computed = (qty * unit).quantize(Decimal("0.01"))
            if stated is not None and abs(stated - computed) > Decimal("0.01"):
                problems.add(
                    xp,
                    f"line amount {stated} differs from quantity × price = {computed}",
                )
    # Document-level allowances (negative) and charges become lines of their own.
    for i, el in enumerate(root.findall("cac:AllowanceCharge", NS), start=1):
        at = where(f"cac:AllowanceCharge[{i}]")
        amount = number(text(el, "cbc:Amount"), f"{at}/cbc:Amount", "amount", MAX_AMOUNT)
        rate = number(
            text(el, "cac:TaxCategory/cbc:Percent") or "0",
            f"{at}/cac:TaxCategory/cbc:Percent",
            "VAT percent",
            MAX_AMOUNT,
        )
        if amount is None or rate is None:
            continue
        is_charge = text(el, "cbc:ChargeIndicator").lower() == "true"
        reason = text(el, "cbc:AllowanceChargeReason") or ("Charge" if is_charge else "Allowance")
        locate[f"lines.{len(lines)}"] = at
        lines.append(
            {
                "description": reason,
                "quantity": sign,
                "unit_price": amount if is_charge else -amount,
                "vat_rate": rate,
            }
        )
    data["lines"] = lines
    totals: dict[str, Decimal] = {}
    for key, xp in (
        ("total_excl", "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount"),
        ("total_incl", "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"),
        ("total_vat", "cac:TaxTotal/cbc:TaxAmount"),
    ):
        raw_value = text(root, xp)
        if not raw_value:
            continue
        locate[key] = where(xp)
        value = number(raw_value, where(xp), key, MAX_AMOUNT)
        if value is not None:
            totals[key] = value * sign
    cand = _Candidate(where=rootname, data=data, locate=locate, ubl=raw, totals=totals)
    cand.party = (party_ids, party_names) if party is not None else None
    cand.flawed = flawed
    yield cand
