"""The set-up panes, driven with the keyboard only at 80x24, then checked in the store."""

from __future__ import annotations

from pathlib import Path

from store.records import Profile
from store.secrets import get_secret
from store.store import Store
from tests.functional.tui.helpers import (
    SIZE,
    clear_and_type,
    make_app,
    screen_text,
    settle,
    type_text,
    wait_focus,
    wait_for,
)
from tests.smtp_server import SMTPTestServer


async def test_create_profile_set_password_and_test_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with SMTPTestServer(users={"me@example.com": "s3cret-pw"}) as server:
        fields = server.profile_fields(tmp_path)
        app = make_app(home)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, "Set up a new office")  # an empty folder: the guide
            await pilot.press("escape")  # straight to a profile, without it
            await pilot.press("ctrl+n")
            await wait_focus(pilot, "f-code")
            await type_text(pilot, "MAIN")
            await pilot.press("tab")
            await type_text(pilot, "Main mailbox")
            await pilot.press("tab", "tab")  # system: SMTP is the default
            await wait_focus(pilot, "f-server")
            await type_text(pilot, fields["server"])
            await pilot.press("tab")
            await clear_and_type(pilot, str(fields["port"]))
            await pilot.press("tab", "tab")  # security: STARTTLS is the default
            await wait_focus(pilot, "f-sender")
            await type_text(pilot, "me@example.com")
            await pilot.press("tab", "tab", "tab")  # sender name, html
            await wait_focus(pilot, "f-username")
            await type_text(pilot, "me@example.com")
            await pilot.press("tab", "tab")  # authentication: password is the default
            await wait_focus(pilot, "f-password")
            await type_text(pilot, "s3cret-pw")
            assert "s3cret-pw" not in screen_text(app)  # masked
            assert "unsaved changes" in screen_text(app)
            await pilot.press("tab", "tab", "tab", "tab", "tab")
            await wait_focus(pilot, "f-ca_file")
            await type_text(pilot, fields["ca_file"])
            await pilot.press("tab")
            await clear_and_type(pilot, "5")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert "unsaved changes" not in screen_text(app)

            # Test: the prompt offers the sender; Enter sends.
            await pilot.press("ctrl+t")
            await wait_for(pilot, "Send a test mail from profile MAIN")
            await pilot.press("enter")
            await wait_for(pilot, "Test mail sent")
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
            text = await wait_for(pilot, "The test mail was not sent")
            assert "Traceback" not in text
            assert "password" in text.lower()
