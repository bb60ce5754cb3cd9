"""The spool: batches of rendered messages, their state kept as the folder they are in.

Layout of the data folder's ``spool/``::

    spool/
      .sender.lock            flock held by the one sending process
      sender.json             who holds it (user, pid, host, since)
      <batch-id>/
        batch.json            written at build, rewritten at each approval (never per message)
        events.jsonl          append-only, fsynced: every state change and send attempt
        meta/<item>.json      side-car, written once at build (document, trace, envelope, ...)
        draft/ approved/ held/ sending/ sent/ failed/ unknown/ print/ cancelled/
                              each holds the items in that state: ``<item>.eml`` for a
                              message, ``<item>.pdf`` for a document to print,
                              ``<item>.err`` for a document that could not be built

The status of an item is the folder its file is in; a change of status is one
``os.rename`` (O(1), atomic, and a natural claim: of two processes renaming the
same file, one wins). Nothing is rewritten per message, so a state change in a
batch of 10,000 costs what it costs in a batch of 100 (``benchmarks/send.py``).

A file left in ``sending/`` was in flight when a sender died: :meth:`Batch.recover`
moves it to ``unknown/``; it is never sent again without an admin's say.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.db import fsync_dir
from store.errors import MailroomError, NotFoundError

STATES: tuple[str, ...] = (
    "draft",
    "approved",
    "held",
    "sending",
    "sent",
    "failed",
    "unknown",
    "print",
    "cancelled",
)
# Which file an item's kind is kept as.
EXT_BY_KIND: dict[str, str] = {"email": ".eml", "print": ".pdf", "error": ".err"}
KINDS: tuple[str, ...] = tuple(EXT_BY_KIND)

BATCH_FILE = "batch.json"
EVENTS_FILE = "events.jsonl"
META_DIR = "meta"
PRINT_PDF = "print.pdf"
SENDER_LOCK = ".sender.lock"
SENDER_FILE = "sender.json"
# Events are fsynced at least this often (in events) when many are written in a row;
# every caller can force one with Batch.sync().
EVENTS_SYNC_EVERY = 256


SENDER_LOCK_WAIT_SECONDS = 1.0

log = logging.getLogger(__name__)


class SpoolError(MailroomError):
    """A problem with a batch or an item of the spool."""


class DamagedBatchError(SpoolError):
    """A batch's ``batch.json`` cannot be read: the batch is shown, never used."""

    def __init__(self, batch_id: str, reason: str) -> None:
        self.batch_id = batch_id
        self.reason = reason
        super().__init__(
            f"Batch {batch_id} is damaged: {reason}.",
            field="batch",
            value=batch_id,
            fix=DAMAGED_FIX.format(batch=batch_id),
        )


DAMAGED_FIX = "move the folder spool/{batch} away or restore a backup."


class SenderBusyError(SpoolError):
    """Another process is sending from this data folder."""


def boot_id() -> str:
    """This boot of the machine (Linux); '' where unknown, which makes recovery strict."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_new_file(path: Path, payload: bytes, *, sync: bool = True) -> None:
    """Write a new file by temporary name + rename, so a reader never sees half of it."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=False, default=str)


def _json_bytes(data: Any) -> bytes:
    return _ENCODER.encode(data).encode("utf-8")


def _text_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def batch_info_damage(info: Any) -> str | None:
    """Why a parsed ``batch.json`` cannot be used (its shape is wrong), or None."""
    if not isinstance(info, dict):
        return f"{BATCH_FILE} does not hold a batch (it is not a JSON object)"
    for key in ("id", "type", "administration", "created_by", "created_at"):
        if not _text_or_none(info.get(key)):
            return f"the field {key!r} in {BATCH_FILE} is not text"
    items = info.get("items", [])
    if not isinstance(items, list) or not all(
        isinstance(s, dict) and isinstance(s.get("item"), str) for s in items
    ):
        return f"the list of items in {BATCH_FILE} is not a list of items"
    counts = info.get("counts_at_build", {})
    if not isinstance(counts, dict):
        return f"the counts in {BATCH_FILE} are not a table of counts"
    approvals = info.get("approvals", [])
    if not isinstance(approvals, list):
        return f"the approvals in {BATCH_FILE} are not a list"
    for n, appr in enumerate(approvals, 1):
        hashes = appr.get("items", {}) if isinstance(appr, dict) else None
        if (
            not isinstance(appr, dict)
            or not isinstance(hashes, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in hashes.items())
            or not _text_or_none(appr.get("by"))
            or not _text_or_none(appr.get("at"))
        ):
            return f"approval {n} in {BATCH_FILE} is not an approval (who, when, which messages)"
    return None


