"""Every embedded font subset has a tag of its own (PDF 32000-1 §9.6.4), read by pdffonts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from mailing.pdf import render_document_pdf
from store.records import DocumentLine
from tests.pdf_helpers import administration, invoice, relation
from tests.pdfa_check import font_rows

# More than one subset of DejaVu Sans: reportlab puts at most 256 codes in each.
MANY = [
    "".join(chr(c) for c in range(0x391, 0x3CA) if chr(c).isalpha()),  # Greek
    "".join(chr(c) for c in range(0x410, 0x450)),  # Cyrillic
    "".join(chr(c) for c in range(0x100, 0x17F)),  # Latin Extended-A
    "".join(chr(c) for c in range(0x5D0, 0x5EB)),  # Hebrew
]


def _names(tmp_path: Path, texts: list[str], stem: str) -> list[str]:
    doc = invoice(1).model_copy(
        update={"lines": [DocumentLine(description=t, unit_price=Decimal(1)) for t in texts]}
    )
    path = tmp_path / f"{stem}.pdf"
    path.write_bytes(render_document_pdf(doc, relation(), administration()))
    return [row[0] for row in font_rows(path)]


def test_each_subset_has_its_own_tag_and_the_same_subset_keeps_it(tmp_path: Path) -> None:
    names = _names(tmp_path, MANY, "many")
    regular = [n for n in names if n.endswith("+DejaVuSans")]
    assert len(regular) >= 2, names  # the text needs several subsets of the face
    tags = [n.split("+")[0] for n in names]
    assert len(set(tags)) == len(tags), names  # no two subsets share a tag
    assert all(len(t) == 6 and t.isalpha() and t.isupper() for t in tags)
    assert "AAAAAA" not in tags
    assert _names(tmp_path, MANY, "again") == names  # the same document: the same names
    other = _names(tmp_path, ["Zoë"], "other")
    assert set(other) != set(names)  # another subset: another tag
