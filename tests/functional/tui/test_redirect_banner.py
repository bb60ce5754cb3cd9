"""Test mode on screen: while every message goes to one address, each pane says so."""

from __future__ import annotations

from pathlib import Path

from mailing.changes import set_redirect
from store.store import Store
from tests.functional.tui.helpers import SIZE, screen_text, seed, wait_for, wait_until
from tui.cli import Context

BANNER = "TEST MODE: all mail goes to test@office.example only, not to customers"


async def test_the_banner_is_on_every_pane_at_80x24_while_test_mode_is_on(
    tmp_path: Path,
) -> None:
    from tui.run import build_app

    home = tmp_path / "home"
    store = Store(home)
    seed(store)
    set_redirect(store, "demo", "test@office.example")
    app = build_app(Context(home=home, user="tester"))
    async with app.run_test(size=SIZE) as pilot:
        assert app.size == (80, 24)
        await wait_for(pilot, "Profiles")
        assert BANNER in await wait_for(pilot, BANNER)
        for key, pane in (("f8", "queue"), ("f7", "documents"), ("f10", "tools")):
            await pilot.press(key)
            await wait_until(pilot, lambda p=pane: app.current_pane == p, f"the {pane} pane")
            text = await wait_for(pilot, BANNER)
            assert BANNER in text
        # Turned off elsewhere (the command line): the banner goes.
        set_redirect(Store(home), "demo", None)
        await wait_until(pilot, lambda: BANNER not in screen_text(app), "the banner going")
        # And back on.
        set_redirect(Store(home), "demo", "test@office.example")
        await wait_for(pilot, BANNER)


async def test_no_banner_when_test_mode_is_off(tmp_path: Path) -> None:
    from tui.run import build_app

    home = tmp_path / "home"
    seed(Store(home))
    app = build_app(Context(home=home, user="tester"))
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, "Profiles")
        assert "TEST MODE" not in text
