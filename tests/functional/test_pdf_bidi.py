"""Right-to-left and shaped scripts on the page: the order a reader sees, read back.

Every test renders a real invoice, then asks poppler (``pdftotext``, ``pdftoppm``)
what is on the page: the words in logical order, where each word sits, how wide it
is, and the ink. A control drawn with U+200C ZERO WIDTH NON-JOINER between letters
(which forbids joining and conjuncts) shows what the page would be without shaping.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from mailing.pdf import render_document_pdf
from mailing.pdf.fonts import describe
from mailing.pdf.glyph_check import undrawable
from store.records import DocumentLine
from tests.pdf_helpers import administration, invoice, relation
from tests.pdfa_check import font_rows

ARABIC = "شركة النور للتجارة"
ARABIC_STREET = "شارع الملك فهد 12"
HEBREW = "חברת שָׁלוֹם בע״מ"
HEBREW_STREET = "רחוב הרצל 15"
THAI = "บริษัท สยาม จำกัด"
DEVANAGARI = "श्री गणेश ट्रेडर्स"
BIDI_MARKS = str.maketrans("", "", "\u202a\u202b\u202c\u202d\u202e")  # poppler's own


def _pdf(tmp_path: Path, name: str, street: str = "Oudegracht 12", line: str = "") -> Path:
    rel = relation(language="EN").model_copy(
        update={"name": name, "address": [street, "3511 AP Utrecht"]}
    )
    doc = invoice(1)
    if line:
        doc = doc.model_copy(
            update={"lines": [DocumentLine(description=line, unit_price=Decimal("1250"))]}
        )
    path = tmp_path / f"p{len(list(tmp_path.glob('*.pdf')))}.pdf"
    path.write_bytes(render_document_pdf(doc, rel, administration(), language="EN"))
    return path


def _text(path: Path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return unicodedata.normalize("NFC", out.stdout.translate(BIDI_MARKS))


def _words(path: Path) -> list[tuple[str, float, float, float]]:
    """(word, xMin, xMax, yMin) of page 1 as poppler places them (its -bbox mode gives a
    right-to-left word's characters as drawn, left to right)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', out
    )
    return [(w.translate(BIDI_MARKS), float(a), float(c), float(b)) for a, b, c, w in found]


def _word(path: Path, word: str) -> tuple[float, float, float]:
    for w, x0, x1, y in _words(path):
        if sorted(w.replace("\u200c", "")) == sorted(word.replace("\u200c", "")):
            # as typed, or as drawn right to left
            return x0, x1, y
    raise AssertionError(f"{word!r} not on the page: {[w for w, *_ in _words(path)]}")


def _png(path: Path, dpi: int = 150) -> Image.Image:
    stem = path.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile"]
        + [str(path), str(stem)],
        check=True,
    )
    return Image.open(stem.with_suffix(".png")).convert("L")


def _longest_stroke(img: Image.Image, box: tuple[float, float, float, float], dpi: int) -> int:
    """The longest horizontal run of ink (pixels) inside ``box`` (points: x0, y0 top, x1, y1)."""
    k = dpi / 72
    crop = img.crop(tuple(round(v * k) for v in box))
    best = 0
    for row in range(crop.height):
        run = 0
        for col in range(crop.width):
            if crop.getpixel((col, row)) < 128:  # type: ignore[operator]
                run += 1
                best = max(best, run)
            else:
                run = 0
    return best


def test_arabic_reads_right_to_left_and_comes_back_in_logical_order(tmp_path: Path) -> None:
    path = _pdf(tmp_path, ARABIC, ARABIC_STREET, "فاتورة رقم 42 بمبلغ 1.250,00 يورو")
    text = _text(path)
    assert ARABIC in text, text
    # right to left: the first word typed is the rightmost on the line
    first, second, third = (_word(path, w) for w in ARABIC.split())
    assert first[0] > second[0] > third[0]
    assert abs(first[2] - third[2]) < 1  # one line
    # a number in a right-to-left line keeps its digits in order, left of the words
    street, number = _word(path, "شارع"), _word(path, "12")
    assert number[0] < street[0] and abs(number[2] - street[2]) < 1
    # amounts in a right-to-left description stay amounts
    assert "1.250,00" in text and "42" in text and "فاتورة رقم" in text


