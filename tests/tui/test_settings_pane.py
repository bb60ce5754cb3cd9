"""The set-up panes, driven with the keyboard only at 80x24, then checked in the store."""

from __future__ import annotations

import json
from pathlib import Path

from store.records import Profile
from store.store import Store
from tests.tui.helpers import SIZE, focused, make_app, screen_text, seed, type_text


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
