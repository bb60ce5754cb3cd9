"""Office 365 sign-in from the Profiles pane: URL, code and countdown, then signed in.

msal runs for real, against the local fake of the identity endpoints that the
transport tests use (through msal's ``http_client`` hook).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from store.records import Profile, SystemSettings
from store.secrets import get_secret
from store.store import Store
from tests.functional.test_transport_office365 import (
    CLIENT_ID,
    HOST,
    TENANT,
    USER,
    FakeIdentity,
    FakeResponse,
)
from tests.functional.tui.helpers import (
    SIZE,
    STALL,
    make_app,
    screen_text,
    settle,
    type_text,
    wait_for,
)


class SlowIdentity(FakeIdentity):
    """Says "authorization_pending" once, as when the user has not typed the code yet."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = 1

    def post(self, url: str, params: Any = None, data: Any = None, **kw: Any) -> FakeResponse:
        if url.endswith("/token") and self.pending:
            self.pending -= 1
            return FakeResponse(400, {"error": "authorization_pending"})
        return super().post(url, params=params, data=data, **kw)


async def test_sign_in_shows_url_code_and_countdown_then_keeps_the_token(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home)
    store.put_many(
        [
            SystemSettings(profile="O365"),
            Profile(
                code="O365",
                server="smtp.office365.com",
                port=587,
                sender=USER,
                username=USER,
                auth="oauth2-office365",
                oauth_client_id=CLIENT_ID,
                oauth_tenant=TENANT,
                oauth_authority=HOST,
            ),
        ]
    )
    idp = SlowIdentity()
    app = make_app(home)
    app.oauth_http_client = idp
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2", "ctrl+l")
        await type_text(pilot, "O365")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, "Profiles: O365")
        await pilot.press("ctrl+o")
        # Not wait_for: it waits for workers, and the sign-in worker ends only when signed in.
        # Given up only when the screen stays unchanged for STALL seconds, not at a count.
        seen, changed = "", time.monotonic()
        while "FAKE-CODE" not in (text := screen_text(app)):
            if text != seen:
                seen, changed = text, time.monotonic()
            assert time.monotonic() - changed < STALL, text
            await pilot.pause(0.05)
        assert "https://microsoft.com/devicelogin" in text
        assert "The code expires in 14:" in text or "The code expires in 15:00" in text
        text = await wait_for(pilot, "signed in as", tries=200)
        assert USER in text
        assert "Traceback" not in screen_text(app)
    cache = get_secret("O365", "oauth-cache")
    assert cache is not None and "rt-1-M.C105_BAY" in cache
    for path in home.rglob("*"):
        if path.is_file():
            assert b"at-1-EwBgA8l6BAAU" not in path.read_bytes()
