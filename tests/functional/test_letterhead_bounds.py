"""A letterhead whose text runs off its page is refused; the demo's fit their page."""

from __future__ import annotations

import io

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from mailing.demo.letterhead import letterhead_pdf
from mailing.demo.organisation import ADMINISTRATIONS
from mailing.errors import DocumentError
from mailing.pdf import validate_letterhead
from mailing.pdf.fonts import FONT, register
from tests.pdf_helpers import MM, background_pdf


def _letterhead(draw_text: str, x: float, y: float, *, bleed: bool = False) -> bytes:
    register()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1, initialFontName=FONT)
    if bleed:  # a colour band drawn past the edges, as print shops do
        c.setFillColorRGB(0.1, 0.3, 0.7)
        c.rect(-5 * MM, A4[1] - 30 * MM, A4[0] + 10 * MM, 35 * MM, fill=1, stroke=0)
        c.setFillColorRGB(0, 0, 0)
    c.setFont(FONT, 9)
    c.drawString(x, y, draw_text)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_text_past_the_left_and_right_edges_is_refused_naming_the_edges() -> None:
    footer = "Holtkamp Installatietechniek B.V. · KvK 06012345 · IBAN NL91 ABNA 0417 1643 00 " * 2
    with pytest.raises(DocumentError) as err:
        validate_letterhead(_letterhead(footer, -5, 10 * MM))
    message = str(err.value)
    assert "text outside its page" in message
    assert "beyond the left edge" in message and "beyond the right edge" in message


def test_text_above_the_top_edge_is_refused() -> None:
    with pytest.raises(DocumentError, match="beyond the top edge"):
        validate_letterhead(_letterhead("Holtkamp", 100, A4[1] - 3))


def test_a_band_of_colour_past_the_edges_and_text_inside_are_accepted() -> None:
    assert validate_letterhead(_letterhead("Holtkamp", 20 * MM, A4[1] - 20 * MM, bleed=True)) == []
    assert validate_letterhead(background_pdf("FIRST BACKGROUND", image=True)) == []


@pytest.mark.parametrize("admin", ADMINISTRATIONS, ids=lambda a: a.code)
def test_the_demo_letterheads_fit_their_page(admin: object) -> None:
    for follow_on in (False, True):
        assert validate_letterhead(letterhead_pdf(admin, follow_on=follow_on)) == []  # type: ignore[arg-type]
