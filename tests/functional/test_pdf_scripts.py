"""Every script a customer's name can have: embedded fonts, exact text, no boxes."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from mailing.errors import DocumentError
from mailing.pdf import render_document_pdf
from mailing.pdf.layout_geometry import WINDOW_HEIGHT, WINDOW_LEFT, WINDOW_TOP, WINDOW_WIDTH
from mailing.pdf.layout_texts import attachment_name
from store.records import DocumentLine
from tests.pdf_helpers import administration, invoice, relation
from tests.pdfa_check import font_rows

NAMES = {
    "latin": "Zoë Ørsted – Łódź",
    "greek": "Ζωή Παπαδοπούλου – Αθήνα",
    "cyrillic": "Анна Кузнецова – Москва",
    "chinese": "北京朝阳贸易有限公司",
}


def _render(name: str) -> bytes:
    rel = relation(language="EN").model_copy(update={"name": name, "address": [name, "Łódź"]})
    doc = invoice(2)
    doc = doc.model_copy(
        update={"lines": [DocumentLine(description=f"Advice for {name}", unit_price=Decimal(5))]}
    )
    return render_document_pdf(doc, rel, administration(), language="EN")


def _ink(png: Path, box: tuple[float, float, float, float]) -> int:
    """Dark pixels inside ``box`` (left, top, width, height in points) of the page image."""
    img = Image.open(png).convert("L")
    scale = img.width / (210 * 72 / 25.4)
    left, top, width, height = (round(v * scale) for v in box)
    region = img.crop((left, top, left + width, top + height))
    return sum(1 for p in region.tobytes() if p < 128)


@pytest.mark.parametrize("script", list(NAMES))
def test_a_name_in_any_script_is_embedded_and_read_back_exactly(
    script: str, tmp_path: Path
) -> None:
    name = NAMES[script]
    path = tmp_path / f"{script}.pdf"
    path.write_bytes(_render(name))
    rows = font_rows(path)
    assert rows and all(row[-5] == "yes" for row in rows), rows  # every font embedded
    faces = {row[0].split("+")[-1] for row in rows}
    assert faces <= {"DejaVuSans", "DejaVuSans-Bold", "DroidSansFallback"}
    assert ("DroidSansFallback" in faces) == (script == "chinese")
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert text.count(name) >= 3  # the address window (twice) and the line
    assert "■" not in text and "\ufffd" not in text
    # The page as a viewer draws it: the address window holds the name's glyphs.
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")],
        check=True,
    )
    (png,) = tmp_path.glob("p*.png")
    window = (WINDOW_LEFT, WINDOW_TOP + 8 * 72 / 25.4, WINDOW_WIDTH, 6 * 72 / 25.4)
    assert _ink(png, window) > 40
    # and the band just below the address lines is blank: nothing spilled over
    below = (WINDOW_LEFT, WINDOW_TOP + WINDOW_HEIGHT - 12, WINDOW_WIDTH, 10)
    assert _ink(png, below) == 0


def test_a_character_no_font_has_is_refused_naming_document_field_and_character() -> None:
    doc = invoice(2)
    lines = [*doc.lines]
    lines[1] = lines[1].model_copy(update={"description": "Tablet 𐀀 inscription"})
    with pytest.raises(DocumentError) as err:
        render_document_pdf(doc.model_copy(update={"lines": lines}), relation(), administration())
    message = str(err.value)
    assert "Factuur 2025-001" in message
    assert "line 2's description" in message and err.value.field == "line 2's description"
    assert "U+10000" in message and "LINEAR B" in message


def test_an_unknown_character_in_the_relation_name_names_that_field() -> None:
    rel = relation().model_copy(update={"name": "Cuneiform 𒀀 Ltd"})
    with pytest.raises(DocumentError) as err:
        render_document_pdf(invoice(1), rel, administration())
    assert err.value.field == "the relation's name"
    assert "U+12000" in str(err.value)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("NL", "Factuur F20260025.pdf"),
        ("DE", "Rechnung F20260025.pdf"),
        ("EN", "Invoice F20260025.pdf"),
        ("FR", "Invoice F20260025.pdf"),  # other codes get English, like the layout
    ],
)
def test_attachment_name_is_in_the_customer_language(language: str, expected: str) -> None:
    assert attachment_name("sales_invoice", "F20260025", language) == expected


def test_attachment_name_is_a_safe_file_name() -> None:
    assert attachment_name("reminder", "R/2026\\01:x", "DE") == "Zahlungserinnerung R_2026_01_x.pdf"


def test_the_command_line_names_the_field_and_character_without_a_traceback(
    tmp_path: Path,
) -> None:
    from mailing.changes import save_record
    from mailing.demo import load_demo
    from store.records import Document, Relation
    from store.store import Store
    from tests.functional.test_preview_cli import mailroom

    home = tmp_path / "h"
    store = Store(home)
    load_demo(store)
    doc = next(
        d for d in store.all(Document) if d.administration == "HOLT" and d.number == "F20260001"
    )
    rel = store.get(Relation, f"HOLT/{doc.invoice_debtor or doc.relation}")
    save_record(store, rel.model_copy(update={"name": "Linear 𐀀 B.V."}), rel.key)
    out = tmp_path / "f.pdf"
    run = mailroom(
        home, "documents", "pdf", "sales_invoice", doc.number, "--admin", "HOLT", "--out", str(out)
    )
    assert run.returncode == 2, run.stderr
    assert "Factuur F20260001 cannot be drawn" in run.stderr
    assert "the relation's name" in run.stderr and "U+10000" in run.stderr
    assert "Traceback" not in run.stderr and not out.exists()


def test_a_tab_or_line_break_in_a_text_is_drawn_as_a_space(tmp_path: Path) -> None:
    doc = invoice(1)
    lines = [doc.lines[0].model_copy(update={"description": "Two\tcolumns\nand a line"})]
    path = tmp_path / "ws.pdf"
    path.write_bytes(
        render_document_pdf(doc.model_copy(update={"lines": lines}), relation(), administration())
    )
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Two columns and a line" in text
