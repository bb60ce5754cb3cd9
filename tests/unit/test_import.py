"""Importing documents from JSON, CSV and UBL 2.1: all or nothing, every problem listed."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from mailing.importer import ImportProblems, import_documents
from store.records import Document
from store.store import Store
from tests.pdf_helpers import setup_store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return setup_store(tmp_path / "home")


def stored(store: Store) -> dict[str, Document]:
    return {d.id: d for d in store.all(Document)}


GOOD_JSON = {
    "documents": [
        {
            "type": "sales_invoice",
            "number": "2025-001",
            "relation": "C100",
            "date": "2025-03-01",
            "due_date": "2025-03-31",
            "reference": "PO-1",
            "lines": [
                {"description": "Paper A4", "quantity": 10, "unit_price": "4.95", "vat_rate": 21},
                {"description": "Book", "quantity": 1, "unit_price": 20.0, "vat_rate": 9},
            ],
            "total_excl": "69.50",
            "total_vat": "12.20",
            "total_incl": "81.70",
            "attachments": ["terms.txt"],
        },
        {
            "type": "reminder",
            "number": "R-1",
            "relation": "C200",
            "date": "2025-04-30",
            "open_items": [
                {
                    "number": "2025-001",
                    "date": "2025-03-01",
                    "due_date": "2025-03-31",
                    "amount": "81.70",
                    "open_amount": "81.70",
                }
            ],
        },
        {
            "type": "purchase_order",
            "number": "PO-9",
            "relation": "S100",
            "date": "2025-03-02",
            "order_override": {"to": ["orders@supplier.example"]},
            "lines": [{"description": "Toner", "quantity": 3, "unit_price": "60"}],
        },
    ]
}


def write_json(tmp_path: Path, data: object) -> Path:
    (tmp_path / "terms.txt").write_text("General terms and conditions")
    path = tmp_path / "docs.json"
    path.write_text(json.dumps(data))
    return path


def test_json_import_stores_documents_with_attachments(store: Store, tmp_path: Path) -> None:
    result = import_documents(store, write_json(tmp_path, GOOD_JSON), administration="A1")
    assert result.count == 3
    docs = stored(store)
    inv = docs["A1/sales_invoice/2025-001"]
    assert inv.total_incl == Decimal("81.70")
    assert [a.name for a in inv.attachments] == ["terms.txt"]
    assert store.files.read(inv.attachments[0]) == b"General terms and conditions"
    assert docs["A1/reminder/R-1"].total_incl == Decimal("81.70")
    assert docs["A1/purchase_order/PO-9"].order_override.to == ["orders@supplier.example"]  # type: ignore[union-attr]


def test_reimport_is_refused_unless_replace(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path, GOOD_JSON)
    import_documents(store, path, administration="A1")
    with pytest.raises(ImportProblems) as info:
        import_documents(store, path, administration="A1")
    assert len(info.value.problems) == 3
    assert "already exists" in str(info.value) and "--replace" in str(info.value)
    changed = json.loads(json.dumps(GOOD_JSON))
    changed["documents"][0]["reference"] = "PO-2"
    import_documents(store, write_json(tmp_path, changed), administration="A1", replace=True)
    docs = stored(store)
    assert len(docs) == 3 and docs["A1/sales_invoice/2025-001"].reference == "PO-2"


def test_json_with_many_problems_imports_nothing_and_lists_them_all(
    store: Store, tmp_path: Path
) -> None:
    bad = json.loads(json.dumps(GOOD_JSON))
    docs = bad["documents"]
    docs[0]["total_incl"] = "99.99"  # does not add up
    docs[1]["relation"] = "NOPE"  # unknown relation
    docs[2]["date"] = "2025-02-30"  # no such date
    docs.append({**docs[0], "total_incl": "81.70"})  # duplicate number in the file
    docs.append(
        {
            "type": "sales_invoice",
            "number": "X-1",
            "relation": "C100",
            "date": "2025-03-10",
            "due_date": "2025-03-01",  # before the date
            "lines": [{"description": "x", "quantity": "abc", "unit_price": 1}],  # bad number
        }
    )
    docs.append({"type": "quote", "number": "Q-1", "relation": "C100", "date": "2025-03-01"})
    with pytest.raises(ImportProblems) as info:
        import_documents(store, write_json(tmp_path, bad), administration="A1")
    where = [w for w, _ in info.value.problems]
    text = str(info.value)
    assert "documents[0].total_incl" in where and "lines add up to 81.70" in text
    assert "documents[1].relation" in where and "'NOPE' does not exist" in text
    assert "documents[2].date" in where
    assert "documents[3]" in where and "appears twice" in text
    assert "documents[4].lines[0]" in where
    assert "documents[5].type" in where
    assert "Nothing was imported" in text
    assert store.all(Document) == []
    files = store.home / "files"
    assert not files.exists() or list(files.iterdir()) == []  # no attachment copied in


CSV_GOOD = """type;number;relation;date;due_date;reference;article;line_description;quantity;unit_price;vat_rate
sales_invoice;2025-010;C100;2025-03-01;2025-03-31;PO-77;P1;Paper A4;10;4,95;21
sales_invoice;2025-010;C100;2025-03-01;2025-03-31;PO-77;B1;Book;1;20,00;9
packing_slip;PS-1;C100;2025-03-02;;;P1;Paper A4;10;;
"""


def test_csv_import_groups_rows_by_document_number(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text(CSV_GOOD)
    result = import_documents(store, path, administration="A1")
    assert result.count == 2
    inv = stored(store)["A1/sales_invoice/2025-010"]
    assert [ln.description for ln in inv.lines] == ["Paper A4", "Book"]
    assert inv.lines[0].unit_price == Decimal("4.95") and inv.reference == "PO-77"
    assert inv.total_incl == Decimal("81.70")
    assert stored(store)["A1/packing_slip/PS-1"].lines[0].quantity == 10


def test_csv_problems_name_their_lines(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text(
        "type,number,relation,date,line_description,quantity,unit_price,vat_rate\n"
        "sales_invoice,1,C100,2025-03-01,Paper,1,5,21\n"
        "sales_invoice,1,C999,2025-03-01,Pens,1,5,21\n"  # relation differs from line 2
        "sales_invoice,2,C100,01-03-2025,Paper,1,5,21\n"  # not an ISO date
        "sales_invoice,3,C100,2025-03-01,Paper,1,5,250\n"  # VAT rate
    )
    with pytest.raises(ImportProblems) as info:
        import_documents(store, path, administration="A1")
    where = [w for w, _ in info.value.problems]
    assert "line 3, column relation" in where
    assert "line 4, column date" in where
    assert "line 5" in where
    assert store.all(Document) == []


def ubl(
    number: str = "INV-100",
    party_id: str = "C100",
    name: str = "Klant C100 BV",
    payable: str = "81.70",
    extra: str = "",
) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>
 <cbc:ID>{number}</cbc:ID>
 <cbc:IssueDate>2025-03-01</cbc:IssueDate>
 <cbc:DueDate>2025-03-31</cbc:DueDate>
 <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
 <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
 <cbc:BuyerReference>PO-55</cbc:BuyerReference>
 <cac:AccountingSupplierParty><cac:Party><cac:PartyName><cbc:Name>Acme</cbc:Name></cac:PartyName></cac:Party></cac:AccountingSupplierParty>
 <cac:AccountingCustomerParty><cac:Party>
  <cac:PartyIdentification><cbc:ID>{party_id}</cbc:ID></cac:PartyIdentification>
  <cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>
 </cac:Party></cac:AccountingCustomerParty>
 <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">12.20</cbc:TaxAmount></cac:TaxTotal>
 <cac:LegalMonetaryTotal>
  <cbc:LineExtensionAmount currencyID="EUR">69.50</cbc:LineExtensionAmount>
  <cbc:TaxExclusiveAmount currencyID="EUR">69.50</cbc:TaxExclusiveAmount>
  <cbc:TaxInclusiveAmount currencyID="EUR">{payable}</cbc:TaxInclusiveAmount>
  <cbc:PayableAmount currencyID="EUR">{payable}</cbc:PayableAmount>
 </cac:LegalMonetaryTotal>
 <cac:InvoiceLine>
  <cbc:ID>1</cbc:ID>
  <cbc:InvoicedQuantity unitCode="C62">10</cbc:InvoicedQuantity>
  <cbc:LineExtensionAmount currencyID="EUR">49.50</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Paper A4</cbc:Name>
   <cac:SellersItemIdentification><cbc:ID>P1</cbc:ID></cac:SellersItemIdentification>
   <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>21</cbc:Percent></cac:ClassifiedTaxCategory>
  </cac:Item>
  <cac:Price><cbc:PriceAmount currencyID="EUR">4.95</cbc:PriceAmount></cac:Price>
 </cac:InvoiceLine>
 <cac:InvoiceLine>
  <cbc:ID>2</cbc:ID>
  <cbc:InvoicedQuantity unitCode="C62">1</cbc:InvoicedQuantity>
  <cbc:LineExtensionAmount currencyID="EUR">20.00</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Book</cbc:Name>
   <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>9</cbc:Percent></cac:ClassifiedTaxCategory>
  </cac:Item>
  <cac:Price><cbc:PriceAmount currencyID="EUR">{extra or "20.00"}</cbc:PriceAmount></cac:Price>
 </cac:InvoiceLine>
</Invoice>
"""


