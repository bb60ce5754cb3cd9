"""The demo letterheads: an A4 cover sheet and continuation sheet per administration."""

from __future__ import annotations

import io
from collections.abc import Callable

from store.records import Administration


def letterhead_pdf(admin: Administration, *, follow_on: bool = False) -> bytes:
    """An A4 letterhead: a cover sheet, or with ``follow_on`` a continuation sheet."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from mailing.pdf.fonts import FONT, FONT_BOLD, register
    from mailing.pdf.fonts import width as measure

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
        header = [part for part in [*admin.address, admin.website] if part]
        for n, line in enumerate(_lines(header, w - 40 * mm, FONT, 9, measure)[:2]):
            c.drawString(20 * mm, h - (25 + 4 * n) * mm, line)
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
    # within the page's margins, on as many lines as it takes (the check refuses text
    # outside the page: mailing/pdf/letterhead_bounds.py)
    footer = _lines([p for p in parts if p], w - 40 * mm, FONT, 7.5, measure)
    for n, line in enumerate(footer):
        c.drawCentredString(w / 2, (6 + 3.5 * (len(footer) - 1 - n)) * mm, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def _lines(
    parts: list[str],
    room: float,
    font: str,
    size: float,
    measure: Callable[[str, str, float], float],
) -> list[str]:
    """``parts`` joined with dots into lines no wider than ``room`` points."""
    lines: list[str] = []
    for part in parts:
        candidate = f"{lines[-1]}  ·  {part}" if lines else part
        if lines and measure(candidate, font, size) <= room:
            lines[-1] = candidate
        else:
            lines.append(part)
    return lines
