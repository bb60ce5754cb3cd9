"""The EPC QR code on invoices, read back with a real QR decoder (zbarimg, zbar-tools)."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from stdnum import iso11649

from mailing.changes import ChangeRefused, save_record
from mailing.pdf import render_document_pdf
from store.records import Administration, DocumentLine
from store.store import Store
from tests.pdf_helpers import administration, invoice, relation, reminder


def _scan(pdf: bytes, tmp_path: Path) -> list[str] | None:
    """The lines of the QR code on page 1 as zbarimg reads them, or None when it finds none."""
    path = tmp_path / "q.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            path,
            tmp_path / "q",
        ],
        check=True,
    )
    run = subprocess.run(
        ["zbarimg", "-q", "--raw", str(tmp_path / "q.png")], capture_output=True, text=True
    )
    if run.returncode == 4:  # zbarimg: no symbol found
        return None
    assert run.returncode == 0, run.stderr
    return run.stdout.rstrip("\n").split("\n")


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "t.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _office(**update: object) -> Administration:
    return administration().model_copy(update={"epc_qr": True, **update})


def test_an_invoice_carries_an_epc_code_with_a_structured_creditor_reference(
    tmp_path: Path,
) -> None:
    doc = invoice(3)
    adm = _office(rf_reference=True, iban="NL91 ABNA 0417 1643 00")
    pdf = render_document_pdf(doc, relation(), adm)
    fields = _scan(pdf, tmp_path)
    assert fields is not None
    service, version, charset, ident, bic, name, iban, amount, purpose, reference = fields[:10]
    assert (service, version, ident) == ("BCD", "002", "SCT")
    assert charset in ("1", "2")  # UTF-8 or ISO 8859-1 (segno picks the smallest)
    assert (bic, name, iban) == ("ABNANL2A", "Acme Office Supplies BV", "NL91ABNA0417164300")
    assert amount.startswith("EUR") and Decimal(amount[3:]) == doc.total_incl and purpose == ""
    assert iso11649.is_valid(reference) and reference.endswith("2025001")
    assert len(fields) == 10 or fields[10] == ""  # no unstructured text beside it
    # the payment terms quote the same reference for who pays by hand
    assert iso11649.format(reference) in _text(pdf, tmp_path)
    assert "Scan en betaal" in _text(pdf, tmp_path)


def test_without_a_structured_reference_the_code_names_the_invoice(tmp_path: Path) -> None:
    doc = invoice(2)
    pdf = render_document_pdf(doc, relation("EN"), _office(), language="EN")
    fields = _scan(pdf, tmp_path)
    assert fields is not None
    assert Decimal(fields[7].removeprefix("EUR")) == doc.total_incl
    assert fields[9] == "" and fields[10] == "Invoice 2025-001"
    assert "Scan to pay" in _text(pdf, tmp_path)


def test_a_reminder_asks_for_the_total_open(tmp_path: Path) -> None:
    fields = _scan(render_document_pdf(reminder(), relation(), _office()), tmp_path)
    assert fields is not None and Decimal(fields[7].removeprefix("EUR")) == Decimal("141.00")


@pytest.mark.parametrize(
    "case", ["credit note", "counter sale (paid)", "dollars", "switched off", "packing slip"]
)
def test_no_code_where_nothing_is_to_be_paid_in_euros(case: str, tmp_path: Path) -> None:
    doc, adm = invoice(2), _office()
    if case == "credit note":
        doc = doc.model_copy(
            update={"lines": [DocumentLine(description="Credit", unit_price=Decimal("-50"))]}
        )
    elif case == "counter sale (paid)":
        doc = invoice(2, doc_type="counter_invoice")
    elif case == "dollars":
        doc = doc.model_copy(update={"currency": "USD"})
    elif case == "switched off":
        adm = administration()
    else:
        doc = invoice(2, doc_type="packing_slip")
    pdf = render_document_pdf(doc, relation(), adm)
    assert _scan(pdf, tmp_path) is None
    assert "Scan en betaal" not in _text(pdf, tmp_path)


def test_the_door_refuses_the_code_without_a_valid_iban(tmp_path: Path) -> None:
    store = Store(tmp_path / "h", "tester")
    with pytest.raises(ChangeRefused) as err:
        save_record(store, _office(iban="NL00 BANK 1234"))
    assert any(p.where.endswith(".iban") for p in err.value.problems), err.value.problems
    with pytest.raises(ChangeRefused, match="not a valid BIC"):
        save_record(store, _office(bic="NOPE"))
    with pytest.raises(ChangeRefused, match="ISO 3166"):
        save_record(store, administration().model_copy(update={"country": "XX1"}))
    save_record(store, _office(rf_reference=True))  # a valid IBAN and BIC: saved
    assert store.get(Administration, "A1").epc_qr is True
