"""The objects a template can be for, and the fields each one offers (SPEC §2).

``OBJECT_FIELDS`` is the one list of names a template of an object may use: the
expression picker shows it, :func:`mailing.render.validate_template` refuses any
other name, and :func:`document_context` / :func:`sample_context` produce exactly
these keys. Names are flat and friendly (``number``, ``total``, ``relation_name``)
so an administrator can type them without knowing the records behind them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from store.records import (
    DOC_TYPES,
    OBJECTS,
    SUPPLIER_DOC_TYPES,
    Administration,
    Document,
    Relation,
    User,
)

# Field types shown in the picker; the filters that suit each are in mailing.render.
TEXT, MONEY, DATE, NUMBER, LIST = "text", "money", "date", "number", "list"


@dataclass(frozen=True)
class FieldInfo:
    """One name a template may use: its type and what it holds.

    ``items`` describes the fields of each element of a ``list`` field
    (``{% for item in open_items %}{{ item.number }}{% endfor %}``).
    """

    name: str
    type: str
    description: str
    items: tuple[FieldInfo, ...] = field(default=())


def _f(name: str, type_: str, description: str, items: tuple[FieldInfo, ...] = ()) -> FieldInfo:
    return FieldInfo(name, type_, description, items)


# Object names as an administrator reads them (the TUI shows these).
OBJECT_LABELS: dict[str, str] = {
    "reminder": "Reminder",
    "sales_invoice": "Sales invoice",
    "order_confirmation": "Order confirmation",
    "down_payment": "Down-payment request",
    "packing_slip": "Packing slip",
    "subscription_invoice": "Subscription invoice",
    "purchase_order": "Purchase order",
    "counter_invoice": "Counter sale invoice",
    "report": "Report",
    "backup": "Backup",
    "manual": "Hand-written e-mail",
}

LINE_FIELDS: tuple[FieldInfo, ...] = (
    _f("description", TEXT, "what was delivered"),
    _f("article", TEXT, "article code"),
    _f("quantity", NUMBER, "quantity"),
    _f("unit_price", MONEY, "price per unit, excluding VAT"),
    _f("amount", MONEY, "line amount, excluding VAT"),
    _f("vat_rate", NUMBER, "VAT rate in percent"),
)

OPEN_ITEM_FIELDS: tuple[FieldInfo, ...] = (
    _f("number", TEXT, "invoice number"),
    _f("date", DATE, "invoice date"),
    _f("due_date", DATE, "date the invoice was due"),
    _f("amount", MONEY, "original invoice amount"),
    _f("open_amount", MONEY, "amount still open"),
    _f("days_overdue", NUMBER, "days past the due date"),
)

# Fields every object has: who sends, for which company.
COMMON_FIELDS: tuple[FieldInfo, ...] = (
    _f("administration_name", TEXT, "name of the company (the administration)"),
    _f("administration_email", TEXT, "the company's e-mail address"),
    _f("administration_phone", TEXT, "the company's telephone number"),
    _f("administration_website", TEXT, "the company's website"),
    _f("iban", TEXT, "the company's bank account (IBAN)"),
    _f("bic", TEXT, "the company's bank identifier (BIC)"),
    _f("vat_number", TEXT, "the company's VAT number"),
    _f("coc_number", TEXT, "the company's chamber of commerce number"),
    _f("sender_name", TEXT, "name signing the message (the user, else the company)"),
    _f("user_name", TEXT, "full name of the user who sends"),
    _f("today", DATE, "the date the message is made"),
)


def _document_fields(doc_type: str) -> tuple[FieldInfo, ...]:
    party = "supplier" if doc_type in SUPPLIER_DOC_TYPES else "customer"
    fields: list[FieldInfo] = [
        _f("document_type", TEXT, "the document type identifier, e.g. sales_invoice"),
        _f("number", TEXT, "document number"),
        _f("date", DATE, "document date"),
        _f("reference", TEXT, f"the {party}'s reference or order number"),
        _f("description", TEXT, "description of the document"),
        _f("relation_name", TEXT, f"name of the {party}"),
        _f("relation_code", TEXT, f"code of the {party}"),
        _f(f"{party}_name", TEXT, f"name of the {party} (same as relation_name)"),
        _f(f"{party}_code", TEXT, f"code of the {party} (same as relation_code)"),
        _f("contact_name", TEXT, f"the {party}'s contact person for this document, if any"),
        _f("currency", TEXT, "currency code, e.g. EUR"),
        _f("lines", LIST, "the document lines", LINE_FIELDS),
    ]
    if doc_type != "packing_slip":
        fields += [
            _f("total", MONEY, "total amount including VAT"),
            _f("total_excl", MONEY, "total amount excluding VAT"),
            _f("total_vat", MONEY, "total VAT"),
        ]
    if doc_type in ("sales_invoice", "down_payment", "subscription_invoice", "counter_invoice"):
        fields += [
            _f("due_date", DATE, "date the amount is due"),
            _f("payment_days", NUMBER, "payment term in days"),
        ]
    if doc_type == "purchase_order":
        fields.append(_f("delivery_date", DATE, "requested delivery date"))
    if doc_type == "reminder":
        fields = [f for f in fields if f.name not in ("lines", "total_excl", "total_vat")]
        fields += [
            _f("open_total", MONEY, "total amount still open"),
            _f("oldest_days", NUMBER, "days the oldest open item is overdue"),
            _f("open_items", LIST, "the open items", OPEN_ITEM_FIELDS),
            _f("payment_days", NUMBER, "days given to pay"),
        ]
    return (*fields, *COMMON_FIELDS)


_OTHER_FIELDS: dict[str, tuple[FieldInfo, ...]] = {
    "report": (
        _f("report_name", TEXT, "name of the report"),
        _f("period", TEXT, "period the report covers"),
        _f("file_name", TEXT, "name of the attached PDF"),
        _f("recipient_name", TEXT, "name of the recipient, if known"),
    ),
    "backup": (
        _f("file_name", TEXT, "name of the attached backup file"),
        _f("created", DATE, "when the backup was made"),
        _f("size", TEXT, "size of the backup, e.g. 2.4 MB"),
        _f("installation", TEXT, "the installation (host) the backup is from"),
    ),
    "manual": (
        _f("recipient_name", TEXT, "name of the recipient, if known"),
        _f("relation_name", TEXT, "name of the relation written to, if any"),
    ),
}

OBJECT_FIELDS: dict[str, list[FieldInfo]] = {
    obj: list(_document_fields(obj) if obj in DOC_TYPES else (*_OTHER_FIELDS[obj], *COMMON_FIELDS))
    for obj in OBJECTS
}


def field_names(obj: str) -> list[str]:
    """The names a template of ``obj`` may use, in picker order."""
    return [f.name for f in OBJECT_FIELDS[obj]]


# ---------------------------------------------------------------- real values


def common_context(administration: Administration | None, user: User | None) -> dict[str, Any]:
    admin_name = administration.name if administration else ""
    user_name = (user.full_name or user.name) if user else ""
    return {
        "administration_name": admin_name,
        "administration_email": administration.email if administration else "",
        "administration_phone": administration.phone if administration else "",
        "administration_website": administration.website if administration else "",
        "iban": administration.iban if administration else "",
        "bic": administration.bic if administration else "",
        "vat_number": administration.vat_number if administration else "",
        "coc_number": administration.coc_number if administration else "",
        "sender_name": user_name or admin_name,
        "user_name": user_name,
        "today": dt.date.today(),
    }


def _contact_for(doc_type: str, relation: Relation) -> str:
    roles = ["invoice", "administration", "main"] if doc_type == "sales_invoice" else []
    roles += ["administration", "main"]
    for role in roles:
        c = relation.contact_with_role(role)
        if c is not None and c.name:
            return c.name
    return ""


def document_context(
    doc: Document, relation: Relation, administration: Administration, user: User | None
) -> dict[str, Any]:
    """The values of every field of ``doc.type``: money as Decimal, dates as date."""
    party = "supplier" if doc.type in SUPPLIER_DOC_TYPES else "customer"
    payment_days = administration.payment_days
    due = doc.due_date
    if due is not None:
        payment_days = max((due - doc.date).days, 0)
    elif doc.type in ("sales_invoice", "down_payment", "subscription_invoice", "counter_invoice"):
        due = doc.date + dt.timedelta(days=payment_days)
    ctx: dict[str, Any] = {
        "document_type": doc.type,
        "number": doc.number,
        "date": doc.date,
        "reference": doc.reference,
        "description": doc.description,
        "relation_name": relation.name,
        "relation_code": relation.code,
        f"{party}_name": relation.name,
        f"{party}_code": relation.code,
        "contact_name": _contact_for(doc.type, relation),
        "currency": doc.currency,
        "lines": [
            {
                "description": ln.description,
                "article": ln.article,
                "quantity": ln.quantity,
                "unit_price": ln.unit_price,
                "amount": ln.amount,
                "vat_rate": ln.vat_rate,
            }
            for ln in doc.lines
        ],
        "total": doc.total_incl,
        "total_excl": doc.total_excl,
        "total_vat": doc.total_vat,
        "due_date": due,
        "payment_days": payment_days,
        "delivery_date": doc.due_date,
    }
    if doc.type == "reminder":
        today = dt.date.today()
        items = [
            {
                "number": it.number,
                "date": it.date,
                "due_date": it.due_date,
                "amount": it.amount,
                "open_amount": it.open_amount,
                "days_overdue": max((today - it.due_date).days, 0),
            }
            for it in doc.open_items
        ]
        ctx["open_items"] = items
        ctx["open_total"] = doc.total_incl
        ctx["oldest_days"] = max(
            (max((today - it.due_date).days, 0) for it in doc.open_items), default=0
        )
        ctx["payment_days"] = (due - doc.date).days if due else 14
    ctx.update(common_context(administration, user))
    names = set(field_names(doc.type))
    return {k: v for k, v in ctx.items() if k in names}


def object_context(
    obj: str,
    administration: Administration | None,
    user: User | None,
    **values: Any,
) -> dict[str, Any]:
    """Context for a report, backup or hand-written mail: the common fields plus ``values``.

    Unknown keys are a programming error (they would not be in the picker); missing
    ones are filled with an empty text so a template never fails on them.
    """
    names = field_names(obj)
    unknown = set(values) - set(names)
    if unknown:
        raise ValueError(f"{obj} has no field(s) {', '.join(sorted(unknown))}")
    ctx: dict[str, Any] = {n: "" for n in names}
    ctx.update(common_context(administration, user))
    ctx.update(values)
    return ctx


# ---------------------------------------------------------------- samples for previews


def sample_context(obj: str) -> dict[str, Any]:
    """Plausible values for every field of ``obj``, for previews and template tests."""
    if obj not in OBJECT_FIELDS:
        raise KeyError(obj)
    common: dict[str, Any] = {
        "administration_name": "Holtkamp Installatietechniek B.V.",
        "administration_email": "info@holtkamp.example",
        "administration_phone": "+31 30 123 45 67",
        "administration_website": "https://holtkamp.example",
        "iban": "NL91ABNA0417164300",
        "bic": "ABNANL2A",
        "vat_number": "NL123456789B01",
        "coc_number": "30123456",
        "sender_name": "Dana de Vries",
        "user_name": "Dana de Vries",
        "today": dt.date(2025, 3, 14),
    }
    party = "supplier" if obj in SUPPLIER_DOC_TYPES else "customer"
    lines = [
        {
            "description": "Onderhoud cv-ketel",
            "article": "SRV-100",
            "quantity": Decimal("1"),
            "unit_price": Decimal("185.00"),
            "amount": Decimal("185.00"),
            "vat_rate": Decimal("21"),
        },
        {
            "description": "Thermostaatkraan",
            "article": "TK-15",
            "quantity": Decimal("4"),
            "unit_price": Decimal("262.39"),
            "amount": Decimal("1049.56"),
            "vat_rate": Decimal("21"),
        },
    ]
    ctx: dict[str, Any] = {
        "document_type": obj,
        "number": "2025-00123",
        "date": dt.date(2025, 3, 14),
        "due_date": dt.date(2025, 4, 13),
        "delivery_date": dt.date(2025, 3, 28),
        "reference": "PO-88412",
        "description": "Onderhoud maart",
        "relation_name": "Bakkerij Jansen & Zn.",
        "relation_code": "D10042",
        f"{party}_name": "Bakkerij Jansen & Zn.",
        f"{party}_code": "D10042",
        "contact_name": "Mevr. A. Jansen",
        "currency": "EUR",
        "lines": lines,
        "total_excl": Decimal("1234.56"),
        "total_vat": Decimal("259.26"),
        "total": Decimal("1493.82"),
        "payment_days": 30,
        "open_items": [
            {
                "number": "2025-00017",
                "date": dt.date(2025, 1, 10),
                "due_date": dt.date(2025, 2, 9),
                "amount": Decimal("1210.00"),
                "open_amount": Decimal("1210.00"),
                "days_overdue": 33,
            },
            {
                "number": "2025-00044",
                "date": dt.date(2025, 2, 1),
                "due_date": dt.date(2025, 3, 3),
                "amount": Decimal("605.00"),
                "open_amount": Decimal("283.82"),
                "days_overdue": 11,
            },
        ],
        "open_total": Decimal("1493.82"),
        "oldest_days": 33,
        "report_name": "Openstaande posten debiteuren",
        "period": "maart 2025",
        "file_name": "openstaande-posten-2025-03.pdf",
        "recipient_name": "Mevr. A. Jansen",
        "created": dt.date(2025, 3, 14),
        "size": "2.4 MB",
        "installation": "mailroom.holtkamp.example",
    }
    if obj == "backup":
        ctx["file_name"] = "mailroom-backup-2025-03-14.zip"
    ctx.update(common)
    return {n: ctx[n] for n in field_names(obj)}
