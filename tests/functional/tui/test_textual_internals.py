"""The private parts of Textual that Mailroom uses (screens/textual_adapter.py, and
tui/app.py's override of ``App._handle_exception``), pinned by name (and
tests/unit/test_library_internals.py checks that no other module names them): a Textual upgrade
that changes one fails here instead of a key press in a pane. The test helpers' own
(``screen_text``: ``Screen._compositor``, ``App._background_screens``) are pinned too."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input, SelectionList

from screens.textual_adapter import (
    binding_chain,
    check_bindings,
    ended_on,
    forward_event,
    toggle_button_inner,
)
from tests.functional.tui.helpers import screen_text


class Pinned(App[None]):
    BINDINGS = [Binding("f9", "mark", "Mark")]

    def __init__(self) -> None:
        super().__init__()
        self.marked = 0

    def compose(self) -> ComposeResult:
        yield Input(id="field")

    def action_mark(self) -> None:
        self.marked += 1


async def test_textual_internals_the_key_replay_and_the_help_use() -> None:
    app = Pinned()
    async with app.run_test() as pilot:
        field = app.query_one("#field", Input)
        field.focus()
        await pilot.pause()
        # a binding run by its key, as the replay of held keys does
        assert await check_bindings(app, "f9") is True
        assert app.marked == 1
        assert await check_bindings(app, "f9", priority=True) is False  # not a priority one
        # a key handed to a field arrives as typed
        forward_event(field, events.Key("x", "x"))
        await pilot.pause()
        assert field.value == "x"
        # the chain of bindings from the focused field out to the app, for the help
        chain = binding_chain(app.screen)
        assert chain[0][0] is field and chain[-1][0] is app
        keys = {key for _node, bindings in chain for key, _binding in bindings}
        assert "f9" in keys
        assert all(isinstance(b, Binding) for _n, bs in chain for _k, b in bs)
        # tui.app overrides the error boundary
        assert list(inspect.signature(App._handle_exception).parameters) == ["self", "error"]
        # the test helpers read the screen through the compositor
        assert "render_update" in dir(app.screen._compositor)
        assert isinstance(app._background_screens, list)
        assert "x" in screen_text(app)  # the field as drawn


def test_the_app_overrides_textuals_error_boundary() -> None:
    from tui.app import MailroomApp

    own: Any = MailroomApp.__dict__.get("_handle_exception")
    assert own is not None and callable(own)
    assert hasattr(App, "_handle_exception")


def test_the_mends_find_what_they_wrap() -> None:
    """screens/textual_adapter.py wraps these (installed by tui/boundary.py): an upgrade
    that renames one fails here, by name."""
    from textual.command import CommandList, CommandPalette
    from textual.message_pump import MessagePump
    from textual.widgets import OptionList

    params = list(inspect.signature(MessagePump._dispatch_message).parameters)
    assert params == ["self", "message"]
    assert inspect.iscoroutinefunction(MessagePump._dispatch_message)
    assert list(inspect.signature(OptionList._move_page).parameters) == ["self", "direction"]
    assert isinstance(OptionList()._index_to_line, dict)
    assert callable(CommandPalette._watch__list_visible)
    assert CommandList.__name__ == "CommandList"


class Ticks(App[None]):
    def compose(self) -> ComposeResult:
        yield SelectionList[str](("one", "1", True), ("two", "2"), id="ticks")


async def test_a_selection_line_starts_with_its_toggle_button() -> None:
    """screens.widgets.form.TickList finds the button as a line's second segment."""
    app = Ticks()
    async with app.run_test() as pilot:
        await pilot.pause()
        ticks = app.query_one("#ticks", SelectionList)
        segments = list(ticks.render_line(0))
        assert segments[1].text == toggle_button_inner() != ""


async def test_the_app_remembers_the_error_it_ended_on() -> None:
    class Failing(App[None]):
        def on_mount(self) -> None:
            raise RuntimeError("pinned")

    app = Failing()
    assert ended_on(app) is None
    with pytest.raises(RuntimeError, match="pinned"):  # run_test raises it again at the end
        async with app.run_test() as pilot:
            await pilot.pause()
    assert isinstance(ended_on(app), RuntimeError)
