"""``Batch``: a batch folder whose items change state only by the table, and ``Spool``.

A change of state is one step, :meth:`Batch.advance`: check the move against
:data:`store.spool.states.TRANSITIONS`, rename the item's file into the new state's
folder, append the event, and (``durable``) fsync. Many items at once go through
:meth:`Batch.transition` (or the approval, or the recovery at start), with one
sync at the end; the sender claims a chunk of messages and syncs once before a
byte goes out (``mailing.sending.engine``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from store.db import fsync_dir
from store.errors import NotFoundError
from store.permissions import make_dir, make_dirs
from store.spool import approval, lock, recovery
from store.spool.errors import SpoolError
from store.spool.events import (
    EVENTS_FILE,
    EVENTS_SYNC_EVERY,
    EventLog,
    last_event_per_item,
    read_events,
)
from store.spool.layout import META_DIR, BatchFolder
from store.spool.states import STATES, check_transition, state_of


class Batch(BatchFolder):
    """One batch folder. Cheap to create: reads nothing until asked."""

    def __init__(self, spool: Spool, batch_id: str) -> None:
        super().__init__(spool.root, batch_id)
        self.spool = spool
        self._log = EventLog(self.path / EVENTS_FILE)
        self.last_event: dict[str, Any] = {}  # the event the last advance() wrote

    # ------------------------------------------------------------ events

    def log(self, event: dict[str, Any], *, sync: bool = False) -> dict[str, Any]:
        """Append one event; fsynced now if ``sync``, else within EVENTS_SYNC_EVERY events.

        For events that change no state (a send attempt, a retry, the build); a
        change of state is :meth:`advance`. Returns the event as written (with its time).
        """
        written = self._log.append(event)
        if sync or self._log.unsynced >= EVENTS_SYNC_EVERY:
            self.sync()
        return written

    def sync(self) -> None:
        """Make the events and the recent renames durable: the log, then the folders.

        The folders fsynced are those this object renamed items into since the
        last sync (during a send: ``sending/`` and ``sent/``), not all nine.
        """
        self._log.fsync()
        renamed, self._renamed_into = self._renamed_into, set()
        for state in sorted(renamed):
            with contextlib.suppress(FileNotFoundError):
                fsync_dir(self.path / state)

    def settle(self, *states: str) -> None:
        """End of a run of changes: fsync these state folders, then :meth:`sync`."""
        for state in states:
            self.fsync_state(state)
        self.sync()

    def close(self) -> None:
        if self._log.is_open:
            self.sync()
            self._log.close()

    def events(self, containing: bytes = b"") -> Iterator[dict[str, Any]]:
        """The events of the log (only the lines holding ``containing``, when given)."""
        return read_events(self.path / EVENTS_FILE, containing)

    def last_events(self) -> dict[str, dict[str, Any]]:
        """Per item, its last event (one pass over the log)."""
        return last_event_per_item(self.events())

    # ------------------------------------------------------------ changes of state

    def advance(
        self,
        item: str,
        from_state: str,
        to_state: str,
        event: dict[str, Any],
        *,
        durable: bool = True,
        kind: str = "email",
        event_first: bool = False,
    ) -> bool:
        """Move one item from ``from_state`` to ``to_state`` as one step.

        A move the table does not allow is refused (``TransitionError`` naming the
        item and both states) before anything is touched. Else: the rename; when
        ``durable``, the fsync of the new state's folder; the event
        (``{"item", "event", "state": to_state, ...}``, ``event`` must name the
        event); when ``durable``, the fsync of the log (and of any other folder
        renamed into since the last sync). So a durable event never tells of a
        move the folders may lose. Not ``durable``: the caller syncs later, once
        for many (the claims of a chunk, a bulk change).

        False, with nothing written, when the item is not in ``from_state``
        (another process moved it first: of two renames of one file, one wins).

        ``event_first``: the event is written before the rename (for a move only
        this process can make, such as the sender's outcome of an item it holds in
        ``sending/``): a kill between the two leaves the item where it was with its
        event as its last one, which :func:`store.spool.recovery.recover` completes.
        The written event is kept in :attr:`last_event`.
        """
        src, dst = check_transition(self.id, item, from_state, to_state)
        rest = {k: v for k, v in event.items() if k not in ("item", "event", "state")}
        line = {"item": item, "event": event["event"], "state": dst.value, **rest}
        if event_first:
            self.last_event = self.log(line)
            if not self.move(item, kind, src, dst):
                return False
            if durable:
                self.fsync_state(dst)
                self.sync()
            return True
        if not self.move(item, kind, src, dst):
            return False
        if durable:
            self.fsync_state(dst)
        self.last_event = self.log(line, sync=durable)
        return True

    def transition(
        self,
        items: Iterable[str] | None,
        sources: tuple[str, ...],
        dst: str,
        event: str,
        user: str,
        *,
        kinds: tuple[str, ...] = ("email",),
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """Move items (all in ``sources`` if None) to ``dst``; return (moved, [(item, why not)]).

        Each move goes by :meth:`advance`, with one sync for them all at the end. A
        source the table does not let go to ``dst`` is refused before anything moves.
        """
        target = state_of(dst)
        for src in sources:
            check_transition(self.id, None, src, target)
        moved: list[str] = []
        skipped: list[tuple[str, str]] = []
        if items is None:
            refs = [r for s in sources for r in self.items(s) if r.kind in kinds]
        else:
            refs = []
            for name in items:
                ref = self.locate(self.find_item(name))
                if ref.state not in sources or ref.kind not in kinds:
                    why = f"is {ref.state}" if ref.kind in kinds else f"is a {ref.kind} item"
                    skipped.append((ref.item, why))
                else:
                    refs.append(ref)
        change = {"event": event, "by": user}
        for ref in refs:
            if self.advance(ref.item, ref.state, target, change, durable=False, kind=ref.kind):
                moved.append(ref.item)
            else:
                skipped.append((ref.item, "changed state meanwhile"))
        self.settle(target)
        return moved, skipped

    def approve(
        self, items: Iterable[str] | None, user: str
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """Approve draft (or held) messages: record who, when and each message's SHA-256."""
        return approval.approve(self, items, user)

    def approved_hashes(self) -> dict[str, dict[str, str]]:
        """item -> {sha256, by, at} of its latest approval."""
        return approval.approved_hashes(self)

    def recover(self) -> list[str]:
        """Deal with every item left in ``sending/``; return those now ``unknown``."""
        return recovery.recover(self)


