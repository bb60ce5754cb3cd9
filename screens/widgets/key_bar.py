"""The footer: the keys of the focused widget, its pane and the app, as one line of text.

Textual's ``Footer`` mounts a widget per key and re-mounts them all whenever the
focus moves or a pane is shown (~30 widgets to style and lay out each time: most
of a pane switch). This is one widget of fixed size that redraws its line instead
(a repaint, never a re-layout of the screen). It shows
what ``Footer(compact=True, show_command_palette=False)`` shows — every binding with
``show`` set, one per action, a disabled one dimmed — and a click on a key presses
it. F1 lists every key in words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.content import Content
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen


class KeyBar(Widget, can_focus=False):
    """One line: ``key Description`` for each key shown, a space between them."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--disabled"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Content("")
        self._spans: list[tuple[int, int, str]] = []  # start, end column, key

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            text = self._line()
            if (text.plain, text.spans) != (self._text.plain, self._text.spans):
                self._text = text
                self.refresh()  # the same size: no layout

    def on_resize(self) -> None:
        self._bindings_changed(self.screen)

    def render(self) -> Content:
        return self._text

    @property
    def text(self) -> str:
        """The line as plain text."""
        return self._text.plain

    def _line(self) -> Content:
        """The keys as one line, and where each lies (for a click)."""
        key_style = self.get_visual_style("key-bar--key")
        text_style = self.get_visual_style("key-bar--description")
        dim = self.get_visual_style("key-bar--disabled")
        pieces: list[tuple[Content, str, str]] = []  # piece, key, action
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            piece = Content.assemble((key, key_style), (f" {binding.description}", text_style))
            if not enabled:
                piece = piece.stylize(dim)
            pieces.append((piece, binding.key, binding.action))
        # Too long for the line: the keys just before F1 Help give way (F1 lists them
        # all), so the line never ends in a cut word nor loses the key that explains it.
        width = self.size.width or self.app.size.width or 80
        while len(pieces) > 1 and sum(p.cell_length + 1 for p, _, _ in pieces) - 1 > width:
            drop = next((i for i in range(len(pieces) - 1, -1, -1) if pieces[i][2] != "help"), None)
            if drop is None:
                break
            del pieces[drop]
        parts: list[Content] = []
        spans: list[tuple[int, int, str]] = []
        column = 0
        for piece, key_name, _action in pieces:
            if parts:
                parts.append(Content(" "))
                column += 1
            spans.append((column, column + piece.cell_length, key_name))
            column += piece.cell_length
            parts.append(piece)
        self._spans = spans
        return Content("").join(parts)

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
