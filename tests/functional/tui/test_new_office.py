"""A new office from nothing, in the TUI only (no `config import`): the set-up guide of
an empty folder leads from the administration to a profile, the system profile, a
template, a language code, a relation, and the documents, up to a sent message."""

from __future__ import annotations

import email
import email.policy
import json
import os
import pwd
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Select

from store.records import Administration
from store.store import Store
from tests.functional.tui.helpers import SIZE, focused, make_app, type_text, wait_focus, wait_for


async def to_field(pilot: Pilot[Any], widget_id: str) -> None:
    """Tab to a field, as a user does (at most 40 times)."""
    for _ in range(40):
        if focused(pilot.app) == widget_id:
            return
        await pilot.press("tab")
        await pilot.pause()
    raise AssertionError(f"tab never reached {widget_id}")


async def choose(pilot: Pilot[Any], widget_id: str, value: str) -> None:
    """Open the drop-down of the focused field and take ``value`` with the arrows."""
    await to_field(pilot, widget_id)
    select = pilot.app.query_one(f"#{widget_id}", Select)
    values = [v for _, v in select._options]
    here = values.index(select.value) if select.value in values else 0
    await pilot.press("enter")
    await pilot.pause()
    key = "down" if values.index(value) > here else "up"
    await pilot.press(*[key] * abs(values.index(value) - here), "enter")
    await pilot.pause()
    assert select.value == value, (select.value, value)


async def fill(pilot: Pilot[Any], widget_id: str, text: str) -> None:
    await to_field(pilot, widget_id)
    await pilot.press("home", "ctrl+k")
    await type_text(pilot, text)


async def step(pilot: Pilot[Any], key: str, title: str) -> None:
    """From the guide, open a step."""
    await wait_for(pilot, "Set up a new office")
    await pilot.press(key)
    await wait_for(pilot, title)


async def test_a_new_office_from_an_empty_folder_to_a_sent_message(tmp_path: Path) -> None:
    home = tmp_path / "office"
    outbox = tmp_path / "outbox"
    docs = tmp_path / "invoices.json"
    docs.write_text(
        json.dumps(
            [
                {
                    "type": "sales_invoice",
                    "number": "F1",
                    "relation": "D1",
                    "date": "2026-11-02",
                    "lines": [{"description": "Service", "quantity": 1, "unit_price": "100"}],
                }
            ]
        )
    )
    # The send runs in its own process, as the one logged in (never another name).
    app = make_app(home, user=pwd.getpwuid(os.getuid()).pw_name)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, "Set up a new office")
        assert "[ ] 1. a  An administration" in text

        await step(pilot, "a", "Administrations: new administration")
        await wait_focus(pilot, "f-code")
        await type_text(pilot, "HOLT")
        await fill(pilot, "f-name", "Holtkamp B.V.")
        await fill(pilot, "f-email", "info@holtkamp.example")
        await fill(pilot, "f-vat_number", "NL859123455B01")
        await fill(pilot, "f-iban", "NL91ABNA0417164300")
        await pilot.press("ctrl+s")
        text = await wait_for(pilot, "[x] 1. a")

        await step(pilot, "p", "Profiles: new profile")
        await wait_focus(pilot, "f-code")
        await type_text(pilot, "OUT")
        await choose(pilot, "f-system", "outbox")
        await fill(pilot, "f-sender", "info@holtkamp.example")
        await fill(pilot, "f-outbox_dir", str(outbox))
        await pilot.press("ctrl+s")
        await wait_for(pilot, "[x] 2. p")

        await step(pilot, "s", "Settings")
        await choose(pilot, "f-system_profile", "OUT")
        await pilot.press("ctrl+s")
        await wait_for(pilot, "[x] 3. s")

        await step(pilot, "t", "Templates: new template")
        await wait_focus(pilot, "f-code")
        await type_text(pilot, "INV-NL")
        await fill(pilot, "f-name", "Factuur")
        await fill(pilot, "f-subject", "Factuur {{ number }}")
        await to_field(pilot, "f-body")
        await type_text(pilot, "Beste klant, hierbij de factuur.")
        await pilot.press("ctrl+s")
        await wait_for(pilot, "[x] 4. t")

        await step(pilot, "l", "Language codes: new language code")
        await fill(pilot, "f-code", "NL")
        await fill(pilot, "f-description", "Nederlands")
        await choose(pilot, "f-tpl_sales_invoice", "INV-NL")
        await pilot.press("ctrl+s")
        await wait_for(pilot, "[x] 5. l")

        await step(pilot, "r", "Relations: new relation")
        await fill(pilot, "f-code", "D1")
        await fill(pilot, "f-name", "Bouwbedrijf Jansen B.V.")
        await fill(pilot, "f-business_email", "info@jansen.example")
        await to_field(pilot, "f-opt_in")
        await pilot.press("down", "space")  # Sales invoice (the second line)
        await pilot.press("ctrl+s")
        await wait_for(pilot, "[x] 6. r")

        await step(pilot, "d", "Documents")
        await pilot.press("i")
        await wait_for(pilot, "Import documents")
        await type_text(pilot, str(docs))
        await pilot.press("enter")
        await wait_for(pilot, "F1")
        await pilot.press("b")
        await wait_for(pilot, "Build a batch of 1")
        await pilot.press("y")
        await wait_for(pilot, "Open it in the queue")
        await pilot.press("y")
        await wait_for(pilot, "draft 1")
        await pilot.press("a")
        await wait_for(pilot, "Approve every draft message?")
        await pilot.press("y")
        await wait_for(pilot, "approved 1")
        await pilot.press("s")
        await wait_for(pilot, "Send the")
        await pilot.press("y")
        await wait_for(pilot, "Sending done", tries=300)

    admin = Store(home).get(Administration, "HOLT")
    assert admin.vat_number == "NL859123455B01" and admin.iban == "NL91ABNA0417164300"
    [sent] = list(outbox.rglob("*.eml"))
    msg = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    # The relation's name goes with its business e-mail (issue 24).
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses] == [
        ("Bouwbedrijf Jansen B.V.", "info@jansen.example")
    ]
    assert msg["Subject"] == "Factuur F1"


async def test_a_relation_without_an_administration_is_refused_in_words(tmp_path: Path) -> None:
    from store.records import Profile

    home = tmp_path / "office"
    store = Store(home)
    store.put_many([Profile(code="OUT", system="outbox", sender="a@b.example", auth="none")])
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, "Relations: new relation")
        await pilot.press("ctrl+n")
        await fill(pilot, "f-code", "D1")
        await fill(pilot, "f-name", "Jansen")
        await pilot.press("ctrl+s")
        text = await wait_for(pilot, "Not saved")
        assert "Administration: is empty; fill it in" in text, text
        assert "Input should be" not in text and "(value: None)" not in text