class Spool:
    """The spool folder of a data folder."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.root = self.home / "spool"

    def ensure(self) -> None:
        make_dirs(self.root)

    def new_batch(self) -> Batch:
        """Create an empty batch folder with a fresh, sortable id."""
        self.ensure()
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        for _ in range(100):
            batch_id = f"{stamp}-{secrets.token_hex(2)}"
            try:
                make_dir(self.root / batch_id)
            except FileExistsError:
                continue
            for sub in (*STATES, META_DIR):
                make_dir(self.root / batch_id / sub)
            return Batch(self, batch_id)
        raise SpoolError("Could not create a batch folder.", field="spool", value=str(self.root))

    def batch(self, batch_id: str) -> Batch:
        b = Batch(self, batch_id)
        if not batch_id or "/" in batch_id or batch_id.startswith(".") or not b.exists():
            raise NotFoundError(
                f"No batch {batch_id!r} exists.",
                field="batch",
                value=batch_id,
                fix="list the batches with `mailroom batch list`.",
            )
        return b

    def batches(self) -> list[Batch]:
        try:
            with os.scandir(self.root) as it:
                ids = sorted(e.name for e in it if e.is_dir() and e.name[0] != ".")
        except FileNotFoundError:
            return []
        return [Batch(self, i) for i in ids]

    # ------------------------------------------------------------ the one sender

    def sender(self) -> dict[str, Any] | None:
        """Who is sending now, if anyone (read without the lock)."""
        self.ensure()
        return lock.who_is_sending(self.root)

    @contextlib.contextmanager
    def sender_lock(self, user: str) -> Iterator[None]:
        """Hold the one-sender lock of this data folder, or say who holds it."""
        self.ensure()
        with lock.hold_sender_lock(self.root, user):
            yield
