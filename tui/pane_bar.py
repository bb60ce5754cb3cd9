"""The pane switcher at the top of the app: every pane with its key, the current one lit."""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.widget import Widget

from tui.panes import PaneSpec


class PaneBar(Widget):
    """The pane switcher: every pane with its key, the current one highlighted.

    One line drawn as text (not a widget per pane): showing another pane repaints it
    and never re-lays out the screen. A click on a pane's name shows it."""

    COMPONENT_CLASSES = {"pane-bar--current"}

    def __init__(self, panes: tuple[PaneSpec, ...], keys: dict[str, str]) -> None:
        super().__init__(id="pane-bar")
        self.panes = panes
        self.keys = keys
        self.current = ""
        self._spans: list[tuple[int, int, str]] = []  # start, end column, pane id

    def _key(self, p: PaneSpec) -> str:
        return self.keys.get(f"pane.{p.id}", p.key).split(",")[0].upper()

    def _full_width(self) -> int:
        return sum(len(self._key(p)) + len(p.title) + 3 for p in self.panes if not p.under)

    def render(self) -> Content:
        """Full titles when they fit; else short ones, the current pane's in full."""
        compact = self.size.width < self._full_width()
        current = self.get_visual_style("pane-bar--current")
        parts: list[Content] = []
        spans: list[tuple[int, int, str]] = []
        column = 0
        for p in self.panes:
            if p.under:  # shown under another pane's name
                continue
            is_current = p.id == self.current
            title = p.short if compact and p.short and not is_current else p.title
            # Compact: one space before each name; else one either side.
            text = f" {self._key(p)} {title}" + ("" if compact else " ")
            part = Content(text).stylize(current) if is_current else Content(text)
            spans.append((column, column + len(text), p.id))
            column += len(text)
            parts.append(part)
        self._spans = spans
        return Content("").join(parts)

    def show_current(self, pane_id: str) -> None:
        spec = next((p for p in self.panes if p.id == pane_id), None)
        self.current = spec.under if spec is not None and spec.under else pane_id
        self.refresh()  # the same size: a repaint only

    async def on_click(self, event: events.Click) -> None:
        for start, end, pane_id in self._spans:
            if start <= event.x < end:
                await self.app.run_action(f"show_pane('{pane_id}')")
                return
