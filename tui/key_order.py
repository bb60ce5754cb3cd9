"""Keys in the order they were typed, to the widget they were typed for.

Keys typed while a pane or a dialog is still being built are held, then given to
the widget that has the focus once it is there, one at a time; a key that is not
typing (Tab, ctrl+s) waits until the keys typed into a field before it were handled
there. :class:`KeyOrderApp` is the base of the Mailroom app (``tui.app``): it routes
every key itself (``on_event``) and holds keys while a screen opens (``push_screen``).
"""

from __future__ import annotations

import time
from typing import Any

from textual import events
from textual.app import App
from textual.widget import Widget

from screens.textual_adapter import check_bindings, forward_event


class KeyOrderApp(App[int]):
    """An app whose keys reach their widget in the order typed, also while loading."""

    def __init__(self) -> None:
        super().__init__()
        # Keys typed while a pane or a dialog is still being built: held, then given to
        # the widget that has the focus once it is there (None: not holding).
        self._held_keys: list[events.Key] = []
        self._holds: set[int] = set()
        self._hold_token = 0
        self._typed_in_flight = 0  # keys given to a field that it has not handled yet
        self._typing_token: int | None = None  # the hold until it has
        self._brief_holds: dict[int, float] = {}  # token -> since when (one key's handling)

    def hold_keys(self) -> int:
        """Hold typed keys until ``release_keys(token)``; returns the token."""
        self._hold_token += 1
        token = self._hold_token
        self._holds.add(token)
        # A safety net, never the normal path: keys are not held for ever.
        self.set_timer(10.0, lambda: self.release_keys(token))
        return token

    def release_keys(self, token: int) -> None:
        """End one hold; when none is left, the held keys go out, one at a time."""
        self._holds.discard(token)
        self._give_next_key()

    def _give_next_key(self) -> None:
        # One key at a time: the next is posted when this one has been handled (see
        # _replay_key); a key that opens a pane or dialog holds the rest again.
        if self._holds or not self._held_keys:
            return
        held = self._held_keys.pop(0)
        key = events.Key(held.key, held.character)
        key._mailroom_replayed = True  # type: ignore[attr-defined]  # let through on_event
        self.post_message(key)

    async def _replay_key(self, key: events.Key) -> None:
        """A held key, routed as a typed one is (see ``_route_key``); then the next."""
        try:
            await self._route_key(key)
        finally:
            self.call_later(self._give_next_key)

    async def _route_key(self, key: events.Key) -> None:
        """Route a key and handle it to its end here, in the app's own turn: a binding's
        action (which may move the focus, e.g. Tab) has run before the next key is
        routed, so keys typed in one burst (over SSH, a fast typist) go to the field
        they were typed for, in order. Textual's own path hands a key to the focused
        widget's queue and runs Tab there later, after the next keys went to the old
        field."""
        self.app_focus = True
        focused = self.focused
        typing = focused is not None and focused.check_consume_key(key.key, key.character)
        if self._typed_in_flight and not typing:
            # Keys typed into a field are still being handled there: this one (a Tab, a
            # ctrl+s) waits for them, and goes first once they are.
            self._held_keys.insert(0, key)
            if self._typing_token is None:
                self._typing_token = self._brief_hold()
            return
        if await check_bindings(self, key.key, priority=True):
            self._settle_after_action(focused)
            return
        if typing and focused is not None:
            self._forward_typed(focused, key)  # typing into a field: its queue keeps the order
            return
        if await check_bindings(self, key.key):
            self._settle_after_action(focused)
            return
        self._forward_in_order(focused or self.screen, key)

    def _forward_typed(self, widget: Widget, key: events.Key) -> None:
        self._typed_in_flight += 1
        forward_event(widget, key)
        if not widget.call_later(self._typed_done):  # the widget is closed
            self._typed_done()

    def _typed_done(self) -> None:
        self._typed_in_flight = max(0, self._typed_in_flight - 1)
        if self._typed_in_flight == 0 and self._typing_token is not None:
            token, self._typing_token = self._typing_token, None
            self.release_keys(token)

    def _brief_hold(self) -> int:
        """A hold of one key's handling; ``_release_stale`` ends one that was never
        released (its widget was removed before it handled the key)."""
        self._hold_token += 1
        token = self._hold_token
        self._holds.add(token)
        self._brief_holds[token] = time.monotonic()
        return token

    def _release_stale(self) -> None:
        now = time.monotonic()
        for token, since in list(self._brief_holds.items()):
            if token not in self._holds:
                del self._brief_holds[token]
            elif now - since > 1.0:
                del self._brief_holds[token]
                if token == self._typing_token:
                    self._typing_token, self._typed_in_flight = None, 0
                self.release_keys(token)

    def _settle_after_action(self, focused: Widget | None) -> None:
        """An action may have asked for the focus (``widget.focus()`` is done in a later
        turn), or posted a message to the focused widget that does the work (Space in a
        list of ticks posts "selected" to the list, which ticks the line when it handles
        it): the next keys wait until both are done, so a ctrl+s typed after Space saves
        the tick."""
        token = self._brief_hold()

        def after_app_turn() -> None:
            # The widget's queue runs what the action posted to it, then this.
            if focused is None or not focused.call_later(self.release_keys, token):
                self.release_keys(token)

        self.call_later(after_app_turn)

    def _forward_in_order(self, widget: Widget, key: events.Key) -> None:
        """Give ``key`` to ``widget``; the next keys wait until it has handled it (so a
        ctrl+s typed after a name saves the name)."""
        token = self._brief_hold()
        forward_event(widget, key)
        if not widget.call_later(self.release_keys, token):  # the widget is closed
            self.release_keys(token)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if getattr(event, "_mailroom_replayed", False):
                await self._replay_key(event)
                return
            if self._holds or self._held_keys:
                self._held_keys.append(event)  # typed while loading: kept, in order
                return
            await self._route_key(event)
            return
        await super().on_event(event)

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        """Open a screen; keys typed before it has its focus go to it, not to the one below."""
        token = self.hold_keys()
        result = super().push_screen(screen, *args, **kwargs)

        async def release_when_mounted() -> None:
            try:
                if not kwargs.get("wait_for_dismiss"):
                    await result
            finally:
                self.call_after_refresh(self.release_keys, token)

        self.call_later(release_when_mounted)
        return result