def parse_batch_info(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """``batch.json``'s content, or None and why it cannot be used."""
    try:
        info = json.loads(raw)
    except UnicodeDecodeError:
        return None, f"{BATCH_FILE} is not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"{BATCH_FILE} is not valid JSON (line {exc.lineno}, column {exc.colno})"
    except (ValueError, RecursionError):
        return None, f"{BATCH_FILE} is not valid JSON"
    reason = batch_info_damage(info)
    if reason is not None:
        return None, reason
    return info, ""


@dataclass(frozen=True)
class ItemRef:
    """Where an item is: its batch-relative name, kind and current state."""

    item: str
    kind: str
    state: str


class Batch:
    """One batch folder. Cheap to create: reads nothing until asked."""

    def __init__(self, spool: Spool, batch_id: str) -> None:
        self.spool = spool
        self.id = batch_id
        self.path = spool.root / batch_id
        self._dir = os.fspath(self.path)  # str paths on the per-message path: pathlib costs
        self._info: dict[str, Any] | None = None
        self._events_fd: int | None = None
        self._unsynced = 0
        self._renamed_into: set[str] = set()  # state folders renamed into since the last sync

    # ------------------------------------------------------------ batch.json

    def exists(self) -> bool:
        return self.path.is_dir()

    @property
    def built(self) -> bool:
        """Its ``batch.json`` was written (it may still be damaged: see ``damage``)."""
        return (self.path / BATCH_FILE).exists()

    @property
    def damage(self) -> str | None:
        """Why the batch's ``batch.json`` cannot be used, or None (also when not built)."""
        try:
            self.info()
        except DamagedBatchError as exc:
            return exc.reason
        except SpoolError:
            return None
        return None

    @property
    def complete(self) -> bool:
        """Built and usable: a damaged batch is left out (with a warning), never used."""
        if not self.built:
            return False
        reason = self.damage
        if reason is not None:
            log.warning(
                "warning: batch %s is damaged (%s) and was left out; %s",
                self.id,
                reason,
                DAMAGED_FIX.format(batch=self.id),
            )
            return False
        return True

    def info(self, *, fresh: bool = False) -> dict[str, Any]:
        if self._info is None or fresh:
            try:
                raw = (self.path / BATCH_FILE).read_bytes()
            except FileNotFoundError:
                raise SpoolError(
                    f"Batch {self.id} was not finished building (no {BATCH_FILE}); "
                    "it cannot be approved or sent.",
                    field="batch",
                    value=self.id,
                    fix="build the batch again with `mailroom batch create`, and cancel this one.",
                ) from None
            except OSError as exc:
                raise DamagedBatchError(
                    self.id, f"{BATCH_FILE} cannot be read ({exc.strerror or exc})"
                ) from None
            info, reason = parse_batch_info(raw)
            if info is None:
                raise DamagedBatchError(self.id, reason)
            self._info = info
        return self._info

    def write_info(self, info: dict[str, Any]) -> None:
        write_new_file(self.path / BATCH_FILE, _json_bytes(info))
        fsync_dir(self.path)
        self._info = info

    # ------------------------------------------------------------ items

    def state_dir(self, state: str) -> Path:
        return self.path / state

    def file_of(self, item: str, kind: str, state: str) -> Path:
        return self.path / state / f"{item}{EXT_BY_KIND[kind]}"

    def add_item(
        self,
        item: str,
        kind: str,
        state: str,
        payload: bytes,
        meta: dict[str, Any],
        *,
        sync: bool = True,
    ) -> None:
        """Write an item's side-car and its file (build time only)."""
        write_new_file(self.path / META_DIR / f"{item}.json", _json_bytes(meta), sync=sync)
        write_new_file(self.file_of(item, kind, state), payload, sync=sync)

    def meta(self, item: str) -> dict[str, Any]:
        try:
            with open(f"{self._dir}/{META_DIR}/{item}.json", "rb") as fh:
                data = json.loads(fh.read())
        except FileNotFoundError:
            raise NotFoundError(
                f"Batch {self.id} has no item {item!r}.",
                field="item",
                value=item,
                fix=f"list the items with `mailroom batch show {self.id}`.",
            ) from None
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise SpoolError(
                f"Batch {self.id} is damaged: the file {META_DIR}/{item}.json of item {item} "
                "is not valid JSON.",
                field="item",
                value=item,
                fix=DAMAGED_FIX.format(batch=self.id),
            )
        return data

    def all_items(self) -> list[str]:
        """Every item of the batch, in build order."""
        with os.scandir(self.path / META_DIR) as it:
            return sorted(e.name[:-5] for e in it if e.name.endswith(".json") and e.name[0] != ".")

    def find_item(self, name: str) -> str:
        """An item by its name, or by its document number when that is unique."""
        if (self.path / META_DIR / f"{name}.json").exists():
            return name
        matches = [i for i in self.all_items() if i.split("-", 1)[-1] == name]
        if len(matches) == 1:
            return matches[0]
        raise NotFoundError(
            f"Batch {self.id} has {'several items' if matches else 'no item'} {name!r}.",
            field="item",
            value=name,
            fix=f"use the item name shown by `mailroom batch show {self.id}`.",
        )

    def locate(self, item: str) -> ItemRef:
        """The item's current state: a stat per state folder, never a file read."""
        for kind, ext in EXT_BY_KIND.items():
            for state in STATES:
                if os.path.exists(self.path / state / f"{item}{ext}"):
                    return ItemRef(item, kind, state)
        raise NotFoundError(
            f"Batch {self.id} has no item {item!r}.",
            field="item",
            value=item,
            fix=f"list the items with `mailroom batch show {self.id}`.",
        )

    def items(self, state: str, offset: int = 0, limit: int | None = None) -> list[ItemRef]:
        """A page of the items in ``state``, sorted by name; reads only the folder."""
        folder = self.path / state
        try:
            with os.scandir(folder) as it:
                names = sorted(e.name for e in it if e.name[0] != "." and e.name != PRINT_PDF)
        except FileNotFoundError:
            return []
        end = None if limit is None else offset + limit
        out: list[ItemRef] = []
        for name in names[offset:end]:
            stem, ext = os.path.splitext(name)
            kind = next((k for k, e in EXT_BY_KIND.items() if e == ext), None)
            if kind is not None:
                out.append(ItemRef(stem, kind, state))
        return out

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for state in STATES:
            try:
                with os.scandir(self.path / state) as it:
                    n = sum(
                        1
                        for e in it
                        if e.name[0] != "."
                        and e.name != PRINT_PDF
                        and os.path.splitext(e.name)[1] in (".eml", ".pdf", ".err")
                    )
            except FileNotFoundError:
                n = 0
            out[state] = n
        return out

    def move(self, item: str, kind: str, src: str, dst: str, *, durable: bool = False) -> bool:
        """Change an item's state by one rename. False if it was not in ``src`` (lost a race)."""
        name = f"{item}{EXT_BY_KIND[kind]}"
        try:
            os.rename(f"{self._dir}/{src}/{name}", f"{self._dir}/{dst}/{name}")
        except FileNotFoundError:
            return False
        self._renamed_into.add(dst)
        if durable:
            fsync_dir(self.path / dst)
        return True

    def read(self, item: str, kind: str, state: str) -> bytes:
        with open(f"{self._dir}/{state}/{item}{EXT_BY_KIND[kind]}", "rb") as fh:
            return fh.read()

    # ------------------------------------------------------------ events

    def log(self, event: dict[str, Any], *, sync: bool = False) -> None:
        """Append one event; fsynced now if ``sync``, else within EVENTS_SYNC_EVERY events."""
        record = {"at": now_iso(), **event}
        line = _json_bytes(record) + b"\n"
        if self._events_fd is None:
            self._events_fd = os.open(
                self.path / EVENTS_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
            )
        os.write(self._events_fd, line)
        self._unsynced += 1
        if sync or self._unsynced >= EVENTS_SYNC_EVERY:
            self.sync()

    def sync(self) -> None:
        """Make the events and the recent renames durable.

        The folders fsynced are those this object renamed items into since the
        last sync (during a send: ``sending/`` and ``sent/``), not all nine.
        """
        if self._events_fd is not None and self._unsynced:
            os.fsync(self._events_fd)
            self._unsynced = 0
        renamed, self._renamed_into = self._renamed_into, set()
        for state in sorted(renamed):
            with contextlib.suppress(FileNotFoundError):
                fsync_dir(self.path / state)

    def close(self) -> None:
        if self._events_fd is not None:
            self.sync()
            os.close(self._events_fd)
            self._events_fd = None

    def events(self) -> Iterator[dict[str, Any]]:
        try:
            fh = open(self.path / EVENTS_FILE, "rb")
        except FileNotFoundError:
            return
        with fh:
            for line in fh:
                if not line.endswith(b"\n"):
                    break  # a line cut by a crash: ignore it
                try:
                    event = json.loads(line)
                except (ValueError, RecursionError):
                    continue  # a damaged line: the others still count
                if isinstance(event, dict):
                    yield event

    def last_events(self) -> dict[str, dict[str, Any]]:
        """Per item, its last event (one pass over the log)."""
        out: dict[str, dict[str, Any]] = {}
        for ev in self.events():
            item = ev.get("item")
            if isinstance(item, str):
                out[item] = ev
        return out

    # ------------------------------------------------------------ transitions

    def recover(self) -> list[str]:
        """Deal with every item left in ``sending/``; return those now ``unknown``.

        Call only while holding the sender lock: then nobody is sending. An item
        whose last event is its claim, made since this machine last booted, was never
        offered to a server (the ``attempt`` event is written before a single byte
        goes out, and a killed process loses no written data while the kernel runs):
        it goes back to ``approved``. Every other one — offered, or claimed before a
        reboot or power loss, when unsynced writes may be lost — goes to ``unknown``.
        """
        left = self.items("sending")
        if not left:
            return []
        last = self.last_events()
        boot = boot_id()
        moved: list[str] = []
        for ref in left:
            ev = last.get(ref.item, {})
            if ev.get("event") == "claimed" and boot and ev.get("boot_id") == boot:
                if self.move(ref.item, ref.kind, "sending", "approved"):
                    self.log(
                        {
                            "item": ref.item,
                            "event": "requeued",
                            "state": "approved",
                            "detail": "claimed by a sender that stopped before offering it",
                        }
                    )
                continue
            if self.move(ref.item, ref.kind, "sending", "unknown"):
                self.log(
                    {
                        "item": ref.item,
                        "event": "unknown",
                        "state": "unknown",
                        "detail": "was being sent when the sender stopped; "
                        "it may or may not have been delivered",
                    }
                )
                moved.append(ref.item)
        fsync_dir(self.path / "unknown")
        fsync_dir(self.path / "approved")
        self.sync()
        return moved

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
        """Move items (all in ``sources`` if None) to ``dst``; return (moved, [(item, why not)])."""
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
        for ref in refs:
            if self.move(ref.item, ref.kind, ref.state, dst):
                moved.append(ref.item)
                self.log({"item": ref.item, "event": event, "state": dst, "by": user})
            else:
                skipped.append((ref.item, "changed state meanwhile"))
        fsync_dir(self.path / dst)
        self.sync()
        return moved, skipped

    def approve(
        self, items: Iterable[str] | None, user: str
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """Approve draft (or held) messages: record who, when and each message's SHA-256."""
        info = self.info(fresh=True)
        if items is None:
            refs = [r for r in self.items("draft") if r.kind == "email"]
            names: list[str] = [r.item for r in refs]
        else:
            names = [self.find_item(n) for n in items]
        hashes: dict[str, str] = {}
        skipped: list[tuple[str, str]] = []
        for name in names:
            ref = self.locate(name)
            if ref.kind != "email" or ref.state not in ("draft", "held"):
                skipped.append(
                    (name, f"is {ref.state}" if ref.kind == "email" else f"is {ref.kind}")
                )
                continue
            hashes[name] = sha256_bytes(self.read(name, "email", ref.state))
        # Record the approval first: a crash after it leaves drafts with a recorded
        # hash, never an approved message without one.
        approval = {"by": user, "at": now_iso(), "items": hashes}
        info.setdefault("approvals", []).append(approval)
        self.write_info(info)
        moved: list[str] = []
        for name in hashes:
            ref = self.locate(name)
            if self.move(name, "email", ref.state, "approved"):
                moved.append(name)
                self.log(
                    {
                        "item": name,
                        "event": "approved",
                        "state": "approved",
                        "by": user,
                        "sha256": hashes[name],
                    }
                )
            else:
                skipped.append((name, "changed state meanwhile"))
        fsync_dir(self.path / "approved")
        self.sync()
        return moved, skipped

    def approved_hashes(self) -> dict[str, dict[str, str]]:
        """item -> {sha256, by, at} of its latest approval."""
        out: dict[str, dict[str, str]] = {}
        for appr in self.info(fresh=True).get("approvals", []):
            for item, digest in appr.get("items", {}).items():
                out[item] = {"sha256": digest, "by": appr.get("by", ""), "at": appr.get("at", "")}
        return out


class Spool:
    """The spool folder of a data folder."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.root = self.home / "spool"

    def ensure(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def new_batch(self) -> Batch:
        """Create an empty batch folder with a fresh, sortable id."""
        self.ensure()
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        for _ in range(100):
            batch_id = f"{stamp}-{secrets.token_hex(2)}"
            try:
                os.mkdir(self.root / batch_id, 0o700)
            except FileExistsError:
                continue
            for sub in (*STATES, META_DIR):
                os.mkdir(self.root / batch_id / sub, 0o700)
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
        from filelock import FileLock, Timeout

        self.ensure()
        lock = FileLock(str(self.root / SENDER_LOCK), mode=0o600)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            try:
                data: dict[str, Any] = json.loads((self.root / SENDER_FILE).read_bytes())
                return data
            except (FileNotFoundError, ValueError):
                return {"user": "?", "pid": 0, "host": "?", "since": ""}
        lock.release()
        return None

    @contextlib.contextmanager
    def sender_lock(self, user: str) -> Iterator[None]:
        """Hold the one-sender lock of this data folder, or say who holds it."""
        from filelock import FileLock, Timeout

        self.ensure()
        lock = FileLock(str(self.root / SENDER_LOCK), mode=0o600)
        try:
            # Not 0: a process asking "who is sending?" (Spool.sender, e.g. a TUI's
            # queue pane polling) holds the lock for an instant; that is no sender.
            lock.acquire(timeout=SENDER_LOCK_WAIT_SECONDS)
        except Timeout:
            who: dict[str, Any] = {}
            with contextlib.suppress(FileNotFoundError, ValueError):
                who = json.loads((self.root / SENDER_FILE).read_bytes())
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
                self.root / SENDER_FILE,
                _json_bytes(
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
                os.unlink(self.root / SENDER_FILE)
            lock.release()
