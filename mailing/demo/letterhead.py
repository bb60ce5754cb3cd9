"""The demo letterheads: an A4 cover sheet and continuation sheet per administration."""

from __future__ import annotations

import io

from store.records import Administration


def letterhead_pdf(admin: Administration, *, follow_on: bool = False) -> bytes:
    """An A4 letterhead: a cover sheet, or with ``follow_on`` a continuation sheet."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from mailing.pdf.fonts import FONT, FONT_BOLD, register

    register()  # embedded fonts: the letterhead can go under an archival (PDF/A) document
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1, initialFontName=FONT)
    w, h = A4
    accent = HexColor("#1F4E79") if admin.code == "HOLT" else HexColor("#8A5A00")
    c.setFillColor(accent)
    if follow_on:
        c.rect(0, h - 12 * mm, w, 12 * mm, stroke=0, fill=1)
        c.setFillColor(HexColor("#FFFFFF"))
        c.setFont(FONT_BOLD, 9)
        c.drawString(20 * mm, h - 8 * mm, admin.name)
    else:
        c.rect(0, h - 30 * mm, w, 30 * mm, stroke=0, fill=1)
        c.setFillColor(HexColor("#FFFFFF"))
        c.setFont(FONT_BOLD, 18)
        c.drawString(20 * mm, h - 18 * mm, admin.name)
        c.setFont(FONT, 9)
        header = [*admin.address, admin.website]
        c.drawString(20 * mm, h - 25 * mm, "  ·  ".join(part for part in header if part))
    c.setFillColor(accent)
    c.setFont(FONT, 7.5)
    parts = [
        admin.name,
        f"KvK {admin.coc_number}" if admin.coc_number else "",
        f"BTW {admin.vat_number}" if admin.vat_number else "",
        f"IBAN {admin.iban}" if admin.iban else "",
        admin.phone,
        admin.email,
    ]
    footer = "  ·  ".join(part for part in parts if part)
    c.drawCentredString(w / 2, 10 * mm, footer)
    c.showPage()
    c.save()
    return buf.getvalue()
