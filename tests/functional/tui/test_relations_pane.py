"""The set-up panes, driven with the keyboard only at 80x24, then checked in the store."""

from __future__ import annotations

from pathlib import Path

from mailing.config import ConfigSnapshot
from mailing.resolve import resolve_document
from store.records import Document, Relation
from store.store import Store
from tests.functional.tui.helpers import (
    SIZE,
    make_app,
    seed,
    settle,
    type_text,
    wait_focus,
    wait_for,
)


async def test_relation_cc_for_invoices_changes_the_resolution(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home), relations=500)
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, "1-100 of 500")
        await pilot.press("ctrl+l")
        await type_text(pilot, "C00421")
        await pilot.press("enter")
        await wait_for(pilot, "1-1 of 1")
        await pilot.press("enter")
        await wait_for(pilot, "Relations: HOLT/C00421")
        await pilot.press("tab", "tab", "tab", "tab", "tab", "tab", "tab", "tab")
        await wait_focus(pilot, "address-type")  # sales invoice is shown first
        await pilot.press("tab")
        await wait_focus(pilot, "address-to")
        await type_text(pilot, "invoices@customer.example")
        await pilot.press("tab")
        await wait_focus(pilot, "address-cc")
        await type_text(pilot, "boss@customer.example")
        await pilot.press("ctrl+t")  # who would receive what, live, before saving
        text = await wait_for(pilot, "to  invoices@customer.example")
        assert "cc  boss@customer.example" in text, text
        assert "Order confirmation: to print" in text
        assert "order_confirmation" not in text and "PRINT" not in text
        await pilot.press("ctrl+s")
        await settle(pilot)

    store = Store(home)
    relation = store.get(Relation, "HOLT/C00421")
    assert relation.email_addresses["sales_invoice"].cc == ["boss@customer.example"]
    cfg = ConfigSnapshot.load(store)
    doc = Document.parse(
        {
            "administration": "HOLT",
            "type": "sales_invoice",
            "number": "F1",
            "relation": "C00421",
            "date": "2026-11-02",
        }
    )
    result = resolve_document(cfg, doc, "tester")
    assert result.action == "email"
    assert result.recipients.cc == ["boss@customer.example"]
    assert result.recipients.to == ["invoices@customer.example"]
    reminder = resolve_document(cfg, doc.model_copy(update={"type": "reminder"}), "tester")
    assert reminder.recipients.cc == []


async def test_a_bad_business_email_typed_in_the_form_is_refused_and_nothing_written(
    tmp_path: Path,
) -> None:
    import hashlib

    home = tmp_path / "home"
    seed(Store(home), relations=3)
    before = hashlib.sha256((home / "mailroom.json").read_bytes()).hexdigest()
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, "C00001")
        await pilot.press("down", "enter")
        await wait_for(pilot, "Relations: HOLT/C00001")
        for _ in range(12):
            if app.focused is not None and app.focused.id == "f-business_email":
                break
            await pilot.press("tab")
        await wait_focus(pilot, "f-business_email")
        await pilot.press("home", "ctrl+k")
        await type_text(pilot, "jan at c1.example")
        await pilot.press("ctrl+s")
        text = await wait_for(pilot, "Not saved")
        assert "E-mail (business)" in text and "jan at c1.example" in text, text
        assert "business_email" not in text
        assert "Traceback" not in text
    after = hashlib.sha256((home / "mailroom.json").read_bytes()).hexdigest()
    assert after == before


def test_a_refusal_in_a_form_names_the_place_in_words(tmp_path: Path) -> None:
    import pytest

    from mailing.changes import ChangeRefused, save_record
    from screens.widgets.modals import refusal_for_form

    home = tmp_path / "home"
    seed(Store(home), relations=2)
    store = Store(home)
    data = store.get(Relation, "HOLT/C00001").dump()
    data["email_addresses"] = {"sales_invoice": {"to": ["jan at c1.example"]}}
    data["contacts"] = [{"name": "Jan", "email": "a@b.nl\r\nBcc: x@y.z", "roles": ["main"]}]
    with pytest.raises(ChangeRefused) as info:
        save_record(store, Relation.parse(data), "HOLT/C00001")
    labels = {  # as the relations form labels them (screens/relations.py)
        "email_addresses": "Addresses per e-mail type",
        "contacts": "Contacts",
        "business_email": "E-mail (business)",
    }
    text = refusal_for_form(info.value, labels) or ""
    assert f"{labels['email_addresses']} (sales invoice, To 1):" in text, text
    assert f"{labels['contacts']} (number 1, e-mail):" in text, text
    assert "email_addresses" not in text and "sales_invoice" not in text


async def test_the_e_mail_choices_read_without_colour_and_space_ticks_one(tmp_path: Path) -> None:
    """Each document type in 'Receives by e-mail' starts [x] or [ ]; Space changes it."""
    home = tmp_path / "home"
    seed(Store(home), relations=3)
    async with make_app(home).run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, "1-3 of 3")
        await pilot.press("enter")
        text = await wait_for(pilot, "Relations: HOLT/C00000")
        assert "[x] Reminder" in text and "[x] Sales invoice" in text
        assert "[ ] Packing slip" in text and "▐X▌" not in text
        pilot.app.query_one("#f-opt_in").focus()
        await wait_focus(pilot, "f-opt_in")
        for _ in range(4):  # Reminder, Sales invoice, Order confirmation, Down-payment
            await pilot.press("down")
        await pilot.press("space")
        text = await wait_for(pilot, "[x] Packing slip")
        assert "[ ] Packing slip" not in text


async def test_one_code_in_two_administrations_reads_as_two_relations(tmp_path: Path) -> None:
    """The demo has D1003 in HOLT and in KORN: each row says its administration."""
    from mailing.demo import load_demo

    home = tmp_path / "demo"
    load_demo(Store(home, "demo"))
    app = make_app(home, user="demo")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, "of 40")
        await pilot.press("ctrl+l")
        await type_text(pilot, "D1003")
        await pilot.press("enter")
        text = await wait_for(pilot, "1-2 of 2")
        # Two lines a row in the narrow list: the administration and code, then the name.
        assert "HOLT  D1003" in text and "KORN  D1003" in text, text
        assert text.count("Thornbury Facilit") == 2, text
        await pilot.press("down", "enter")
        await wait_for(pilot, "Relations: KORN/D1003")
