"""A long choice in an open drop-down is one line, cut with an ellipsis, never wrapped
onto a second line that reads as another choice; it is still chosen by keyboard."""

from __future__ import annotations

from pathlib import Path

from store.records import LanguageCode, Template
from store.store import Store
from tests.functional.tui.helpers import (
    SIZE,
    make_app,
    seed,
    settle,
    type_text,
    wait_focus,
    wait_for,
    wait_until,
)

LONG_NAME = "Factuur voor klanten met een heel lange naam die niet op een regel past"


async def test_a_long_template_name_is_one_line_in_the_open_list(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home)
    seed(store)
    store.put(Template(code="INV-LONG", name=LONG_NAME, subject="Factuur", body="<p>Hi</p>"))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await wait_for(pilot, "HOLT/NL")
        await pilot.press("ctrl+l")
        await type_text(pilot, "NL")
        await pilot.press("enter", "enter")  # search, then open HOLT/NL
        await wait_for(pilot, "Language codes: HOLT/NL")
        await wait_focus(pilot, "f-administration")
        for _ in range(12):
            if app.focused is not None and app.focused.id == "f-tpl_sales_invoice":
                break
            await pilot.press("tab")
            await settle(pilot)
        await wait_focus(pilot, "f-tpl_sales_invoice")
        await pilot.press("enter")  # open the drop-down
        text = await wait_for(pilot, "esc Dismiss menu")
        lines = [line.rstrip() for line in text.splitlines()]
        row = next(i for i, line in enumerate(lines) if "INV-LONG  Factuur voor" in line)
        assert lines[row].endswith("…"), lines[row]
        # The next line is the next choice, not the rest of this one.
        assert "INV-NL  Factuur" in lines[row + 1], text
        assert "past" not in text and "regel" not in text, text

        await pilot.press("home", "down", "enter")  # (none), then INV-LONG
        await settle(pilot)
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: (
                Store(home).get(LanguageCode, "HOLT/NL").templates.get("sales_invoice")
                == "INV-LONG"
            ),
            "HOLT/NL saved with INV-LONG for sales invoices",
        )
