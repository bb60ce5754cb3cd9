"""The relation form's "Invoices go as" field: chosen with the keyboard, checked by the door."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Select

from mailing.changes import save_record
from store.records import Administration, Relation
from store.store import Store
from tests.functional.tui.helpers import SIZE, make_app, seed, wait_focus, wait_for, wait_until


async def _choose_factur_x(home: Path) -> str:
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, "C00001")
        await pilot.press("down", "enter")
        await wait_for(pilot, "Relations: HOLT/C00001")
        for _ in range(30):
            if app.focused is not None and app.focused.id == "f-e_invoice":
                break
            await pilot.press("tab")
        await wait_focus(pilot, "f-e_invoice")
        # "As its administration says" -> "PDF only" -> "Factur-X ..."
        await pilot.press("enter")
        await wait_for(pilot, "PDF with Peppol UBL attached")  # the list is open
        await pilot.press("down", "down", "enter")
        select = app.query_one("#f-e_invoice", Select)
        await wait_until(pilot, lambda: select.value == "factur-x", "Factur-X chosen")
        await pilot.press("ctrl+s")
        if Store(home).get(Administration, "HOLT").vat_number:
            await wait_until(
                pilot,
                lambda: Store(home).get(Relation, "HOLT/C00001").e_invoice == "factur-x",
                "the relation saved",
            )
            return ""
        return await wait_for(pilot, "Not saved")


async def test_factur_x_without_the_vat_number_is_refused_saying_why(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home), relations=3)
    text = await _choose_factur_x(home)
    assert "VAT number of administration HOLT" in text, text
    assert "PDF only" in text
    assert Store(home).get(Relation, "HOLT/C00001").e_invoice == ""


async def test_factur_x_chosen_in_the_form_is_saved(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home)
    seed(store, relations=3)
    adm = store.get(Administration, "HOLT")
    save_record(store, adm.model_copy(update={"vat_number": "NL859123455B01"}), adm.key)
    await _choose_factur_x(home)
    assert Store(home).get(Relation, "HOLT/C00001").e_invoice == "factur-x"


async def _type_vat(home: Path, vat: str) -> str:
    from textual.widgets import Input

    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, "C00001")
        await pilot.press("down", "enter")
        await wait_for(pilot, "Relations: HOLT/C00001")
        for _ in range(40):
            if app.focused is not None and app.focused.id == "f-vat_number":
                break
            await pilot.press("tab")
        await wait_focus(pilot, "f-vat_number")
        await pilot.press(*vat)
        field = app.query_one("#f-vat_number", Input)
        await wait_until(pilot, lambda: field.value == vat, "the VAT number typed")
        await pilot.press("ctrl+s")
        if vat.endswith("5B01"):
            await wait_until(
                pilot,
                lambda: Store(home).get(Relation, "HOLT/C00001").vat_number == vat,
                "the relation saved",
            )
            return ""
        return await wait_for(pilot, "Not saved")


async def test_a_wrong_vat_number_in_the_form_is_refused_naming_the_field(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home), relations=3)
    text = await _type_vat(home, "NL859123456B01")
    assert "VAT number: VAT number of relation HOLT/C00001 is" in text, text  # (wrapped)
    assert "not a valid NL" in text and "check digit" in text
    assert Store(home).get(Relation, "HOLT/C00001").vat_number == ""
    await _type_vat(home, "NL859123455B01")
