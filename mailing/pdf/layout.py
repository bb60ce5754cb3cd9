"""Document layouts: one per document type, sharing one drawing style.

Drawn directly on a reportlab canvas (no platypus: a batch of 10,000 invoices
must stay near reportlab's floor). Every layout has the same parts:

* the address in the window of a Dutch window envelope (*venstercouvert*, NEN 1026:
  window 20 mm from the left, 45 mm from the top, 90 × 45 mm), with a small return
  address above it;
* the document data (number, date, due date, reference, customer number);
* the line table, paginated, with its header row repeated on every page;
* totals and the VAT summary per rate, then the payment terms;
* "page 1 of 2" on every page.

Texts are in the relation's language (NL, EN or DE; other codes get English).
The letterhead, when given, is drawn under each page first (see letterhead.py).
Page geometry, texts per language and the line table live in layout_geometry.py,
layout_texts.py and layout_table.py.
"""

from __future__ import annotations

import datetime as dt
import io
from functools import cached_property
from typing import TYPE_CHECKING

from mailing.copies import COPY_DOCUMENT_TYPES as COPY_DOCUMENT_TYPES
from mailing.einvoice.data import EINVOICE_TYPES
from mailing.einvoice.vat import CREDIT_NOTE_TITLE, document_words
from mailing.errors import DocumentError
from mailing.pdf.epc import EPC_BLOCK, draw_epc, epc_payment, rf_words
from mailing.pdf.fonts import draw, register
from mailing.pdf.glyph_check import check_drawable
from mailing.pdf.layout_address import FIELD_WORDS, address_block, clip, draw_address
from mailing.pdf.layout_geometry import (
    DATA_LEFT,
    FIRST_TABLE_TOP,
    FONT,
    FONT_BOLD,
    FOOTER_Y,
    LEFT,
    MM,
    NEXT_TABLE_TOP,
    PAGE_H,
    PAGE_W,
    RIGHT,
    ROW_H,
    SIZE,
    TABLE_BOTTOM,
    WINDOW_WIDTH,
)
from mailing.pdf.layout_table import Page, Row, _columns, _fit, _rows
from mailing.pdf.layout_texts import _LABELS, _TITLES, Formats, layout_language
from mailing.pdf.pdfa import ArchiveInfo, make_archival
from mailing.pdf.reportlab_writer import pdf_bytes
from store.records import DOC_TYPES, Administration, Document, Relation

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

    from mailing.pdf.letterhead import Letterhead

_COPY_WITH_BACKGROUND: frozenset[str] = COPY_DOCUMENT_TYPES
PAYMENT_TERM_TYPES: frozenset[str] = frozenset(
    {"sales_invoice", "subscription_invoice", "counter_invoice", "down_payment", "reminder"}
)


def copy_with_background(doc_type: str) -> bool:
    """Whether the copy document of ``doc_type`` carries the letterhead (SPEC §3)."""
    return doc_type in _COPY_WITH_BACKGROUND


# ---------------------------------------------------------------- the renderer


