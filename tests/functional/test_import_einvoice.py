"""Imports and the door carry what e-invoices need (issue 26): VAT categories and reasons,
credit notes with the invoice they correct, the parties' identifiers; and what the
official rules would refuse is refused here, with the rule in words and the fix."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from mailing.changes import ChangeRefused, import_config, save_record
from mailing.einvoice import cii_xml, e_invoice_data, ubl_xml
from mailing.importer import ImportProblems, import_documents
from store.records import Administration, Document, Relation
from store.store import Store
from tests.einvoice_rules import check, fatal
from tests.pdf_helpers import setup_store
from tests.unit.test_import import ubl


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = setup_store(tmp_path / "home")
    rel = s.get(Relation, "A1/C100")
    save_record(s, rel.model_copy(update={"coc_number": "87654321"}), rel.key)
    return s


def _as(store: Store, form: str) -> None:
    rel = store.get(Relation, "A1/C100")
    save_record(store, rel.model_copy(update={"e_invoice": form}), rel.key)


def _doc(store: Store, number: str) -> Document:
    return store.get(Document, f"A1/sales_invoice/{number}")


def _clean(store: Store, doc: Document) -> None:
    rel, adm = store.get(Relation, "A1/C100"), store.get(Administration, "A1")
    for xml in (
        ubl_xml(e_invoice_data(doc, rel, adm, peppol=True)),
        cii_xml(e_invoice_data(doc, rel, adm)),
    ):
        found = fatal(check(xml))
        assert found == [], "\n".join(map(str, found))


def _credit_note(reference: str) -> str:
    return (
        ubl(number="CN-1")
        .replace(":Invoice-2", ":CreditNote-2")
        .replace("<Invoice ", "<CreditNote ")
        .replace("</Invoice>", "</CreditNote>")
        .replace("InvoiceLine>", "CreditNoteLine>")
        .replace("InvoicedQuantity", "CreditedQuantity")
        .replace("<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>", "")
        .replace("<cac:AccountingSupplierParty>", reference + "<cac:AccountingSupplierParty>")
    )


REFERENCE = (
    "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>INV-99</cbc:ID>"
    "<cbc:IssueDate>2025-02-01</cbc:IssueDate></cac:InvoiceDocumentReference>"
    "</cac:BillingReference>"
)


def test_an_imported_ubl_credit_note_goes_out_as_a_credit_note(
    store: Store, tmp_path: Path
) -> None:
    _as(store, "ubl")
    path = tmp_path / "cn.xml"
    path.write_text(_credit_note(REFERENCE))
    import_documents(store, path, administration="A1")
    doc = _doc(store, "CN-1")
    assert doc.credit_note and doc.corrects == "INV-99" and str(doc.corrects_date) == "2025-02-01"
    assert doc.total_incl == Decimal("-81.70")  # the accounting's sign
    data = e_invoice_data(doc, store.get(Relation, "A1/C100"), store.get(Administration, "A1"))
    assert data["BT-3"] == "381" and data["BT-115"] == "81.70"
    assert data["BG-3"] == [{"BT-25": "INV-99", "BT-26": doc.corrects_date}]
    _clean(store, doc)


def test_a_credit_note_without_its_invoice_is_refused_for_an_e_invoice_customer(
    store: Store, tmp_path: Path
) -> None:
    _as(store, "ubl")
    path = tmp_path / "cn.xml"
    path.write_text(_credit_note(""))
    with pytest.raises(ImportProblems) as err:
        import_documents(store, path, administration="A1")
    text = str(err.value)
    assert "must name the invoice it corrects" in text and "corrects" in text


def test_a_ubl_allowance_becomes_a_discount_line_with_a_positive_price(
    store: Store, tmp_path: Path
) -> None:
    _as(store, "factur-x")
    allowance = (
        "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
        "<cbc:AllowanceChargeReason>Korting</cbc:AllowanceChargeReason>"
        '<cbc:Amount currencyID="EUR">10.00</cbc:Amount>'
        "<cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>21</cbc:Percent></cac:TaxCategory>"
        "</cac:AllowanceCharge>"
    )
    xml = ubl(number="INV-7", payable="69.60").replace(
        "<cac:TaxTotal>", allowance + "<cac:TaxTotal>"
    )
    xml = xml.replace(">12.20<", ">10.10<").replace(
        '<cbc:TaxExclusiveAmount currencyID="EUR">69.50',
        '<cbc:TaxExclusiveAmount currencyID="EUR">59.50',
    )
    path = tmp_path / "inv.xml"
    path.write_text(xml)
    import_documents(store, path, administration="A1")
    discount = _doc(store, "INV-7").lines[-1]
    assert (discount.quantity, discount.unit_price) == (Decimal(-1), Decimal("10.00"))
    _clean(store, _doc(store, "INV-7"))


def _json(tmp_path: Path, lines: list[dict[str, object]], **doc: object) -> Path:
    path = tmp_path / "docs.json"
    item = {"type": "sales_invoice", "number": "F-1", "relation": "C100", "date": "2026-03-01"}
    path.write_text(json.dumps([{**item, **doc, "lines": lines}]))
    return path


def test_a_negative_price_is_refused_for_an_e_invoice_customer_with_the_rule_and_fix(
    store: Store, tmp_path: Path
) -> None:
    lines = [
        {"description": "Werk", "quantity": 1, "unit_price": "1000"},
        {"description": "Korting", "quantity": 1, "unit_price": "-150"},
    ]
    _as(store, "factur-x")
    with pytest.raises(ImportProblems) as err:
        import_documents(store, _json(tmp_path, lines), administration="A1")
    text = str(err.value)
    assert "[1]" in text and "BR-27" in text and "quantity -1 at unit price 150" in text
    assert store.all(Document) == []
    _as(store, "off")  # a customer on paper only: the discount stays as it was
    import_documents(store, _json(tmp_path, lines), administration="A1")
    assert _doc(store, "F-1").total_excl == Decimal("850.00")


def test_vat_categories_and_reasons_are_imported_and_checked(store: Store, tmp_path: Path) -> None:
    good = [
        {"description": "Cursus", "unit_price": "450", "vat_rate": 0, "vat_category": "E",
         "vat_exemption": "VATEX-EU-132-1I"},
    ]  # fmt: skip
    import_documents(store, _json(tmp_path, good), administration="A1")
    line = _doc(store, "F-1").lines[0]
    assert (line.vat_category, line.vat_exemption) == ("E", "VATEX-EU-132-1I")
    _clean(store, _doc(store, "F-1"))
    bad = [
        {"description": "Verlegd", "unit_price": "100", "vat_rate": 21, "vat_category": "AE"},
        {"description": "Vrijgesteld", "unit_price": "100", "vat_rate": 0, "vat_category": "E"},
    ]
    with pytest.raises(ImportProblems) as err:
        import_documents(store, _json(tmp_path, bad, number="F-2"), administration="A1")
    text = str(err.value)
    assert "lines[0]" in text and "must have VAT rate 0 %" in text and "BR-AE-05" in text
    assert "lines[1]" in text and "must say why it is exempt" in text and "VATEX-EU-132" in text
    rare = [{"description": "Rare", "unit_price": "100", "vat_rate": 0, "vat_category": "Q"}]
    with pytest.raises(ImportProblems) as err:
        import_documents(store, _json(tmp_path, rare, number="F-3"), administration="A1")
    assert "lines[0]" in str(err.value) and "vat_category" in str(err.value)


def test_csv_carries_vat_categories_and_credit_notes(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text(
        "type,number,relation,date,credit_note,corrects,line_description,quantity,unit_price,"
        "vat_rate,vat_category,vat_exemption\n"
        "sales_invoice,C-1,C100,2026-03-01,true,F-9,Export,-1,200,0,G,\n"
        "sales_invoice,C-1,C100,2026-03-01,true,F-9,Les,-1,50,0,E,VATEX-EU-132-1I\n"
    )
    import_documents(store, path, administration="A1")
    doc = _doc(store, "C-1")
    assert doc.credit_note and doc.corrects == "F-9"
    assert [(ln.vat_category, ln.vat_exemption) for ln in doc.lines] == [
        ("G", ""),
        ("E", "VATEX-EU-132-1I"),
    ]


# ---------------------------------------------------------------- the door


def test_identifiers_are_checked_at_the_door_naming_the_field(store: Store) -> None:
    rel = store.get(Relation, "A1/C100")
    for update, words in (
        ({"vat_number": "NL123456789B02"}, "VAT number of relation A1/C100 is not a valid NL VAT"),
        ({"vat_number": "123456789"}, "VAT number of relation A1/C100 must start with its"),
        ({"coc_number": "1234"}, "Legal registration of relation A1/C100 is not a KvK number"),
        ({"country": "BE", "coc_number": "0403170702"}, "is not a valid Belgian enterprise"),
        ({"peppol_scheme": "EM", "peppol_id": "x@y.example"}, "not in the Peppol EAS list"),
        ({"peppol_scheme": "9930", "peppol_id": "NL859123455B01"}, "is not a DE VAT number"),
        ({"peppol_id": "12345678"}, "Peppol address scheme of relation A1/C100 is empty"),
    ):
        with pytest.raises(ChangeRefused) as err:
            save_record(store, rel.model_copy(update=update), rel.key)
        assert words in str(err.value), str(err.value)
        assert "Fix:" in str(err.value)
    for update in (
        {"vat_number": "BE0403170701", "country": "BE", "coc_number": "0403170701"},
        {"vat_number": "DE123456788", "country": "DE", "coc_number": ""},
        {"peppol_scheme": "0088", "peppol_id": "5790000435975"},
        {"peppol_scheme": "9944", "peppol_id": "NL859123455B01"},
    ):
        save_record(store, rel.model_copy(update=update), rel.key)


def test_a_peppol_customer_without_an_address_is_refused_at_the_door(store: Store) -> None:
    rel = store.get(Relation, "A1/C100")
    with pytest.raises(ChangeRefused) as err:
        save_record(store, rel.model_copy(update={"coc_number": "", "e_invoice": "ubl"}), rel.key)
    text = str(err.value)
    assert "PEPPOL-EN16931-R010" in text and "A1/C100" in text and "KvK" in text


def test_a_configuration_file_carries_the_identifiers(tmp_path: Path) -> None:
    from mailing.changes import export_config_json
    from mailing.demo import load_demo
    from store.errors import MailroomError

    store = Store(tmp_path / "demo")
    load_demo(store)
    data = json.loads(export_config_json(store))
    rel = next(r for r in data["relations"] if r["code"] == "D1001")
    assert rel["coc_number"] and rel["vat_number"] == ""  # a Dutch customer: its KvK number
    rel["vat_number"] = "NL859123456B01"  # one digit off
    with pytest.raises(MailroomError) as err:
        import_config(store, data)
    assert "relations[" in str(err.value) and ".vat_number" in str(err.value)
    assert "is not a valid NL VAT number" in str(err.value)
    rel["vat_number"], rel["peppol_scheme"], rel["peppol_id"] = "", "0106", rel["coc_number"]
    import_config(store, data)
    assert store.get(Relation, f"{rel['administration']}/D1001").peppol_scheme == "0106"


# ---------------------------------------------------------------- the PDF says it


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    import subprocess

    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return " ".join(out.stdout.split())


@pytest.mark.parametrize(
    "language,words",
    [
        ("NL", ["Btw verlegd", "Btw-nummer afnemer: BE0403170701"]),
        ("EN", ["VAT reverse charged", "Customer VAT number: BE0403170701"]),
        ("DE", ["Steuerschuldnerschaft des Leistungsempfängers", "USt-IdNr. des Kunden"]),
    ],
)
def test_the_pdf_says_vat_reverse_charged_in_the_customers_language(
    tmp_path: Path, language: str, words: list[str]
) -> None:
    import datetime as dt

    from mailing.pdf.layout import render_document_pdf
    from store.records import DocumentLine
    from tests.pdf_helpers import administration

    rel = Relation(
        administration="A1", code="B1", name="Dupont SA", country="BE", language=language,
        address=["Rue Neuve 12", "1000 Bruxelles"], vat_number="BE0403170701",
    )  # fmt: skip
    doc = Document(
        administration="A1", type="sales_invoice", number="F-1", relation="B1",
        date=dt.date(2026, 3, 1),
        lines=[DocumentLine(description="Montage", unit_price=Decimal(500),
                            vat_rate=Decimal(0), vat_category="AE")],
    )  # fmt: skip
    text = _pdf_text(render_document_pdf(doc, rel, administration(), language=language), tmp_path)
    for w in words:
        assert w in text, text
    credit = doc.model_copy(update={"credit_note": True, "corrects": "F-0"})
    text = _pdf_text(render_document_pdf(credit, rel, administration(), language="NL"), tmp_path)
    assert "Creditnota F-1" in text and "Creditnota bij factuur F-0" in text


def test_an_invoice_for_a_peppol_customer_without_an_address_is_refused_at_import(
    store: Store, tmp_path: Path
) -> None:
    _as(store, "ubl")
    rel = store.get(Relation, "A1/C100")
    store.put_many([rel.model_copy(update={"coc_number": ""})])  # data from before the door
    lines = [{"description": "Werk", "unit_price": "100"}]
    with pytest.raises(ImportProblems) as err:
        import_documents(store, _json(tmp_path, lines), administration="A1")
    assert "PEPPOL-EN16931-R010" in str(err.value) and "relation C100" in str(err.value)


def test_xrechnung_needs_the_administrations_phone_at_the_door(store: Store) -> None:
    rel = store.get(Relation, "A1/C100")
    with pytest.raises(ChangeRefused) as err:
        save_record(store, rel.model_copy(update={"e_invoice": "xrechnung"}), rel.key)
    assert "BR-DE-6" in str(err.value) and "administration A1" in str(err.value)
    adm = store.get(Administration, "A1")
    save_record(
        store, adm.model_copy(update={"phone": "+31 20 1234567", "email": "f@a.example"}), adm.key
    )
    save_record(store, rel.model_copy(update={"e_invoice": "xrechnung"}), rel.key)
