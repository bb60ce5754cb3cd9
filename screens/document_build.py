"""The Documents pane's build (b): a batch of the documents marked or shown, in a thread
worker, with its progress read by a timer.

``DocumentBuild`` is a mixin of ``screens.documents.DocumentsPane``, which keeps the
key binding and passes the worker's end to ``build_finished``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import work
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from mailing import words
from screens.widgets.modals import ConfirmModal
from store.errors import MailroomError

if TYPE_CHECKING:
    from screens.widgets.paged_list import PagedList
    from screens.widgets.pane import Pane
    from store.records import Document

    _PaneBase = Pane
else:
    _PaneBase = object


@dataclass
class BuildState:
    done: int = 0
    total: int = 0
    started: float = 0.0


class DocumentBuild(_PaneBase):
    """b: build a batch; the progress line while it is built; the result."""

    if TYPE_CHECKING:  # what this uses of the pane (screens.documents.DocumentsPane)
        shown: list[Document]
        building: BuildState | None
        _timer: Timer | None

        @property
        def docs_list(self) -> PagedList: ...

        def reload(self) -> None: ...

        def filter_values(self) -> dict[str, Any]: ...

        def state_of(self, doc: Document) -> str: ...

    def action_build(self) -> None:
        if self.building is not None:
            self.app.notify("A batch is being built.", severity="warning")
            return
        try:
            f = self.filter_values()
        except MailroomError as exc:
            self.show_error(exc, "Check the filters")
            return
        chosen = [d for d in self.shown if d.id in self.docs_list.marked] or list(self.shown)
        if not chosen:
            self.app.notify("No documents are shown: nothing to build.", severity="warning")
            return
        admins = sorted({d.administration for d in chosen})
        if len(admins) > 1:
            self.app.notify("Choose one administration first (/).", severity="warning")
            return
        numbers = [d.number for d in chosen]
        already = sum(1 for d in chosen if self.state_of(d) in ("in a batch", "sent"))
        warn = f"\n{already} of them are already in a batch or sent." if already else ""
        question = (
            f"Build a batch of {len(chosen):,} {words.doc_type_lower(f['type'])} document(s) of {admins[0]}?{warn}\n"
            "Nothing is sent: the batch waits in the queue for approval."
        )

        # One document, one send: those sent (or printed) before go in only when asked.
        again = sum(1 for d in chosen if self.state_of(d) in ("sent", "to print"))

        def start(include_sent: bool) -> None:
            self.building = BuildState(total=len(numbers), started=time.monotonic())
            self._timer = self.set_interval(0.25, self._show_build)
            self._build(f["type"], admins[0], numbers, self.building, include_sent)

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            if not again:
                start(False)
                return
            self.app.push_screen(
                ConfirmModal(
                    f"{again} of them were sent (or printed) before.\nPut them in again? "
                    "Each is marked 'sent before' in the queue. No leaves them out.",
                    "Send again?",
                ),
                lambda include: start(bool(include)),
            )

        self.app.push_screen(ConfirmModal(question), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="documents-build")
    def _build(
        self,
        doc_type: str,
        admin: str,
        numbers: list[str],
        state: BuildState,
        include_sent: bool = False,
    ) -> Any:
        from mailing.batches import BuildProgress, build_batch

        def progress(p: BuildProgress) -> None:
            state.done, state.total = p.done, p.total

        return build_batch(
            self.store,
            self.user,
            doc_type,
            administration=admin,
            numbers=numbers,
            progress=progress,
            include_sent=include_sent,
        )

    def _show_build(self) -> None:
        from screens.queue_send import progress_line

        st = self.building
        if st is None:
            return
        if st.done == 0:
            # Before the first document is done the workers are starting: say that,
            # not a bar standing at 0.
            secs = int(time.monotonic() - st.started)
            total = f"{st.total:,} " if st.total else ""
            line = f"Building {total}document(s): starting the PDF workers… {secs} s"
        else:
            line = progress_line(st.done, st.total, time.monotonic() - st.started, "building")
        self.query_one("#doc-progress", Static).update(line)

    def build_finished(self, event: Worker.StateChanged) -> None:
        """The build worker ended: the batch's counts, and an offer to open it."""
        worker = event.worker
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.building = None
        if event.state == WorkerState.ERROR and worker.error is not None:
            self.query_one("#doc-progress", Static).update("The batch was not built.")
            self.show_error(worker.error, "The batch was not built")
            return
        batch = worker.result
        if batch is None:
            return
        self.docs_list.marked.clear()
        self.reload()
        counts = {k: v for k, v in batch.counts().items() if v}
        text = ", ".join(f"{v} {k}" for k, v in counts.items())
        left = sum(batch.info().get("left_out", {}).values())
        if left:
            text += f"; {left} left out (sent, printed or in an open batch)"
        self.query_one("#doc-progress", Static).update(f"Batch {batch.id} built: {text}")

        def answered(yes: bool | None) -> None:
            if yes:
                pane = self.mailroom_app.show_pane("queue")
                if pane is not None and hasattr(pane, "open_batch"):
                    pane.call_after_refresh(pane.open_batch, batch.id)

        self.app.push_screen(
            ConfirmModal(
                f"Batch {batch.id} is built: {text}.\nOpen it in the queue to preview "
                "and approve it?",
                "Batch built",
            ),
            answered,
        )
