"""Documents per second: invoices on letterhead against reportlab alone, in one run.

    python benchmarks/pdf.py [--documents N] [--repeat K] [--image]

Draws the same N invoices (5 to 24 lines each, some of two pages) twice per round:
once with reportlab alone (no background, no sender header: exactly the same
drawing), and once on a two-background letterhead parsed once up front. Rounds
alternate the order; the best of K rounds counts. Prints documents per second for
both and the ratio of their costs. Target: letterhead/reportlab <= 1.25.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from mailing.pdf import Letterhead, render_document_pdf
from store.records import Administration, Document, DocumentLine, Relation

TARGET = 1.25


def background(text: str, image: bool) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    c.setFont("Helvetica-Bold", 20)
    c.drawRightString(560, 800, text)
    c.setFont("Helvetica", 7)
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
    ap.add_argument("--documents", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--image", action="store_true", help="a letterhead with an image logo")
    args = ap.parse_args()
    adm = Administration(code="A1", name="Acme BV", iban="NL91ABNA0417164300")
    rel = Relation(administration="A1", code="C1", name="Klant BV", address=["Weg 1", "1234 AB X"])
    docs = invoices(args.documents)
    t0 = time.perf_counter()
    lh = Letterhead.from_bytes(
        background("FIRST BACKGROUND", args.image), background("SECOND BACKGROUND", args.image)
    )
    parse_ms = (time.perf_counter() - t0) * 1000

    def plain() -> int:
        size = 0
        for d in docs:
            size += len(render_document_pdf(d, rel, adm, sender_header=False))
        return size

    def on_letterhead() -> int:
        size = 0
        for d in docs:
            size += len(render_document_pdf(d, rel, adm, letterhead=lh))
        return size

    best = {"reportlab": float("inf"), "letterhead": float("inf")}
    sizes = {}
    for r in range(args.repeat):
        order = [("reportlab", plain), ("letterhead", on_letterhead)]
        if r % 2:
            order.reverse()
        for name, fn in order:
            start = time.perf_counter()
            sizes[name] = fn()
            best[name] = min(best[name], time.perf_counter() - start)
    n = len(docs)
    print(
        f"{n} invoices, best of {args.repeat} rounds; letterhead parsed once in {parse_ms:.1f} ms"
    )
    for name in ("reportlab", "letterhead"):
        print(
            f"  {name:<11} {n / best[name]:8.1f} documents/s  "
            f"{best[name] / n * 1000:6.2f} ms each  {sizes[name] / n / 1024:6.1f} KiB each"
        )
    ratio = best["letterhead"] / best["reportlab"]
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"ratio letterhead/reportlab: {ratio:.3f} ({verdict} the target <= {TARGET})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
