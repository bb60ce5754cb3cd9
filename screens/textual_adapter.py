"""Textual's private parts that Mailroom uses, in one place.

Textual is pinned (pyproject.toml) and these are not its public API, so each use goes
through here, and ``tests/unit/test_library_internals.py`` pins exactly these: an upgrade
that changes one fails that test by name, not a key press in a pane.

- ``App._check_bindings(key, priority)``: run the binding a key has (held keys are
  replayed in order, ``tui.key_order``);
- ``Widget._forward_event(event)``: hand a replayed key to a widget as typed;
- ``Screen._binding_chain``: the bindings from the focused widget out (the help screen);
- ``App._handle_exception(error)``: overridden by ``tui.app`` (the error boundary).
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import App
from textual.binding import BindingsMap
from textual.dom import DOMNode
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
