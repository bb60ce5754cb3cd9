"""A batch's event log, ``events.jsonl``: append-only, one JSON object a line.

Every change of state and every send attempt is a line ``{"at": ..., "item": ...,
"event": ..., "state": ..., ...}``. Lines are appended with ``O_APPEND`` and fsynced
by the caller's ``sync`` (at least every :data:`EVENTS_SYNC_EVERY` lines). A line
cut short by a crash, or damaged, is skipped when read; the others still count.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from store.permissions import open_new
from store.spool.layout import json_bytes, now_iso

EVENTS_FILE = "events.jsonl"
# Events are fsynced at least this often (in events) when many are written in a row;
# every caller can force one with Batch.sync().
EVENTS_SYNC_EVERY = 512


class EventLog:
    """The open end of one batch's ``events.jsonl`` (opened at the first append)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self.unsynced = 0

    def append(self, event: dict[str, Any]) -> dict[str, Any]:
        """Write one event, stamped with the time; not fsynced (see :meth:`fsync`).
        Returns the event as written."""
        stamped = {"at": now_iso(), **event}
        line = json_bytes(stamped) + b"\n"
        if self._fd is None:
            self._fd = open_new(self.path, os.O_WRONLY | os.O_APPEND)
        os.write(self._fd, line)
        self.unsynced += 1
        return stamped

    def fsync(self) -> None:
        if self._fd is not None and self.unsynced:
            os.fsync(self._fd)
            self.unsynced = 0

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def close(self) -> None:
        if self._fd is not None:
            self.fsync()
            os.close(self._fd)
            self._fd = None


def read_events(path: Path, containing: bytes = b"") -> Iterator[dict[str, Any]]:
    """Every whole, readable event of the log, oldest first (only the lines holding
    ``containing``, when given: the others are not parsed)."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return
    with fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break  # a line cut by a crash: ignore it
            if containing and containing not in line:
                continue
            try:
                event = json.loads(line)
            except (ValueError, RecursionError):
                continue  # a damaged line: the others still count
            if isinstance(event, dict):
                yield event


def last_event_per_item(events: Iterator[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per item, its last event (one pass over the log). Notes (``"note": true``: a
    delay report on a sent item) are remarks, not a step of the item: left out."""
    out: dict[str, dict[str, Any]] = {}
    for ev in events:
        item = ev.get("item")
        if isinstance(item, str) and not ev.get("note"):
            out[item] = ev
    return out
