"""The set-up panes, driven with the keyboard only at 80x24, then checked in the store."""

from __future__ import annotations

from pathlib import Path

from store.records import LanguageCode, Template
from store.store import Store
from tests.functional.tui.helpers import (
    SIZE,
    make_app,
    screen_text,
    seed,
    settle,
    type_text,
    wait_focus,
    wait_for,
    wait_until,
)


async def test_template_with_picked_expression_linked_to_language_code(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await wait_focus(pilot, "f-code")
        await type_text(pilot, "INV-EN")
        await pilot.press("tab")
        await type_text(pilot, "Invoice mail")
        await pilot.press("tab", "tab", "tab", "tab")  # object, profile, format
        await wait_focus(pilot, "f-subject")
        await type_text(pilot, "Invoice ")
        await pilot.press("ctrl+g")
        await wait_for(pilot, "Insert a field of the sales invoice into subject")
        await type_text(pilot, "relation_name")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("tab")
        await wait_focus(pilot, "f-body")
        await type_text(pilot, "Dear customer")
        await pilot.press("ctrl+s")
        await settle(pilot)

        # A template that does not render is refused, and what was typed stays.
        await pilot.press("ctrl+n", "tab", "tab", "tab", "tab", "tab")
        await pilot.press("shift+tab", "shift+tab", "shift+tab", "shift+tab", "shift+tab")
        await type_text(pilot, "BROKEN")
        await pilot.press("tab", "tab", "tab", "tab", "tab")
        await type_text(pilot, "Hi {{ no_such_field }}")
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = screen_text(app)
        assert "Not saved" in text
        assert "no_such_field" in text
        await pilot.press("enter")
        assert app.query_one("#f-subject").value == "Hi {{ no_such_field }}"
        # Leaving asks first.
        await pilot.press("ctrl+n")
        await wait_for(pilot, "unsaved changes")
        await pilot.press("y")

        # Link it to HOLT/EN for sales invoices.
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("ctrl+l")
        await type_text(pilot, "EN")
        await pilot.press("enter")  # search, then the rows have the focus
        await settle(pilot)
        await pilot.press("enter")  # open HOLT/EN
        await wait_for(pilot, "Language codes: HOLT/EN")
        await wait_focus(pilot, "f-administration")
        await pilot.press("tab", "tab", "tab", "tab", "tab")
        await wait_focus(pilot, "f-tpl_sales_invoice")
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, "INV-EN")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)

    store = Store(home)
    template = store.get(Template, "INV-EN")
    assert template.subject == "Invoice {{ relation_name }}"
    assert "Dear customer" in template.body
    assert store.find(Template, "BROKEN") is None
    assert store.get(LanguageCode, "HOLT/EN").templates == {"sales_invoice": "INV-EN"}


async def test_template_list_and_keys_fit_80_columns_without_breaking_a_word(
    tmp_path: Path,
) -> None:
    """The demo's long codes (HOLT-DE-subscription_invoice) are cut with … on their own
    line, never wrapped mid-word; the key line ends with F1 Help, not cut."""
    from mailing.demo import load_demo

    home = tmp_path / "demo"
    load_demo(Store(home, "demo"))
    app = make_app(home, user="demo")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        text = await wait_for(pilot, "1-54 of 54")
        rows = [line.split("│")[0].strip() for line in text.splitlines()[4:-2]]
        assert "HOLT-DE-counter_invo…" in rows and "Counter invoice (D…" in rows, text
        assert "HOLT-DE-down_payment" in rows and "Down payment (DE)" in rows, text
        assert not any(r in ("ce", "r", "invoice") or r.startswith("ce ") for r in rows), rows
        assert text.splitlines()[-1].rstrip().endswith("f1 Help"), text
        # In the body the text area adds ^] Indent: a pane key gives way, F1 Help stays.
        await pilot.press("enter")
        await wait_for(pilot, "Templates: HOLT-DE-counter_invoice")
        await pilot.press("tab", "tab", "tab", "tab", "tab", "tab")
        await wait_focus(pilot, "f-body")
        text = await wait_for(pilot, "^] Indent")
        line = text.splitlines()[-1].rstrip()
        assert line.endswith("f1 Help") and len(line) <= 80, line


async def test_a_saved_template_no_language_code_uses_says_so_until_one_does(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    Store(home).put(Template(code="REM-NL", name="Herinnering", object="reminder", subject="R"))
    app = make_app(home)
    note = "No language code uses this template yet: choose it in Language codes (F4)."
    async with app.run_test(size=SIZE) as pilot:
        # Language codes seen first: its drop-downs are read again after the new template.
        await pilot.press("f4")
        await wait_for(pilot, "Language codes: new language code")
        await pilot.press("f3")
        await wait_for(pilot, "INV-NL")
        await pilot.press("ctrl+n")
        await wait_focus(pilot, "f-code")
        await type_text(pilot, "INV-EN")
        await pilot.press("tab")
        await type_text(pilot, "Invoice mail")
        text = screen_text(app)
        assert "No language code uses" not in text, text  # a new one, not saved yet
        await pilot.press("tab", "tab", "tab", "tab")
        await wait_focus(pilot, "f-subject")
        await type_text(pilot, "Invoice")
        await pilot.press("ctrl+s")
        text = await wait_for(pilot, note)
        assert "Templates: INV-EN" in text, text

        # Hooked to HOLT/EN for sales invoices, by keyboard.
        await pilot.press("f4")
        await wait_for(pilot, "HOLT/EN")
        await pilot.press("ctrl+l")
        await type_text(pilot, "EN")
        await pilot.press("down", "enter")
        await wait_for(pilot, "Language codes: HOLT/EN")
        for _ in range(12):
            if app.focused is not None and app.focused.id == "f-tpl_sales_invoice":
                break
            await pilot.press("tab")
            await settle(pilot)
        await wait_focus(pilot, "f-tpl_sales_invoice")
        await pilot.press("enter")
        text = await wait_for(pilot, "esc Dismiss menu")
        # Sales invoice templates only: the new one, not the reminder's.
        assert "INV-EN  Invoice mail" in text and "REM-NL" not in text, text
        await pilot.press("home", "down", "enter")  # (none), then INV-EN
        await settle(pilot)
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: (
                Store(home).get(LanguageCode, "HOLT/EN").templates == {"sales_invoice": "INV-EN"}
            ),
            "HOLT/EN saved with INV-EN",
        )

        # Back in Templates, INV-EN still open: the note is gone.
        await pilot.press("f3")
        await wait_for(pilot, "Templates: INV-EN")
        await wait_until(pilot, lambda: note not in screen_text(app), "the note gone")
