"""Importing documents: JSON, CSV and UBL 2.1 invoices (docs/import-formats.md).

An import checks everything first and stores nothing when anything is wrong: the
user gets one :class:`ImportProblems` listing every problem with where it is (the
CSV line, the JSON path or the UBL element). Re-importing a document number that
exists is refused unless ``replace`` is given.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from mailing.addresses import check_address
from mailing.errors import AddressError
from store.errors import MailroomError, RecordError
from store.records import (
    SUPPLIER_DOC_TYPES,
    Administration,
    Document,
    Relation,
    StoredFileRef,
)
from store.store import Store

MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_AMOUNT = Decimal("1e12")
MAX_PROBLEMS_SHOWN = 200
TOTAL_TOLERANCE = Decimal("0.02")  # rounding differences per document, in currency units


class ImportProblems(MailroomError):
    """An import found problems; nothing was imported. ``problems`` is [(where, what)]."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        shown = problems[:MAX_PROBLEMS_SHOWN]
        lines = [f"Nothing was imported from {source}: {len(problems)} problem(s) found."]
        lines += [f"  - {where}: {what}" for where, what in shown]
        if len(problems) > len(shown):
            lines.append(f"  ... and {len(problems) - len(shown)} more.")
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


@dataclass
class _Candidate:
    """A document as read from the file, before the checks."""

    where: str  # "documents[3]", "line 4", "/Invoice"
    data: dict[str, Any]
    locate: dict[str, str] = field(default_factory=dict)  # field path -> where
    files: list[tuple[str, Path | bytes, str]] = field(default_factory=list)  # (name, src, type)
    ubl: bytes | None = None
    totals: dict[str, Decimal] = field(default_factory=dict)  # totals the file states
    party: tuple[list[str], list[str]] | None = None  # UBL customer: (ids, names)


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, what: str) -> None:
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
    store: Store, path: str | Path, *, administration: str | None, replace: bool = False
) -> ImportResult:
    """Read, check and store the documents in ``path``; all of them or none."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise ImportProblems(
                str(path), [("file", f"is {size / 1e6:.1f} MB; at most 50 MB can be imported")]
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportProblems(str(path), [("file", f"cannot be read ({exc.strerror})")]) from None
    fmt = detect_format(path, raw[:64])
    problems = _Problems()
    if fmt == "json":
        candidates = list(_read_json(raw, path, problems))
    elif fmt == "csv":
        candidates = list(_read_csv(raw, path, problems))
    else:
        candidates = list(_read_ubl(raw, path, problems))
    docs = _check(store, candidates, administration, replace, problems)
    if problems.items:
        raise ImportProblems(str(path), problems.items)
    if not docs:
        raise ImportProblems(str(path), [("file", "holds no documents")])
    # Everything checked: now copy the files in and store the documents in one write.
    stored: list[Document] = []
    for cand, doc in docs:
        refs: list[StoredFileRef] = []
        for name, src, ctype in cand.files:
            if isinstance(src, Path):
                ref = store.files.add_file(src, name)
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
            f"administration {administration!r} does not exist"
            + (f" (known: {', '.join(sorted(admins))})" if admins else ""),
        )
    seen: dict[str, str] = {}
    out: list[tuple[_Candidate, Document]] = []
    for cand in candidates:
        data = dict(cand.data)
        given = data.get("administration")
        if administration is not None:
            if given not in (None, "", administration):
                problems.add(
                    cand.locate.get("administration", cand.where),
                    f"administration {given!r} differs from --admin {administration!r}",
                )
                continue
            data["administration"] = administration
        elif not given:
            problems.add(cand.where, "no administration: give --admin CODE or fill it in")
            continue
        elif given not in admins:
            problems.add(
                cand.locate.get("administration", cand.where),
                f"administration {given!r} does not exist",
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
                problems.add(_locate(cand, loc), f"{loc} {msg} (value: {_short(value)})")
            continue
        before = len(problems.items)
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
        if len(problems.items) == before:
            out.append((cand, doc))
    return out


def _check_document(
    doc: Document,
    cand: _Candidate,
    relations: dict[tuple[str, str], dict[str, Any]],
    problems: _Problems,
) -> None:
    at = cand.locate.get
    before = len(problems.items)
    rel = relations.get((doc.administration, doc.relation))
    if rel is None:
        problems.add(
            at("relation", cand.where),
            f"relation {doc.relation!r} does not exist in administration {doc.administration}",
        )
    else:
        want = "supplier" if doc.type in SUPPLIER_DOC_TYPES else "customer"
        kind = rel.get("kind", "customer")
        if kind != want:
            problems.add(
                at("relation", cand.where),
                f"relation {doc.relation!r} is a {kind}; a {doc.type} goes to a {want}",
            )
    if doc.invoice_debtor and (doc.administration, doc.invoice_debtor) not in relations:
        problems.add(
            at("invoice_debtor", cand.where),
            f"invoice debtor {doc.invoice_debtor!r} does not exist in administration "
            f"{doc.administration}",
        )
    if not (1990 <= doc.date.year <= 2100):
        problems.add(at("date", cand.where), f"date {doc.date} is not plausible")
    if doc.due_date is not None and doc.due_date < doc.date:
        problems.add(
            at("due_date", cand.where), f"due date {doc.due_date} is before the date {doc.date}"
        )
    if doc.type == "reminder":
        if not doc.open_items:
            problems.add(cand.where, "a reminder needs at least one open item")
        for i, item in enumerate(doc.open_items):
            where = at(f"open_items.{i}", f"{cand.where}.open_items[{i}]")
            if abs(item.amount) >= MAX_AMOUNT or abs(item.open_amount) >= MAX_AMOUNT:
                problems.add(where, "amount is too large")
            if item.amount >= 0 and not (0 <= item.open_amount <= item.amount):
                problems.add(
                    where,
                    f"open amount {item.open_amount} must lie between 0 and the amount {item.amount}",
                )
            if item.due_date < item.date:
                problems.add(where, f"due date {item.due_date} is before the date {item.date}")
    elif not doc.lines:
        problems.add(cand.where, f"a {doc.type} needs at least one line")
    for i, ln in enumerate(doc.lines):
        where = at(f"lines.{i}", f"{cand.where}.lines[{i}]")
        for name in ("quantity", "unit_price", "vat_rate"):
            value: Decimal = getattr(ln, name)
            if not value.is_finite():
                problems.add(where, f"{name} {value} is not a number")
        if not ln.description.strip():
            problems.add(where, "description is empty")
        if ln.vat_rate.is_finite() and not (0 <= ln.vat_rate <= 100):
            problems.add(where, f"VAT rate {ln.vat_rate} must be between 0 and 100")
        if (
            ln.quantity.is_finite()
            and ln.unit_price.is_finite()
            and abs(ln.quantity * ln.unit_price) >= MAX_AMOUNT
        ):
            problems.add(where, "line amount is too large")
    if doc.order_override is not None:
        for kind in ("to", "cc", "bcc"):
            for addr in getattr(doc.order_override, kind):
                try:
                    check_address(addr, f"order_override.{kind}")
                except AddressError as exc:
                    problems.add(at("order_override", cand.where), exc.message)
    # Totals the file states must agree with the lines.
    if len(problems.items) > before:
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
    shown = ", ".join([*(f"id {i!r}" for i in ids), *(f"name {n!r}" for n in names)]) or "nothing"
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


def _locate(cand: _Candidate, loc: str) -> str:
    parts = loc.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in cand.locate:
            return cand.locate[key]
    return cand.where


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _decimal(value: Any) -> Decimal | Any:
    """A number from a file: '12.50', '12,50' (comma when there is no dot), 12.5."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            return Decimal(text)
        except InvalidOperation:
            return value  # validation names it
    return value


