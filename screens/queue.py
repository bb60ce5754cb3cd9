"""The queue: batches with their counts per state, and inside a batch its messages, paged.

A batch of 10,000 messages is never put into one widget: the item list shows a
page of 200 and reads the spool page by page (``screens.widgets.spool_view``).
Approving first shows a dry-run summary; that and the other changes of items are
in ``screens.queue_changes``. Sending runs in a detached ``mailroom send`` process
the pane follows by polling the spool: ``screens.queue_send``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from mailing import words
from screens.queue_changes import QueueChanges
from screens.queue_send import POLL_SECONDS, QueueSending, SendState
from screens.widgets.paged_list import PagedList
from screens.widgets.pane import Pane
from screens.widgets.spool_batches import list_batches
from screens.widgets.spool_view import ITEM_FILTERS, BatchView
from store.errors import MailroomError

# The states of the messages the header says the destination of.
QUEUE_PAGE = 50  # rows fetched at a time
MAIL_STATES = ("draft", "approved", "held", "sending", "failed", "unknown", "sent")


def cut(text: str, width: int) -> str:
    """One line of at most ``width`` columns, ``…`` where it was cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


class QueuePane(QueueChanges, QueueSending, Pane):
    title = "Queue"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "a",
            "approve",
            "Approve",
            id="queue.approve",
            tooltip="Approve the marked messages, or every draft; shows a dry-run summary first",
        ),
        Binding("s", "send", "Send", id="queue.send", tooltip="Send the approved messages"),
        Binding("h", "hold", "Hold", id="queue.hold", tooltip="Hold the marked (or this) message"),
        Binding(
            "u",
            "release",
            "Release",
            id="queue.release",
            tooltip="Release the held marked (or this) message: approved again",
            show=False,
        ),
        Binding(
            "x", "cancel", "Cancel", id="queue.cancel", tooltip="Cancel the marked (or this) item"
        ),
        Binding("f", "filter_state", "State", id="queue.filter", tooltip="Show one state"),
        Binding("w", "filter_warnings", "Warnings", id="queue.warnings", tooltip="Only warnings"),
        Binding(
            "r",
            "resend",
            "Re-send",
            id="queue.resend",
            tooltip="Send an unknown or failed message again",
            show=False,
        ),
        Binding(
            "k",
            "mark_sent",
            "Mark sent",
            id="queue.mark-sent",
            tooltip="Confirm an unknown message did arrive",
            show=False,
        ),
        Binding("p", "print_list", "Print", id="queue.print", tooltip="The print list and PDF"),
        Binding(
            "d",
            "summary",
            "Summary",
            id="queue.summary",
            tooltip="Dry-run summary of the batch",
            show=False,
        ),
        Binding(
            "ctrl+a",
            "mark_all",
            "Mark all",
            id="queue.mark-all",
            tooltip="Mark every item shown (the filter applies)",
            show=False,
        ),
        Binding(
            "t",
            "stop",
            "Stop",
            id="queue.stop",
            tooltip="Stop sending after the current message",
            show=False,
        ),
        Binding(
            "b",
            "focus_batches",
            "Batches",
            id="queue.batches",
            tooltip="Go to the list of batches",
            show=False,
        ),
        Binding("g", "reload", "Refresh", id="queue.refresh", tooltip="Read again", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: BatchView | None = None
        self.state_filter = "all"
        self.warnings_only = False
        self.sending: SendState | None = None
        self._poll: Timer | None = None
        self._other_sender: dict[str, Any] | None = None
        self._where: dict[str, str] = {}  # batch id -> where its mail goes, in words

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Label("Queue", classes="pane-title", id="pane-title")
        yield OptionList(id="batches", compact=True)
        yield Static("Choose a batch and press Enter.", id="batch-info", markup=False)
        yield Static("", id="send-progress", markup=False)
        # A page is a few screens (each row reads its item's side-car), so jumping to
        # the end of a 10,000-message batch reads what a 100-message batch reads.
        yield PagedList(self._fetch_items, page_size=QUEUE_PAGE, id="items")

    def on_mount(self) -> None:
        self.items.empty_text = "no items (choose a batch above, or change the filter: f, w)"
        self.reload_batches()
        self._poll = self.set_interval(POLL_SECONDS, self._tick)

    @property
    def items(self) -> PagedList:
        return self.query_one("#items", PagedList)

    @property
    def batches_list(self) -> OptionList:
        return self.query_one("#batches", OptionList)

    def focus_first(self) -> None:
        if self.view is not None:
            self.items.focus_rows()
        else:
            self.batches_list.focus()

    def refresh_data(self) -> None:
        if self.is_mounted:
            self.reload_batches()
            if self.view is not None:
                self.items.load()
                self._show_info()

    def _on_screen(self) -> bool:
        return bool(self.display) and self.app.screen is self.screen

    # ------------------------------------------------------------ batches

    def reload_batches(self) -> None:
        try:
            summaries = list_batches(self.store.home)
        except MailroomError as exc:
            self.show_error(exc, "The spool cannot be read")
            return
        widget = self.batches_list
        keep = self.view.batch.id if self.view is not None else None
        # One line per batch: cut to the width (the header shows the batch in full).
        width = max(widget.size.width - 2, 40) if widget.size.width else 76
        widget.set_options([Option(cut(s.label(), width), id=s.id) for s in summaries])
        if summaries:
            ids = [s.id for s in summaries]
            widget.highlighted = ids.index(keep) if keep in ids else 0

    @on(OptionList.OptionSelected, "#batches")
    def _batch_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.open_batch(event.option.id)

    def open_batch(self, batch_id: str) -> None:
        """Show the items of a batch (also the command palette's "Open batch")."""
        if not self.query("#items"):  # just created: open it once it is composed
            self.call_after_refresh(self.open_batch, batch_id)
            return
        try:
            self.view = BatchView.open(self.store.home, batch_id)
        except MailroomError as exc:
            self.show_error(exc, "Cannot open the batch")
            return
        self.items.marked.clear()
        sending = getattr(self, "sending", None)
        if sending is None or sending.batch != batch_id:  # no old send's bar on this one
            self.query_one("#send-progress", Static).update("")
        self.items.load(0)
        self._show_info()
        self.items.focus_rows()
        if batch_id not in self._where:
            self._find_where(self.view)

    @work(thread=True, exclusive=True, group="queue-where")
    def _find_where(self, view: BatchView) -> None:
        counts = view.profile_counts(MAIL_STATES)
        text = self.where_text(counts) if counts else "no message left to send"
        self.app.call_from_thread(self._found_where, view.batch.id, text)

    def _found_where(self, batch_id: str, text: str) -> None:
        self._where[batch_id] = text
        self._show_info()

    def _fetch_items(self, offset: int, limit: int) -> tuple[list[tuple[str, str]], int]:
        if self.view is None:
            return [], 0
        width = max(self.size.width - 4, 40) if self.is_mounted else 76
        rows, total = self.view.page(offset, limit, self.state_filter, self.warnings_only)
        return [(r.item, r.label(width)) for r in rows], total

    def _show_info(self) -> None:
        info = self.query_one("#batch-info", Static)
        if self.view is None:
            info.update("Choose a batch and press Enter.")
            return
        counts = self.view.counts()
        test_mode = (self.view.batch.path / "test-mode").exists()
        shown = (
            "  ".join(f"{words.sent_state(k, test_mode)} {v:,}" for k, v in counts.items() if v)
            or "empty"
        )
        what = f"filter: {words.item_state(self.state_filter)}" + (
            ", warnings only" if self.warnings_only else ""
        )
        if self._other_sender:
            o = self._other_sender
            what += (
                f"   SENDING NOW by {o.get('user')} (process {o.get('pid')} on {o.get('host')}, "
                f"since {str(o.get('since'))[:19]})"
            )
        where = self._where.get(self.view.batch.id, "…")
        width = max(self.size.width - 2, 40)
        lines = [f"Batch {self.view.batch.id}: {shown}", f"Mail goes: {where}", what]
        info.update("\n".join(cut(line, width) for line in lines))
        title = f"Queue: batch {self.view.batch.id}"
        self.query_one("#pane-title", Label).update(title)

    def where_text(self, counts: dict[str, int]) -> str:
        """Where these messages go: per profile, its server (host:port) or outbox folder."""
        from mailing.words import destinations
        from store.records import Profile

        profiles = {p.code: p for p in self.store.all(Profile)}
        return destinations(counts, profiles, self.store.home)

    def _need_batch(self) -> BatchView | None:
        if self.view is None:
            self.app.notify("Choose a batch first (Enter on a batch).", severity="warning")
        return self.view

    # ------------------------------------------------------------ filters

    def action_filter_state(self) -> None:
        i = ITEM_FILTERS.index(self.state_filter)
        self.state_filter = ITEM_FILTERS[(i + 1) % len(ITEM_FILTERS)]
        self.items.load(0)
        self._show_info()

    def action_filter_warnings(self) -> None:
        self.warnings_only = not self.warnings_only
        self.items.load(0)
        self._show_info()

    def action_mark_all(self) -> None:
        if self.view is None:
            return
        keys = [r.item for r in self.view.refs(self.state_filter, self.warnings_only)]
        self.items.mark_all(keys)

    def action_reload(self) -> None:
        self.refresh_data()

    def action_focus_batches(self) -> None:
        self.batches_list.focus()

    @on(PagedList.Chosen, "#items")
    def _item_chosen(self, event: PagedList.Chosen) -> None:
        if self.view is None:
            return
        from screens.preview import PreviewScreen, load_queued

        home, batch_id, item = self.store.home, self.view.batch.id, event.key
        self.app.push_screen(
            PreviewScreen(lambda: load_queued(home, batch_id, item), f"Preview of {item}")
        )

    # ------------------------------------------------------------ print list

    def action_print_list(self) -> None:
        view = self._need_batch()
        if view is None:
            return
        from screens.widgets.spool_dry_run import PRINT_REASON_TEXT

        refs = view.refs("print")
        path = view.print_pdf()
        lines = [f"{words.count(len(refs), 'document')} cannot be mailed and go to print."]
        if path is not None:
            lines.append(f"All of them in one PDF:\n{path}")
        for ref in refs[:12]:
            meta = view.meta(ref.item)
            doc = meta.get("document", {})
            why = PRINT_REASON_TEXT.get(str(meta.get("reason")), str(meta.get("reason")))
            lines.append(f"  {doc.get('number', ref.item)}  {doc.get('relation', '')}  {why}")
        if len(refs) > 12:
            lines.append(f"  ... and {len(refs) - 12:,} more (filter f: print)")
        self.show_message("Print list", "\n".join(lines))


def _binding_classes() -> tuple[type, ...]:
    from screens.preview import PreviewScreen
    from screens.widgets.paged_list import PageRows

    return (PageRows, PreviewScreen)


# Widgets and screens of this area whose key bindings a key map may name.
EXTRA_BINDING_CLASSES: tuple[type, ...] = _binding_classes()
