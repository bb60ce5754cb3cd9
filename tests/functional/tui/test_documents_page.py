"""The Documents pane reads a page, not years of history: the newest documents only,
saying so, and older ones once a from date asks for them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mailing.config import load_documents
from mailing.demo import load_demo
from screens.documents import RECENT_DOCUMENTS
from store.store import Store
from tests.functional.tui.helpers import SIZE, type_text, wait_for


async def test_the_first_screen_shows_the_newest_and_a_from_date_reaches_older(
    tmp_path: Path,
) -> None:
    from tui.app import MailroomApp

    store = Store(tmp_path / "home", "demo")
    load_demo(store)
    invoice = next(
        d for d in load_documents(store) if d.type == "sales_invoice" and d.administration == "HOLT"
    )
    newest = invoice.date + dt.timedelta(days=40)
    store.put_many(
        invoice.model_copy(update={"number": f"N{i:04d}", "date": newest})
        for i in range(RECENT_DOCUMENTS)
    )
    store.put(invoice.model_copy(update={"number": "OLD-2019", "date": dt.date(2019, 3, 4)}))
    app = MailroomApp(store, "demo", first_pane="documents")
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, " shown")
        assert f"{RECENT_DOCUMENTS:,} shown (the newest only: a from date reads older)" in text
        # A from date before the oldest reads every document from there.
        await pilot.press("slash", "tab", "tab", "tab")
        assert app.focused is not None and app.focused.id == "f-from"
        await type_text(pilot, "2019-01-01")
        await pilot.press("enter")
        text = await wait_for(pilot, "OLD-2019")
        assert "the newest only" not in text
