"""Down then Enter in a list with a search box above it: after typing a search, Down
moves into the list (its first row highlighted) and Enter opens the highlighted row,
whether the keys come one by one or in one burst (tmux, SSH), and whichever row was
highlighted before the search."""

from __future__ import annotations

import json
from pathlib import Path

from mailing.demo import load_demo
from store.store import Store
from tests.functional.tui.helpers import (
    SIZE,
    burst,
    clear_and_type,
    make_app,
    seed,
    settle,
    type_text,
    wait_focus,
    wait_for,
)


async def test_relations_search_down_enter_opens_the_row_chosen(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home), relations=12)
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, "1-12 of 12")
        await pilot.press("ctrl+l", "enter", "down", "down", "down")  # a row far down
        await settle(pilot)
        # Typed one key at a time: Down goes into the list, Enter opens its first row.
        await pilot.press("ctrl+l")
        await wait_focus(pilot, "search")
        await clear_and_type(pilot, "C0001")
        await pilot.press("down")
        await wait_focus(pilot, "rows")
        await pilot.press("enter")
        text = await wait_for(pilot, "Relations: HOLT/C00010")
        assert "1-2 of 2" in text, text
        # In one burst, before the search's pause is over: the second row of the search.
        await pilot.press("ctrl+l")
        await wait_focus(pilot, "search")
        await pilot.press("home", "ctrl+k")
        burst(app, "C0000", "down", "down", "enter")
        text = await wait_for(pilot, "Relations: HOLT/C00001")
        assert "1-10 of 10" in text, text


async def test_documents_filter_down_enter_previews_the_first_row_shown(tmp_path: Path) -> None:
    store = Store(tmp_path / "home", "demo")
    load_demo(store)
    from tui.app import MailroomApp

    app = MailroomApp(store, "demo", first_pane="documents")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "110 shown")
        await pilot.press("down", "down", "down")  # the fourth row, before the filter
        await settle(pilot)
        await pilot.press("slash", "tab", "tab", "tab", "tab", "tab")
        await wait_focus(pilot, "f-relation")
        burst(app, "Vermeulen", "down", "enter")
        text = await wait_for(pilot, "not yet in a batch")
        title = text.splitlines()[0]
        number = title.split()[2]  # " Sales invoice F2026.... (HOLT, relation D1006), ..."
        await pilot.press("escape")
        text = await wait_for(pilot, " shown.")
        rows = [line for line in text.splitlines() if " F2026" in line]
        assert number in rows[0], (title, rows[:3])
        assert all("Vermeulen" in row for row in rows), rows


def _archived(home: Path, rel: str) -> None:
    folder = home / "archive" / rel
    folder.mkdir(parents=True)
    record = {"sent_at": "2026-12-07T10:00:00", "to": ["ap@customer.example"]}
    (folder / "record.json").write_text(json.dumps(record))


async def test_archive_search_down_enter_opens_the_row_chosen(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    for rel in (
        "HOLT/D1003/sales_invoice-F20260001",
        "HOLT/D1004/reminder-R1",
        "HOLT/D1004/sales_invoice-F20260002",
        "HOLT/D1005/sales_invoice-F20260003",
    ):
        _archived(home, rel)
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f9")
        await wait_for(pilot, "Sales invoice F20260003")
        await pilot.press("down", "down", "down")  # the last row, before the search
        await settle(pilot)
        await pilot.press("ctrl+l")
        await type_text(pilot, "D1004")
        await pilot.press("down", "enter")
        await wait_for(pilot, "Archive: HOLT  D1004  Reminder R1")
        await pilot.press("escape")
        await pilot.press("ctrl+l")
        await clear_and_type(pilot, "sales")
        burst(app, "down", "down", "enter")
        await wait_for(pilot, "Archive: HOLT  D1004  Sales invoice F20260002")
