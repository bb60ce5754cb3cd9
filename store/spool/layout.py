"""A batch's folder: ``batch.json``, the item files in their state folders, the side-cars.

Nothing here checks whether a change of state is allowed or writes the event
log: :class:`store.spool.batch.Batch` builds on this with both. ``BatchFolder.move``
is the bare rename, kept for tests that lay out what a crash leaves.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.db import fsync_dir
from store.permissions import open_new
from store.spool.errors import DAMAGED_FIX, DamagedBatchError, SpoolError
from store.spool.files import json_bytes as json_bytes
from store.spool.files import json_text as json_text
from store.spool.files import read_whole as read_whole
from store.spool.files import write_new_file as write_new_file
from store.spool.sidecars import META_DIR as META_DIR
from store.spool.sidecars import SideCars
from store.spool.states import STATES

# Which file an item's kind is kept as.
EXT_BY_KIND: dict[str, str] = {"email": ".eml", "print": ".pdf", "error": ".err"}
KINDS: tuple[str, ...] = tuple(EXT_BY_KIND)

BATCH_FILE = "batch.json"
# A few hundred bytes beside batch.json: its head (type, administration, who built it,
# when, approvals) and the stamp of the batch.json it was taken from, so that listing
# batches does not parse every item of every batch. A cache: used only while the stamp
# matches, else batch.json is read (and the head written again); never synced.
HEAD_FILE = ".batch-head.json"
# Likewise the counts per state, with the stamps of the state folders they were counted
# at (a message changing state renames its file between two folders, changing both).
COUNTS_FILE = ".batch-counts.json"
COUNTS_SETTLED_NS = 2_000_000_000  # kept only when every folder is older than this
HEAD_KEYS = ("id", "type", "administration", "created_by", "created_at", "not_before")
PRINT_PDF = "print.pdf"

log = logging.getLogger("store.spool")


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


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


class BatchFolder(SideCars):
    """One batch folder. Cheap to create: reads nothing until asked."""

    def __init__(self, root: Path, batch_id: str) -> None:
        self.id = batch_id
        self.path = root / batch_id
        self._dir = os.fspath(self.path)  # str paths on the per-message path: pathlib costs
        self._info: dict[str, Any] | None = None
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
        write_new_file(self.path / BATCH_FILE, json_bytes(info))
        fsync_dir(self.path)
        self._info = info
        self.write_head(info)

    def _stamp(self) -> list[int]:
        st = os.stat(self.path / BATCH_FILE)
        return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]

    def write_head(self, info: dict[str, Any]) -> None:
        """The head of ``info`` (the batch.json now in place) in ``HEAD_FILE``; best
        effort (a reader without it reads batch.json)."""
        try:
            self._write_head(self._stamp(), info)
        except OSError:
            pass

    def _write_head(self, stamp: list[int], info: dict[str, Any]) -> None:
        path = self.path / HEAD_FILE
        tmp = path.with_name(f"{HEAD_FILE}.tmp-{os.getpid()}-{secrets.token_hex(3)}")
        fd = open_new(tmp, os.O_WRONLY | os.O_EXCL)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(json_bytes({"stamp": stamp, "head": head_of(info)}))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def head(self) -> dict[str, Any]:
        """``batch.json`` without its items (approvals with who and when only): from
        ``HEAD_FILE`` when it was taken from this very batch.json, else from batch.json
        (raising as ``info`` does), the head written again for the next reader."""
        try:
            stamp = self._stamp()
        except OSError:
            return head_of(self.info(fresh=True))  # raises: not built, or unreadable
        try:
            data = json.loads((self.path / HEAD_FILE).read_bytes())
            if isinstance(data, dict) and data.get("stamp") == stamp:
                found = data.get("head")
                if isinstance(found, dict):
                    return found
        except (OSError, ValueError):
            pass
        info = self.info(fresh=True)
        try:  # the stamp was taken before reading: a change meanwhile is seen next time
            self._write_head(stamp, info)
        except OSError:
            pass
        return head_of(info)

    # ------------------------------------------------------------ items

    def state_dir(self, state: str) -> Path:
        return self.path / state

    def file_of(self, item: str, kind: str, state: str) -> Path:
        return self.path / state / f"{item}{EXT_BY_KIND[kind]}"

    def locate(self, item: str) -> ItemRef:
        """The item's current state: a stat per state folder, never a file read."""
        for kind, ext in EXT_BY_KIND.items():
            for state in STATES:
                if os.path.exists(self.path / state / f"{item}{ext}"):
                    return ItemRef(item, kind, state)
        raise self._no_item(item)

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
                out.append(ItemRef(stem, kind, str(state)))
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

    def _folders_stamp(self) -> list[int]:
        out: list[int] = []
        for state in STATES:
            try:
                st = os.stat(os.path.join(self._dir, state))
                out += [st.st_ino, st.st_size, st.st_mtime_ns]
            except FileNotFoundError:
                out += [0, 0, 0]
        return out

    def listed_counts(self) -> dict[str, int]:
        """``counts()`` from ``COUNTS_FILE`` while no state folder changed since, else
        counted again — and kept only when every folder's last change is over 2 s old
        (a rename in the same clock tick as the count can leave a folder's time as it
        was; then the next listing counts again)."""
        stamp = self._folders_stamp()  # before counting: a change meanwhile is seen next time
        path = self.path / COUNTS_FILE
        try:
            data = json.loads(path.read_bytes())
            found = data.get("counts") if isinstance(data, dict) else None
            if data.get("stamp") == stamp and isinstance(found, dict):
                return {state: int(found.get(state, 0)) for state in STATES}
        except (OSError, ValueError, TypeError, AttributeError):
            pass
        counts = self.counts()
        if time.time_ns() - max(stamp[2::3]) > COUNTS_SETTLED_NS:
            tmp = path.with_name(f"{COUNTS_FILE}.tmp-{os.getpid()}-{secrets.token_hex(3)}")
            try:
                fd = open_new(tmp, os.O_WRONLY | os.O_EXCL)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(json_bytes({"stamp": stamp, "counts": counts}))
                os.replace(tmp, path)
            except OSError:
                Path(tmp).unlink(missing_ok=True)
        return counts

    def read(self, item: str, kind: str, state: str, size_hint: int = 0) -> bytes:
        """An item's file (``size_hint``: its size, when the side-car says it)."""
        name = f"{state}/{item}{EXT_BY_KIND[kind]}"
        try:
            return read_whole(f"{self._dir}/{name}", size_hint)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            raise SpoolError(
                f"Batch {self.id} is damaged: the file {name} of item {item} is a symbolic "
                "link, which is not followed.",
                field="item",
                value=item,
                fix=DAMAGED_FIX.format(batch=self.id),
            ) from None

    def move(self, item: str, kind: str, src: str, dst: str, *, durable: bool = False) -> bool:
        """The bare rename: no check of the table, no event (``Batch.advance`` does both).

        False if the item was not in ``src`` (another process moved it first).
        """
        name = f"{item}{EXT_BY_KIND[kind]}"
        try:
            os.rename(f"{self._dir}/{src}/{name}", f"{self._dir}/{dst}/{name}")
        except FileNotFoundError:
            return False
        self._renamed_into.add(str(dst))
        if durable:
            self.fsync_state(dst)
        return True

    def fsync_state(self, state: str) -> None:
        """Make the renames into one state folder durable."""
        fsync_dir(self.path / state)
        self._renamed_into.discard(str(state))


def head_of(info: dict[str, Any]) -> dict[str, Any]:
    """What listing batches needs of ``batch.json``."""
    head = {k: info[k] for k in HEAD_KEYS if k in info}
    head["approvals"] = [
        {"by": a.get("by"), "at": a.get("at")}
        for a in info.get("approvals", [])
        if isinstance(a, dict)
    ]
    return head
