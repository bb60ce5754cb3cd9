"""Factur-X inside the PDF and Peppol UBL beside it: valid against the schemas, equal to
the document."""

from __future__ import annotations

import email
import email.policy
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from facturx import get_facturx_xml_from_pdf, xml_check_xsd
from lxml import etree
from pypdf import PdfReader

from mailing.batches import Composer
from mailing.changes import ChangeRefused, save_record
from mailing.demo import load_demo
from store.records import Administration, Document, Relation
from store.store import Store
from tests.functional.test_preview_cli import mailroom
from tests.pdfa_check import assert_pdfa3b

RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
CII = {"ram": RAM, "rsm": RSM, "udt": UDT}
UBL = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
}


def _demo(tmp_path: Path) -> tuple[Store, Document, Relation]:
    store = Store(tmp_path / "h")
    load_demo(store)
    doc = next(
        d
        for d in store.all(Document)
        if d.administration == "HOLT" and d.type == "sales_invoice" and d.number == "F20260001"
    )
    rel = store.find(Relation, f"HOLT/{doc.invoice_debtor or doc.relation}")
    assert rel is not None
    return store, doc, rel


def test_a_factur_x_invoice_is_valid_and_equals_the_document(tmp_path: Path) -> None:
    store, doc, rel = _demo(tmp_path)
    save_record(store, rel.model_copy(update={"e_invoice": "factur-x"}), rel.key)
    composed = Composer(store, "").compose(doc)
    pdf = composed.pdf
    # factur-x's own check: it finds the XML and validates it against the EN 16931 XSD
    name, xml = get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert name == "factur-x.xml"
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    root = etree.fromstring(xml)
    assert root.findtext("rsm:ExchangedDocument/ram:ID", namespaces=CII) == doc.number
    issued = root.findtext(
        "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString", namespaces=CII
    )
    assert issued == doc.date.strftime("%Y%m%d")
    buyer = root.findtext(".//ram:BuyerTradeParty/ram:Name", namespaces=CII)
    assert buyer == rel.name
    taxes = {
        Decimal(t.findtext("ram:RateApplicablePercent", namespaces=CII)): (
            Decimal(t.findtext("ram:BasisAmount", namespaces=CII)),
            Decimal(t.findtext("ram:CalculatedAmount", namespaces=CII)),
        )
        for t in root.iterfind(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", CII)
    }
    assert taxes == doc.vat_summary()
    total = root.findtext(".//ram:GrandTotalAmount", namespaces=CII)
    assert Decimal(total) == doc.total_incl
    # still a PDF/A-3b, the XML attached as the invoice's data
    xmp = assert_pdfa3b(pdf, tmp_path / "fx.pdf")
    fx = {"fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"}
    assert xmp.findtext(".//fx:ConformanceLevel", namespaces=fx) == "EN 16931"
    assert xmp.findtext(".//fx:DocumentFileName", namespaces=fx) == "factur-x.xml"
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.trailer["/Root"]["/AF"][0].get_object()["/AFRelationship"] == "/Data"
    assert "factur-x.xml" in reader.attachments


def test_a_relation_taking_ubl_gets_it_attached_beside_the_pdf(tmp_path: Path) -> None:
    store, doc, rel = _demo(tmp_path)
    save_record(store, rel.model_copy(update={"e_invoice": "ubl"}), rel.key)
    composed = Composer(store, "").compose(doc)
    assert composed.raw is not None
    msg = email.message_from_bytes(composed.raw, policy=email.policy.default)
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts][:2] == ["Factuur F20260001.pdf", "F20260001.xml"]
    xml = parts[1].get_payload(decode=True)
    assert xml_check_xsd(xml, flavor="ubl-2.1")
    # the PDF itself carries no Factur-X for this relation
    assert "factur-x.xml" not in PdfReader(io.BytesIO(composed.pdf)).attachments


