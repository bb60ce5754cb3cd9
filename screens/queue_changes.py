"""Changing the items of a batch from the Queue pane, each through ``mailing.changes``.

Approve (after a dry-run summary of what approving leads to), hold, cancel,
re-send and mark sent: all move items with ``mailing.changes.change_items``, the
same door as the command line.

``QueueChanges`` is a mixin of ``screens.queue.QueuePane``: the pane keeps the
key bindings (Textual merges ``BINDINGS`` only from widget classes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.worker import Worker, WorkerState

from mailing import words
from screens.widgets.modals import ConfirmModal
from screens.widgets.spool_dry_run import DryRun, dry_run
from store.errors import MailroomError

if TYPE_CHECKING:
    from screens.widgets.paged_list import PagedList
    from screens.widgets.pane import Pane
    from screens.widgets.spool_view import BatchView

    _PaneBase = Pane
else:
    _PaneBase = object


_QUESTIONS = {
    "hold": "Hold {items}? They are not sent until released (u).",
    "release": "Release {items}? They are approved again and go out with the next send.",
    "cancel": "Cancel {items}? They will not be sent.",
    "resend": "Send {messages} again with the same Message-ID? Only do this when "
    "you know they did not arrive.",
    "mark_sent": "Mark {unknown} as sent? Only when you know they arrived.",
}


class QueueChanges(_PaneBase):
    """Summary (d), approve (a), hold (h), cancel (x), re-send (r) and mark sent (k)."""

    if TYPE_CHECKING:  # what this uses of the pane (screens.queue.QueuePane)
        view: BatchView | None

        @property
        def items(self) -> PagedList: ...

        def reload_batches(self) -> None: ...

        def _show_info(self) -> None: ...

        def _need_batch(self) -> BatchView | None: ...

        def where_text(self, counts: dict[str, int]) -> str: ...

    def action_summary(self) -> None:
        if self._need_batch() is not None:
            self._dry_run(None, approve=False)

    def action_approve(self) -> None:
        if self._need_batch() is None:
            return
        marked = sorted(self.items.marked) or None
        self._dry_run(marked, approve=True)

    @work(thread=True, exclusive=True, group="queue-dry-run")
    def _dry_run(
        self, items: list[str] | None, approve: bool
    ) -> tuple[DryRun, list[str] | None, bool]:
        assert self.view is not None
        return dry_run(self.view, items), items, approve

    def _after_dry_run(self, summary: DryRun, items: list[str] | None, approve: bool) -> None:
        text = summary.text()
        if summary.mailed:
            text += "\nGoes out: " + self.where_text(summary.profiles) + "."
        if not approve:
            self.show_message("Dry-run summary", text)
            return
        if summary.mailed == 0:
            self.show_message("Nothing to approve", text + "\n\nNo draft messages are chosen.")
            return
        what = (
            f"the {words.count(summary.mailed, 'marked draft message')}"
            if items
            else "every draft message"
        )
        view = self.view
        assert view is not None

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            from mailing.changes import change_items

            # The drafts the dry run counted, no more: its count is the approval's.
            chosen = summary.drafts if items else None
            try:
                moved, skipped = change_items(
                    self.store, self.user, view.batch.id, "approve", chosen
                )
            except MailroomError as exc:
                self.show_error(exc, "Not approved")
                return
            self.items.marked.clear()
            self._after_change(f"Approved {words.count(len(moved), 'message')}", skipped)

        self.app.push_screen(
            ConfirmModal(f"{text}\n\nApprove {what}?", "Dry run: what approving leads to"),
            answered,
        )

    def _after_change(self, done: str, skipped: list[tuple[str, str]]) -> None:
        if skipped:
            lines = [f"{done}; {len(skipped):,} not:"]
            # A document's number, not the spool's item name (``<seq>-<number>``).
            lines += [f"  {item.split('-', 1)[-1]}: {why}" for item, why in skipped[:10]]
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
        except MailroomError as exc:
            self.show_error(exc, f"Not {done}")
            return
        self.items.marked.clear()
        self._after_change(f"{done.capitalize()}: {words.count(len(moved), 'item')}", skipped)

    def action_hold(self) -> None:
        self._ask_then_move("hold")

    def action_release(self) -> None:
        self._ask_then_move("release")

    def action_cancel(self) -> None:
        self._ask_then_move("cancel")

    def action_resend(self) -> None:
        self._ask_then_move("resend")

    def action_mark_sent(self) -> None:
        self._ask_then_move("mark_sent")

    def _ask_then_move(self, action: str) -> None:
        """Ask first (cancel, resend and mark sent cannot be taken back), then change."""
        view = self._need_batch()
        if view is None:
            return
        keys = self.items.chosen_keys()
        if not keys:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._move(action)

        n = len(keys)
        question = _QUESTIONS[action].format(
            items=words.count(n, "item"),
            messages=words.count(n, "message"),
            unknown=words.count(n, "unknown message"),
        )
        self.app.push_screen(ConfirmModal(question), answered)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "queue-dry-run":
            if event.state == WorkerState.SUCCESS and worker.result is not None:
                self._after_dry_run(*worker.result)
            elif event.state == WorkerState.ERROR and worker.error is not None:
                self.show_error(worker.error, "No summary")
