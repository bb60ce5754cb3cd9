"""No keystroke lost: keys that arrive in one burst (over SSH, from a fast typist) while
the focus moves go to the field they were typed for, in order; the record typed in one
burst is the one saved."""

from __future__ import annotations

from pathlib import Path

from store.records import Relation
from store.store import Store
from tests.functional.tui.helpers import (
    SIZE,
    burst,
    make_app,
    seed,
    settle,
    wait_for,
    wait_until,
)


async def test_a_relation_typed_in_one_burst_is_saved_field_by_field(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        # F5 and the whole form in one burst: the pane is still being built while the
        # keys arrive (Administration is focused on a new relation; Kind is left as is).
        burst(app, "f5")
        burst(app, "ctrl+n", "tab", "N9003", "tab", "tab", "Third Klant", "ctrl+s")
        await wait_for(pilot, "Relations: HOLT/N9003")  # saved, and opened
        burst(app, "ctrl+n", "tab", "N9002", "tab", "tab", "Second Klant", "ctrl+s")
        await wait_for(pilot, "Relations: HOLT/N9002")
        await settle(pilot)
    store = Store(home)
    assert store.get(Relation, "HOLT/N9003").name == "Third Klant"
    assert store.get(Relation, "HOLT/N9002").name == "Second Klant"


async def test_keys_typed_while_a_pane_opens_are_not_lost(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "Profiles: new profile")
        burst(app, "ctrl+n", "WEB", "tab", "Web shop profile")
        pane = app.query_one("#pane-profiles")

        def typed() -> bool:
            values = pane.form.read()  # type: ignore[attr-defined]
            return values["code"] == "WEB" and values["description"] == "Web shop profile"

        await wait_until(pilot, typed, "the burst typed into Code and Description")


async def test_a_tick_then_save_in_one_burst_saves_the_tick(tmp_path: Path) -> None:
    """Space (tick or untick a line of the opt-in list) and ctrl+s in one burst, as
    tmux sends them: the save comes after the tick, so the tick is saved."""
    home = tmp_path / "home"
    seed(Store(home), relations=1)
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, "C00000")
        await pilot.press("ctrl+l", "enter", "enter")  # the list, then open its first row
        await wait_for(pilot, "Relations: HOLT/C00000")
        for _ in range(8):  # Tab to the opt-in list, as a user does
            if app.focused is not None and app.focused.id == "f-opt_in":
                break
            await pilot.press("tab")
            await settle(pilot)
        await wait_for(pilot, "▸ Receives by e-mail")
        await wait_for(pilot, "[x] Reminder")  # the first line: the one Space ticks
        burst(app, "space", "ctrl+s")
        store = Store(home)

        def saved() -> bool:
            return store.get(Relation, "HOLT/C00000").opt_in == ["sales_invoice"]

        await wait_until(pilot, saved, "the untick saved")
        text = await wait_for(pilot, "[ ] Reminder")
        assert "Relations: HOLT/C00000 " in text and "unsaved changes" not in text, text
