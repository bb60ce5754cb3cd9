"""The TUI's one failure handler: every action, message handler and worker ends here.

An error meant for the user (``MailroomError``) is shown as its message. Anything
else is a bug: it is written to a crash report, told in the dialog "That action
stopped … Mailroom goes on", and the app keeps running. Only when going on is not
possible (the failure dialog itself fails, or failures come faster than anyone can
read them) does the app end: exit code 70 and the sentence on the terminal, never 0.

Textual ends a widget's message loop on its first unhandled error (the widget, or the
whole app when it is the app's own loop, then takes no more keys) and then calls
``App._handle_exception``. ``install`` wraps the dispatch of one message so that an
error is handed to the boundary and the loop goes on with the next message (the
wrapping, and the mends of Textual's own failures, are in screens/textual_adapter.py).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message_pump import MessagePump
from textual.worker import WorkerFailed

from screens.textual_adapter import (
    guard_message_dispatch,
    mend_option_list_page_keys,
    mend_palette_closing,
    mend_second_dismiss,
)

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

FATAL_EXIT = 70  # EX_SOFTWARE, as the command line's boundary
BURST = 5  # this many failures ...
BURST_SECONDS = 3.0  # ... within this time: not an action that failed but a broken app

_installed = False


def install() -> None:
    """Wrap Textual's dispatch of one message, once per process (apps without a
    boundary are left to Textual's own handling)."""
    global _installed
    if _installed:
        return
    _installed = True

    def failed(pump: MessagePump, error: Exception) -> bool:
        boundary = _boundary_of(pump)
        if boundary is None:
            return False
        boundary.failed(error)
        return True

    guard_message_dispatch(failed)
    mend_option_list_page_keys()
    mend_second_dismiss()
    mend_palette_closing()


def _boundary_of(pump: MessagePump) -> FailureBoundary | None:
    try:
        app = pump.app
    except Exception:  # no active app (a pump outside any app): Textual's own handling
        return None
    boundary = getattr(app, "failure_boundary", None)
    return boundary if isinstance(boundary, FailureBoundary) else None


class FailureBoundary:
    """What the app does with an error nobody handled."""

    def __init__(self, app: App[Any], home: Path | None) -> None:
        self.app = app
        self.home = home
        self.fatal_sentence: str | None = None
        self.reports: list[Path] = []
        self._recent: list[float] = []
        self._showing = False
        self._dialog: Screen[Any] | None = None

    def failed(self, error: BaseException) -> None:
        if isinstance(error, WorkerFailed):  # a worker's error: the error itself
            error = error.error
        from store.errors import MailroomError

        if isinstance(error, MailroomError):  # meant for the user: its message
            show = getattr(self.app, "show_error", None)
            if show is not None:
                try:
                    show(error)
                    return
                except Exception as again:
                    error = again
        from mailing.crash import crash_sentence, write_crash_report

        report = write_crash_report(self.home, error, "the TUI")
        if report is not None:
            self.reports.append(report)
        if self.fatal_sentence is not None:
            return  # already ending
        now = time.monotonic()
        self._recent = [t for t in self._recent if now - t < BURST_SECONDS] + [now]
        if self._showing or len(self._recent) >= BURST:
            self.end(error, report)
            return
        from screens.widgets.modals import MessageModal

        if self._dialog is not None and self._dialog in self.app.screen_stack:
            # One failure often brings others (a pane that failed to build, then its
            # timer): each has its report; the dialog already open says the app goes on.
            return
        self._showing = True
        try:
            self._dialog = MessageModal(
                "Something went wrong",
                crash_sentence(error, report, goes_on=True) + " Mailroom goes on.",
                error=True,
            )
            self.app.push_screen(self._dialog)
        except Exception as again:
            self.end(again, report)
        finally:
            self._showing = False

    def end(self, error: BaseException, report: Path | None) -> None:
        """Going on is not possible: end the app with the sentence and exit code 70."""
        from mailing.crash import crash_sentence

        self.fatal_sentence = crash_sentence(error, report)
        self.app.exit(FATAL_EXIT)
