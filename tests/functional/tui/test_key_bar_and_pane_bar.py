"""The footer (one line of keys) and the pane bar (one line of panes) at 80x24: they
show the keys and panes of the moment, a click on one works as its key, and the
focused list is marked without changing its size (no jump, no re-layout)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from screens.widgets.key_bar import KeyBar
from store.store import Store
from tests.functional.tui.helpers import SIZE, focused, make_app, seed, settle, wait_for, wait_until


def footer_line(text: str) -> str:
    return text.rstrip().splitlines()[-1]


async def test_the_footer_follows_the_focus_and_a_click_presses_the_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, "  Try-out folder")
        line = footer_line(text)
        assert line.startswith("^s Save ^n New ^r Delete ^l List"), line
        assert line.rstrip().endswith("f1 Help"), line
        assert app.query_one(KeyBar).text == line.strip()

        await pilot.press("f7")  # another pane: its own keys
        text = await wait_for(pilot, "Build batch")
        assert "^s Save" not in footer_line(text)

        await pilot.press("f2")
        text = await wait_for(pilot, "^s Save")
        bar = app.query_one(KeyBar)
        column = bar.text.index("^n New")
        await pilot.click(KeyBar, offset=(column + 1, 0))  # as ctrl+n: a new profile
        await wait_until(pilot, lambda: focused(app) == "f-code", "the focus in the new form")
        text = await wait_for(pilot, "Profiles: new profile")


async def test_a_click_on_a_pane_name_shows_that_pane(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, "  Try-out folder")
        bar_line = text.splitlines()[0]
        assert bar_line.startswith(" F2 Profiles F3 Tmpl F4 Lang F5 Rel"), bar_line
        column = bar_line.index("F5 Rel")
        await pilot.click("#pane-bar", offset=(column + 1, 0))
        text = await wait_for(pilot, "Relations: new relation")
        # The current pane's name in full, the others short (80 columns).
        assert " F5 Relations " in text.splitlines()[0], text.splitlines()[0]


async def test_the_focused_list_is_marked_and_keeps_its_size(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed(Store(home))
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "  Try-out folder")
        rows = app.query_one("#rows", OptionList)
        await wait_until(pilot, lambda: focused(app) == "rows", "the focus on the list")
        focused_size = rows.size
        focused_line = list(rows.render_line(0))
        await pilot.press("ctrl+l")  # to the search box: the list loses the focus
        await wait_until(pilot, lambda: focused(app) != "rows", "the focus off the list")
        await settle(pilot)
        assert rows.size == focused_size  # no border comes and goes
        blurred_line = list(rows.render_line(0))
        assert "".join(s.text for s in blurred_line) == "".join(s.text for s in focused_line)
        # Same words, other colours: the focus can be seen.
        assert [s.style for s in blurred_line] != [s.style for s in focused_line]


async def test_a_list_shown_again_after_the_window_changed_is_drawn_for_its_new_size(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    seed(Store(home), relations=40)
    app = make_app(home, first_pane="relations")
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, "C00000")
        assert "C00008" in text and "C00010" not in text  # 24 lines: 9 rows of 2 lines
        await pilot.press("f2")
        await wait_for(pilot, "  Try-out folder")
        await pilot.resize_terminal(100, 34)  # while the Relations pane is hidden
        await pilot.press("f5")
        text = await wait_for(pilot, "C00013")  # ten lines more: five rows more
        assert "C00000" in text and "C00015" not in text, text
        await pilot.press("f2")
        await pilot.press("f5")  # shown again at the same size: the same rows
        text = await wait_for(pilot, "C00013")
        assert "C00000" in text and "C00015" not in text, text
