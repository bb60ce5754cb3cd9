"""A searchable, paged list of records.

Never loads every row into one widget: a page (``page_size`` rows) is shown at a
time and the owner's ``fetch(query, offset, limit)`` is asked for it, so 10,000
relations cost what 200 do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option


def _cut(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def row_prompt(label: str, width: int) -> str:
    """``code  name`` as two lines, each cut to ``width``: the narrow list would otherwise
    wrap a long code mid-word (``HOLT-DE-counter_invoi`` / ``ce``)."""
    if "  " not in label:
        return _cut(label, width)
    head, tail = label.rsplit("  ", 1)
    return _cut(head, width) + "\n" + _cut("  " + tail, width)


class ListRows(OptionList):
    """An ``OptionList`` that keeps the rows it drew when it is shown again at the same
    size. Textual sends every widget a Resize when its pane is shown again, and an
    ``OptionList`` then drops every drawn row and draws them again: a second frame on
    each pane switch for nothing."""

    _drawn_for: Size | None = None

    def on_resize(self, event: events.Resize) -> None:
        if event.size == self._drawn_for:
            event.prevent_default()  # the same size: the rows drawn are still right
            return
        self._drawn_for = event.size  # OptionList's own handler clears its rows next


@dataclass(frozen=True)
class Page:
    rows: list[tuple[str, str]]  # (key, label)
    total: int


Fetch = Callable[[str, int, int], Page]


class RecordList(Vertical):
    """Search box, one page of rows, and where you are (``41-80 of 10,000``)."""

    BINDINGS = [
        Binding(
            "ctrl+f",
            "next_page",
            "Next page",
            id="list.next-page",
            tooltip="Show the next page of the list",
            show=False,
        ),
        Binding(
            "ctrl+b",
            "previous_page",
            "Prev page",
            id="list.previous-page",
            tooltip="Show the previous page of the list",
            show=False,
        ),
        Binding(
            "down",
            "to_rows",
            "Rows",
            id="list.to-rows",
            tooltip="From the search box down into the list",
            show=False,
        ),
    ]

    class Selected(Message):
        """The user chose a row (Enter)."""

        def __init__(self, record_list: RecordList, key: str) -> None:
            super().__init__()
            self.record_list = record_list
            self.key = key

        @property
        def control(self) -> RecordList:
            return self.record_list

    def __init__(
        self,
        fetch: Fetch,
        *,
        page_size: int = 200,
        placeholder: str = "search",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.fetch = fetch
        self.page_size = page_size
        self.placeholder = placeholder
        self.page_start = 0
        self.total = 0
        self._timer: Timer | None = None
        self._shown_query: str | None = None  # the search the rows are of

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self.placeholder, id="search", compact=True)
        yield ListRows(id="rows")
        yield Label("", classes="list-status", id="list-status")

    def on_mount(self) -> None:
        self.query_one("#search", Input).cursor_blink = False
        self.reload()

    @property
    def query_text(self) -> str:
        return self.query_one("#search", Input).value.strip()

    def reload(self, *, keep_offset: bool = False, select: str | None = None) -> None:
        if not keep_offset:
            self.page_start = 0
        self._shown_query = self.query_text
        page = self.fetch(self._shown_query, self.page_start, self.page_size)
        self.total = page.total
        rows = self.query_one("#rows", OptionList)
        rows.clear_options()
        width = self.size.width - 5 if self.size.width else 21  # border, padding, scrollbar
        rows.add_options([Option(row_prompt(label, width), id=key) for key, label in page.rows])
        if page.rows:
            index = 0
            if select is not None:
                keys = [k for k, _ in page.rows]
                if select in keys:
                    index = keys.index(select)
            rows.highlighted = index
        if page.total:
            last = self.page_start + len(page.rows)
            status = f"{self.page_start + 1}-{last} of {page.total:,}"
        else:
            status = "nothing found" if self.query_text else "none yet"
        self.query_one("#list-status", Label).update(status)

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        # A short pause first, so typing a name does not search per key.
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.15, self._search_now)

    def _search_now(self) -> None:
        self._timer = None
        if self.query_text != self._shown_query:  # not searched already (Down, Enter)
            self.reload()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.reload()
        self.query_one("#rows", OptionList).focus()

    @on(OptionList.OptionSelected, "#rows")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Selected(self, event.option.id))

    def action_to_rows(self) -> None:
        """Down in the search box: the list as searched for, its first row highlighted
        (a search still waiting for its pause is done now, so Enter then opens a row of
        what was typed, not of the list before)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.query_text != self._shown_query:
            self.reload()
        rows = self.query_one("#rows", OptionList)
        if rows.option_count and rows.highlighted is None:
            rows.highlighted = 0
        rows.focus()

    def action_next_page(self) -> None:
        if self.page_start + self.page_size < self.total:
            self.page_start += self.page_size
            self.reload(keep_offset=True)

    def action_previous_page(self) -> None:
        if self.page_start > 0:
            self.page_start = max(0, self.page_start - self.page_size)
            self.reload(keep_offset=True)

    def focus_search(self) -> None:
        # A pane switched to before it has composed gets the focus once it has.
        for w in self.query("#search").results(Input):
            w.focus()

    def focus_rows(self) -> None:
        for w in self.query("#rows").results(OptionList):
            w.focus()


def page_of(rows: list[tuple[str, str]], query: str, offset: int, limit: int) -> Page:
    """Filter (key, label) rows by ``query`` in key or label, and cut one page."""
    needle = query.lower()
    if needle:
        rows = [r for r in rows if needle in r[0].lower() or needle in r[1].lower()]
    return Page(rows[offset : offset + limit], len(rows))
