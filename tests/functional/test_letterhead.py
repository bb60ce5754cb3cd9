"""Letterhead validation: good ones pass, bad ones get a clear error, and nothing hangs."""

from __future__ import annotations

import pytest

from mailing.errors import DocumentError
from mailing.pdf import letterhead_check
from mailing.pdf.letterhead import Letterhead, validate_letterhead
from tests.pdf_helpers import (
    LETTER_PDF,
    background_pdf,
    encrypted_pdf,
    page_tree_loop_pdf,
    self_drawing_form_pdf,
    zip_bomb_pdf,
)


def refused(data: bytes) -> str:
    # The check runs in a child with its own time and memory limits; the message says
    # which limit stopped it. No wall-clock assertion: a loaded machine is slower.
    with pytest.raises(DocumentError) as info:
        validate_letterhead(data, "first background")
    return str(info.value)


def test_good_letterhead_passes_without_warnings() -> None:
    assert validate_letterhead(background_pdf("FIRST BACKGROUND", image=True)) == []


def test_multi_page_letterhead_is_accepted_with_a_warning() -> None:
    warnings = validate_letterhead(background_pdf("ONE", "TWO"))
    assert len(warnings) == 1 and "2 pages" in warnings[0] and "one-page" in warnings[0]


def test_too_many_pages_is_refused() -> None:
    message = refused(background_pdf(*[f"P{i}" for i in range(8)]))
    assert "8 pages" in message


def test_encrypted_letterhead_is_refused() -> None:
    message = refused(encrypted_pdf())
    assert "encrypted" in message and "Fix:" in message


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\n this is not really a pdf \x00\xff", background_pdf("X")[:400]],
    ids=["garbage", "truncated"],
)
def test_corrupt_letterhead_is_refused(data: bytes) -> None:
    message = refused(data)
    assert "first background" in message and "cannot be" in message


def test_not_a_pdf_is_refused_at_once() -> None:
    message = refused(b"GIF89a....")
    assert "not a PDF" in message


def test_letter_size_is_refused_naming_the_size_found() -> None:
    message = refused(LETTER_PDF())
    assert "215.9 × 279.4 mm (US Letter)" in message and "not A4" in message


def test_zip_bomb_is_refused_quickly() -> None:
    data = zip_bomb_pdf()  # 2 KB per MiB: a 2 GiB content stream in about 2 MB
    message = refused(data)
    assert "zip bomb" in message


def test_form_that_draws_itself_is_refused() -> None:
    message = refused(self_drawing_form_pdf())
    assert "circular reference" in message


def test_page_tree_that_contains_itself_is_refused() -> None:
    message = refused(page_tree_loop_pdf())
    assert "first background" in message


def test_a_slow_check_is_cut_off_by_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(letterhead_check, "VALIDATE_TIMEOUT_SECONDS", 0.001)
    message = refused(background_pdf("FIRST BACKGROUND"))
    assert "took longer than" in message


def test_building_a_letterhead_from_a_bad_pdf_gives_a_clear_error() -> None:
    with pytest.raises(DocumentError) as info:
        Letterhead.from_bytes(encrypted_pdf())
    assert "encrypted" in str(info.value)
    with pytest.raises(DocumentError) as info:
        Letterhead.from_bytes(b"%PDF-1.4 rubbish")
    assert "cannot be opened" in str(info.value)
