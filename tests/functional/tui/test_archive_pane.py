"""Archive pane at 80x24: rows and the preview's title name document types in words."""

from __future__ import annotations

import json
from pathlib import Path

from store.store import Store
from tests.functional.tui.helpers import SIZE, make_app, seed, type_text, wait_for


def _archived(home: Path, rel: str) -> None:
    folder = home / "archive" / rel
    folder.mkdir(parents=True)
    record = {"sent_at": "2026-12-07T10:00:00", "to": ["ap@customer.example"]}
    (folder / "record.json").write_text(json.dumps(record))


async def test_archive_rows_name_the_document_type_in_words(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    _archived(home, "HOLT/D1003/sales_invoice-F20260001")
    _archived(home, "HOLT/D1004/down_payment_request-A7")
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f9")
        text = await wait_for(pilot, "HOLT  D1003  Sales invoice F20260001")
        assert "HOLT  D1004  Down payment request A7" in text, text
        assert "sales_invoice" not in text and "down_payment" not in text, text
        await pilot.press("ctrl+l")
        await type_text(pilot, "sales invoice")  # the words on screen find it
        await pilot.press("enter")
        text = await wait_for(pilot, "1-1 of 1")
        assert "D1004" not in text, text
        await pilot.press("enter")
        text = await wait_for(pilot, "Archive: HOLT  D1003  Sales invoice F20260001")
        assert "sales_invoice-F" not in text.split("Archived in")[0], text