def test_arabic_letters_join(tmp_path: Path) -> None:
    joined = _pdf(tmp_path, ARABIC)
    apart = _pdf(tmp_path, "\u200c".join(ARABIC))  # the control: every joining forbidden
    # poppler's box of the name: the joined word is narrower ...
    word = "للتجارة"
    x0, x1, y = _word(joined, word)
    a0, a1, _ = _word(apart, word)
    assert x1 - x0 < (a1 - a0) * 0.85
    # ... and drawn as one stroke: the longest run of ink along a row spans letters
    box = (x0, y, x1, y + 12)
    long_joined = _longest_stroke(_png(joined, 300), box, 300)
    long_apart = _longest_stroke(_png(apart, 300), (a0, y, a1, y + 12), 300)
    assert long_joined > 1.4 * long_apart, (long_joined, long_apart)  # e.g. 42 against 26


def test_hebrew_reads_right_to_left_with_its_marks_in_place(tmp_path: Path) -> None:
    path = _pdf(tmp_path, HEBREW, HEBREW_STREET)
    text = _text(path)
    assert unicodedata.normalize("NFC", HEBREW) in text and "רחוב הרצל" in text
    words = HEBREW.split()
    positions = [_word(path, w) for w in words]
    assert positions[0][0] > positions[1][0] > positions[2][0]
    # the points (niqqud) sit on their letters: the pointed word is as wide as the bare one
    bare = _pdf(tmp_path, "חברת שלום בע״מ")
    x0, x1, _ = positions[1]
    b0, b1, _ = _word(bare, "שלום")
    assert abs((x1 - x0) - (b1 - b0)) < 0.5
    street, number = _word(path, "רחוב"), _word(path, "15")
    assert number[0] < street[0]


@pytest.mark.parametrize(("name", "control_word"), [(THAI, "บริษัท"), (DEVANAGARI, "श्री")])
def test_thai_and_devanagari_print_shaped_and_read_back(
    name: str, control_word: str, tmp_path: Path
) -> None:
    path = _pdf(tmp_path, name)
    assert name in _text(path)
    faces = {row[0].split("+")[-1] for row in font_rows(path)}
    assert faces & {"NotoSansThai-Regular", "NotoSansDevanagari-Regular"}, faces
    # left to right: the first word typed is the leftmost
    first, second = (_word(path, w) for w in name.split()[:2])
    assert first[0] < second[0]
    if control_word == "श्री":  # a conjunct: narrower than the letters with a visible virama
        apart = _pdf(tmp_path, name.replace("श्री", "श्\u200cरी"))
        x0, x1, _ = first
        a0, a1, _ = _word(apart, "श्\u200cरी")
        assert x1 - x0 < a1 - a0


def test_a_line_mixing_scripts_keeps_each_in_its_order(tmp_path: Path) -> None:
    mixed = "Order 42 for שלום and النور, EUR 1.250,00"
    path = _pdf(tmp_path, "Klant BV", line=mixed)
    text = _text(path)
    # each run in its own order, the runs where the reader meets them
    spots = [text.index(part) for part in ("Order 42 for", "שלום", "and", "النور", "EUR 1.250,00")]
    assert spots == sorted(spots), text


def test_a_script_no_face_has_is_still_refused() -> None:
    assert undrawable(ARABIC) == [] and undrawable(THAI) == [] and undrawable(DEVANAGARI) == []
    bad = undrawable("ܫܠܡܐ")  # Syriac: no embedded face has it
    assert bad and "SYRIAC" in describe(bad[0])
