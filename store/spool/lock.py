"""The one sender: an ``flock`` on ``spool/.sender.lock``, and ``sender.json`` saying who.

Only one process sends from a data folder at a time, so that nothing is sent
twice; a second one is told who holds the lock (user, process, host, since when).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from store.permissions import file_mode
from store.spool.errors import SenderBusyError
from store.spool.layout import json_bytes, now_iso, write_new_file

SENDER_LOCK = ".sender.lock"
SENDER_FILE = "sender.json"
SENDER_LOCK_WAIT_SECONDS = 1.0


def who_is_sending(root: Path) -> dict[str, Any] | None:
    """Who is sending now from the spool ``root``, if anyone (read without the lock)."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(root / SENDER_LOCK), mode=file_mode(root))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        try:
            data: dict[str, Any] = json.loads((root / SENDER_FILE).read_bytes())
            return data
        except (FileNotFoundError, ValueError):
            return {"user": "?", "pid": 0, "host": "?", "since": ""}
    lock.release()
    return None


@contextlib.contextmanager
def hold_sender_lock(root: Path, user: str) -> Iterator[None]:
    """Hold the one-sender lock of the spool ``root``, or say who holds it."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(root / SENDER_LOCK), mode=file_mode(root))
    try:
        # Not 0: a process asking "who is sending?" (Spool.sender, e.g. a TUI's
        # queue pane polling) holds the lock for an instant; that is no sender.
        lock.acquire(timeout=SENDER_LOCK_WAIT_SECONDS)
    except Timeout:
        who: dict[str, Any] = {}
        with contextlib.suppress(FileNotFoundError, ValueError):
            who = json.loads((root / SENDER_FILE).read_bytes())
        raise SenderBusyError(
            f"Another sender is already running for this data folder: user "
            f"{who.get('user', '?')}, process {who.get('pid', '?')} on "
            f"{who.get('host', '?')}, since {who.get('since', '?')}.",
            field="sender",
            value=who.get("user", "?"),
            fix="wait until it is done, or stop that process; "
            "only one process sends at a time so that nothing is sent twice.",
        ) from None
    try:
        write_new_file(
            root / SENDER_FILE,
            json_bytes(
                {
                    "user": user,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "since": now_iso(),
                }
            ),
        )
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(root / SENDER_FILE)
        lock.release()
