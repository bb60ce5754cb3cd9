"""Hostile and careless import files: every one is refused with a plain message that
names the place in the file, the value and the fix; never a traceback, never a hang,
never a large read, and nothing is written to the data folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from mailing.importer import (
    MAX_CSV_ROWS,
    MAX_CSV_SEPARATORS,
    MAX_DOCUMENTS,
    MAX_JSON_VALUES,
    MAX_LINES,
    MAX_XML_TAGS,
    import_documents,
)
from store.records import Document
from store.store import Store
from tests.import_support import import_store, invoice, problem_at, refused, where, write_json


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return import_store(tmp_path)


# ---------------------------------------------------------------- hostile data


def test_deeply_nested_json_is_refused_with_a_depth_message(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000)
    start = time.process_time()  # CPU time: a busy machine does not add to it
    exc = refused(store, path)
    assert time.process_time() - start < 5
    assert "nested" in str(exc) and "64" in str(exc)
    assert where(exc) == ["line 1, column 65"]


def test_json_unclosed_string_full_of_escaped_quotes_is_quick(store: Store, tmp_path: Path) -> None:
    # A string that never ends, full of escaped quotes: each quote could start a string.
    path = tmp_path / "quotes.json"
    path.write_text('["' + '\\"' * 2_000_000)
    start = time.process_time()  # CPU time: a busy machine does not add to it
    exc = refused(store, path)
    assert time.process_time() - start < 10
    assert "invalid JSON" in problem_at(exc, "line 1, column 2")


def test_json_nesting_inside_strings_does_not_count(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path, invoice(reference="[" * 100 + '"\\"' + "{" * 100))
    import_documents(store, path, administration="A1")
    assert store.all(Document)[0].reference.startswith("[[[")


def test_json_with_a_5000_digit_integer_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    doc = json.dumps(invoice()).replace('"quantity": 1', '"quantity": ' + "9" * 5000)
    path.write_text(f'{{"documents": [{doc}]}}')
    exc = refused(store, path)
    what = problem_at(exc, "documents[0].lines[0]")
    assert "quantity" in what and "999..." in what and "too large" in what
    assert len(str(exc)) < 2000  # the value is shortened


def test_json_too_many_values_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    values = ",".join(["0"] * (MAX_JSON_VALUES + 10))
    path.write_text('{"documents": [], "padding": [' + values + "]}")
    exc = refused(store, path)
    assert f"more than {MAX_JSON_VALUES:,} values" in problem_at(exc, "file")


def test_json_too_many_documents_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_text("[" + ",".join(["{}"] * (MAX_DOCUMENTS + 1)) + "]")
    exc = refused(store, path)
    assert f"at most {MAX_DOCUMENTS:,}" in problem_at(exc, "file")


def test_json_oversized_lists_and_objects_are_refused_before_validation(
    store: Store, tmp_path: Path
) -> None:
    # Validation would report every one of 200,000 bad addresses (and take a GB to do it).
    order = invoice(
        "PO-1", type="purchase_order", relation="S100", order_override={"to": [0] * 200_000}
    )
    wide = invoice("2", **{f"field{i}": 1 for i in range(100)})
    path = write_json(tmp_path, order, wide)
    start = time.process_time()  # CPU time: a busy machine does not add to it
    exc = refused(store, path)
    assert time.process_time() - start < 10
    assert f"at most {MAX_LINES:,}" in problem_at(exc, "documents[0].order_override.to")
    assert "at most 64" in problem_at(exc, "documents[1]")
    assert len(exc.problems) == 2


def test_document_with_too_many_lines_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    row = "sales_invoice,1,C100,2025-03-01,Paper\n"
    path.write_text("type,number,relation,date,line_description\n" + row * (MAX_LINES + 1))
    exc = refused(store, path)
    assert f"at most {MAX_LINES:,}" in problem_at(exc, "line 2")


def test_csv_field_over_the_limit_names_the_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text(
        "type,number,relation,date,line_description\n"
        "sales_invoice,1,C100,2025-03-01,Paper\n"
        f'sales_invoice,1,C100,2025-03-01,"{"x" * 140_000}"\n'
    )
    exc = refused(store, path)
    what = problem_at(exc, "line 3")
    assert "131,072" in what


@pytest.mark.parametrize(
    "value", ["9e999999", "9E+99999999999", "Infinity", "-inf", "NaN", "sNaN", "1e12", "0.00001"]
)
def test_csv_amount_must_be_finite_bounded_and_short(
    store: Store, tmp_path: Path, value: str
) -> None:
    path = tmp_path / "docs.csv"
    path.write_text(
        "type,number,relation,date,line_description,quantity,unit_price\n"
        f"sales_invoice,1,C100,2025-03-01,Paper,1,{value}\n"
    )
    exc = refused(store, path)
    what = problem_at(exc, "line 2, column unit_price")
    assert value in what


def test_csv_open_item_and_total_amounts_are_checked(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "rem.csv"
    path.write_text(
        "type,number,relation,date,item_number,item_date,item_due_date,item_amount,item_open_amount,total_incl\n"
        "reminder,R-5,C100,2025-04-30,2025-001,2025-03-01,2025-03-31,9e999999,1,1e400\n"
    )
    exc = refused(store, path)
    assert "9e999999" in problem_at(exc, "line 2, column item_amount")
    assert "1e400" in problem_at(exc, "line 2, column total_incl")


@pytest.mark.parametrize("value", ['"9e999999"', "9e999999", "Infinity", "NaN", '"-Infinity"'])
def test_json_amount_must_be_finite(store: Store, tmp_path: Path, value: str) -> None:
    path = tmp_path / "docs.json"
    doc = json.dumps(invoice()).replace('"unit_price": "4.95"', f'"unit_price": {value}')
    path.write_text(f'{{"documents": [{doc}]}}')
    exc = refused(store, path)
    assert "unit_price" in problem_at(exc, "documents[0].lines[0]")


def test_json_bounds_on_every_number(store: Store, tmp_path: Path) -> None:
    docs = [
        invoice("1", lines=[{"description": "x", "quantity": "1e10", "unit_price": 1}]),
        invoice("2", lines=[{"description": "x", "unit_price": "1.23456"}]),
        invoice("3", lines=[{"description": "x", "vat_rate": "1e9999"}]),
        invoice("4", total_incl="9e999999"),
        {
            "type": "reminder",
            "number": "R-1",
            "relation": "C100",
            "date": "2025-04-30",
            "open_items": [
                {
                    "number": "2025-001",
                    "date": "2025-03-01",
                    "due_date": "2025-03-31",
                    "amount": "1e999999",
                    "open_amount": "-9e999999",
                }
            ],
        },
    ]
    exc = refused(store, write_json(tmp_path, *docs))
    assert "quantity" in problem_at(exc, "documents[0].lines[0]")
    assert "4 decimals" in problem_at(exc, "documents[1].lines[0]")
    assert "vat_rate" in problem_at(exc, "documents[2].lines[0]")
    assert "9e999999" in problem_at(exc, "documents[3].total_incl")
    assert "amount" in problem_at(exc, "documents[4].open_items[0]")


def ubl_invoice(price: str = "4.95", total: str = "59.90", base: str = "1") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:ID>INV-1</cbc:ID>
 <cbc:IssueDate>2025-03-01</cbc:IssueDate>
 <cac:AccountingCustomerParty><cac:Party>
  <cac:PartyIdentification><cbc:ID>C100</cbc:ID></cac:PartyIdentification>
 </cac:Party></cac:AccountingCustomerParty>
 <cac:LegalMonetaryTotal>
  <cbc:TaxInclusiveAmount currencyID="EUR">{total}</cbc:TaxInclusiveAmount>
 </cac:LegalMonetaryTotal>
 <cac:InvoiceLine>
  <cbc:ID>1</cbc:ID>
  <cbc:InvoicedQuantity unitCode="C62">10</cbc:InvoicedQuantity>
  <cbc:LineExtensionAmount currencyID="EUR">49.50</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Paper</cbc:Name>
   <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>21</cbc:Percent></cac:ClassifiedTaxCategory>
  </cac:Item>
  <cac:Price><cbc:PriceAmount currencyID="EUR">{price}</cbc:PriceAmount>
   <cbc:BaseQuantity>{base}</cbc:BaseQuantity></cac:Price>
 </cac:InvoiceLine>
</Invoice>
"""


