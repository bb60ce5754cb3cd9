"""Two views of the Tools pane: the doctor's checklist (d) and the audit log (g).

The checklist is ``mailing.checks.doctor`` run in a thread (a profile's login can take a
few seconds), each line shown as it comes; the audit log shows the newest entries
first. Both close with Esc or Enter.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from mailing import words


class DoctorModal(ModalScreen[None]):
    """The installation's checklist: OK, or what is wrong and the command that fixes it."""

    BINDINGS = [
        Binding("escape,enter", "close", "Close", id="modal.close", tooltip="Close this"),
    ]

    def __init__(self, store: Any) -> None:
        super().__init__()
        self.store = store
        self.lines: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box checks-box"):
            yield Label(
                "Doctor: is this installation ready to send? Checking...",
                classes="modal-title",
                id="doctor-title",
            )
            with VerticalScroll():
                yield Static("Checking...", id="doctor-text", markup=False)
            yield Label("Enter or Esc: close", classes="modal-keys")

    def on_mount(self) -> None:
        self.run_checks()

    def _show(self, line: str | None) -> None:
        if not self.is_mounted:
            return
        if line is not None:
            self.lines.append(line)
            self.query_one("#doctor-text", Static).update("\n".join(self.lines))
            return
        # Done: what to fix first, then what is OK; the summary in the title.
        bad = [ln for ln in self.lines if ln.startswith("FIX")]
        good = [ln for ln in self.lines if not ln.startswith("FIX")]
        self.query_one("#doctor-text", Static).update("\n".join(bad + good))
        self.query_one("#doctor-title", Label).update(
            "Doctor: everything is ready."
            if not bad
            else f"Doctor: {words.count(len(bad), 'thing')} to fix (each with its command after ->)."
        )

    @work(thread=True, exclusive=True, group="doctor")
    def run_checks(self) -> None:
        from mailing.checks.doctor import run_checks

        for check in run_checks(self.store):
            self.app.call_from_thread(self._show, check.line())
        self.app.call_from_thread(self._show, None)

    def action_close(self) -> None:
        self.dismiss(None)


class AuditModal(ModalScreen[None]):
    """The audit log, newest first: when, who, what."""

    BINDINGS = [
        Binding("escape,enter", "close", "Close", id="modal.close", tooltip="Close this"),
    ]

    def __init__(self, store: Any, limit: int = 500) -> None:
        super().__init__()
        self.store = store
        self.limit = limit

    def compose(self) -> ComposeResult:
        from mailing.changes.audit import entries

        found = list(entries(self.store.home))
        lines = [e.line() for e in reversed(found[-self.limit :])]
        text = "\n".join(lines) if lines else "Nothing in the audit log yet."
        with Vertical(classes="modal-box checks-box"):
            yield Label(
                f"Audit log: {len(found)} change(s), newest first (`mailroom audit --json` "
                "shows before and after)",
                classes="modal-title",
            )
            with VerticalScroll():
                yield Static(text, id="audit-text", markup=False)
            yield Label("Enter or Esc: close", classes="modal-keys")

    def action_close(self) -> None:
        self.dismiss(None)
