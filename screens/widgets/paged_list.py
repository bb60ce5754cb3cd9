"""A list that shows one page of rows at a time, with marks for a selection.

Like ``record_list.RecordList`` but without a search box and with a selection:
the owner's ``fetch(offset, limit)`` gives a page of (key, label) rows and the
total. Up and Down cross into the next or previous page; Home and End go to the
first and last row of the whole list (fetching only that page); Space marks a
row. Never more than ``page_size`` rows are in the widget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from screens.widgets.record_list import ListRows

PageFetch = Callable[[int, int], tuple[list[tuple[str, str]], int]]


class PageRows(ListRows):
    """The rows of one page; keys that cross pages are handled by the PagedList."""

    BINDINGS = [
        Binding("space", "mark", "Mark", id="paged.mark", tooltip="Mark or unmark this row"),
        Binding(
            "ctrl+f",
            "next_page",
            "Next page",
            id="paged.next-page",
            tooltip="Show the next page",
            show=False,
        ),
        Binding(
            "ctrl+b",
            "previous_page",
            "Prev page",
            id="paged.previous-page",
            tooltip="Show the previous page",
            show=False,
        ),
    ]

    @property
    def owner(self) -> PagedList:
        return cast("PagedList", self.parent)

    def action_mark(self) -> None:
        self.owner.toggle_highlighted()

    def action_next_page(self) -> None:
        self.owner.next_page()

    def action_previous_page(self) -> None:
        self.owner.previous_page()

    def action_cursor_down(self) -> None:
        if self.highlighted is not None and self.highlighted >= self.option_count - 1:
            self.owner.next_page()
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.highlighted == 0 and self.owner.page_start > 0:
            self.owner.previous_page(at_end=True)
            return
        super().action_cursor_up()

    def action_first(self) -> None:
        self.owner.go_to(0)

    def action_last(self) -> None:
        self.owner.go_to(max(self.owner.total - 1, 0))


class PagedList(Vertical):
    class Chosen(Message):
        """Enter on a row."""

        def __init__(self, paged: PagedList, key: str) -> None:
            super().__init__()
            self.paged = paged
            self.key = key

        @property
        def control(self) -> PagedList:
            return self.paged

    def __init__(self, fetch: PageFetch, *, page_size: int = 200, id: str | None = None) -> None:
        super().__init__(id=id)
        self.fetch = fetch
        self.page_size = page_size
        self.page_start = 0
        self.total = 0
        self.keys: list[str] = []
        self.labels: list[str] = []
        self.marked: set[str] = set()
        self.empty_text = "nothing here"

    def compose(self) -> ComposeResult:
        yield PageRows(id="page-rows", compact=True)
        yield Label("", classes="paged-status", id="paged-status")

    @property
    def rows(self) -> PageRows:
        return self.query_one(PageRows)

    def _prompt(self, key: str, label: str) -> Text:
        mark = "*" if key in self.marked else " "
        # One line per row, whatever the width: an option list would wrap it.
        width = (self.size.width or 80) - 2
        text = f"{mark}{label}"
        if len(text) > width:
            text = text[: width - 1] + "~"
        return Text(text, no_wrap=True)

    def on_resize(self) -> None:
        # The first page is often cut before the list has its width (then 80 is
        # assumed): cut the rows again for the width there is, or they would wrap.
        if self.keys:
            widget = self.rows
            keep = widget.highlighted
            widget.set_options(
                [
                    Option(self._prompt(k, lb), id=k)
                    for k, lb in zip(self.keys, self.labels, strict=True)
                ]
            )
            widget.highlighted = keep

    def load(self, offset: int | None = None, highlight: int | None = None) -> None:
        """Fetch and show the page at ``offset`` (default: the current one)."""
        if offset is not None:
            self.page_start = max(0, offset)
        rows, total = self.fetch(self.page_start, self.page_size)
        if not rows and self.page_start > 0 and total:
            self.page_start = max(0, ((total - 1) // self.page_size) * self.page_size)
            rows, total = self.fetch(self.page_start, self.page_size)
        self.total = total
        keep = self.rows.highlighted
        self.keys = [k for k, _ in rows]
        self.labels = [label for _, label in rows]
        widget = self.rows
        widget.set_options([Option(self._prompt(k, label), id=k) for k, label in rows])
        if rows:
            index = highlight if highlight is not None else (keep or 0)
            widget.highlighted = min(max(index, 0), len(rows) - 1)
        self._status()

    def _status(self) -> None:
        if self.total:
            last = self.page_start + len(self.keys)
            text = f"{self.page_start + 1:,}-{last:,} of {self.total:,}"
            if self.marked:
                text += f"   {len(self.marked):,} marked"
            text += "   PgUp/PgDn, Home/End, ctrl+f/ctrl+b: pages"
        else:
            text = self.empty_text
        self.query_one("#paged-status", Label).update(text)

    def go_to(self, index: int) -> None:
        page_start = (index // self.page_size) * self.page_size
        self.load(page_start, highlight=index - page_start)

    def next_page(self) -> None:
        if self.page_start + self.page_size < self.total:
            self.load(self.page_start + self.page_size, highlight=0)

    def previous_page(self, at_end: bool = False) -> None:
        if self.page_start > 0:
            self.load(
                max(0, self.page_start - self.page_size),
                highlight=self.page_size - 1 if at_end else 0,
            )

    @property
    def highlighted_key(self) -> str | None:
        index = self.rows.highlighted
        if index is None or index >= len(self.keys):
            return None
        return self.keys[index]

    @property
    def position(self) -> int | None:
        index = self.rows.highlighted
        return None if index is None else self.page_start + index

    def toggle_highlighted(self) -> None:
        index = self.rows.highlighted
        if index is None or index >= len(self.keys):
            return
        key = self.keys[index]
        if key in self.marked:
            self.marked.discard(key)
        else:
            self.marked.add(key)
        self.rows.replace_option_prompt_at_index(index, self._prompt(key, self.labels[index]))
        if index < len(self.keys) - 1:
            self.rows.highlighted = index + 1
        self._status()

    def mark_all(self, keys: list[str]) -> None:
        self.marked = set(keys)
        self.load()

    def chosen_keys(self) -> list[str]:
        """The marked rows, or else the highlighted one."""
        if self.marked:
            return sorted(self.marked)
        key = self.highlighted_key
        return [key] if key else []

    @on(OptionList.OptionSelected, "#page-rows")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Chosen(self, event.option.id))

    def focus_rows(self) -> None:
        self.rows.focus()
