"""Waiting for another Mailroom process: a file lock held, or one clear error.

The configuration database, the documents' folder and the index of sends each take
a ``filelock.FileLock`` with a timeout; when another process holds it for longer,
the same sentence says what is locked and what to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from filelock import FileLock, Timeout

from store.errors import StoreError


@contextlib.contextmanager
def hold(lock: FileLock, subject: str, seconds: float, *, field: str, value: str) -> Iterator[None]:
    """Hold ``lock``; ``subject`` is e.g. "The database /x/mailroom.json is"."""
    try:
        with lock:
            yield
    except Timeout:
        raise StoreError(
            f"{subject} locked by another Mailroom process for over {seconds:.0f} s.",
            field=field,
            value=value,
            fix="wait for the other process to finish, or check for a hung `mailroom` process.",
        ) from None
