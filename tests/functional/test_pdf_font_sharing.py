"""What a PDF carries of its fonts: the same font program from one invoice to the next,
one copy when the letterhead is drawn with the same faces, text read back exactly."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from mailing.demo.letterhead import letterhead_pdf
from mailing.pdf import Letterhead, render_document_pdf
from tests.pdf_helpers import administration, invoice, relation
from tests.pdfa_check import assert_pdfa3b, font_rows


def _font_files(pdf: bytes) -> dict[str, list[Any]]:
    """Per face (BaseFont without the subset tag): the FontFile2 references of its
    font descriptors, and each file's decoded font program."""
    reader = PdfReader(io.BytesIO(pdf))
    out: dict[str, list[Any]] = {}
    for num in range(1, int(reader.trailer["/Size"])):
        obj = reader.get_object(num)
        if obj is None or not hasattr(obj, "get") or obj.get("/Type") != "/FontDescriptor":
            continue
        ref = obj.raw_get("/FontFile2")
        face = str(obj["/FontName"]).split("+")[-1]
        out.setdefault(face, []).append((ref.idnum, ref.get_object().get_data()))
    return out


def _named(name: str) -> bytes:
    rel = relation().model_copy(update={"name": name})
    return render_document_pdf(invoice(3), rel, administration())


def test_invoices_using_accents_in_another_order_carry_the_same_font_program() -> None:
    a = _font_files(_named("Zoë Müller"))
    b = _font_files(_named("Müller Zoë"))
    assert set(a) == set(b) == {"DejaVuSans", "DejaVuSans-Bold"}
    for face in a:
        assert [data for _, data in a[face]] == [data for _, data in b[face]]


def test_a_letterhead_drawn_with_our_faces_shares_their_font_programs(tmp_path: Path) -> None:
    adm = administration()
    lh = Letterhead.from_bytes(letterhead_pdf(adm), letterhead_pdf(adm, follow_on=True))
    pdf = render_document_pdf(invoice(3), relation(), adm, letterhead=lh)
    files = _font_files(pdf)
    # the letterhead's font dictionaries and the page's: two descriptors per face ...
    assert {face: len(refs) for face, refs in files.items()} == {
        "DejaVuSans": 2,
        "DejaVuSans-Bold": 2,
    }
    # ... and one font program each
    assert {face: len({num for num, _ in refs}) for face, refs in files.items()} == {
        "DejaVuSans": 1,
        "DejaVuSans-Bold": 1,
    }
    assert_pdfa3b(pdf, tmp_path / "shared.pdf")
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    assert all(row[-5] == "yes" for row in font_rows(path))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert adm.name in text  # the letterhead's text
    assert relation().name in text and "Factuur 2025-001" in text
    # the same document without the sharing would carry four programs: it is smaller
    alone = render_document_pdf(invoice(3), relation(), adm)
    assert len(pdf) < len(alone) + len(letterhead_pdf(adm)) - 20_000


def test_a_name_outside_the_common_characters_still_reads_back_exactly(tmp_path: Path) -> None:
    name = "Zoë Ørsted – Łódź · Ελένη · Şükrü"
    path = tmp_path / "name.pdf"
    path.write_bytes(_named(name))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert name in text.splitlines()
