"""A send started in the TUI survives the terminal closing (SIGHUP).

`python -m tui` runs in a real pseudo-terminal (its controlling terminal); the
keys F8, Enter, s, y start sending an approved batch from the Queue pane (in a
sender process of its own session); while messages flow the terminal is hung up
(SIGHUP, and the terminal's master side is closed, as when an SSH connection
drops). The app goes; the send goes on to its end. Afterwards every message is
either sent and received exactly once, or unknown (and not re-sent by itself);
none is lost in approved or sending, none is received twice.
"""

from __future__ import annotations

import collections
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from pathlib import Path

import pytest

from store.spool import Spool
from tests.conftest import PYTHON, cli_env
from tests.send_support import make_store, message_ids, spool_batch
from tests.smtp_server import SMTPTestServer

# Slow (real processes, kills, hundreds of messages): `pytest -m 'not slow'` skips it
# in the developers' quick loop; CI runs everything.
pytestmark = pytest.mark.slow

N_MESSAGES = 600
F8 = b"\x1b[19~"


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if needle in seen:
                return seen
    raise AssertionError(f"{needle!r} not seen on the terminal; got {seen[-2000:]!r}")


def _drain(fd: int, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


def test_hangup_during_send_loses_and_doubles_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with SMTPTestServer(security="none") as server:
        store = make_store(home, server.profile_fields(tmp_path))
        batch = spool_batch(store, N_MESSAGES)
        env = cli_env({"TERM": "xterm-256color", "MAILROOM_SEND_BACKOFF": "0.05"})
        pid, master = pty.fork()
        if pid == 0:  # the child: the app, with the pty as its controlling terminal
            os.execve(PYTHON, [PYTHON, "-m", "tui", "--home", str(home), "--user", "alice"], env)
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        try:
            # Each wait below guards against a hang; none is a timing claim. A busy
            # machine (CI beside another suite) makes a start take many seconds.
            _read_until(master, b"Profiles", 120)
            _drain(master, 0.5)
            os.write(master, F8)
            _read_until(master, batch.id.encode(), 60)
            _drain(master, 0.3)
            os.write(master, b"\r")  # open the batch
            _read_until(master, b"approved", 60)
            _drain(master, 0.3)
            os.write(master, b"s")
            _read_until(master, b"Send the", 60)
            _drain(master, 0.2)
            os.write(master, b"y")
            deadline = time.monotonic() + 120
            while len(server.messages) < 40:
                assert time.monotonic() < deadline, "sending did not start"
                _drain(master, 0.01)
            # The terminal goes away in the middle of the send.
            os.kill(pid, signal.SIGHUP)
            os.close(master)
            master = -1
            received_at_hangup = len(server.messages)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                done, _status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.05)
            else:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise AssertionError("the app did not end after its terminal hung up")
            # The app is gone; its sender goes on, and ends by itself.
            # The sender must end by itself; it is given time as long as it makes
            # progress (a message received), so load slows the test but cannot fail it.
            spool = Spool(home)
            seen, stalled_since = len(server.messages), time.monotonic()
            while spool.sender() is not None:
                if len(server.messages) != seen:
                    seen, stalled_since = len(server.messages), time.monotonic()
                counts = spool.batch(batch.id).counts()
                assert time.monotonic() - stalled_since < 60, (
                    f"the sender stopped making progress; spool {counts}, {seen} received"
                )
                time.sleep(0.1)
        finally:
            if master >= 0:
                os.close(master)
        assert len(server.messages) > received_at_hangup
        received = collections.Counter(message_ids(m.data) for m in server.messages)

    spool = Spool(home)
    b = spool.batch(batch.id)
    counts = b.counts()
    assert counts["approved"] == 0 and counts["sending"] == 0, counts
    assert counts["sent"] + counts["unknown"] == N_MESSAGES, counts
    assert max(received.values()) == 1, "a message was received twice"
    sent_ids = {message_ids(b.read(r.item, "email", "sent")) for r in b.items("sent")}
    assert sent_ids <= set(received), "a message marked sent never reached the server"
    assert len(received) == counts["sent"] + sum(
        1 for r in b.items("unknown") if message_ids(b.read(r.item, "email", "unknown")) in received
    )