class _Renderer:
    def __init__(
        self,
        doc: Document,
        relation: Relation,
        administration: Administration,
        language: str,
        letterhead: Letterhead | None,
        sender_header: bool = True,
        *,
        embed_fonts: bool = True,
        archival: bool = True,
        facturx: bytes | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        if doc.type not in DOC_TYPES:
            raise DocumentError(
                f"Unknown document type {doc.type!r}.", field="type", value=doc.type
            )
        self.doc = doc
        self.rel = relation
        self.adm = administration
        self.language = language  # the relation's own code (its country in its words)
        self.warnings = warnings if warnings is not None else []
        self.lang = layout_language(language)
        self.t = _LABELS[self.lang]
        self.f = Formats(self.lang)
        self.letterhead = letterhead
        self.sender_header = sender_header
        self.columns = _columns(doc.type)
        # PDF/A-3b unless the letterhead under it cannot be (stored before that rule)
        self.archival = archival and (letterhead is None or letterhead.conforms)
        self.facturx = facturx
        self.title = f"{_TITLES[self.lang][doc.type]} {doc.number}"
        if doc.credit_note:  # issue 26
            self.title = f"{CREDIT_NOTE_TITLE.get(self.lang, 'Credit note')} {doc.number}"
        if facturx is not None and letterhead is not None and not letterhead.conforms:
            raise DocumentError(
                f"{self.title} cannot go as Factur-X: its letterhead cannot be part of a "
                f"PDF/A-3 document. {' '.join(letterhead.pdfa_problems)}",
                field="letterhead",
                value=self.title,
                fix="choose the letterhead of the language code again, saved with its fonts "
                "embedded and without transparency (e.g. as PDF/A), or send this relation "
                "its invoices as PDF only.",
            )
        if embed_fonts:
            register()
            check_drawable(doc, relation, administration, self.title)
            self.font, self.bold = FONT, FONT_BOLD
        else:  # reportlab's built-in Helvetica: the benchmark's baseline only
            self.font, self.bold = "Helvetica", "Helvetica-Bold"
        # wrapped to the window, smaller when needed, refused before anything is drawn
        self.address = address_block(relation, administration, language, self.font, self.title)
        self.epc = epc_payment(doc, administration, _TITLES[self.lang][doc.type])

    def archive_info(self) -> ArchiveInfo:
        return ArchiveInfo(
            title=self.title,
            number=self.doc.number,
            administration=self.adm.name,
            administration_code=self.adm.code,
            date=self.doc.date,
            language=self.lang,
        )

    # -- measuring

    @cached_property  # measured for the pagination, then drawn
    def _closing_lines(self) -> list[tuple[str, str, bool]]:
        """(label, value, bold) rows of the totals block."""
        doc, f, t = self.doc, self.f, self.t
        cur = doc.currency
        if doc.type == "packing_slip":
            return []
        if doc.type == "reminder":
            return [(t["total_open"], f"{cur} {f.money(doc.total_incl)}", True)]
        out = [(t["subtotal"], f"{cur} {f.money(doc.total_excl)}", False)]
        for rate, (base, vat) in sorted(doc.vat_summary().items(), reverse=True):
            label = t["vat_over"].format(rate=f.number(rate), base=f.money(base))
            out.append((label, f"{cur} {f.money(vat)}", False))
        out.append((t["total"], f"{cur} {f.money(doc.total_incl)}", True))
        return out

    def _terms_text(self) -> str:
        doc, t, adm, f = self.doc, self.t, self.adm, self.f
        due = doc.due_date or doc.date + dt.timedelta(days=adm.payment_days)
        amount = f"{doc.currency} {f.money(doc.total_incl)}"
        bic = f" (BIC {adm.bic})" if adm.bic else ""
        if doc.type == "packing_slip":
            return t["packing"].format(lines=len(doc.lines))
        if doc.type == "purchase_order":
            return t["purchase"].format(number=doc.number)
        if doc.type == "order_confirmation":
            return t["order"]
        key = "pay_reminder" if doc.type == "reminder" else "pay"
        return t[key].format(
            amount=amount,
            due=f.date(due),
            iban=adm.iban or "-",
            bic=bic,
            name=adm.name,
            number=rf_words(self.epc, f"{_TITLES[self.lang][doc.type].lower()} {doc.number}"),
        )

    @cached_property
    def _terms_lines(self) -> list[str]:
        lines = _fit(self._terms_text(), RIGHT - LEFT, self.font)
        ids = []
        if self.adm.vat_number:
            ids.append(f"{self.t['vat_no']} {self.adm.vat_number}")
        if self.adm.coc_number:
            ids.append(f"{self.t['coc']} {self.adm.coc_number}")
        if ids and self.doc.type in PAYMENT_TERM_TYPES:
            lines.append("  ·  ".join(ids))
        if self.doc.type in EINVOICE_TYPES:  # issue 26: "VAT reverse charged", ...
            for words in document_words(self.doc, self.lang, self.rel.vat_number):
                lines += _fit(words, RIGHT - LEFT, self.font)
        return lines

    def paginate(self, rows: list[Row]) -> list[Page]:
        closing = self._closing_lines
        terms = self._terms_lines
        totals_h = len(closing) * ROW_H + 4 * MM if closing else 0
        closing_h = max(totals_h, EPC_BLOCK if self.epc else 0) + len(terms) * (SIZE + 2) + 6 * MM
        pages = [Page()]
        y = FIRST_TABLE_TOP - ROW_H * 1.4  # below the header row
        for row in rows:
            if y - row.height < TABLE_BOTTOM and pages[-1].rows:
                pages.append(Page())
                y = NEXT_TABLE_TOP - ROW_H * 1.4
            pages[-1].rows.append(row)
            y -= row.height
        if y - closing_h < TABLE_BOTTOM:
            pages.append(Page())
        pages[-1].totals = True
        return pages

    # -- drawing

    def render(self) -> bytes:
        from reportlab.pdfgen.canvas import Canvas

        buf = io.BytesIO()
        c = Canvas(
            buf,
            pagesize=(PAGE_W, PAGE_H),
            invariant=1,
            pageCompression=1,
            initialFontName=self.font,  # no Helvetica reference in an archival PDF
        )
        title = self.title
        c.setTitle(title)
        c.setAuthor(self.adm.name)
        c.setCreator("Mailroom")
        applier = self.letterhead.applier(c) if self.letterhead is not None else None
        pages = self.paginate(_rows(self.doc, self.f, self.columns, self.font))
        total = len(pages)
        for n, page in enumerate(pages):
            if applier is not None:
                applier.draw(n)
            if n == 0:
                if self.letterhead is None and self.sender_header:
                    self._sender_header(c)
                self._address(c)
                self._data_block(c)
                draw(c, LEFT, PAGE_H - 98 * MM, title, self.bold, 14)
                if self.doc.description:
                    text = self._clip(
                        self.doc.description, RIGHT - LEFT, self.font, SIZE, "the description"
                    )
                    draw(c, LEFT, PAGE_H - 103 * MM, text, self.font, SIZE)
                y = FIRST_TABLE_TOP
            else:
                draw(c, LEFT, NEXT_TABLE_TOP + 8 * MM, title, self.font, SIZE)
                y = NEXT_TABLE_TOP
            y = self._table(c, page.rows, y, header=bool(page.rows) or not page.totals)
            if page.totals:
                self._closing(c, y)
            page_no = self.t["page"].format(n=n + 1, total=total)
            draw(c, RIGHT, FOOTER_Y, page_no, self.font, 8, right=True)
            c.showPage()
        # A first background longer than the document: all its pages are used (SPEC §3).
        if self.letterhead is not None and applier is not None:
            for n in range(total, self.letterhead.first_page_count):
                applier.draw(n)
                c.showPage()
        if self.archival:
            make_archival(c, self.archive_info(), self.facturx)
        return pdf_bytes(c)

    def _sender_header(self, c: Canvas) -> None:
        """Without letterhead: the sender's name and address at the top right."""
        draw(c, RIGHT, PAGE_H - 20 * MM, self.adm.name, self.bold, 12, right=True)
        y = PAGE_H - 25 * MM
        for line in [*self.adm.address, self.adm.phone, self.adm.email, self.adm.website]:
            if line:
                draw(c, RIGHT, y, line, self.font, 8, right=True)
                y -= 3.6 * MM

    def _clip(self, text: str, width: float, font: str, size: float, field: str) -> str:
        return clip(text, width, font, size, f"{self.title}: {field}", self.warnings)

    def _address(self, c: Canvas) -> None:
        sender = ", ".join([self.adm.name, *self.adm.address[:2]])
        sender = self._clip(sender, WINDOW_WIDTH - 6 * MM, self.font, 6.5, "the return address")
        draw_address(c, sender, self.address, self.font)

    def _data_block(self, c: Canvas) -> None:
        doc, t, f = self.doc, self.t, self.f
        rows = [("number", doc.number), ("date", f.date(doc.date))]
        if doc.due_date is not None and doc.type != "packing_slip":
            rows.append(("due_date", f.date(doc.due_date)))
        if doc.reference:
            rows.append(("reference", doc.reference))
        rows.append(("supplier" if doc.type == "purchase_order" else "customer", self.rel.code))
        y = PAGE_H - 50 * MM
        for key, value in rows:
            draw(c, DATA_LEFT, y, t[key], self.font, SIZE)
            field = f"the {FIELD_WORDS.get(key, key)}"
            text = self._clip(value, RIGHT - DATA_LEFT - 30 * MM, self.bold, SIZE, field)
            draw(c, DATA_LEFT + 30 * MM, y, text, self.bold, SIZE)
            y -= 4.8 * MM

    def _table(self, c: Canvas, rows: list[Row], y: float, header: bool) -> float:
        if not header:
            return y
        t = self.t
        for col in self.columns:
            draw(c, col.x, y, t[col.key], self.bold, SIZE, right=col.right)
        c.setLineWidth(0.5)
        c.line(LEFT, y - 1.6 * MM, RIGHT, y - 1.6 * MM)
        y -= ROW_H * 1.4
        for row in rows:
            for col, lines in zip(self.columns, row.cells, strict=True):
                ly = y
                for text in lines:
                    draw(c, col.x, ly, text, self.font, SIZE, right=col.right)
                    ly -= SIZE + 1.5
            y -= row.height
        return y

    def _closing(self, c: Canvas, y: float) -> None:
        closing = self._closing_lines
        if self.epc is not None:  # beside the totals, left; the terms go below both
            below = draw_epc(c, self.epc, LEFT, y + ROW_H - 2.4 * MM, self.lang, self.font)
        if closing:
            c.setLineWidth(0.5)
            c.line(LEFT + 100 * MM, y + ROW_H - 2.4 * MM, RIGHT, y + ROW_H - 2.4 * MM)
            y -= 1.5 * MM
            for label, value, bold in closing:
                face = self.bold if bold else self.font
                draw(c, LEFT + 100 * MM, y, label, face, SIZE)
                draw(c, RIGHT, y, value, face, SIZE, right=True)
                y -= ROW_H
            y -= 4 * MM
        if self.epc is not None:
            y = min(y, below)
        y -= 2 * MM
        for line in self._terms_lines:
            draw(c, LEFT, y, line, self.font, SIZE)
            y -= SIZE + 2


def render_document_pdf(
    doc: Document,
    relation: Relation,
    administration: Administration,
    *,
    language: str = "NL",
    letterhead: Letterhead | None = None,
    sender_header: bool = True,
    embed_fonts: bool = True,
    archival: bool = True,
    facturx: bytes | None = None,
    warnings: list[str] | None = None,
) -> bytes:
    """The document as an A4 PDF/A-3b, on ``letterhead`` when given.

    Without a letterhead the sender's name and address are drawn at the top, unless
    ``sender_header`` is False (pre-printed stationery, or the benchmark's baseline).
    ``embed_fonts=False`` and ``archival=False`` give reportlab's plain output with its
    built-in Helvetica (no other script than Latin-1): the benchmark's baseline only.
    ``facturx``: the invoice's CII XML, embedded as a Factur-X / ZUGFeRD invoice.
    Raises DocumentError naming the field when a text holds a character that no
    embedded font has, or when the address does not fit the envelope window.
    ``warnings``: a list that gets a sentence for every text cut to fit its place.
    """
    return _Renderer(
        doc,
        relation,
        administration,
        language,
        letterhead,
        sender_header,
        embed_fonts=embed_fonts,
        archival=archival,
        facturx=facturx,
        warnings=warnings,
    ).render()


def copy_document_pdf(
    doc: Document,
    relation: Relation,
    administration: Administration,
    *,
    language: str = "NL",
    letterhead: Letterhead | None = None,
    sent_pdf: bytes | None = None,
) -> bytes | None:
    """The copy document (*kopiedocument*) to archive after a send, or None (SPEC §3).

    When the copy carries the background and the sent PDF is given, the copy is that
    very PDF, byte for byte; otherwise it is drawn (without background when the table
    says so).
    """
    if doc.type not in COPY_DOCUMENT_TYPES:
        return None
    if copy_with_background(doc.type):
        if sent_pdf is not None:
            return sent_pdf
        return render_document_pdf(
            doc, relation, administration, language=language, letterhead=letterhead
        )
    return render_document_pdf(doc, relation, administration, language=language)
