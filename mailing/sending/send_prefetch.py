"""Reading the sender's next message: each approved item's side-car, bytes and SHA-256.

``Prefetch`` gives the items in the sender's order, read in the sender's own
thread: a side-car and a message each take an open, one read and a close
(:func:`store.spool.layout.read_whole`, the message's size from its side-car).
It used to be a thread reading ahead; measured (docs/performance.md, issue 31),
handing each message from that thread to the sender cost more system calls
(futex wake-ups) and more CPU (the two threads taking turns at the interpreter
lock) than the reads it overlapped with the wait for the server. It only reads
— the claim, the check against the approval and every change of state stay with
the sender, which compares the SHA-256 of the very bytes it will send.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from store.spool import Batch, ItemRef, sha256_bytes


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
    """Iterate over the prepared items, in order; ``close`` ends it early."""

    def __init__(self, batch: Batch, refs: Sequence[ItemRef]) -> None:
        self._batch = batch
        self._refs = refs
        self._closed = False

    def _read(self, item: str) -> Ahead:
        try:
            meta = self._batch.meta(item)
        except Exception as exc:  # handed to the sender, raised there
            return Ahead(item, {}, None, "", exc)
        size = meta.get("size")
        try:
            raw = self._batch.read(item, "email", "approved", size if isinstance(size, int) else 0)
        except FileNotFoundError:
            return Ahead(item, meta, None, "")  # moved meanwhile (held, cancelled)
        return Ahead(item, meta, raw, sha256_bytes(raw))

    def __iter__(self) -> Iterator[Ahead]:
        for ref in self._refs:
            if self._closed:
                return
            yield self._read(ref.item)

    def close(self) -> None:
        self._closed = True