@pytest.mark.parametrize(
    ("price", "total", "base", "place"),
    [
        ("9e999999", "59.90", "1", "/Invoice/cac:InvoiceLine[1]/cac:Price/cbc:PriceAmount"),
        ("1e30", "59.90", "1", "/Invoice/cac:InvoiceLine[1]/cac:Price/cbc:PriceAmount"),
        ("4.95", "9e999999", "1", "/Invoice/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"),
        ("4.95", "59.90", "1e-999999", "/Invoice/cac:InvoiceLine[1]/cac:Price/cbc:BaseQuantity"),
        ("99999999999", "59.90", "0.0001", "/Invoice/cac:InvoiceLine[1]"),
    ],
)
def test_ubl_amounts_must_be_finite_and_bounded(
    store: Store, tmp_path: Path, price: str, total: str, base: str, place: str
) -> None:
    path = tmp_path / "inv.xml"
    path.write_text(ubl_invoice(price, total, base))
    exc = refused(store, path)
    assert where(exc) == [place]  # and no follow-up problems about sums or missing lines


def test_ubl_with_entities_names_no_python_class(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><Invoice>&lol;</Invoice>'
    )
    exc = refused(store, path)
    assert "DTDs or entities" in str(exc)


def test_latin1_csv_names_the_line_and_says_utf8(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_bytes(
        "type;number;relation;date;line_description\n"
        "sales_invoice;1;C100;2025-03-01;Paper\n"
        "sales_invoice;1;C100;2025-03-01;Caf\xe9 cr\xe8me\n".encode("latin-1")
    )
    exc = refused(store, path)
    what = problem_at(exc, "line 3")
    assert "UTF-8" in what and "Caf" in what
    assert "byte" not in what


def test_latin1_json_names_the_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.json"
    path.write_bytes(
        json.dumps({"documents": [invoice()]}, indent=1)
        .replace("Paper", "Pap\xe9r")
        .encode("latin-1")
    )
    exc = refused(store, path)
    assert "UTF-8" in problem_at(exc, "line 10")


def test_utf8_bom_is_accepted_for_json_and_csv(store: Store, tmp_path: Path) -> None:
    js = tmp_path / "docs.json"
    js.write_bytes(b"\xef\xbb\xbf" + json.dumps({"documents": [invoice("J1")]}).encode())
    import_documents(store, js, administration="A1")
    cs = tmp_path / "docs.csv"
    cs.write_bytes(
        b"\xef\xbb\xbftype;number;relation;date;line_description;unit_price\n"
        b"sales_invoice;C1;C100;2025-03-01;Caf\xc3\xa9;4,95\n"
    )
    import_documents(store, cs, administration="A1")
    noext = tmp_path / "docs"  # no extension: the content decides, after the BOM
    noext.write_bytes(b"\xef\xbb\xbf" + json.dumps([invoice("J2")]).encode())
    import_documents(store, noext, administration="A1")
    docs = {d.number: d for d in store.all(Document)}
    assert sorted(docs) == ["C1", "J1", "J2"]
    assert docs["C1"].lines[0].description == "Café"


def test_csv_line_with_millions_of_separators_is_refused_before_splitting(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "docs.csv"
    path.write_text("type;number;relation;date\n" + "x;" * 5_000_000 + "\n")
    exc = refused(store, path)
    assert f"more than {MAX_CSV_SEPARATORS:,} semicolons" in problem_at(exc, "line 2")


def test_ubl_with_too_many_tags_is_refused_before_parsing(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "inv.xml"
    path.write_text("<Invoice>" + "<a/>" * MAX_XML_TAGS + "</Invoice>")
    exc = refused(store, path)
    assert f"more than {MAX_XML_TAGS:,} XML tags" in problem_at(exc, "file")


def test_csv_too_many_rows_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    row = "sales_invoice,1,C100,2025-03-01,Paper\n"
    path.write_text("type,number,relation,date,line_description\n" + row * (MAX_CSV_ROWS + 1))
    exc = refused(store, path)
    assert f"more than {MAX_CSV_ROWS:,} rows" in problem_at(exc, f"line {MAX_CSV_ROWS + 2}")


# ---------------------------------------------------------------- where problems are


def test_reference_problems_name_the_field_where_the_docs_say(store: Store, tmp_path: Path) -> None:
    path = write_json(
        tmp_path,
        invoice("1", administration="A1", relation="NOPE", invoice_debtor="GONE"),
        invoice("2", administration="A1", relation="S100"),  # a supplier
        invoice("3", administration="A2"),
        invoice("4", administration=["A1"]),
    )
    exc = refused(store, path, administration=None)
    assert "'NOPE'" in problem_at(exc, "documents[0].relation")
    assert "'GONE'" in problem_at(exc, "documents[0].invoice_debtor")
    assert "supplier" in problem_at(exc, "documents[1].relation")
    assert "'A2'" in problem_at(exc, "documents[2].administration")
    assert "must be a code" in problem_at(exc, "documents[3].administration")
    # a document without any administration names the field to fill in
    exc = refused(store, write_json(tmp_path, invoice("4")), administration=None)
    assert "--admin" in problem_at(exc, "documents[0].administration")


def test_csv_reference_problems_name_line_and_column(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text(
        "administration,type,number,relation,invoice_debtor,date,line_description\n"
        "A1,sales_invoice,1,NOPE,,2025-03-01,Paper\n"
        "A1,sales_invoice,2,C100,GONE,2025-03-01,Paper\n"
        ",sales_invoice,3,C100,,2025-03-01,Paper\n"
        "A9,sales_invoice,4,C100,,2025-03-01,Paper\n"
    )
    exc = refused(store, path, administration=None)
    assert "'NOPE'" in problem_at(exc, "line 2, column relation")
    assert "'GONE'" in problem_at(exc, "line 3, column invoice_debtor")
    assert "--admin" in problem_at(exc, "line 4, column administration")
    assert "'A9'" in problem_at(exc, "line 5, column administration")


def test_validation_messages_are_plain(store: Store, tmp_path: Path) -> None:
    path = write_json(
        tmp_path,
        invoice("1", lines=[{"description": "x", "unit_price": "abc"}]),
        invoice("2", date="tomorrow"),
        {**invoice(), "number": {"a": 1}},
    )
    exc = refused(store, path)
    assert "unit_price" in problem_at(exc, "documents[0].lines[0]")
    assert "2025-03-31" in problem_at(exc, "documents[1].date")  # shows the form to use
    assert problem_at(exc, "documents[2].number")


def test_many_problems_are_listed_but_bounded(store: Store, tmp_path: Path) -> None:
    docs = [invoice(str(i), relation="X" * 5000) for i in range(500)]
    exc = refused(store, write_json(tmp_path, *docs))
    assert len(exc.problems) == 500
    assert len(str(exc)) < 200 * 300