def test_ubl_invoice_is_imported_and_keeps_its_xml(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "inv.xml"
    path.write_text(ubl())
    import_documents(store, path, administration="A1")
    doc = stored(store)["A1/sales_invoice/INV-100"]
    assert doc.relation == "C100" and doc.reference == "PO-55"
    assert doc.total_incl == Decimal("81.70")
    assert [(ln.article, ln.description) for ln in doc.lines] == [("P1", "Paper A4"), ("", "Book")]
    assert doc.ubl is not None and doc.ubl.name == "INV-100.xml"
    assert store.files.read(doc.ubl) == path.read_bytes()


def test_ubl_customer_is_matched_by_name_when_the_id_is_unknown(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "inv.xml"
    path.write_text(ubl(party_id="12345678", name="klant c200 bv"))
    import_documents(store, path, administration="A1")
    assert stored(store)["A1/sales_invoice/INV-100"].relation == "C200"


def test_ubl_problems_name_their_elements(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "inv.xml"
    path.write_text(
        ubl(number="INV/100", party_id="X", name="Nobody", payable="90.00", extra="25.00")
    )
    with pytest.raises(ImportProblems) as info:
        import_documents(store, path, administration="A1")
    where = [w for w, _ in info.value.problems]
    assert "/Invoice/cbc:ID" in where
    assert "/Invoice/cac:AccountingCustomerParty" in where
    assert "/Invoice/cac:InvoiceLine[2]/cbc:LineExtensionAmount" in where
    assert store.all(Document) == []
    # with the customer and the number right, the totals are checked against the lines
    path.write_text(ubl(payable="90.00"))
    with pytest.raises(ImportProblems) as info:
        import_documents(store, path, administration="A1")
    assert [w for w, _ in info.value.problems] == [
        "/Invoice/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"
    ]
    assert "lines add up to 81.70" in str(info.value)


def test_ubl_with_entities_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Invoice>&lol2;</Invoice>'
    )
    with pytest.raises(ImportProblems) as info:
        import_documents(store, path, administration="A1")
    assert "DTDs or entities" in str(info.value)


def test_unknown_administration_is_named(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportProblems) as info:
        import_documents(store, write_json(tmp_path, GOOD_JSON), administration="ZZ")
    assert "administration 'ZZ' does not exist" in str(info.value)


def test_cli_import_list_show(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.cli import main

    home = str(store.home)
    path = write_json(tmp_path, GOOD_JSON)
    assert main(["--home", home, "documents", "import", str(path), "--admin", "A1"]) == 0
    assert "Imported 3 document(s)" in capsys.readouterr().out
    assert main(["--home", home, "documents", "import", str(path), "--admin", "A1"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "Traceback" not in err
    assert main(["--home", home, "documents", "list", "--type", "sales_invoice"]) == 0
    out = capsys.readouterr().out
    assert "2025-001" in out and "R-1" not in out and "1 document(s)" in out
    assert main(["--home", home, "documents", "show", "reminder", "R-1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_incl"] == "81.70" and data["open_items"][0]["number"] == "2025-001"


def test_ubl_credit_note_becomes_a_negative_sales_invoice(store: Store, tmp_path: Path) -> None:
    xml = (
        ubl(number="CN-1")
        .replace(":Invoice-2", ":CreditNote-2")
        .replace("<Invoice ", "<CreditNote ")
        .replace("</Invoice>", "</CreditNote>")
        .replace("InvoiceLine>", "CreditNoteLine>")
        .replace("InvoicedQuantity", "CreditedQuantity")
        .replace("<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>", "")
    )
    path = tmp_path / "cn.xml"
    path.write_text(xml)
    import_documents(store, path, administration="A1")
    assert stored(store)["A1/sales_invoice/CN-1"].total_incl == Decimal("-81.70")


def test_csv_reminder_with_open_items(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "rem.csv"
    path.write_text(
        "type,number,relation,date,item_number,item_date,item_due_date,item_amount,item_open_amount\n"
        "reminder,R-5,C100,2025-04-30,2025-001,2025-03-01,2025-03-31,121.00,121.00\n"
        "reminder,R-5,C100,2025-04-30,2025-007,2025-03-20,2025-04-19,50.00,20.00\n"
    )
    import_documents(store, path, administration="A1")
    doc = stored(store)["A1/reminder/R-5"]
    assert [i.number for i in doc.open_items] == ["2025-001", "2025-007"]
    assert doc.total_incl == Decimal("141.00")
