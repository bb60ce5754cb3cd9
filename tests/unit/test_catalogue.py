"""The catalogue of objects and fields: what the picker shows and templates may use."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mailing.catalogue import (
    OBJECT_FIELDS,
    document_context,
    field_names,
    object_context,
    sample_context,
)
from store.records import (
    DOC_TYPES,
    OBJECTS,
    Administration,
    Contact,
    Document,
    DocumentLine,
    OpenItem,
    Relation,
    User,
)

ADMIN = Administration(
    code="HOLT", name="Holtkamp B.V.", iban="NL91ABNA0417164300", payment_days=30
)
USER = User(name="dana", full_name="Dana de Vries")


def _relation(kind: str = "customer") -> Relation:
    return Relation(
        administration="HOLT",
        code="D100",
        kind=kind,  # type: ignore[arg-type]
        name="Bakkerij Jansen",
        contacts=[
            Contact(name="Piet Main", roles=["main"]),
            Contact(name="Ans Admin", roles=["administration"]),
            Contact(name="Ivo Invoice", roles=["invoice"]),
        ],
    )


def _document(doc_type: str) -> Document:
    return Document(
        administration="HOLT",
        type=doc_type,  # type: ignore[arg-type]
        number="2025-001",
        relation="D100",
        date=dt.date(2025, 3, 1),
        reference="PO-1",
        lines=[
            DocumentLine(description="Ketel", quantity=Decimal("2"), unit_price=Decimal("500.00")),
            DocumentLine(description="Kraan", quantity=Decimal("1"), unit_price=Decimal("34.56")),
        ],
        open_items=[
            OpenItem(
                number="2024-090",
                date=dt.date(2024, 11, 1),
                due_date=dt.date(2024, 12, 1),
                amount=Decimal("100.00"),
                open_amount=Decimal("60.00"),
            )
        ]
        if doc_type == "reminder"
        else [],
    )


def test_every_object_has_fields_with_unique_names_and_known_types() -> None:
    assert set(OBJECT_FIELDS) == set(OBJECTS)
    for obj, fields in OBJECT_FIELDS.items():
        names = [f.name for f in fields]
        assert len(names) == len(set(names)), obj
        assert all(f.type in {"text", "money", "date", "number", "list"} for f in fields)
        assert all(f.description for f in fields)
        assert {"administration_name", "sender_name", "user_name"} <= set(names)


def test_document_fields_use_friendly_names() -> None:
    invoice = set(field_names("sales_invoice"))
    assert {
        "number",
        "date",
        "due_date",
        "currency",
        "total",
        "total_excl",
        "total_vat",
        "reference",
        "relation_name",
        "contact_name",
        "iban",
        "payment_days",
        "customer_name",
    } <= invoice
    po = set(field_names("purchase_order"))
    assert "supplier_name" in po and "customer_name" not in po
    reminder = OBJECT_FIELDS["reminder"]
    open_items = next(f for f in reminder if f.name == "open_items")
    assert open_items.type == "list"
    assert {"number", "open_amount", "days_overdue"} <= {f.name for f in open_items.items}
    assert {"open_total", "oldest_days"} <= set(field_names("reminder"))


@pytest.mark.parametrize("doc_type", DOC_TYPES)
def test_document_context_gives_exactly_the_catalogue_names(doc_type: str) -> None:
    kind = "supplier" if doc_type == "purchase_order" else "customer"
    ctx = document_context(_document(doc_type), _relation(kind), ADMIN, USER)
    assert set(ctx) == set(field_names(doc_type))
    assert ctx["number"] == "2025-001"
    assert ctx["date"] == dt.date(2025, 3, 1)
    assert ctx["sender_name"] == "Dana de Vries"
    if "total" in ctx:
        assert isinstance(ctx["total"], Decimal)


def test_document_context_values() -> None:
    ctx = document_context(_document("sales_invoice"), _relation(), ADMIN, None)
    assert ctx["total_excl"] == Decimal("1034.56")
    assert ctx["total_vat"] == Decimal("217.26")
    assert ctx["total"] == Decimal("1251.82")
    assert ctx["due_date"] == dt.date(2025, 3, 31)  # date + payment days of the administration
    assert ctx["contact_name"] == "Ivo Invoice"  # the invoice contact first (SPEC §6.4)
    assert ctx["sender_name"] == "Holtkamp B.V."  # no user: the company signs
    oc = document_context(_document("order_confirmation"), _relation(), ADMIN, USER)
    assert oc["contact_name"] == "Ans Admin"
    rem = document_context(_document("reminder"), _relation(), ADMIN, USER)
    assert rem["open_total"] == Decimal("60.00")
    assert rem["open_items"][0]["number"] == "2024-090"
    assert rem["oldest_days"] >= 90


@pytest.mark.parametrize("obj", OBJECTS)
def test_sample_context_covers_every_field(obj: str) -> None:
    ctx = sample_context(obj)
    assert list(ctx) == field_names(obj)
    for f in OBJECT_FIELDS[obj]:
        value = ctx[f.name]
        if f.type == "money":
            assert isinstance(value, Decimal)
        elif f.type == "date":
            assert isinstance(value, dt.date)
        elif f.type == "list":
            assert isinstance(value, list) and value


def test_object_context_for_reports_refuses_unknown_fields() -> None:
    ctx = object_context("report", ADMIN, USER, report_name="Debiteuren", period="Q1")
    assert ctx["report_name"] == "Debiteuren" and ctx["administration_name"] == "Holtkamp B.V."
    assert ctx["file_name"] == ""
    with pytest.raises(ValueError, match="no field"):
        object_context("report", ADMIN, USER, invoice_number="x")
