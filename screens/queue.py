"""The queue: batches with their counts per state, and inside a batch its messages, paged.

A batch of 10,000 messages is never put into one widget: the item list shows a
page of 200 and reads the spool page by page (``screens.widgets.spool_view``).
Approving first shows a dry-run summary.

Sending runs in a separate ``mailroom send`` process in its own session, its
output in ``spool/<batch>/send.log``: when the terminal closes (SIGHUP over a
dropped SSH connection) or the app is quit, the send goes on to its end and the
engine's crash rules hold; nothing is lost or sent twice. Stop asks that process
(SIGTERM) to stop after the message in flight. The pane follows any sender, ours
or another admin's, the same way: by polling the spool.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from screens.widgets.modals import ConfirmModal
from screens.widgets.paged_list import PagedList
from screens.widgets.pane import Pane
from screens.widgets.spool_view import (
    ITEM_FILTERS,
    BatchView,
    DryRun,
    dry_run,
    list_batches,
)

POLL_SECONDS = 0.5


@dataclass
class SendState:
    """The sender process this pane started, and what the spool says of its progress."""

    batch: str
    process: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.monotonic)
    total: int = 0
    done: int = 0
    stop: bool = False

    @property
    def finished(self) -> bool:
        return self.process.poll() is not None


def start_sender(home: Path, user: str, batch_id: str) -> tuple[subprocess.Popen[bytes], Path]:
    """``mailroom send BATCH`` in its own session, so a hang-up of our terminal spares it."""
    log = home / "spool" / batch_id / "send.log"
    cmd = [sys.executable, "-m", "tui", "--home", str(home), "--user", user, "send", batch_id]
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    return proc, log


def log_tail(log: Path, lines: int = 12) -> str:
    try:
        text = log.read_text("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def progress_line(done: int, total: int, elapsed: float, extra: str = "", width: int = 24) -> str:
    """``[#####.....] 120/400  35.2 msg/s  0:08 left``: text only, nothing animates."""
    filled = int(width * done / total) if total else 0
    bar = "#" * filled + "." * (width - filled)
    rate = done / elapsed if elapsed > 0 else 0.0
    left = ""
    if rate > 0 and total > done:
        secs = int((total - done) / rate)
        left = f"  {secs // 60}:{secs % 60:02d} left"
    return f"[{bar}] {done:,}/{total:,}  {rate:.1f} msg/s{left}" + (f"  {extra}" if extra else "")


class QueuePane(Pane):
    title = "Queue"
    DEFAULT_CSS = """
    QueuePane #batches { height: 4; border: none; border-bottom: solid $panel-lighten-2; }
    QueuePane #batch-info { height: 2; padding: 0 1; }
    QueuePane #send-progress { height: 1; padding: 0 1; color: $success; }
    QueuePane #items { height: 1fr; }
    """
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
            "x", "cancel", "Cancel", id="queue.cancel", tooltip="Cancel the marked (or this) item"
        ),
        Binding("f", "filter_state", "State", id="queue.filter", tooltip="Show one state"),
        Binding("w", "filter_warnings", "Warnings", id="queue.warnings", tooltip="Only warnings"),
        Binding(
            "r", "resend", "Re-send", id="queue.resend", tooltip="Send an unknown/failed again"
        ),
        Binding(
            "k",
            "mark_sent",
            "Mark sent",
            id="queue.mark-sent",
            tooltip="Confirm an unknown message did arrive",
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

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Label("Queue", classes="pane-title", id="pane-title")
        yield OptionList(id="batches", compact=True)
        yield Static("Choose a batch and press Enter.", id="batch-info", markup=False)
        yield Static("", id="send-progress", markup=False)
        yield PagedList(self._fetch_items, page_size=200, id="items")

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

    @property
    def dirty(self) -> bool:
        # A running send is work a quit would interrupt: the app asks first.
        return self.sending is not None and not self.sending.finished

    # ------------------------------------------------------------ batches

    def reload_batches(self) -> None:
        try:
            summaries = list_batches(self.store.home)
        except Exception as exc:
            self.show_error(exc, "The spool cannot be read")
            return
        widget = self.batches_list
        keep = self.view.batch.id if self.view is not None else None
        widget.set_options([Option(s.label(), id=s.id) for s in summaries])
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
        except Exception as exc:
            self.show_error(exc, "Cannot open the batch")
            return
        self.items.marked.clear()
        self.items.load(0)
        self._show_info()
        self.items.focus_rows()

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
        shown = "  ".join(f"{k} {v:,}" for k, v in counts.items() if v) or "empty"
        what = f"filter: {self.state_filter}" + (", warnings only" if self.warnings_only else "")
        line2 = what
        if self._other_sender:
            o = self._other_sender
            line2 = (
                f"SENDING NOW by {o.get('user')} (process {o.get('pid')} on {o.get('host')}, "
                f"since {str(o.get('since'))[:19]})"
            )
        info.update(f"Batch {self.view.batch.id}: {shown}\n{line2}")
        title = f"Queue: batch {self.view.batch.id}"
        self.query_one("#pane-title", Label).update(title)

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

    # ------------------------------------------------------------ approve, hold, cancel

    def action_summary(self) -> None:
        if self._need_batch() is not None:
            self._dry_run(None, approve=False)

    def action_approve(self) -> None:
        if self._need_batch() is None:
            return
        marked = sorted(self.items.marked) or None
        self._dry_run(marked, approve=True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue-dry-run")
    def _dry_run(
        self, items: list[str] | None, approve: bool
    ) -> tuple[DryRun, list[str] | None, bool]:
        assert self.view is not None
        return dry_run(self.view, items), items, approve

    def _after_dry_run(self, summary: DryRun, items: list[str] | None, approve: bool) -> None:
        text = summary.text()
        if not approve:
            self.show_message("Dry-run summary", text)
            return
        if summary.mailed == 0:
            self.show_message("Nothing to approve", text + "\n\nNo draft messages are chosen.")
            return
        what = f"the {len(items)} marked message(s)" if items else "every draft message"
        view = self.view
        assert view is not None

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            from mailing.changes import change_items

            try:
                moved, skipped = change_items(
                    self.store, self.user, view.batch.id, "approve", items
                )
            except Exception as exc:
                self.show_error(exc, "Not approved")
                return
            self.items.marked.clear()
            self._after_change(f"Approved {len(moved)} message(s)", skipped)

        self.app.push_screen(
            ConfirmModal(f"{text}\n\nApprove {what}?", "Dry run: what approving leads to"),
            answered,
        )

    def _after_change(self, done: str, skipped: list[tuple[str, str]]) -> None:
        if skipped:
            lines = [f"{done}; {len(skipped)} not:"]
            lines += [f"  {item}: {why}" for item, why in skipped[:10]]
            if len(skipped) > 10:
                lines.append(f"  … and {len(skipped) - 10} more")
            self.show_message("Not every item was changed", "\n".join(lines))
        else:
            self.app.notify(done, timeout=4)
        self.items.load()
        self._show_info()
        self.reload_batches()

    def _move(self, action: str) -> None:
        from mailing.changes import BATCH_ACTIONS, change_items

        view = self._need_batch()
        if view is None:
            return
        keys = self.items.chosen_keys()
        if not keys:
            return
        done = BATCH_ACTIONS[action].done
        try:
            moved, skipped = change_items(self.store, self.user, view.batch.id, action, keys)
        except Exception as exc:
            self.show_error(exc, f"Not {done}")
            return
        self.items.marked.clear()
        self._after_change(f"{done.capitalize()}: {len(moved)} item(s)", skipped)

    def action_hold(self) -> None:
        self._move("hold")

    def action_cancel(self) -> None:
        view = self._need_batch()
        if view is None:
            return
        keys = self.items.chosen_keys()
        if not keys:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._move("cancel")

        self.app.push_screen(
            ConfirmModal(f"Cancel {len(keys)} item(s)? They will not be sent."), answered
        )

    def action_resend(self) -> None:
        self._admin_action("resend")

    def action_mark_sent(self) -> None:
        self._admin_action("mark_sent")

    def _admin_action(self, what: str) -> None:
        view = self._need_batch()
        if view is None:
            return
        keys = self.items.chosen_keys()
        if not keys:
            return
        question = (
            f"Send {len(keys)} message(s) again with the same Message-ID? Only do this when "
            "you know they did not arrive."
            if what == "resend"
            else f"Mark {len(keys)} unknown message(s) as sent? Only when you know they arrived."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._move(what)

        self.app.push_screen(ConfirmModal(question), answered)

    def action_print_list(self) -> None:
        view = self._need_batch()
        if view is None:
            return
        from screens.widgets.spool_view import PRINT_REASON_TEXT

        refs = view.refs("print")
        path = view.print_pdf()
        lines = [f"{len(refs):,} document(s) cannot be mailed and go to print."]
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

    # ------------------------------------------------------------ sending

    def action_send(self) -> None:
        view = self._need_batch()
        if view is None:
            return
        if self.sending is not None and not self.sending.finished:
            self.app.notify("Already sending.", severity="warning")
            return
        approved = len(view.names("approved"))
        if not approved:
            self.app.notify("Nothing is approved in this batch: approve first (a).")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._start_send(view.batch.id, approved)

        self.app.push_screen(
            ConfirmModal(f"Send the {approved:,} approved message(s) of batch {view.batch.id}?"),
            answered,
        )

    def _start_send(self, batch_id: str, total: int) -> None:
        proc, log = start_sender(self.store.home, self.user, batch_id)
        self.sending = SendState(batch_id, proc, log, total=total)
        self.app.notify(f"Sending in the background (process {proc.pid}); log: {log}")
        self._tick()

    def action_stop(self) -> None:
        st = self.sending
        if st is not None and not st.finished:
            st.stop = True
            with contextlib.suppress(ProcessLookupError):
                st.process.send_signal(signal.SIGTERM)
            self.app.notify("Stopping after the message in flight.")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "queue-dry-run":
            if event.state == WorkerState.SUCCESS and worker.result is not None:
                self._after_dry_run(*worker.result)
            elif event.state == WorkerState.ERROR and worker.error is not None:
                self.show_error(worker.error, "No summary")

    def _send_done(self, st: SendState) -> None:
        code = st.process.returncode
        tail = log_tail(st.log)
        title = "Sending stopped" if st.stop or code not in (0, 1) else "Sending done"
        self.show_message(title, tail or f"The sender ended with exit code {code}.")

    def _batch_progress(self, batch_id: str) -> tuple[int, int]:
        from store.spool import Spool

        counts = Spool(self.store.home).batch(batch_id).counts()
        total = sum(counts[s] for s in ("approved", "sending", "sent", "failed", "unknown"))
        return total - counts["approved"] - counts["sending"], total

    def _tick(self) -> None:
        """Every POLL_SECONDS: the progress of our sender, or another's, from the spool."""
        if not self.is_mounted:
            return
        line = self.query_one("#send-progress", Static)
        st = self.sending
        if st is not None:
            with contextlib.suppress(Exception):
                st.done, st.total = self._batch_progress(st.batch)
            finished = st.finished
            extra = "done" if finished else ("stopping" if st.stop else "sending")
            line.update(progress_line(st.done, st.total, time.monotonic() - st.started, extra))
            if self.view is not None and self.view.batch.id == st.batch and self._on_screen():
                self.items.load()
                self._show_info()
            if finished:
                self.sending = None
                self.reload_batches()
                self._send_done(st)
            return
        # Nobody sends from here: is another process sending?
        if not self._on_screen():
            return
        try:
            from store.spool import Spool

            other = Spool(self.store.home).sender()
        except Exception:
            other = None
        was = self._other_sender
        self._other_sender = other
        if other is not None and self.view is not None:
            done, total = self._batch_progress(self.view.batch.id)
            who = f"{other.get('user', '?')} (pid {other.get('pid', '?')})"
            line.update(f"{who} is sending: {done:,}/{total:,} of this batch done")
            self.items.load()
            self._show_info()
        elif was is not None and other is None:
            line.update("The other sender has finished.")
            self.refresh_data()


def _binding_classes() -> tuple[type, ...]:
    from screens.preview import PreviewScreen
    from screens.widgets.paged_list import PageRows

    return (PageRows, PreviewScreen)


# Widgets and screens of this area whose key bindings a key map may name.
EXTRA_BINDING_CLASSES: tuple[type, ...] = _binding_classes()
