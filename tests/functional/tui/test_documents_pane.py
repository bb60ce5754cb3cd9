"""Documents pane at 80x24, keyboard only: filters, import, preview with the trace, build a
batch of marked documents, and states derived from the spool."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path
from typing import Any

from mailing.demo import load_demo
from store.records import Document
from store.spool import Spool
from store.store import Store
from tests.functional.tui.helpers import SIZE, screen_text, settle, type_text, wait_for


def demo_app(tmp_path: Path) -> tuple[Any, Store]:
    from tui.app import MailroomApp

    store = Store(tmp_path / "home", "demo")
    load_demo(store)
    return MailroomApp(store, "demo", first_pane="documents"), store


async def test_filter_import_and_bad_date(tmp_path: Path) -> None:
    app, store = demo_app(tmp_path)
    source = tmp_path / "new.json"
    source.write_text(
        json.dumps(
            {
                "documents": [
                    {
                        "type": "sales_invoice",
                        "number": "X-77",
                        "relation": "D1001",
                        "date": "2026-12-01",
                        "lines": [{"description": "Service", "quantity": 1, "unit_price": "10"}],
                    }
                ]
            }
        )
    )
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, "110 shown")
        # Relation filter: / goes to the filters; the relation box is the sixth.
        await pilot.press("slash", "tab", "tab", "tab", "tab", "tab")
        assert app.focused is not None and app.focused.id == "f-relation"
        await type_text(pilot, "D1001")
        await pilot.press("enter")
        text = await wait_for(pilot, " shown")
        shown = int(text.split(" shown")[0].split()[-1])
        assert 0 < shown < 110
        assert all("D1001" in ln for ln in text.splitlines() if " F2026" in ln), text
        # A date that is not one is named, not a traceback.
        await pilot.press("slash", "tab", "tab", "tab")
        assert app.focused is not None and app.focused.id == "f-from"
        await type_text(pilot, "2026-13-01")
        text = await wait_for(pilot, "is not a date")
        assert "YYYY-MM-DD" in text
        await pilot.press("ctrl+u", "enter")

        # Import from a file (into the administration shown: HOLT).
        await pilot.press("ctrl+l", "i")
        await wait_for(pilot, "Import documents")
        await type_text(pilot, str(source))
        await pilot.press("enter")
        text = await wait_for(pilot, "X-77")
    assert store.find(Document, "HOLT/sales_invoice/X-77") is not None


async def test_preview_document_save_eml_then_build_marked(tmp_path: Path) -> None:
    app, store = demo_app(tmp_path)
    saved = tmp_path / "saved.eml"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "110 shown")
        # Preview the first document: not in a batch yet, built as a batch would build it.
        await pilot.press("enter")
        text = await wait_for(pilot, "<= DECIDED")
        assert "not yet in a batch" in text and "Subject:" in text
        await pilot.press("end")  # the PDF, as text, is at the end of the message side
        text = screen_text(app)
        flat = " ".join(text.split())  # where the PDF's lines break follows the font
        assert "factuur F20260025" in flat and "Pagina 1 van 1" in text, text
        await pilot.press("e")
        await wait_for(pilot, "Save the .eml")
        await pilot.press("ctrl+u")
        await type_text(pilot, str(saved))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")

        # Mark two documents and build a batch of them.
        await pilot.press("space", "space")
        text = await wait_for(pilot, "2 marked")
        await pilot.press("b")
        await wait_for(pilot, "Build a batch of 2 sales invoice")
        await pilot.press("y")
        text = await wait_for(pilot, "Open it in the queue")
        await pilot.press("n")
        text = await wait_for(pilot, "built:")
        rows = [ln for ln in text.splitlines() if " F2026" in ln]
        assert rows[0].lstrip().startswith("B") and rows[1].lstrip().startswith("B"), rows
        # The state filter: only the documents in a batch.
        await pilot.press("slash", "tab", "tab", "enter", "down", "down", "enter")
        text = await wait_for(pilot, "2 shown")

    msg = email.message_from_bytes(saved.read_bytes(), policy=email.policy.default)
    assert "F20260025" in str(msg["Subject"])
    assert any(p.get_content_type() == "application/pdf" for p in msg.iter_attachments())
    batches = Spool(store.home).batches()
    assert len(batches) == 1 and sum(batches[0].counts().values()) == 2
