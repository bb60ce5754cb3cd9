"""The set-up panes, driven with the keyboard only at 80x24, then checked in the store."""

from __future__ import annotations

import json
from pathlib import Path

from store.records import Profile
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


async def test_settings_refuse_a_personal_profile_of_another_system(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home)
    seed(store)
    store.put(Profile(code="SMTP1", server="smtp.example.com", sender="a@example.com"))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f6")
        await wait_for(pilot, "system, administrations")
        await pilot.press("tab", "tab", "tab")
        await wait_focus(pilot, "f-personal_profile")
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, "SMTP1")
        await pilot.press("enter", "ctrl+s")
        await wait_for(pilot, "same system")
        await pilot.press("enter")
        await wait_for(pilot, "unsaved changes")
    assert Store(home).find(__import__("store.records").records.User, "tester") is None
    data = json.loads((home / "mailroom.json").read_text())
    assert "users" not in data or not data["users"]


async def test_settings_give_an_administration_its_profile_and_resolution_follows(
    tmp_path: Path,
) -> None:
    from mailing.config import ConfigSnapshot
    from mailing.demo import load_demo
    from mailing.resolve import resolve_document
    from store.records import Administration, Document

    home = tmp_path / "home"
    store = Store(home, "demo")
    load_demo(store)
    doc = next(
        d
        for d in store.all(Document)
        if d.administration == "KORN" and d.type == "sales_invoice" and d.relation == "D1011"
    )
    before = resolve_document(ConfigSnapshot.load(store), doc, "someone")
    assert before.sender.level == "system"
    app = make_app(home, user="demo", first_pane="settings")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "system, administrations")
        await pilot.press("tab", "tab")
        await wait_focus(pilot, "f-admin_KORN")
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, "HOLT")  # type-to-search in the open list
        await pilot.press("enter", "ctrl+s")
        await wait_until(
            pilot,
            lambda: Store(home).get(Administration, "KORN").profile == "HOLT",
            "saving KORN's profile",
        )
        assert "unsaved changes" not in screen_text(app)
        assert "Traceback" not in screen_text(app)
    assert Store(home).get(Administration, "KORN").profile == "HOLT"
    after = resolve_document(ConfigSnapshot.load(Store(home)), doc, "someone")
    assert (after.sender.level, after.sender.profile) == ("administration", "HOLT")


async def test_settings_visited_again_after_another_pane_keeps_the_app_running(
    tmp_path: Path,
) -> None:
    """F6, F7, F6 (and F5, F6) used to end the TUI: the approval choice was given the
    profiles as its options when the pane came back, and could then hold no value."""
    from mailing.demo import load_demo

    home = tmp_path / "home"
    load_demo(Store(home, "demo"))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        for key in ("f6", "f7", "f6", "f5", "f6", "f2", "f6"):
            await pilot.press(key)
            await settle(pilot)
        text = await wait_for(pilot, "system, administrations")
        assert app.is_running
        assert "Four eyes: not who built it" in text or "Anyone, also who built it" in text
        crash = home / "crash-reports"
        assert not crash.exists() or not any(crash.iterdir())
        # The approval choice still offers the two rules, not the profiles.
        from textual.widgets import Select

        approval = app.screen.query_one("#f-approval", Select)
        assert {v for _, v in approval._options if v is not Select.NULL} == {
            "same-user",
            "other-user",
        }
