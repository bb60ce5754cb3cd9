"""The private parts of Textual that Mailroom uses (screens/textual_adapter.py, and
tui/app.py's override of ``App._handle_exception``), pinned by name: a Textual upgrade
that changes one fails here instead of a key press in a pane. The test helpers' own
(``screen_text``: ``Screen._compositor``, ``App._background_screens``) are pinned too."""

from __future__ import annotations

import inspect
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input

from screens.textual_adapter import binding_chain, check_bindings, forward_event
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


def test_the_palette_mend_finds_the_watcher_it_wraps() -> None:
    """tui/boundary.py wraps CommandPalette._watch__list_visible (a closing palette whose
    gathering worker still runs): an upgrade that renames it fails here, by name."""
    from textual.command import CommandList, CommandPalette

    assert callable(CommandPalette._watch__list_visible)
    assert CommandList.__name__ == "CommandList"
