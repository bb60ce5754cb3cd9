"""mailing/pdf/reportlab_writer.py writes what reportlab's own ``getpdfdata`` writes, byte
for byte: for our invoices (letterhead, PDF/A, Factur-X, two pages, shaped text, the
benchmark's Helvetica) and for a canvas using what our layout never does (images,
nested forms, colours, an outline entry, a link, an encrypted document)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from reportlab.pdfgen.canvas import Canvas

import mailing.pdf.layout as layout
from mailing.demo.letterhead import letterhead_pdf
from mailing.pdf import Letterhead, render_document_pdf
from mailing.pdf.fonts import FONT, FONT_BOLD, register
from mailing.pdf.reportlab_writer import pdf_bytes
from tests.pdf_helpers import administration, invoice, relation

FACTURX = b'<?xml version="1.0" encoding="UTF-8"?>\n<rsm:CrossIndustryInvoice/>\n'


def _both(monkeypatch: pytest.MonkeyPatch, make: Callable[[], bytes]) -> tuple[bytes, bytes]:
    """``make()`` written by our writer, then by reportlab's own."""
    ours = make()
    with monkeypatch.context() as m:
        m.setattr(layout, "pdf_bytes", lambda c: c.getpdfdata())
        theirs = make()
    return ours, theirs


@pytest.mark.parametrize(
    "case",
    ["letterhead+facturx", "plain", "two pages", "shaped name", "helvetica"],
)
def test_our_documents_are_written_as_reportlab_writes_them(
    monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    adm = administration()
    rel = relation()
    doc = invoice(3)
    kw: dict[str, Any] = {}
    if case == "letterhead+facturx":
        first, second = letterhead_pdf(adm), letterhead_pdf(adm, follow_on=True)
        kw = {"letterhead": Letterhead.from_bytes(first, second), "facturx": FACTURX}
        doc = invoice(60)  # on both backgrounds
    elif case == "two pages":
        doc = invoice(60)
    elif case == "shaped name":
        rel = rel.model_copy(update={"name": "شركة الأمل · Zoë Ørsted – Łódź"})
    elif case == "helvetica":
        kw = {"embed_fonts": False, "archival": False}
    ours, theirs = _both(monkeypatch, lambda: render_document_pdf(doc, rel, adm, **kw))
    assert ours == theirs
    assert ours.startswith(b"%PDF-1.") and ours.endswith(b"%%EOF\n")


def _draw(c: Canvas) -> None:
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    register()
    c.setTitle("Ünïcode → title")
    c.setFont(FONT_BOLD, 14)
    c.drawString(40, 800, "Heading (with parentheses) \\ and ë")
    c.bookmarkPage("p1")
    c.addOutlineEntry("First", "p1")
    c.linkURL("https://example.com", (40, 780, 200, 795))
    c.setFillColorRGB(0.1, 0.3, 0.7)
    c.rect(40, 700, 100, 50, fill=1)
    c.drawImage(ImageReader(Image.new("RGB", (40, 20), (200, 30, 30))), 40, 600, 80, 40)
    c.beginForm("logo")
    c.setFont(FONT, 8)
    c.drawString(40, 580, "NESTED FORM TEXT")
    c.endForm()
    c.doForm("logo")
    c.showPage()
    c.setFont(FONT, 10)
    c.drawString(40, 800, "page two")


@pytest.mark.parametrize("encrypted", [False, True])
def test_a_canvas_with_what_our_layout_never_uses(encrypted: bool) -> None:
    def make(write: Callable[[Canvas], bytes]) -> bytes:
        c = Canvas(
            io.BytesIO(),
            invariant=1,
            pageCompression=1,
            encrypt="secret" if encrypted else None,
        )
        _draw(c)
        return write(c)

    ours = make(pdf_bytes)
    theirs = make(lambda c: c.getpdfdata())
    assert ours == theirs
