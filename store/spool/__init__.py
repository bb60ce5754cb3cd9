"""The spool: batches of rendered messages, their state kept as the folder they are in.

Layout of the data folder's ``spool/``::

    spool/
      .sender.lock            flock held by the one sending process
      sender.json             who holds it (user, pid, host, since)
      <batch-id>/
        batch.json            written at build, rewritten at each approval (never per message)
        events.jsonl          append-only, fsynced: every state change and send attempt
        meta/                 the side-cars (document, trace, envelope, ...), written at build:
          pack-<first>-<last>.jsonl   those of a chunk of items (sequence numbers first to
                              last), one line each (``sidecars``)
          <item>.json         one item's own: a batch built before packs has one per
                              item; a side-car written again later wins over its pack
        draft/ approved/ held/ sending/ sent/ failed/ unknown/ print/ cancelled/
                              each holds the items in that state: ``<item>.eml`` for a
                              message, ``<item>.pdf`` for a document to print,
                              ``<item>.err`` for a document that could not be built

The status of an item is the folder its file is in; a change of status is one
``os.rename`` (O(1), atomic, and a natural claim: of two processes renaming the
same file, one wins). Nothing is rewritten per message, so a state change in a
batch of 10,000 costs what it costs in a batch of 100 (``benchmarks/send.py``).
Which changes are allowed is one table, :data:`TRANSITIONS`; every change goes
by :meth:`Batch.advance` (one item: check, rename, event, fsync) or
:meth:`Batch.transition` (many, one sync).

A file left in ``sending/`` was in flight when a sender died: :meth:`Batch.recover`
moves it to ``unknown/``; it is never sent again without an admin's say.

The modules:

- ``states``   the states (values = folder names) and the table of allowed moves
- ``layout``   the batch folder: ``batch.json``, item files, the bare rename
- ``sidecars`` the side-cars in ``meta/``: packed per chunk, or one file per item
- ``files``    a new file by temporary name + rename, a whole file by descriptor, JSON
- ``events``   ``events.jsonl``: append, fsync, read
- ``batch``    ``Batch`` (``advance``, ``transition``, sync) and ``Spool`` (the batches)
- ``approval`` approvals and the SHA-256 of each approved message
- ``recovery`` at start: ``sending/`` -> ``unknown/`` (or back to ``approved/``)
- ``lock``     the one-sender lock and ``sender.json``
- ``errors``   the spool's errors

Import from ``store.spool``; the names below are its interface.
"""

from __future__ import annotations

from store.spool.approval import sha256_bytes
from store.spool.batch import Batch, Spool
from store.spool.errors import DAMAGED_FIX, DamagedBatchError, SenderBusyError, SpoolError
from store.spool.events import EVENTS_FILE, EVENTS_SYNC_EVERY
from store.spool.layout import (
    BATCH_FILE,
    COUNTS_FILE,
    EXT_BY_KIND,
    HEAD_FILE,
    KINDS,
    META_DIR,
    PRINT_PDF,
    ItemRef,
    batch_info_damage,
    now_iso,
    parse_batch_info,
    write_new_file,
)
from store.spool.lock import SENDER_FILE, SENDER_LOCK, SENDER_LOCK_WAIT_SECONDS
from store.spool.recovery import boot_id
from store.spool.states import STATES, TRANSITIONS, State, TransitionError, allowed

__all__ = [
    "BATCH_FILE",
    "COUNTS_FILE",
    "HEAD_FILE",
    "DAMAGED_FIX",
    "EVENTS_FILE",
    "EVENTS_SYNC_EVERY",
    "EXT_BY_KIND",
    "KINDS",
    "META_DIR",
    "PRINT_PDF",
    "SENDER_FILE",
    "SENDER_LOCK",
    "SENDER_LOCK_WAIT_SECONDS",
    "STATES",
    "TRANSITIONS",
    "Batch",
    "DamagedBatchError",
    "ItemRef",
    "SenderBusyError",
    "Spool",
    "SpoolError",
    "State",
    "TransitionError",
    "allowed",
    "batch_info_damage",
    "boot_id",
    "now_iso",
    "parse_batch_info",
    "sha256_bytes",
    "write_new_file",
]
