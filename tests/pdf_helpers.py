"""Helpers for the PDF, letterhead and import tests: real PDFs, made here."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfgen.canvas import Canvas

from mailing.pdf.fonts import FONT, FONT_BOLD, register
from store.records import (
    Administration,
    Document,
    DocumentLine,
    LanguageCode,
    OpenItem,
    Relation,
)
from store.store import Store

MM = 72 / 25.4


def background_pdf(*texts: str, pagesize: tuple[float, float] = A4, image: bool = False) -> bytes:
    """A letterhead made with reportlab: one page per text, the text at the top right.

    Its fonts are embedded (the PDF fonts of Mailroom), as an archival PDF/A document
    needs of what lies under it.
    """
    register()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=pagesize, invariant=1, initialFontName=FONT)
    for text in texts:
        c.setFont(FONT_BOLD, 18)
        c.drawRightString(pagesize[0] - 20 * MM, pagesize[1] - 20 * MM, text)
        c.setFillColorRGB(0.1, 0.3, 0.7)
        c.rect(0, 0, pagesize[0], 8 * MM, fill=1, stroke=0)
        if image:
            from PIL import Image
            from reportlab.lib.utils import ImageReader

            img = Image.new("RGB", (40, 20), (200, 30, 30))
            c.drawImage(ImageReader(img), 20 * MM, pagesize[1] - 30 * MM, 30 * MM, 15 * MM)
            c.beginForm("logo")
            c.setFont(FONT, 8)
            c.drawString(20 * MM, pagesize[1] - 35 * MM, "NESTED FORM TEXT")
            c.endForm()
            c.doForm("logo")
        c.showPage()
    c.save()
    return buf.getvalue()


LETTER_PDF = lambda: background_pdf("LETTER SIZE", pagesize=LETTER)  # noqa: E731


def raw_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF built by hand from object bodies (object n is objects[n-1])."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        xref,
    )
    return bytes(out)


def stream(dict_body: bytes, data: bytes) -> bytes:
    return b"<< " + dict_body + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def zip_bomb_stream(gib: int = 2) -> bytes:
    """A zlib stream that inflates to ``gib`` GiB of zeros, about 1 KB per MiB."""
    chunk = bytes(1 << 20)
    c = zlib.compressobj(9)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    repeat = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush(zlib.Z_FINISH)[:-4]
    n = gib * 1024
    total = n << 20
    adler = ((total % 65521) << 16) | 1  # adler32 of zeros: A stays 1, B counts the bytes
    return first + repeat * (n - 1) + tail + struct.pack(">I", adler)


def zip_bomb_pdf() -> bytes:
    bomb = zip_bomb_stream()
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Contents 4 0 R "
            b"/Resources << >> >>",
            stream(b"/Filter /FlateDecode", bomb),
        ]
    )


def self_drawing_form_pdf() -> bytes:
    """A page whose form XObject draws itself: a circular reference."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Contents 4 0 R "
            b"/Resources 5 0 R >>",
            stream(b"", b"/X Do"),
            b"<< /XObject << /X 6 0 R >> >>",
            stream(b"/Type /XObject /Subtype /Form /BBox [0 0 100 100] /Resources 5 0 R", b"/X Do"),
        ]
    )


def page_tree_loop_pdf() -> bytes:
    """A page tree whose node lists itself as its own kid."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
        ]
    )


def encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(background_pdf("SECRET")))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- records


def administration() -> Administration:
    return Administration(
        code="A1",
        name="Acme Office Supplies BV",
        address=["Keizersgracht 1", "1015 AA Amsterdam"],
        iban="NL91ABNA0417164300",
        bic="ABNANL2A",
        vat_number="NL859123455B01",
        coc_number="12345678",
    )


def relation(language: str = "NL", code: str = "C100", kind: str = "customer") -> Relation:
    return Relation(
        administration="A1",
        code=code,
        kind=kind,  # type: ignore[arg-type]
        name=f"Klant {code} BV",
        language=language,
        address=["Oudegracht 12", "3511 AP Utrecht"],
    )


def invoice(
    n_lines: int = 3, number: str = "2025-001", doc_type: str = "sales_invoice"
) -> Document:
    lines = [
        DocumentLine(
            article=f"ART{i:03d}",
            description=f"Line item {i:03d}",
            quantity=Decimal(i % 4 + 1),
            unit_price=Decimal("12.35") + i,
            vat_rate=Decimal("9") if i % 3 == 0 else Decimal("21"),
        )
        for i in range(n_lines)
    ]
    return Document(
        administration="A1",
        type=doc_type,  # type: ignore[arg-type]
        number=number,
        relation="C100",
        date=dt.date(2025, 3, 1),
        due_date=dt.date(2025, 3, 31),
        reference="PO-7781",
        lines=lines,
    )


def reminder() -> Document:
    return Document(
        administration="A1",
        type="reminder",
        number="R-2025-01",
        relation="C100",
        date=dt.date(2025, 4, 30),
        due_date=dt.date(2025, 5, 14),
        open_items=[
            OpenItem(
                number="2025-001",
                date=dt.date(2025, 3, 1),
                due_date=dt.date(2025, 3, 31),
                amount=Decimal("121.00"),
                open_amount=Decimal("121.00"),
            ),
            OpenItem(
                number="2025-007",
                date=dt.date(2025, 3, 20),
                due_date=dt.date(2025, 4, 19),
                amount=Decimal("50.00"),
                open_amount=Decimal("20.00"),
            ),
        ],
    )


def setup_store(home: Path, first: bytes | None = None, second: bytes | None = None) -> Store:
    store = Store(home, "tester")
    lc = LanguageCode(administration="A1", code="NL")
    if first is not None:
        lc.first_background = store.files.add_bytes("first.pdf", first)
    if second is not None:
        lc.second_background = store.files.add_bytes("second.pdf", second)
    store.put_many(
        [
            administration(),
            relation("NL", "C100"),
            relation("EN", "C200"),
            relation("NL", "S100", kind="supplier"),
            lc,
            LanguageCode(administration="A1", code="EN"),
        ]
    )
    return store


def page_texts(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