def test_export_ubl_writes_peppol_ubl_equal_to_the_document(tmp_path: Path) -> None:
    store, doc, rel = _demo(tmp_path)
    out = tmp_path / "F.xml"
    run = mailroom(
        tmp_path / "h", "documents", "export-ubl", "sales_invoice", doc.number,
        "--admin", "HOLT", "--out", str(out),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    xml = out.read_bytes()
    assert xml_check_xsd(xml, flavor="ubl-2.1")  # the UBL 2.1 XSD shipped with factur-x
    root = etree.fromstring(xml)
    assert root.findtext("cbc:CustomizationID", namespaces=UBL) == (
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    )
    assert root.findtext("cbc:ProfileID", namespaces=UBL) == (
        "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    )
    assert root.findtext("cbc:ID", namespaces=UBL) == doc.number
    assert root.findtext("cbc:IssueDate", namespaces=UBL) == doc.date.isoformat()
    buyer = root.findtext(
        "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
        namespaces=UBL,
    )
    assert buyer == rel.name
    subtotals = {
        Decimal(s.findtext("cac:TaxCategory/cbc:Percent", namespaces=UBL)): (
            Decimal(s.findtext("cbc:TaxableAmount", namespaces=UBL)),
            Decimal(s.findtext("cbc:TaxAmount", namespaces=UBL)),
        )
        for s in root.iterfind("cac:TaxTotal/cac:TaxSubtotal", UBL)
    }
    assert subtotals == doc.vat_summary()
    payable = root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=UBL)
    assert Decimal(payable) == doc.total_incl


def test_export_ubl_of_all_invoices_writes_one_file_each(tmp_path: Path) -> None:
    store, _, _ = _demo(tmp_path)
    invoices = [
        d
        for d in store.all(Document)
        if d.administration == "HOLT"
        and d.type in {"sales_invoice", "counter_invoice", "subscription_invoice"}
    ]
    run = mailroom(
        tmp_path / "h", "documents", "export-ubl", "--admin", "HOLT", "--out", str(tmp_path / "u")
    )
    assert run.returncode == 0, run.stderr
    files = sorted((tmp_path / "u").glob("*.xml"))
    assert len(files) == len(invoices) > 1
    assert all(xml_check_xsd(f.read_bytes(), flavor="ubl-2.1") for f in files)


def test_e_invoices_need_the_administrations_vat_number(tmp_path: Path) -> None:
    store, _, _ = _demo(tmp_path)
    adm = store.find(Administration, "HOLT")
    assert adm is not None
    save_record(store, adm.model_copy(update={"vat_number": ""}), adm.key)
    with pytest.raises(ChangeRefused) as err:
        save_record(
            store, adm.model_copy(update={"vat_number": "", "e_invoice": "factur-x"}), adm.key
        )
    text = str(err.value)
    assert "e_invoice" in text and "VAT number of administration HOLT" in text
    assert "PDF only" in text


def test_export_ubl_of_a_reminder_is_a_clear_error(tmp_path: Path) -> None:
    store, _, _ = _demo(tmp_path)
    reminder = next(
        d for d in store.all(Document) if d.administration == "HOLT" and d.type == "reminder"
    )
    out = tmp_path / "r.xml"
    run = mailroom(
        tmp_path / "h", "documents", "export-ubl", "reminder", reminder.number,
        "--admin", "HOLT", "--out", str(out),
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "cannot be an e-invoice" in run.stderr and "Traceback" not in run.stderr
    assert not out.exists()


def test_export_ubl_of_a_batch_writes_its_invoices(tmp_path: Path) -> None:
    _demo(tmp_path)
    home = tmp_path / "h"
    created = mailroom(home, "batch", "create", "--type", "sales_invoice")
    assert created.returncode == 0, created.stderr
    batch_id = created.stdout.strip().splitlines()[-1]
    shown = mailroom(home, "batch", "show", batch_id, "--json")
    assert shown.returncode == 0, shown.stderr
    run = mailroom(
        home, "documents", "export-ubl", "--batch", batch_id, "--out", str(tmp_path / "b")
    )
    assert run.returncode == 0, run.stderr
    files = sorted((tmp_path / "b").glob("*.xml"))
    numbers = {etree.fromstring(f.read_bytes()).findtext("cbc:ID", namespaces=UBL) for f in files}
    meta = json.loads(shown.stdout)
    assert numbers == {row["number"] for row in meta["items"]} and len(numbers) > 1
    assert all(xml_check_xsd(f.read_bytes(), flavor="ubl-2.1") for f in files)
