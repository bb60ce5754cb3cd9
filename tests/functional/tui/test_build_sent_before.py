"""Documents pane at 80x24: building a batch that holds documents sent before asks
whether to put them in again; yes marks them "sent before" in the queue."""

from __future__ import annotations

from pathlib import Path

from mailing.batches import build_batch
from mailing.config import load_documents
from mailing.demo import load_demo
from mailing.sending import SendOptions, send
from store.spool import Spool
from store.store import Store
from tests.functional.tui.helpers import SIZE, wait_for


async def test_sent_before_documents_go_in_again_only_when_confirmed(tmp_path: Path) -> None:
    from tui.app import MailroomApp

    store = Store(tmp_path / "home", "demo")
    load_demo(store)
    first = sorted(
        (
            d
            for d in load_documents(store)
            if d.type == "sales_invoice" and d.administration == "HOLT"
        ),
        key=lambda d: (d.date, d.number),
    )[:3]
    # Two of the first three were sent already (the demo profiles deliver to the outbox).
    done = build_batch(store, "demo", "sales_invoice", administration="HOLT",
                       numbers=[d.number for d in first[:2]])  # fmt: skip
    done.approve(None, "boss")
    assert send(store, "carol", done.id, SendOptions(backoff=(0.0,))).count("sent") == 2

    app = MailroomApp(store, "demo", first_pane="documents")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "110 shown")
        await pilot.press("space", "space", "space")
        await wait_for(pilot, "3 marked")
        await pilot.press("b")
        text = await wait_for(pilot, "Build a batch of 3 sales invoice")
        assert "2 of them are already in a batch or sent" in text
        await pilot.press("y")
        text = await wait_for(pilot, "2 of them were sent (or printed) before")
        assert "Put them in again?" in text
        await pilot.press("y")
        await wait_for(pilot, "Open it in the queue")
        await pilot.press("n")

    again = [b for b in Spool(store.home).batches() if b.id != done.id]
    assert len(again) == 1
    items = again[0].info()["items"]
    assert sorted(s["number"] for s in items) == sorted(d.number for d in first)
    marked = sorted(s["number"] for s in items if s.get("sent_before"))
    assert marked == sorted(d.number for d in first[:2])
    assert all(s["sent_before"]["batch"] == done.id for s in items if s.get("sent_before"))
