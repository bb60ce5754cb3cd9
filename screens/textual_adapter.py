"""Textual's private parts that Mailroom uses, in one place.

Textual is pinned (pyproject.toml) and these are not its public API, so each use goes
through here, and ``tests/functional/tui/test_textual_internals.py`` pins exactly these: an upgrade
that changes one fails that test by name, not a key press in a pane.

- ``App._check_bindings(key, priority)``: run the binding a key has (held keys are
  replayed in order, ``tui.key_order``);
- ``Widget._forward_event(event)``: hand a replayed key to a widget as typed;
- ``Screen._binding_chain``: the bindings from the focused widget out (the help screen);
- ``App._handle_exception(error)``: overridden by ``tui.app`` (the error boundary);
  ``App._exception``: the error Textual ended the app on (``tui.app.ended``);
- ``MessagePump._dispatch_message(message)``: wrapped so that an error in one message
  goes to the error boundary and the loop goes on (``tui.boundary``);
- mends of Textual 8.2 found by the monkey test, installed by ``tui.boundary``:
  ``OptionList._move_page`` and ``_index_to_line`` (PageUp on a list not laid out),
  ``Screen.dismiss`` (a second answer), ``CommandPalette._watch__list_visible`` (a
  palette closed while its worker runs);
- ``ToggleButton.BUTTON_INNER`` (module ``textual.widgets._toggle_button``) and a
  ``SelectionList`` line's second segment being that button (``screens.widgets.form``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App
from textual.binding import BindingsMap
from textual.dom import DOMNode
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widget import Widget


async def check_bindings(app: App[Any], key: str, *, priority: bool = False) -> bool:
    """Run the binding ``key`` has (``priority``: only priority bindings); True if one ran."""
    return await app._check_bindings(key, priority=priority)


def forward_event(node: Widget, event: events.Event) -> None:
    """Give ``event`` to ``node`` as if it had come its way."""
    node._forward_event(event)


def binding_chain(screen: Screen[Any]) -> list[tuple[DOMNode, BindingsMap]]:
    """(node, its bindings) from the focused widget out to the app."""
    return screen._binding_chain


def ended_on(app: App[Any]) -> BaseException | None:
    """The error Textual ended ``app`` on (its own handling), if any."""
    error: BaseException | None = app._exception
    return error


def toggle_button_inner() -> str:
    """The character drawn inside a toggle button (a ``SelectionList`` line's second
    segment is the button)."""
    from textual.widgets._toggle_button import ToggleButton

    return ToggleButton.BUTTON_INNER


def guard_message_dispatch(failed: Callable[[MessagePump, Exception], bool]) -> None:
    """Wrap Textual's dispatch of one message: an error is handed to ``failed(pump,
    error)``; when that returns False it is raised on (Textual's own handling)."""
    original = MessagePump._dispatch_message

    async def dispatch_guarded(self: MessagePump, message: Message) -> None:
        try:
            await original(self, message)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if not failed(self, error):
                raise

    MessagePump._dispatch_message = dispatch_guarded  # type: ignore[method-assign]


def mend_option_list_page_keys() -> None:
    """Textual 8.2's OptionList fails on PageUp/PageDown before its lines are laid out
    (an empty or just-filled list: ``KeyError`` in ``_move_page``; found by the monkey
    test). The key then does nothing, as on any list with nothing to move to."""
    from textual.widgets import OptionList

    original = OptionList._move_page

    def move_page(self: OptionList, direction: Any) -> None:
        if (self.highlighted or 0) not in self._index_to_line:
            return
        original(self, direction)

    OptionList._move_page = move_page  # type: ignore[method-assign]


def mend_second_dismiss() -> None:
    """Two Enters in one burst on a dialog: the first closes it, the second reached it
    before it was gone. Textual then sets its answer twice (``InvalidStateError``) or
    pops a screen too many (``ScreenStackError``; both found by the monkey test). A
    dialog answers once; a second answer is dropped."""
    from textual.await_complete import AwaitComplete

    original = Screen.dismiss

    def dismiss_once(self: Screen[Any], result: Any = None) -> AwaitComplete:
        if getattr(self, "_mailroom_dismissed", False) or not self.is_active:
            return AwaitComplete()
        self._mailroom_dismissed = True  # type: ignore[attr-defined]
        return original(self, result)

    Screen.dismiss = dismiss_once  # type: ignore[method-assign]


def mend_palette_closing() -> None:
    """Textual 8.2's command palette gathers its commands in a worker; when the palette
    is closed while that worker still runs (Esc right after ctrl+p on a busy machine),
    the worker sets ``_list_visible`` after the palette's list was removed and the
    watcher fails with ``NoMatches`` (found by the monkey test under load, seed 53).
    A closing palette has no list to show: nothing to do."""
    from textual.command import CommandList, CommandPalette
    from textual.css.query import NoMatches

    original = CommandPalette._watch__list_visible

    def watch_list_visible(self: CommandPalette) -> None:
        try:
            self.query_one(CommandList)
        except NoMatches:
            return
        original(self)

    CommandPalette._watch__list_visible = watch_list_visible  # type: ignore[method-assign]