# ---------------------------------------------------------------- JSON

_TOTAL_KEYS = ("total_excl", "total_vat", "total_incl")


def _read_json(raw: bytes, path: Path, problems: _Problems) -> Iterator[_Candidate]:
    try:
        data = json.loads(raw.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError:
        problems.add("file", "is not UTF-8 text")
        return
    except json.JSONDecodeError as exc:
        problems.add(f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}")
        return
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
    for i, item in enumerate(items):
        where = f"{base}[{i}]"
        if not isinstance(item, dict):
            problems.add(where, "must be an object")
            continue
        doc = dict(item)
        totals = {k: _decimal(doc.pop(k)) for k in _TOTAL_KEYS if k in doc}
        for k, v in totals.items():
            if not isinstance(v, Decimal):
                problems.add(f"{where}.{k}", f"is not a number (value: {_short(v)})")
        files: list[tuple[str, Path | bytes, str]] = []
        attachments = doc.pop("attachments", [])
        if not isinstance(attachments, list):
            problems.add(f"{where}.attachments", "must be a list of file paths")
            attachments = []
        for j, att in enumerate(attachments):
            spec = att.get("path") if isinstance(att, dict) else att
            name = att.get("name") if isinstance(att, dict) else None
            if not isinstance(spec, str) or not spec:
                problems.add(f"{where}.attachments[{j}]", "must be a file path")
                continue
            file = (path.parent / spec).resolve()
            if not file.is_file():
                problems.add(f"{where}.attachments[{j}]", f"file {spec!r} does not exist")
                continue
            files.append((str(name or file.name), file, ""))
        for key in ("lines", "open_items"):
            if isinstance(doc.get(key), list):
                doc[key] = [_numbers(x) for x in doc[key]]
        locate = {k: f"{where}.{k}" for k in doc}
        for key in ("lines", "open_items"):
            if isinstance(doc.get(key), list):
                for j in range(len(doc[key])):
                    locate[f"{key}.{j}"] = f"{where}.{key}[{j}]"
        locate.update({k: f"{where}.{k}" for k in _TOTAL_KEYS})
        cand = _Candidate(where=where, data=doc, locate=locate, files=files)
        cand.totals = {k: v for k, v in totals.items() if isinstance(v, Decimal)}
        yield cand


def _numbers(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    out = dict(item)
    for key in ("quantity", "unit_price", "vat_rate", "amount", "open_amount"):
        if key in out:
            out[key] = _decimal(out[key])
    return out


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


def _read_csv(raw: bytes, path: Path, problems: _Problems) -> Iterator[_Candidate]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add("file", f"is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8")
        return
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    unknown = [h for h in header if h not in CSV_FIELDS]
    if unknown:
        problems.add("line 1", f"unknown column(s): {', '.join(unknown)}")
    missing = [h for h in CSV_REQUIRED if h not in header]
    if missing:
        problems.add("line 1", f"missing column(s): {', '.join(missing)}")
    if unknown or missing:
        return
    groups: dict[tuple[str, str, str], _Candidate] = {}
    first_line: dict[tuple[str, str, str], int] = {}
    for row in reader:
        lineno = reader.line_num
        if None in row:
            problems.add(f"line {lineno}", "has more fields than the header")
            continue
        row = {k: (v or "").strip() for k, v in row.items()}
        if not any(row.values()):
            continue
        key = (row.get("administration", ""), row["type"], row["number"])
        docfields = {k: row[k] for k in CSV_DOCUMENT_FIELDS if k in row}
        totals = {k: row[k] for k in CSV_TOTAL_FIELDS if row.get(k)}
        cand = groups.get(key)
        if cand is None:
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
                        f"{v!r} differs from {cand.data.get(k, '')!r} on line {first_line[key]} "
                        f"of the same document",
                    )
        for k, v in totals.items():
            value = _decimal(v)
            if not isinstance(value, Decimal):
                problems.add(f"line {lineno}, column {k}", f"{v!r} is not a number")
            else:
                cand.totals[k] = value
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
                    line[k] = _decimal(row[k])
            cand.data["lines"].append(line)
            cand.locate[f"lines.{n}"] = f"line {lineno}"
        elif has_item:
            n = len(cand.data["open_items"])
            cand.data["open_items"].append(
                {
                    "number": row.get("item_number", ""),
                    "date": row.get("item_date", ""),
                    "due_date": row.get("item_due_date", ""),
                    "amount": _decimal(row.get("item_amount", "")),
                    "open_amount": _decimal(row.get("item_open_amount", "")),
                }
            )
            cand.locate[f"open_items.{n}"] = f"line {lineno}"
    yield from groups.values()


# ---------------------------------------------------------------- UBL 2.1

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_CODE_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")


def _read_ubl(raw: bytes, path: Path, problems: _Problems) -> Iterator[_Candidate]:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(raw)
    except DefusedXmlException as exc:
        problems.add("file", f"refused: the XML uses DTDs or entities ({type(exc).__name__})")
        return
    except ParseError as exc:
        problems.add(f"line {exc.position[0]}", f"invalid XML: {exc}")
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
        problems.add("/", f"the root element is {tag}, not a UBL 2.1 Invoice or CreditNote")
        return

    def text(el: Any, xpath: str) -> str:
        found = el.find(xpath, NS)
        return (found.text or "").strip() if found is not None and found.text else ""

    def where(name: str) -> str:
        return f"{rootname}/{name}"

    data: dict[str, Any] = {"type": "sales_invoice"}
    locate: dict[str, str] = {}
    number = text(root, "cbc:ID")
    locate["number"] = where("cbc:ID")
    if not number:
        problems.add(where("cbc:ID"), "the invoice number is missing")
    elif not _CODE_OK.match(number):
        problems.add(
            where("cbc:ID"),
            f"invoice number {number!r} must be 1-40 letters, digits, '.', '_' or '-'",
        )
    data["number"] = number
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
    stated_lines: list[tuple[int, Any]] = []
    for i, el in enumerate(root.findall(f"cac:{line_tag}", NS), start=1):
        at = where(f"cac:{line_tag}[{i}]")
        locate[f"lines.{i - 1}"] = at
        qty = _decimal(text(el, f"cbc:{qty_tag}") or "1")
        price = _decimal(text(el, "cac:Price/cbc:PriceAmount"))
        base_qty = _decimal(text(el, "cac:Price/cbc:BaseQuantity") or "1")
        rate = _decimal(text(el, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent") or "0")
        name = text(el, "cac:Item/cbc:Name") or text(el, "cac:Item/cbc:Description")
        bad = False
        for label, value, xp in (
            ("quantity", qty, f"cbc:{qty_tag}"),
            ("price", price, "cac:Price/cbc:PriceAmount"),
            ("base quantity", base_qty, "cac:Price/cbc:BaseQuantity"),
            ("VAT percent", rate, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"),
        ):
            if not isinstance(value, Decimal) or not value.is_finite():
                problems.add(f"{at}/{xp}", f"{label} {value!r} is not a number")
                bad = True
        if bad:
            continue
        if base_qty == 0:
            problems.add(f"{at}/cac:Price/cbc:BaseQuantity", "base quantity is 0")
            continue
        unit = price / base_qty
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
        stated = _decimal(text(el, "cbc:LineExtensionAmount"))
        if isinstance(stated, Decimal):
            stated_lines.append((i, stated))
            computed = (qty * unit).quantize(Decimal("0.01"))
            if abs(stated - computed) > Decimal("0.01"):
                problems.add(
                    f"{at}/cbc:LineExtensionAmount",
                    f"line amount {stated} differs from quantity × price = {computed}",
                )
    # Document-level allowances (negative) and charges become lines of their own.
    for i, el in enumerate(root.findall("cac:AllowanceCharge", NS), start=1):
        at = where(f"cac:AllowanceCharge[{i}]")
        amount = _decimal(text(el, "cbc:Amount"))
        rate = _decimal(text(el, "cac:TaxCategory/cbc:Percent") or "0")
        if not isinstance(amount, Decimal) or not isinstance(rate, Decimal):
            problems.add(at, "amount or VAT percent is not a number")
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
        value = _decimal(raw_value)
        locate[key] = where(xp)
        if not isinstance(value, Decimal):
            problems.add(where(xp), f"{raw_value!r} is not a number")
        else:
            totals[key] = value * sign
    cand = _Candidate(where=rootname, data=data, locate=locate, ubl=raw, totals=totals)
    cand.party = (party_ids, party_names) if party is not None else None
    yield cand
