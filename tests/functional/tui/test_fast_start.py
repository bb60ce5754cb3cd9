"""Issue 16's start-up work, as a user meets it: the Profiles list comes first and its
form right after, yet keys typed at once still land in the form; a pane shown again
re-reads its list only when the data changed, and then it does show the change."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import Input

from mailing.changes import save_profile
from store.records import Profile
from store.store import Store
from tests.functional.tui.helpers import SIZE, make_app, seed, wait_focus, wait_for, wait_until


async def test_keys_typed_at_start_land_in_the_form_built_after_the_list(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        # All queued at once, before the app has handled any: a new profile, its code.
        for key, char in (("ctrl+n", None), ("N", "N"), ("E", "E"), ("W", "W")):
            app.post_message(events.Key(key, char))
        await wait_until(
            pilot,
            lambda: app.query("#f-code") and app.query_one("#f-code", Input).value == "NEW",
            "the code typed at start in the new profile's Code",
        )
        await wait_focus(pilot, "f-code")
        text = await wait_for(pilot, "Profiles: new profile  * unsaved changes")
        assert "  Try-out folder" in text  # the list is there too
        assert app.query_one("#search", Input).value == ""  # nothing went to the search


async def test_a_pane_shown_again_lists_a_record_saved_elsewhere_meanwhile(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "  Try-out folder")
        await pilot.press("f5")
        await wait_for(pilot, "Relations")
        # Nothing changed: back on Profiles, the list is as it was.
        await pilot.press("f2")
        text = await wait_for(pilot, "  Try-out folder")
        assert "SECOND" not in text
        # Another session (the command line, a colleague) saves a profile meanwhile.
        await pilot.press("f5")
        await wait_for(pilot, "Relations")
        other = Store(home, "colleague")
        save_profile(
            other,
            Profile(
                code="SECOND",
                description="Second office",
                system="outbox",
                auth="none",
                outbox_dir="outbox2",
                sender="two@holtkamp.example",
            ),  # fmt: skip
            None,
            "",
        )
        await pilot.press("f2")
        text = await wait_for(pilot, "  Second office")
        assert "  Try-out folder" in text
