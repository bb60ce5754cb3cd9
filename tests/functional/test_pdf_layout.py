"""Document layouts read back as real PDFs: pages, size, texts, totals, letterhead."""

from __future__ import annotations

import io
import pickle
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from mailing.config import ConfigSnapshot
from mailing.pdf import (
    COPY_DOCUMENT_TYPES,
    Letterhead,
    copy_document_pdf,
    copy_with_background,
    render_document_pdf,
)
from mailing.pdf.layout_geometry import WINDOW_HEIGHT, WINDOW_LEFT, WINDOW_TOP, WINDOW_WIDTH
from mailing.pdf.render import render_stored_document
from store.records import DOC_TYPES, Document, DocumentLine
from tests.pdf_helpers import (
    administration,
    background_pdf,
    invoice,
    page_texts,
    relation,
    reminder,
    setup_store,
)

A4 = (595.28, 841.89)
FIRST = background_pdf("FIRST BACKGROUND")
SECOND = background_pdf("SECOND BACKGROUND")


def nl_amount(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


def test_sixty_line_invoice_spans_pages_with_header_and_backgrounds_and_right_totals() -> None:
    doc = invoice(60)
    lh = Letterhead.from_bytes(FIRST, SECOND)
    pdf = render_document_pdf(doc, relation(), administration(), letterhead=lh)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(A4[0], abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(A4[1], abs=0.5)
    texts = [p.extract_text() for p in reader.pages]
    total_pages = len(texts)
    for n, text in enumerate(texts, start=1):
        # the header row is repeated on every page that holds lines
        if n < total_pages or "Line item 059" in text:
            assert "Omschrijving" in text and "Aantal" in text and "Bedrag" in text
        assert f"Pagina {n} van {total_pages}" in text
    assert "FIRST BACKGROUND" in texts[0] and "SECOND BACKGROUND" not in texts[0]
    for text in texts[1:]:
        assert "SECOND BACKGROUND" in text and "FIRST BACKGROUND" not in text
    # every line printed exactly once, in order, across the pages
    everything = "\n".join(texts)
    found = re.findall(r"Line item (\d{3})", everything)
    assert found == [f"{i:03d}" for i in range(60)]
    # totals and the VAT summary add up, as printed
    last = texts[-1]
    subtotal = nl_amount(re.search(r"Subtotaal\s*EUR ([\d.,]+)", last).group(1))  # type: ignore[union-attr]
    vats = {
        Decimal(rate): (nl_amount(base), nl_amount(vat))
        for rate, base, vat in re.findall(r"Btw (\d+)% over ([\d.,]+)\s*EUR ([\d.,]+)", last)
    }
    total = nl_amount(re.search(r"Totaal\s*EUR ([\d.,]+)", last).group(1))  # type: ignore[union-attr]
    line_sum = sum((ln.quantity * ln.unit_price for ln in doc.lines), Decimal(0))
    assert subtotal == line_sum
    assert set(vats) == {Decimal(21), Decimal(9)}
    assert sum(b for b, _ in vats.values()) == subtotal
    for rate, (base, vat) in vats.items():
        assert vat == (base * rate / 100).quantize(Decimal("0.01"))
    assert total == subtotal + sum(v for _, v in vats.values())
    assert total == doc.total_incl
    assert "NL91ABNA0417164300" in last  # payment terms with the IBAN


def test_qpdf_and_pdftotext_accept_the_output(tmp_path: Path) -> None:
    lh = Letterhead.from_bytes(background_pdf("FIRST BACKGROUND", image=True), SECOND)
    out = tmp_path / "invoice.pdf"
    out.write_bytes(render_document_pdf(invoice(60), relation(), administration(), letterhead=lh))
    check = subprocess.run(["qpdf", "--check", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors" in check.stdout
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "FIRST BACKGROUND" in text and "NESTED FORM TEXT" in text
    assert "SECOND BACKGROUND" in text
    assert "Line item 059" in text


def test_address_sits_in_the_window_of_a_dutch_window_envelope() -> None:
    pdf = render_document_pdf(invoice(), relation(), administration())
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    spots: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            spots.setdefault(text.strip(), (tm[4] + cm[4], tm[5] + cm[5]))

    page.extract_text(visitor_text=visit)
    height = float(page.mediabox.height)
    for line in ("Klant C100 BV", "Oudegracht 12", "3511 AP Utrecht"):
        x, y = spots[line]
        from_top = height - y
        assert WINDOW_LEFT <= x <= WINDOW_LEFT + WINDOW_WIDTH, line
        assert WINDOW_TOP <= from_top <= WINDOW_TOP + WINDOW_HEIGHT, line


@pytest.mark.parametrize(
    ("language", "title", "page", "due"),
    [
        ("NL", "Factuur 2025-001", "Pagina 1 van 1", "Vervaldatum"),
        ("EN", "Invoice 2025-001", "Page 1 of 1", "Due date"),
        ("DE", "Rechnung 2025-001", "Seite 1 von 1", "Fällig am"),
    ],
)
def test_texts_follow_the_relations_language(
    language: str, title: str, page: str, due: str
) -> None:
    pdf = render_document_pdf(invoice(), relation(language), administration(), language=language)
    (text,) = page_texts(pdf)
    assert title in text and page in text and due in text


def test_reminder_shows_open_items_with_their_age() -> None:
    doc = reminder()
    (text,) = page_texts(render_document_pdf(doc, relation("EN"), administration(), language="EN"))
    assert "Payment reminder R-2025-01" in text
    assert "Days overdue" in text
    # 2025-04-30 minus the due dates 2025-03-31 and 2025-04-19
    assert re.search(r"2025-001\s+1 Mar 2025\s+31 Mar 2025\s+30\s+121\.00", text)
    assert re.search(r"2025-007\s+20 Mar 2025\s+19 Apr 2025\s+11\s+50\.00\s+20\.00", text)
    assert "Total open" in text and "EUR 141.00" in text


def test_packing_slip_shows_quantities_and_no_prices() -> None:
    doc = invoice(5, doc_type="packing_slip")
    (text,) = page_texts(render_document_pdf(doc, relation("EN"), administration(), language="EN"))
    assert "Packing slip" in text and "Qty" in text
    assert "Price" not in text and "EUR" not in text and "12.35" not in text
    assert "Line item 004" in text


@pytest.mark.parametrize("doc_type", DOC_TYPES)
def test_every_document_type_has_a_layout(doc_type: str) -> None:
    doc = reminder() if doc_type == "reminder" else invoice(4, doc_type=doc_type)
    pdf = render_document_pdf(doc, relation("EN"), administration(), language="EN")
    (text,) = page_texts(pdf)
    assert doc.number in text
    assert "Page 1 of 1" in text


def test_long_first_background_is_used_whole_and_first_repeats_without_second() -> None:
    two_page = background_pdf("COVER SHEET", "TERMS SHEET")
    texts = page_texts(
        render_document_pdf(
            invoice(2), relation(), administration(), letterhead=Letterhead.from_bytes(two_page)
        )
    )
    assert len(texts) == 2
    assert "COVER SHEET" in texts[0] and "Factuur 2025-001" in texts[0]
    assert "TERMS SHEET" in texts[1]
    texts = page_texts(
        render_document_pdf(
            invoice(90), relation(), administration(), letterhead=Letterhead.from_bytes(FIRST)
        )
    )
    assert len(texts) >= 3
    assert all("FIRST BACKGROUND" in t for t in texts)


def test_long_descriptions_wrap_inside_their_column() -> None:
    doc = invoice(1)
    long = "A description that is much longer than the column is wide " * 3
    doc = doc.model_copy(update={"lines": [DocumentLine(description=long, unit_price=Decimal(1))]})
    (text,) = page_texts(render_document_pdf(doc, relation(), administration()))
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("A description"))
    wrapped = lines[start : start + 4]
    # every word is there, over four lines of the column, none cut inside a word
    assert " ".join(wrapped) == long.strip()
    assert all(len(ln) < len(long) / 2 for ln in wrapped)


def test_copy_documents_follow_the_spec_table() -> None:
    assert COPY_DOCUMENT_TYPES == {
        "reminder",
        "sales_invoice",
        "packing_slip",
        "purchase_order",
        "counter_invoice",
    }
    assert all(copy_with_background(t) for t in COPY_DOCUMENT_TYPES)
    lh = Letterhead.from_bytes(FIRST)
    oc = invoice(2, doc_type="order_confirmation")
    assert copy_document_pdf(oc, relation(), administration(), letterhead=lh) is None
    doc = invoice(2)
    sent = render_document_pdf(doc, relation(), administration(), letterhead=lh)
    assert (
        copy_document_pdf(doc, relation(), administration(), letterhead=lh, sent_pdf=sent) == sent
    )
    drawn = copy_document_pdf(doc, relation(), administration(), letterhead=lh)
    assert drawn is not None and "FIRST BACKGROUND" in page_texts(drawn)[0]


def test_output_is_deterministic() -> None:
    lh = Letterhead.from_bytes(FIRST, SECOND)
    a = render_document_pdf(invoice(40), relation(), administration(), letterhead=lh)
    b = render_document_pdf(invoice(40), relation(), administration(), letterhead=lh)
    assert a == b


def test_letterhead_is_parsed_once_per_process_and_travels_to_workers(tmp_path: Path) -> None:
    store = setup_store(tmp_path / "home", FIRST, SECOND)
    cfg = ConfigSnapshot.load(store)
    lc = cfg.language_codes[("A1", "NL")]
    one = Letterhead.from_refs(store, lc)
    assert one is not None and Letterhead.from_refs(store, lc) is one
    assert Letterhead.from_refs(store, cfg.language_codes[("A1", "EN")]) is None
    copy = pickle.loads(pickle.dumps(one))
    pdf = render_document_pdf(invoice(60), relation(), administration(), letterhead=copy)
    texts = page_texts(pdf)
    assert "FIRST BACKGROUND" in texts[0] and "SECOND BACKGROUND" in texts[1]


def test_stored_document_gets_its_relations_language_and_letterhead(tmp_path: Path) -> None:
    store = setup_store(tmp_path / "home", FIRST)
    cfg = ConfigSnapshot.load(store)
    nl = render_stored_document(store, cfg, invoice())
    assert "FIRST BACKGROUND" in page_texts(nl)[0] and "Factuur" in page_texts(nl)[0]
    en_doc = invoice().model_copy(update={"relation": "C200"})
    en = page_texts(render_stored_document(store, cfg, en_doc))[0]
    assert "Invoice 2025-001" in en and "FIRST BACKGROUND" not in en  # EN has no letterhead
    plain = page_texts(render_stored_document(store, cfg, invoice(), background=False))[0]
    assert "FIRST BACKGROUND" not in plain and "Acme Office Supplies BV" in plain


def test_documents_pdf_command_writes_the_pdf(tmp_path: Path) -> None:
    from tui.cli import main

    home = tmp_path / "home"
    store = setup_store(home, FIRST, SECOND)
    store.put_many([invoice(60)])
    out = tmp_path / "out.pdf"
    assert (
        main(
            [
                "--home",
                str(home),
                "documents",
                "pdf",
                "sales_invoice",
                "2025-001",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    texts = page_texts(out.read_bytes())
    assert "FIRST BACKGROUND" in texts[0] and "SECOND BACKGROUND" in texts[1]
    assert (
        main(["--home", str(home), "documents", "pdf", "sales_invoice", "nope", "--out", str(out)])
        == 2
    )


def test_document_type_must_match_a_layout() -> None:
    with pytest.raises(Exception):  # noqa: B017 - pydantic refuses it before any drawing
        Document.parse({**invoice().dump(), "type": "quote"})
