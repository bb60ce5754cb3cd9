"""Our own CII writer is held to the ``factur-x`` library: the same bytes for every shape
of invoice, accepted by the library's own check and the official EN 16931 XSD."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest
from facturx import generate_xml, xml_check_xsd

from mailing.einvoice import cii_xml, e_invoice_data
from mailing.einvoice.cii import write_cii
from mailing.errors import DocumentError
from store.records import Administration, Document, DocumentLine, Relation

ADMINISTRATIONS = [
    Administration(
        code="A1",
        name="Acme BV",
        address=["Keizersgracht 1", "1015 AA Amsterdam"],
        iban="NL91ABNA0417164300",
        bic="ABNANL2A",
        vat_number="NL001234567B01",
        coc_number="12345678",
        email="facturen@acme.example",
    ),
    Administration(
        code="A1",
        name='Ωmega & Söhne "GmbH"',
        address=["Straße 1", "Hinterhaus", "3. OG", "10115 Berlin"],
        vat_number="DE123456789",
        iban="DE02120300000000202051",
    ),
    Administration(code="A1", name="X", address=[], vat_number="NL001234567B01"),
]
RELATIONS = [
    Relation(
        administration="A1",
        code="C1",
        name="Klant & Zonen <BV>",
        address=["Weg 1", "1234 AB Utrecht"],
        business_email="inkoop@klant.example",
    ),
    Relation(
        administration="A1", code="C2", name="王小明 Ελένη", address=["Beijing"], country="cn"
    ),
    Relation(administration="A1", code="C3", name="Zoë Ørsted – Łódź", address=[]),
]


def _lines(kind: int) -> list[DocumentLine]:
    if kind == 0:
        return [
            DocumentLine(
                article=f"A{j}",
                description=f"Article {j}",
                quantity=Decimal(j + 1),
                unit_price=Decimal("19.95") + j,
                vat_rate=Decimal("21") if j % 2 else Decimal("9"),
            )
            for j in range(7)
        ]
    if kind == 1:  # no article, no description, a fraction, a discount, 0 % VAT
        return [  # (a discount: a negative quantity; a negative price breaks BR-27)
            DocumentLine(
                description="",
                quantity=Decimal("-2.5"),
                unit_price=Decimal("3.333"),
                vat_rate=Decimal(0),
            )
        ]
    return [  # mark-up characters and a line break in the texts
        DocumentLine(article="A&B", description="lijn\r\nzwei <b>", unit_price=Decimal(3))
    ]


def _documents() -> list[Document]:
    out = []
    for kind in range(3):
        for due, ref in ((dt.date(2026, 3, 31), "PO & 7781"), (None, "")):
            out.append(
                Document(
                    administration="A1",
                    type="sales_invoice",
                    number=f"2026-{kind}{'d' if due else ''}",
                    relation="C1",
                    date=dt.date(2026, 3, 1),
                    due_date=due,
                    reference=ref,
                    lines=_lines(kind),
                )
            )
    return out


CASES = [(d, r, a) for d in _documents() for r in RELATIONS for a in ADMINISTRATIONS]


@pytest.mark.parametrize("doc,relation,adm", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_our_cii_equals_the_librarys_and_passes_its_check(
    doc: Document, relation: Relation, adm: Administration
) -> None:
    data = e_invoice_data(doc, relation, adm)
    logging.getLogger("factur-x").setLevel(logging.ERROR)
    library = generate_xml(
        dict(data), flavor="factur-x", level="en16931", check_xsd=False, check_schematron=False
    )
    ours = write_cii(data)
    assert ours == library
    assert xml_check_xsd(ours, flavor="factur-x", level="en16931")
    assert cii_xml(data) == ours  # what the build embeds


def test_a_text_xml_cannot_carry_is_a_clear_error_naming_the_invoice() -> None:
    doc = _documents()[0]
    rel = RELATIONS[0].model_copy(update={"name": "Klant\x01BV"})
    with pytest.raises(DocumentError) as err:
        cii_xml(e_invoice_data(doc, rel, ADMINISTRATIONS[0]))
    text = str(err.value)
    assert doc.number in text and "U+0001" in text
    assert err.value.field == "e-invoice"


def test_numbers_in_exponent_form_are_written_as_plain_decimals() -> None:
    doc = _documents()[0].model_copy(
        update={
            "lines": [
                DocumentLine(
                    description="Bulk", quantity=Decimal("1E+2"), unit_price=Decimal("2E-1")
                )
            ]
        }
    )
    xml = cii_xml(e_invoice_data(doc, RELATIONS[0], ADMINISTRATIONS[0]))
    assert b">100</ram:BilledQuantity>" in xml and b"<ram:ChargeAmount>0.2<" in xml
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")


def test_an_amount_that_is_no_plain_decimal_is_refused_naming_it() -> None:
    data = e_invoice_data(_documents()[0], RELATIONS[0], ADMINISTRATIONS[0])
    data["BT-112"] = "NaN"
    with pytest.raises(DocumentError) as err:
        cii_xml(data)
    assert "'NaN'" in str(err.value) and data["BT-1"] in str(err.value)
