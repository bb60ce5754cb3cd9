"""Reading ahead of the sender: each approved message's side-car, bytes and SHA-256.

A thread beside the send (``Prefetch``) reads the items the sender will take next,
in its order, while the sender waits for the server: reading a file and hashing it
let the other thread run. It only reads — the claim, the check against the
approval and every change of state stay with the sender, which hashes nothing
itself: it compares the SHA-256 of the very bytes it will send. At most ``AHEAD``
messages are held in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from store.spool import Batch, ItemRef, sha256_bytes

AHEAD = 256  # messages read ahead at most (~30 MB of invoices)


@dataclass
class Ahead:
    """One item as read: its side-car and bytes (None: gone meanwhile), their SHA-256.

    ``error``: reading the side-car failed (damaged, or no such item): raised when
    the sender comes to it, as if it had read it itself.
    """

    item: str
    meta: dict[str, Any]
    raw: bytes | None
    sha256: str
    error: Exception | None = None


class Prefetch:
    """Iterate over the prepared items, in order; ``close`` ends the thread early."""

    def __init__(self, batch: Batch, refs: Sequence[ItemRef]) -> None:
        self._batch = batch
        self._refs = refs
        self._queue: queue.Queue[Ahead | None] = queue.Queue(AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for ref in self._refs:
                if self._stop.is_set():
                    return
                self._put(self._read(ref.item))
        finally:
            self._put(None)

    def _read(self, item: str) -> Ahead:
        try:
            meta = self._batch.meta(item)
        except Exception as exc:  # handed to the sender, raised there
            return Ahead(item, {}, None, "", exc)
        try:
            raw = self._batch.read(item, "email", "approved")
        except FileNotFoundError:
            return Ahead(item, meta, None, "")  # moved meanwhile (held, cancelled)
        return Ahead(item, meta, raw, sha256_bytes(raw))

    def _put(self, entry: Ahead | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[Ahead]:
        while (entry := self._queue.get()) is not None:
            yield entry

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
