"""What embedded fonts, PDF/A and Factur-X cost per invoice, against reportlab alone.

    python benchmarks/pdf.py [--documents N] [--rounds K] [--image]

Draws the same N invoices (5 to 24 lines each, some of two pages) in six ways, in
interleaved rounds (each round runs every way once, in a rotated order, so a
slower moment of the machine touches all of them alike):

  reportlab     the layout with reportlab's built-in Helvetica: no embedded font, no
                PDF/A, no letterhead (reportlab alone: Latin-1 only, boxes otherwise),
                text drawn with reportlab's own drawString
  fonts         + DejaVu Sans embedded (subsets), text drawn per run of one face
  fonts+pdfa    + PDF/A-3b (sRGB output intent, XMP, dates)
  rl+letterhead reportlab alone on a two-background letterhead (its own fonts embedded)
  letterhead    what is mailed without e-invoice: fonts, PDF/A-3b, letterhead
  whole         + Factur-X: the EN 16931 CII XML (made by mailing/einvoice/cii.py,
                byte-equal to the factur-x library's), embedded in the same PDF pass

Our faces are written with Mailroom's own text operators (mailing/pdf/fonts.py:
one text object per string, font subsets serialised once per process), Helvetica
with reportlab's drawString; after the warm-up reportlab's ASCII85 wrapping is off
for every way alike (``rl_config.useA85``, set when our fonts are registered).

Per way: the median CPU time per invoice over the rounds (process time: the
benchmark's own CPU, not other work on the machine) and the spread (lowest and
highest round). Ratios against ``reportlab``; targets: letterhead <= 1.25, whole
<= 1.5. Also against ``fonts`` (the same drawing with the same embedded fonts),
which separates the cost of the scripts from that of the archive and e-invoice.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from mailing.einvoice import e_invoice_for
from mailing.pdf import Letterhead, render_document_pdf
from store.records import Administration, Document, DocumentLine, Relation

TARGET_LETTERHEAD = 1.25
TARGET_WHOLE = 1.5


def background(text: str, image: bool) -> bytes:
    """A letterhead as an office would save it for archival PDFs: its fonts embedded
    (a letterhead with Helvetica not embedded is refused for PDF/A and Factur-X)."""
    from mailing.pdf.fonts import FONT, FONT_BOLD, register

    register()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, initialFontName=FONT)
    c.setFont(FONT_BOLD, 20)
    c.drawRightString(560, 800, text)
    c.setFont(FONT, 7)
    c.drawString(40, 30, "Acme BV · Keizersgracht 1 · 1015 AA Amsterdam · KvK 12345678")
    c.setFillColorRGB(0.1, 0.3, 0.7)
    c.rect(0, 0, A4[0], 20, fill=1, stroke=0)
    if image:
        from PIL import Image
        from reportlab.lib.utils import ImageReader

        img = Image.new("RGB", (300, 120), (30, 60, 160))
        c.drawImage(ImageReader(img), 40, 770, 150, 60)
    c.showPage()
    c.save()
    return buf.getvalue()


def invoices(n: int) -> list[Document]:
    docs = []
    for i in range(n):
        lines = [
            DocumentLine(
                article=f"A{j}",
                description=f"Article {j} for invoice {i}",
                quantity=Decimal(j % 5 + 1),
                unit_price=Decimal("19.95") + j,
                vat_rate=Decimal("21") if j % 4 else Decimal("9"),
            )
            for j in range(5 + i % 20 + (30 if i % 50 == 0 else 0))
        ]
        docs.append(
            Document(
                administration="A1",
                type="sales_invoice",
                number=f"2025-{i:05d}",
                relation="C1",
                date=dt.date(2025, 3, 1),
                due_date=dt.date(2025, 3, 31),
                lines=lines,
            )
        )
    return docs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--documents", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--image", action="store_true", help="a letterhead with an image logo")
    args = ap.parse_args()
    adm = Administration(
        code="A1",
        name="Acme BV",
        address=["Keizersgracht 1", "1015 AA Amsterdam"],
        iban="NL91ABNA0417164300",
        vat_number="NL001234567B01",
    )
    rel = Relation(
        administration="A1",
        code="C1",
        name="Klant BV",
        address=["Weg 1", "1234 AB Utrecht"],
        e_invoice="factur-x",
    )
    docs = invoices(args.documents)
    lh = Letterhead.from_bytes(
        background("FIRST BACKGROUND", args.image), background("SECOND BACKGROUND", args.image)
    )

    def each(**kw: object) -> Callable[[Document], bytes]:
        return lambda d: render_document_pdf(d, rel, adm, **kw)  # type: ignore[arg-type]

    def whole(d: Document) -> bytes:
        xml = e_invoice_for(d, rel, adm).facturx
        return render_document_pdf(d, rel, adm, letterhead=lh, facturx=xml)

    ways: dict[str, Callable[[Document], bytes]] = {
        "reportlab": each(embed_fonts=False, archival=False, sender_header=False),
        "fonts": each(archival=False, sender_header=False),
        "fonts+pdfa": each(sender_header=False),
        "rl+letterhead": each(embed_fonts=False, archival=False, letterhead=lh),
        "letterhead": each(letterhead=lh),
        "whole": whole,
    }
    for fn in ways.values():  # warm up: fonts registered, caches filled, imports done
        fn(docs[0])
    times: dict[str, list[float]] = {name: [] for name in ways}
    sizes: dict[str, int] = {}
    names = list(ways)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            start = time.process_time()
            size = sum(len(ways[name](d)) for d in docs)
            times[name].append((time.process_time() - start) / len(docs) * 1000)
            sizes[name] = size // len(docs)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(
        f"{len(docs)} invoices, {args.rounds} interleaved rounds; CPU ms per invoice: "
        "median [lowest round - highest round]"
    )
    for name in names:
        ts = times[name]
        print(
            f"  {name:<14} {med[name]:6.2f} ms [{min(ts):5.2f} - {max(ts):5.2f}]"
            f"  {sizes[name] / 1024:6.1f} KiB  x{med[name] / med['reportlab']:.2f} reportlab"
            f"  x{med[name] / med['fonts']:.2f} fonts"
        )
    lh_ratio = med["letterhead"] / med["reportlab"]
    whole_ratio = med["whole"] / med["reportlab"]
    ok = lh_ratio <= TARGET_LETTERHEAD and whole_ratio <= TARGET_WHOLE
    print(
        f"letterhead / reportlab = {lh_ratio:.2f} (target <= {TARGET_LETTERHEAD}); "
        f"whole / reportlab = {whole_ratio:.2f} (target <= {TARGET_WHOLE}); "
        f"against the same embedded fonts: letterhead {med['letterhead'] / med['fonts']:.2f}, "
        f"whole {med['whole'] / med['fonts']:.2f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
