"""PDF/A-3b: the e-mailed PDF and the copy document pass a structural check; letterheads
that would break it are refused with the reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from mailing.batches import Composer
from mailing.changes import ChangeRefused, save_record
from mailing.demo import load_demo
from mailing.errors import DocumentError
from mailing.pdf import Letterhead, copy_document_pdf
from mailing.pdf.letterhead import validate_letterhead
from store.records import Document, LanguageCode, Relation
from store.store import Store
from tests.pdf_helpers import administration, background_pdf, invoice, raw_pdf, relation, stream
from tests.pdfa_check import NS, assert_pdfa3b

FIRST = background_pdf("FIRST BACKGROUND", image=True)


def test_the_mailed_pdf_on_the_demo_letterhead_is_pdfa3b(tmp_path: Path) -> None:
    store = Store(tmp_path / "h")
    load_demo(store)
    doc = next(
        d
        for d in store.all(Document)
        if d.administration == "HOLT" and d.type == "sales_invoice" and d.number == "F20260001"
    )
    composed = Composer(store, "").compose(doc)
    xmp = assert_pdfa3b(composed.pdf, tmp_path / "mailed.pdf")
    assert xmp.findtext(".//dc:identifier", namespaces=NS) == "F20260001"
    keywords = xmp.findtext(".//pdf:Keywords", namespaces=NS) or ""
    assert "F20260001" in keywords and "HOLT" in keywords
    assert composed.pdf_name == "Factuur F20260001.pdf"
    assert ("Factuur F20260001.pdf", len(composed.pdf)) in composed.attachments


def test_the_copy_document_is_pdfa3b(tmp_path: Path) -> None:
    doc = invoice(40, doc_type="packing_slip")
    copy = copy_document_pdf(
        doc, relation(), administration(), letterhead=Letterhead.from_bytes(FIRST)
    )
    assert copy is not None
    xmp = assert_pdfa3b(copy, tmp_path / "copy.pdf")
    assert xmp.findtext(".//dc:title/rdf:Alt/rdf:li", namespaces=NS) == "Pakbon 2025-001"
    creator = xmp.findtext(".//dc:creator/rdf:Seq/rdf:li", namespaces=NS)
    assert creator == administration().name


def _letterhead(draw: str) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    if draw == "helvetica":
        c.setFont("Helvetica", 12)
        c.drawString(72, 800, "Acme BV")
    elif draw == "alpha":
        c.setFillAlpha(0.4)
        c.rect(0, 0, 200, 200, fill=1, stroke=0)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_a_letterhead_with_a_font_not_embedded_is_refused_naming_the_font() -> None:
    with pytest.raises(DocumentError) as err:
        validate_letterhead(_letterhead("helvetica"))
    assert "Helvetica without embedding it" in str(err.value)
    assert "PDF/A" in str(err.value)


def test_a_letterhead_with_transparency_is_refused() -> None:
    with pytest.raises(DocumentError) as err:
        validate_letterhead(_letterhead("alpha"))
    assert "Page 1 of the letterhead uses transparency" in str(err.value)


def test_a_letterhead_with_javascript_is_refused() -> None:
    content = stream(b"", b"0 0 1 rg 0 0 100 100 re f")
    pdf = raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 5 0 R >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.2756 841.8898] "
            b"/Contents 4 0 R /Resources << >> >>",
            content,
            b"<< /Names [(a) << /S /JavaScript /JS (app.alert(1)) >>] >>",
        ]
    )
    with pytest.raises(DocumentError) as err:
        validate_letterhead(pdf)
    assert "holds JavaScript" in str(err.value)


def test_the_letterheads_of_the_tests_and_the_demo_pass() -> None:
    assert validate_letterhead(FIRST) == []


def _holt_nl(store: Store) -> LanguageCode:
    return store.get(LanguageCode, "HOLT/NL")


def test_a_new_letterhead_that_cannot_be_pdfa_is_refused_by_the_door(tmp_path: Path) -> None:
    store = Store(tmp_path / "h")
    load_demo(store)
    lc = _holt_nl(store)
    ref = store.files.add_bytes("briefpapier.pdf", _letterhead("helvetica"))
    with pytest.raises(ChangeRefused) as err:
        save_record(store, lc.model_copy(update={"first_background": ref}), lc.key)
    text = str(err.value)
    assert "first_background" in text and "Helvetica without embedding it" in text
    assert _holt_nl(store).first_background == lc.first_background  # nothing written


def test_a_letterhead_stored_before_the_rule_keeps_working_as_plain_pdf(tmp_path: Path) -> None:
    store = Store(tmp_path / "h")
    load_demo(store)
    old = store.files.add_bytes("oud-briefpapier.pdf", _letterhead("helvetica"))
    # as an older Mailroom stored it, before letterheads were held to PDF/A
    store.put(_holt_nl(store).model_copy(update={"first_background": old}))
    lc = _holt_nl(store)
    # an unrelated change to that language code is not refused for its letterhead
    save_record(store, lc.model_copy(update={"description": "Nederlands (oud)"}), lc.key)
    doc = store.get(Document, "HOLT/sales_invoice/F20260001")
    composed = Composer(store, "").compose(doc)
    reader = PdfReader(io.BytesIO(composed.pdf))
    root = reader.trailer["/Root"].get_object()
    assert "/OutputIntents" not in root and "/Metadata" not in root  # no false PDF/A claim
    assert "F20260001" in reader.pages[0].extract_text()
    # a Factur-X invoice cannot lie on it: a clear error, naming the letterhead
    rel = store.get(Relation, f"HOLT/{doc.invoice_debtor or doc.relation}")
    save_record(store, rel.model_copy(update={"e_invoice": "factur-x"}), rel.key)
    with pytest.raises(DocumentError) as err:
        Composer(store, "").compose(doc)
    assert err.value.field == "letterhead"
    assert "cannot go as Factur-X" in str(err.value) and "Helvetica" in str(err.value)
