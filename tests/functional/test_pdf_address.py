"""The envelope window holds every word of the address, or the document is refused;
text cut elsewhere ends in an ellipsis and is named in the build report; countries in
words in the customer's language."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from mailing.errors import DocumentError
from mailing.pdf import render_document_pdf
from mailing.pdf.layout_geometry import WINDOW_HEIGHT, WINDOW_LEFT, WINDOW_TOP, WINDOW_WIDTH
from tests.pdf_helpers import administration, invoice, relation

LONG_NAME = (
    "Coöperatieve Vereniging van Zuivelproducenten en Melkveehouders in de Kop van "
    "Noord-Holland U.A. te Texel."
)  # 106 characters, as the issue's
LONG_STREET = "Burgemeester van Leeuwenlaan tegenover de oude watertoren 1234-b"


def _spots(pdf: bytes) -> list[tuple[str, float, float, float]]:
    """(text, x, distance from the top, font size) of every text drawn on page 1."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    height = float(page.mediabox.height)
    out: list[tuple[str, float, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            out.append((text.strip(), tm[4] + cm[4], height - (tm[5] + cm[5]), size * tm[0]))

    page.extract_text(visitor_text=visit)
    return out


def _window_lines(pdf: bytes) -> list[tuple[str, float]]:
    """The address lines (text, size) in the window, the return address left out."""
    return [
        (text, size)
        for text, x, top, size in _spots(pdf)
        if WINDOW_LEFT <= x <= WINDOW_LEFT + WINDOW_WIDTH
        and WINDOW_TOP + 8 <= top <= WINDOW_TOP + WINDOW_HEIGHT
        and size > 7
    ]


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return out.stdout


def test_a_long_name_and_street_wrap_in_the_window_with_every_word(tmp_path: Path) -> None:
    assert len(LONG_NAME) == 106
    rel = relation().model_copy(
        update={"name": LONG_NAME, "address": [LONG_STREET, "1791 AB Den Burg"]}
    )
    pdf = render_document_pdf(invoice(2), rel, administration())
    lines = _window_lines(pdf)
    assert " ".join(t for t, _ in lines) == f"{LONG_NAME} {LONG_STREET} 1791 AB Den Burg"
    assert len(lines) >= 5 and all(size == pytest.approx(10) for _, size in lines)
    text = _pdftotext(pdf, tmp_path)
    assert "Noord-Holland U.A. te Texel." in text and "watertoren 1234-b" in text


def test_too_many_lines_for_the_window_lower_the_size_to_the_floor() -> None:
    address = [f"Postbus {n}00, afdeling {n}" for n in range(1, 9)]
    rel = relation().model_copy(update={"address": address})
    lines = _window_lines(render_document_pdf(invoice(1), rel, administration()))
    assert [t for t, _ in lines] == ["Klant C100 BV", *address]
    sizes = {round(size, 2) for _, size in lines}
    assert len(sizes) == 1 and 8 <= sizes.pop() < 10


def test_an_address_that_does_not_fit_even_at_the_floor_is_refused_naming_relation_and_field() -> (
    None
):
    rel = relation().model_copy(update={"address": [LONG_STREET * 8, "3511 AP Utrecht"]})
    with pytest.raises(DocumentError) as err:
        render_document_pdf(invoice(1), rel, administration())
    message = str(err.value)
    assert "Factuur 2025-001 cannot be drawn" in message
    assert "relation C100" in message and "envelope window" in message and "8 pt" in message
    assert err.value.field == "the relation's address line 1"


def test_a_reference_too_long_for_its_place_ends_in_an_ellipsis_and_is_reported(
    tmp_path: Path,
) -> None:
    doc = invoice(1).model_copy(update={"reference": "ref Γιώργος Παπαδόπουλος"})
    cut: list[str] = []
    pdf = render_document_pdf(doc, relation(), administration(), warnings=cut)
    text = _pdftotext(pdf, tmp_path)
    assert "ref Γιώργος…" in text
    assert cut == [
        "Factuur 2025-001: the reference ('ref Γιώργος Παπαδόπουλος') was cut to fit its "
        "place on the page: 'ref Γιώργος…'"
    ]
    assert render_document_pdf(invoice(1), relation(), administration(), warnings=cut)
    assert len(cut) == 1  # a reference that fits says nothing


def test_the_batch_build_refuses_the_address_and_reports_the_cut_reference(
    tmp_path: Path,
) -> None:
    from mailing.batches import build_batch
    from mailing.changes import save_record
    from mailing.demo import load_demo
    from mailing.reports.batch import batch_report
    from store.records import Document, Relation
    from store.store import Store

    store = Store(tmp_path / "h", "demo")
    load_demo(store)
    docs = sorted(
        (
            d
            for d in store.all(Document)
            if d.administration == "HOLT" and d.type == "sales_invoice"
        ),
        key=lambda d: d.number,
    )
    first, second = docs[0], next(d for d in docs[1:] if d.relation != docs[0].relation)
    rel = store.get(Relation, f"HOLT/{first.invoice_debtor or first.relation}")
    save_record(store, rel.model_copy(update={"address": [LONG_STREET * 8]}), rel.key)
    store.put_many([second.model_copy(update={"reference": "ref Γιώργος Παπαδόπουλος"})])
    batch = build_batch(
        store, "demo", "sales_invoice", administration="HOLT",
        numbers=[first.number, second.number], workers=1,
    )  # fmt: skip
    rows = {r.number: r for r in batch_report(store, batch.id).rows}
    assert rows[first.number].kind == "error"
    assert f"relation {rel.code}" in rows[first.number].why
    assert "envelope window" in rows[first.number].why
    assert "was cut to fit its place on the page: 'ref Γιώργος…'" in rows[second.number].why


@pytest.mark.parametrize(
    ("language", "expected"),
    [("NL", "POLEN"), ("EN", "POLAND"), ("DE", "POLEN"), ("FR", "POLOGNE")],
)
def test_the_country_is_in_words_in_the_customers_language(language: str, expected: str) -> None:
    rel = relation(language).model_copy(update={"country": "PL"})
    pdf = render_document_pdf(invoice(1), rel, administration(), language=language)
    assert [t for t, _ in _window_lines(pdf)][-1] == expected


def test_the_administrations_own_country_is_left_out() -> None:
    home = relation().model_copy(update={"country": "NL"})
    lines = [t for t, _ in _window_lines(render_document_pdf(invoice(1), home, administration()))]
    assert lines == ["Klant C100 BV", "Oudegracht 12", "3511 AP Utrecht"]
    belgian_office = administration().model_copy(update={"country": "BE"})
    pdf = render_document_pdf(invoice(1), home, belgian_office)
    assert [t for t, _ in _window_lines(pdf)][-1] == "NEDERLAND"
    pdf = render_document_pdf(
        invoice(1), relation().model_copy(update={"country": "BE"}), belgian_office
    )
    assert [t for t, _ in _window_lines(pdf)][-1] == "3511 AP Utrecht"
