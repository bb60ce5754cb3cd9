"""The set-up panes, driven with the keyboard only at 80x24, then checked in the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mailing.config import ConfigSnapshot
from mailing.resolve import resolve_document
from store.records import Document, LanguageCode, Profile, Relation, Template
from store.secrets import get_secret
from store.store import Store
from tests.smtp_server import SMTPTestServer
from tests.tui.helpers import make_app, screen_text, seed, settle

SIZE = (80, 24)


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in text])


async def clear_and_type(pilot: Any, text: str) -> None:
    await pilot.press("home", "ctrl+k")
    await type_text(pilot, text)


def focused(app: Any) -> str:
    return app.focused.id if app.focused is not None else ""


async def test_create_profile_set_password_and_test_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with SMTPTestServer(users={"me@example.com": "s3cret-pw"}) as server:
        fields = server.profile_fields(tmp_path)
        app = make_app(home)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+n")
            assert focused(app) == "f-code"
            await type_text(pilot, "MAIN")
            await pilot.press("tab")
            await type_text(pilot, "Main mailbox")
            await pilot.press("tab", "tab")  # system: SMTP is the default
            assert focused(app) == "f-server"
            await type_text(pilot, fields["server"])
            await pilot.press("tab")
            await clear_and_type(pilot, str(fields["port"]))
            await pilot.press("tab", "tab")  # security: STARTTLS is the default
            assert focused(app) == "f-sender"
            await type_text(pilot, "me@example.com")
            await pilot.press("tab", "tab", "tab")  # sender name, html
            assert focused(app) == "f-username"
            await type_text(pilot, "me@example.com")
            await pilot.press("tab", "tab")  # authentication: password is the default
            assert focused(app) == "f-password"
            await type_text(pilot, "s3cret-pw")
            assert "s3cret-pw" not in screen_text(app)  # masked
            assert "unsaved changes" in screen_text(app)
            await pilot.press("tab", "tab", "tab", "tab", "tab")
            assert focused(app) == "f-ca_file"
            await type_text(pilot, fields["ca_file"])
            await pilot.press("tab")
            await clear_and_type(pilot, "5")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert "unsaved changes" not in screen_text(app)

            # Test: the prompt offers the sender; Enter sends.
            await pilot.press("ctrl+t")
            await pilot.pause()
            assert "Send a test mail from profile MAIN" in screen_text(app)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.pause(0.2)
            text = screen_text(app)
            assert "Test mail sent" in text, text
            await pilot.press("enter")

    store = Store(home)
    profile = store.get(Profile, "MAIN")
    assert (profile.server, profile.port, profile.username) == (
        fields["server"],
        fields["port"],
        "me@example.com",
    )
    assert get_secret("MAIN", "password") == "s3cret-pw"
    assert "s3cret-pw" not in (home / "mailroom.json").read_text()
    assert len(server.messages) == 1
    assert server.messages[0].rcpt_tos == ["me@example.com"]
    assert ("PLAIN", "me@example.com", True) in server.auth_attempts or any(
        ok for _, login, ok in server.auth_attempts if login == "me@example.com"
    )


async def test_failed_test_mail_shows_the_diagnosis(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with SMTPTestServer(users={"me@example.com": "right"}) as server:
        store = Store(home)
        store.put(
            Profile.parse(
                {
                    "code": "MAIN",
                    "sender": "me@example.com",
                    "username": "me@example.com",
                    **server.profile_fields(tmp_path),
                }
            )
        )
        from store.secrets import set_secret

        set_secret("MAIN", "password", "wrong")
        app = make_app(home)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("enter")  # open MAIN from the list
            await pilot.press("ctrl+t", "enter")
            await settle(pilot)
            await pilot.pause(0.2)
            text = screen_text(app)
            assert "The test mail was not sent" in text
            assert "Traceback" not in text
            assert "password" in text.lower()


async def test_template_with_picked_expression_linked_to_language_code(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("ctrl+n")
        assert focused(app) == "f-code"
        await type_text(pilot, "INV-EN")
        await pilot.press("tab")
        await type_text(pilot, "Invoice mail")
        await pilot.press("tab", "tab", "tab", "tab")  # object, profile, format
        assert focused(app) == "f-subject"
        await type_text(pilot, "Invoice ")
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert "Insert a field of sales_invoice into subject" in screen_text(app)
        await type_text(pilot, "relation_name")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("tab")
        assert focused(app) == "f-body"
        await type_text(pilot, "Dear customer")
        await pilot.press("ctrl+s")
        await pilot.pause()

        # A template that does not render is refused, and what was typed stays.
        await pilot.press("ctrl+n", "tab", "tab", "tab", "tab", "tab")
        await pilot.press("shift+tab", "shift+tab", "shift+tab", "shift+tab", "shift+tab")
        await type_text(pilot, "BROKEN")
        await pilot.press("tab", "tab", "tab", "tab", "tab")
        await type_text(pilot, "Hi {{ no_such_field }}")
        await pilot.press("ctrl+s")
        await pilot.pause()
        text = screen_text(app)
        assert "Not saved" in text
        assert "no_such_field" in text
        await pilot.press("enter")
        assert app.query_one("#f-subject").value == "Hi {{ no_such_field }}"
        # Leaving asks first.
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert "unsaved changes" in screen_text(app)
        await pilot.press("y")

        # Link it to HOLT/EN for sales invoices.
        await pilot.press("f4")
        await pilot.pause()
        await pilot.press("ctrl+l")
        await type_text(pilot, "EN")
        await pilot.press("enter")  # search, then the rows have the focus
        await pilot.pause()
        await pilot.press("enter")  # open HOLT/EN
        await pilot.pause()
        assert "Language codes: HOLT/EN" in screen_text(app)
        assert focused(app) == "f-administration"
        await pilot.press("tab", "tab", "tab", "tab", "tab")
        assert focused(app) == "f-tpl_sales_invoice"
        await pilot.press("enter")
        await pilot.pause()
        await type_text(pilot, "INV-EN")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()

    store = Store(home)
    template = store.get(Template, "INV-EN")
    assert template.subject == "Invoice {{ relation_name }}"
    assert "Dear customer" in template.body
    assert store.find(Template, "BROKEN") is None
    assert store.get(LanguageCode, "HOLT/EN").templates == {"sales_invoice": "INV-EN"}


async def test_relation_cc_for_invoices_changes_the_resolution(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home), relations=500)
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        assert "1-100 of 500" in screen_text(app)
        await pilot.press("ctrl+l")
        await type_text(pilot, "C00421")
        await pilot.press("enter")
        await pilot.pause()
        assert "1-1 of 1" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert "Relations: HOLT/C00421" in screen_text(app)
        await pilot.press("tab", "tab", "tab", "tab", "tab", "tab", "tab", "tab")
        assert focused(app) == "address-type"  # sales invoice is shown first
        await pilot.press("tab", "tab")
        assert focused(app) == "address-cc"
        await type_text(pilot, "boss@customer.example")
        await pilot.press("ctrl+t")  # who would receive what, live, before saving
        await pilot.pause(0.5)
        # A Cc alone is not enough: without a To for invoices, the invoice is printed.
        assert "sales_invoice: PRINT (no address found)" in screen_text(app)
        await pilot.press("shift+tab")
        await type_text(pilot, "invoices@customer.example")
        await pilot.pause(0.5)
        text = screen_text(app)
        assert "to  invoices@customer.example" in text, text
        assert "cc  boss@customer.example" in text, text
        await pilot.press("ctrl+s")
        await pilot.pause()

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


async def test_settings_refuse_a_personal_profile_of_another_system(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home)
    seed(store)
    store.put(Profile(code="SMTP1", server="smtp.example.com", sender="a@example.com"))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        await pilot.press("tab", "tab", "tab")
        assert focused(app) == "f-personal_profile"
        await pilot.press("enter")
        await pilot.pause()
        await type_text(pilot, "SMTP1")
        await pilot.press("enter", "ctrl+s")
        await pilot.pause()
        text = screen_text(app)
        assert "same system" in text
        await pilot.press("enter")
        assert "unsaved changes" in screen_text(app)
    assert Store(home).find(__import__("store.records").records.User, "tester") is None
    data = json.loads((home / "mailroom.json").read_text())
    assert "users" not in data or not data["users"]
