"""Sending from the Queue pane: a detached sender process, its progress polled from the spool.

Sending runs in a separate ``mailroom send`` process in its own session, its
output in ``spool/<batch>/send.log``: when the terminal closes (SIGHUP over a
dropped SSH connection) or the app is quit, the send goes on to its end and the
engine's crash rules hold; nothing is lost or sent twice. Stop asks that process
(SIGTERM) to stop after the message in flight. The pane follows any sender, ours
or another admin's, the same way: by polling the spool.

``QueueSending`` is a mixin of ``screens.queue.QueuePane``: the pane keeps the
key bindings (Textual merges ``BINDINGS`` only from widget classes) and the
state this uses (``sending``, ``_other_sender``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.widgets import Static

from mailing import words
from screens.widgets.modals import ConfirmModal
from store.errors import MailroomError

if TYPE_CHECKING:
    from screens.widgets.paged_list import PagedList
    from screens.widgets.pane import Pane
    from screens.widgets.spool_view import BatchView

    _PaneBase = Pane
else:
    _PaneBase = object

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
    all_done_at: float | None = None  # when the last message was handed over
    samples: list[tuple[float, int]] = field(default_factory=list)  # (time, done)
    where: str = ""  # where the mail goes, in words

    @property
    def finished(self) -> bool:
        return self.process.poll() is not None


def start_sender(home: Path, user: str, batch_id: str) -> tuple[subprocess.Popen[bytes], Path]:
    """``mailroom send BATCH`` in its own session, so a hang-up of our terminal spares it."""
    log = home / "spool" / batch_id / "send.log"
    from mailing.changes.secrets import hand_down_secrets

    cmd = [sys.executable, "-m", "tui", "--home", str(home), "--user", user, "send", batch_id]
    env, fds, after_start = hand_down_secrets()  # an unlocked secrets file: its key, by pipe
    try:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
                pass_fds=fds,
                env={**os.environ, **env},
            )
    finally:
        after_start()
    return proc, log


def log_tail(log: Path, lines: int = 12) -> str:
    try:
        text = log.read_text("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def progress_line(
    done: int,
    total: int,
    elapsed: float,
    extra: str = "",
    width: int = 24,
    rate: float | None = None,
) -> str:
    """``[#####.....] 120/400  35.2 msg/s  0:08 left``: text only, nothing animates.

    ``rate``: messages a second lately (a rate-limited profile sends a first burst
    and then slowly: the time left follows the recent rate, not the average).
    """
    filled = int(width * done / total) if total else 0
    bar = "#" * filled + "." * (width - filled)
    if rate is None:
        rate = done / elapsed if elapsed > 0 else 0.0
    left = ""
    if rate > 0 and total > done:
        secs = int((total - done) / rate)
        left = f"  {secs // 60}:{secs % 60:02d} left"
    shown = f"{rate:.1f} msg/s" if rate >= 1 or rate == 0 else f"{rate * 60:.1f} msg/min"
    return f"[{bar}] {done:,}/{total:,}  {shown}{left}" + (f"  {extra}" if extra else "")


RATE_WINDOW = 60.0  # seconds of progress the recent rate is taken over


def recent_rate(st: SendState, now: float) -> float | None:
    """Messages a second over the last RATE_WINDOW seconds (None: too early to say)."""
    if st.all_done_at is not None:
        return None  # finished: the average over the whole send
    st.samples.append((now, st.done))
    while len(st.samples) > 2 and now - st.samples[1][0] > RATE_WINDOW:
        st.samples.pop(0)
    t0, d0 = st.samples[0]
    if now - t0 < 2 * POLL_SECONDS:
        return None
    return (st.done - d0) / (now - t0)


class QueueSending(_PaneBase):
    """Send (s), stop (t) and the progress line of the Queue pane."""

    sending: SendState | None
    _other_sender: dict[str, Any] | None

    if TYPE_CHECKING:  # what this uses of the pane (screens.queue.QueuePane)
        view: BatchView | None

        @property
        def items(self) -> PagedList: ...

        def reload_batches(self) -> None: ...

        def _show_info(self) -> None: ...

        def _need_batch(self) -> BatchView | None: ...

        def _on_screen(self) -> bool: ...

        def where_text(self, counts: dict[str, int]) -> str: ...

    def quit_note(self) -> str | None:
        """What quitting now means for a send this pane started (the app asks first)."""
        st = self.sending
        if st is None or st.finished:
            return None
        return (
            f"A send is running (batch {st.batch}, process {st.process.pid}). It goes on "
            "in the background after you quit, to its end; the Queue shows its progress "
            "when you come back. To stop it, press t in the Queue before quitting."
        )

    def _running_send(self) -> str | None:
        """Who is sending now, in words (this pane's sender or any other), or None."""
        st = self.sending
        if st is not None and not st.finished:
            return f"batch {st.batch} is being sent from here (process {st.process.pid})"
        try:
            from store.spool import Spool

            other = Spool(self.store.home).sender()
        except (MailroomError, OSError):  # the spool unreadable: nobody known to send
            other = None
        if other:
            return (
                f"{other.get('user', '?')} is sending (process {other.get('pid', '?')} "
                f"on {other.get('host', '?')})"
            )
        return None

    def action_send(self) -> None:
        view = self._need_batch()
        if view is None:
            return
        running = self._running_send()
        if running:
            self.show_message(
                "A send is already running",
                f"Not started: {running}. One send at a time; it goes on. "
                "Press s again when it has finished.",
            )
            return
        approved = len(view.names("approved"))
        if not approved:
            self.app.notify("Nothing is approved in this batch: approve first (a).")
            return
        where = self.where_text(view.profile_counts(["approved"]))

        def answered(yes: bool | None) -> None:
            if yes:
                from screens.widgets.passphrase import with_secrets

                # The sender needs the profiles' passwords: a locked secrets file first.
                with_secrets(
                    self.app,
                    lambda: self._start_send(view.batch.id, approved, where),
                    create=False,
                )

        self.app.push_screen(
            ConfirmModal(
                f"Send the {words.count(approved, 'approved message')} of batch {view.batch.id}?\n"
                f"Goes out: {where}."
            ),
            answered,
        )

    def _start_send(self, batch_id: str, total: int, where: str = "") -> None:
        proc, log = start_sender(self.store.home, self.user, batch_id)
        self.sending = SendState(batch_id, proc, log, total=total, where=where)
        self.app.notify(f"Sending in the background (process {proc.pid}); log: {log}")
        self._tick()

    def action_stop(self) -> None:
        st = self.sending
        if st is not None and not st.finished:
            st.stop = True
            with contextlib.suppress(ProcessLookupError):
                st.process.send_signal(signal.SIGTERM)
            self.app.notify("Stopping after the message in flight.")

    def _send_done(self, st: SendState) -> None:
        code = st.process.returncode
        tail = log_tail(st.log)
        title = "Sending stopped" if st.stop or code not in (0, 1) else "Sending done"
        text = tail or f"The sender ended with exit code {code}."
        if st.where:
            text = f"Mail went: {st.where}.\n\n{text}"
        self.show_message(title, text)

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
            with contextlib.suppress(MailroomError, OSError):  # read again next tick
                st.done, st.total = self._batch_progress(st.batch)
            finished = st.finished
            now = time.monotonic()
            if st.total and st.done >= st.total and st.all_done_at is None:
                st.all_done_at = now  # every message handed over: the rate stops here
            if finished or st.all_done_at is not None:
                extra = "done" if finished else "all handed over; finishing"
            else:
                extra = "stopping" if st.stop else "sending"
            elapsed = (st.all_done_at or now) - st.started
            line.update(progress_line(st.done, st.total, elapsed, extra, rate=recent_rate(st, now)))
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
        except (MailroomError, OSError):  # the spool unreadable: nobody known to send
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
