"""PDF/A-3b: the e-mailed PDF and the copy document pass a structural check; letterheads
that would break it are refused with the reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from mailing.compose import Composer
from mailing.demo import load_demo
from mailing.errors import DocumentError
from mailing.pdf import Letterhead, copy_document_pdf
from mailing.pdf.letterhead import validate_letterhead
from store.records import Document
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
    composed = Composer(store, None).compose(doc)
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
