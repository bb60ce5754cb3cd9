"""The shell: pane switcher, key map from a file, help, command palette, safe quitting."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.records import Profile, Relation
from store.store import Store
from tests.functional.tui.helpers import (
    SIZE,
    screen_text,
    seed,
    settle,
    type_text,
    wait_focus,
    wait_for,
)
from tui.cli import Context
from tui.keymap import KeymapError, parse_keymap


def test_keymap_refuses_unknown_ids_and_bad_values() -> None:
    known = {"record.save", "pane.profiles"}
    assert parse_keymap('"record.save" = "f10, ctrl+s"', known) == {"record.save": "f10,ctrl+s"}
    assert parse_keymap('[keys]\n"pane.profiles" = "f12"', known) == {"pane.profiles": "f12"}
    with pytest.raises(KeymapError, match="unknown binding 'record.sav'"):
        parse_keymap('"record.sav" = "f10"', known)
    with pytest.raises(KeymapError, match="not keys"):
        parse_keymap('"record.save" = 10', known)
    with pytest.raises(KeymapError, match="not valid TOML"):
        parse_keymap("record.save = ", known)


async def test_keymap_file_remaps_save_and_the_pane_bar_shows_it(tmp_path: Path) -> None:
    from tui.run import build_app

    home = tmp_path / "home"
    seed(Store(home))
    (home / "keymap.toml").write_text('"record.save" = "ctrl+y"\n"pane.relations" = "ctrl+e"\n')
    app = build_app(Context(home=home, user="tester"))
    async with app.run_test(size=SIZE) as pilot:
        assert "CTRL+E Rel" in screen_text(app)
        await pilot.press("ctrl+n")
        await type_text(pilot, "NEWONE")
        await pilot.press("tab", "tab", "tab")
        await wait_focus(pilot, "f-server")
        await type_text(pilot, "smtp.example.com")
        await pilot.press("tab", "tab", "tab")
        await wait_focus(pilot, "f-sender")
        await type_text(pilot, "info@example.com")
        await pilot.press("ctrl+s")  # no longer bound
        await settle(pilot)
        assert Store(home).find(Profile, "NEWONE") is None
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert Store(home).find(Profile, "NEWONE") is not None
        await pilot.press("ctrl+e")
        await wait_for(pilot, "Relations:")
        await pilot.press("f1")
        await wait_for(pilot, "Keys of the Relations pane")
        # The help says the keys as bound now, in words (no binding ids).
        shown = str(app.screen.query_one("#help-text").render())
        assert "ctrl+e" in shown and "Show the Relations pane" in shown
        assert "ctrl+y" in shown and "ctrl+s " not in shown
        assert "pane.relations" not in shown


async def test_quit_asks_when_unsaved_and_palette_goes_to_a_relation(tmp_path: Path) -> None:
    from tui.app import MailroomApp

    home = tmp_path / "home"
    seed(Store(home), relations=300)
    app = MailroomApp(Store(home), "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await type_text(pilot, "C00271")
        await wait_for(pilot, "Go to relation C00271")
        await pilot.press("enter")
        await wait_for(pilot, "Relations: HOLT/C00271")
        await pilot.press("tab", "tab", "tab")
        await type_text(pilot, " changed")
        await pilot.press("ctrl+q")
        await wait_for(pilot, "Unsaved changes in Relations")
        await pilot.press("n")
        await settle(pilot)
        assert app.is_running
        # A record that fails validation is refused with a readable message.
        await pilot.press("shift+tab")
        await pilot.press("home", "ctrl+k")
        await type_text(pilot, "bad code!")
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = screen_text(app)
        assert "Not saved" in text and "code" in text and "Traceback" not in text
    assert Store(home).get(Relation, "HOLT/C00271").name == "Customer 00271 B.V."


async def test_an_unexpected_error_is_a_dialog_with_a_crash_report_and_the_app_goes_on(
    tmp_path: Path,
) -> None:
    from tests.functional.tui.helpers import make_app

    home = tmp_path / "home"
    seed(Store(home), relations=3)
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "Profiles")
        # The database file turns into a folder under the running application: nothing
        # that a user error explains, so the error boundary must catch it.
        db = home / "mailroom.json"
        db.unlink()
        db.mkdir()
        await pilot.press("f5")
        text = await wait_for(pilot, "Something went wrong")
        assert "That action stopped" in text and "Traceback" not in text
        assert app.is_running
        reports = list((home / "crash-reports").glob("crash-*.txt"))
        assert reports and "Traceback" in reports[0].read_text()


async def test_a_pane_that_failed_to_build_holds_nobody_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "New relation" from the palette waits for the Relations pane to be ready. When
    that pane fails to build, the wait ends (at READY_SECONDS, shortened here) instead
    of keeping a worker, and the keys held for the pane, for ever; the app goes on."""
    import asyncio

    from tests.functional.tui.helpers import make_app

    monkeypatch.setattr("screens.widgets.pane.READY_SECONDS", 1.0)
    monkeypatch.setattr("tui.app.READY_SECONDS", 1.0)
    home = tmp_path / "home"
    seed(Store(home), relations=3)
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "Profiles")
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "new relation")
        await wait_for(pilot, "Start a new relation")
        # Chosen now, the Relations pane fails to build: its database became a folder.
        db = home / "mailroom.json"
        kept = db.read_bytes()
        db.unlink()
        db.mkdir()
        await pilot.press("enter")
        await wait_for(pilot, "Something went wrong")
        # Every worker ends: none waits on the pane that will never be ready.
        await asyncio.wait_for(app.workers.wait_for_complete(), 20)
        db.rmdir()
        db.write_bytes(kept)
        await pilot.press("enter")  # one dialog, however many errors came with it
        await pilot.press("f2")
        text = await wait_for(pilot, "Profiles: new profile")
        assert app.is_running and "Something went wrong" not in text
        assert list((home / "crash-reports").glob("crash-*.txt"))
