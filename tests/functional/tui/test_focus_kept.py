"""The focus is always somewhere a user can see: after the window was too small and is
big again, and after a dialog closes over a pane switched under it."""

from __future__ import annotations

from pathlib import Path

from store.store import Store
from tests.functional.tui.helpers import SIZE, make_app, seed, wait_for, wait_until


async def test_the_focus_comes_back_after_the_window_was_too_small(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, "Relations: new relation")
        await pilot.resize_terminal(60, 20)
        await wait_for(pilot, "Make the window at least 80×24")
        await pilot.resize_terminal(*SIZE)
        pane = app.query_one("#pane-relations")
        await wait_until(
            pilot,
            lambda: app.focused is not None and app.focused in pane.query("*"),
            "the focus back in the Relations pane",
        )


async def test_esc_on_a_dialog_puts_the_focus_in_the_pane_shown(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "Profiles: new profile")
        await pilot.press("ctrl+l")  # the Profiles search box
        await pilot.press("f1")  # a dialog (the keys) over it
        await wait_for(pilot, "Keys of")
        await pilot.press("f5")  # the pane switches under the dialog
        await pilot.press("escape")
        pane = app.query_one("#pane-relations")
        await wait_until(
            pilot,
            lambda: app.focused is not None and app.focused in pane.query("*"),
            "the focus in the Relations pane, not in the hidden Profiles search box",
        )
