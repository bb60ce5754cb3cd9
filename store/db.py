"""A TinyDB database file that survives crashes and concurrent writers.

TinyDB rewrites the whole file on every write and promises nothing on a crash.
Every write here goes: temporary file in the same folder, fsync, ``os.replace``,
fsync of the folder. Before the replace, the current (good) file is hard-linked
into ``backups/`` so the three most recent good copies are kept at O(1) cost.

Every read-modify-write runs inside :meth:`Database.transaction`, which holds a
cross-process file lock and re-reads the file under it, so a second process
never overwrites what the first wrote. Readers need no lock: ``os.replace`` is
atomic, so they see the old file or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock
from tinydb import TinyDB
from tinydb.storages import Storage

from store.errors import CorruptDatabaseError, StoreError
from store.locking import hold
from store.permissions import file_mode, make_dirs, open_new

KEEP_COPIES = 3
LOCK_TIMEOUT_SECONDS = 30.0
_TMP_MARK = ".tmp-"

Data = dict[str, dict[str, dict[str, Any]]]


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, payload: bytes, *, mode: int | None = None) -> None:
    """Write ``payload`` to ``path`` so that a crash leaves the old or the new file."""
    tmp = path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    fd = open_new(tmp, os.O_WRONLY | os.O_EXCL, mode)  # mode: its folder's (permissions)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


class _TxStorage(Storage):
    """TinyDB storage bound to one transaction: reads the snapshot, collects writes."""

    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    def read(self) -> Data:
        return self._tx.data

    def write(self, data: Data) -> None:
        if not self._tx.writable:
            raise StoreError("Internal error: write attempted in a read-only view of the database.")
        self._tx.data = data
        self._tx.dirty = True

    def close(self) -> None:
        pass


class _Tx:
    def __init__(self, data: Data, writable: bool) -> None:
        self.data = data
        self.writable = writable
        self.dirty = False


class Database:
    """One JSON database file, e.g. ``mailroom.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.backup_dir = path.parent / "backups"
        self._lock = FileLock(
            str(path.parent / f".{path.name}.lock"),
            timeout=LOCK_TIMEOUT_SECONDS,
            mode=file_mode(path.parent),
        )
        self._cache: tuple[tuple[int, int, int], Data] | None = None
        with self.locked():
            self._clean_stale_temporaries()

    # ------------------------------------------------------------ locking

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Held: no other writer (a backup's consistent copy, a restore's swap)."""
        subject = f"The database {self.path} is"
        with hold(
            self._lock, subject, LOCK_TIMEOUT_SECONDS, field="database", value=str(self.path)
        ):
            yield

    def forget_cache(self) -> None:
        """The file was replaced behind this object (a restore): read it again next time."""
        self._cache = None

    def _clean_stale_temporaries(self) -> None:
        # Called under the lock: no writer is mid-write, so every temporary is a leftover.
        for leftover in self.path.parent.glob(f".{self.path.name}{_TMP_MARK}*"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()

    # ------------------------------------------------------------ reading

    def load(self, *, fresh: bool = False) -> Data:
        """Read and parse the file; an absent file is an empty database.

        Unless ``fresh``, an unchanged file (same inode, mtime and size) is served
        from a cache; callers must then treat the documents as read-only.
        """
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return {}
        sig = (st.st_ino, st.st_mtime_ns, st.st_size)
        if not fresh and self._cache is not None and self._cache[0] == sig:
            return {t: dict(docs) for t, docs in self._cache[1].items()}
        data = self._parse(self.path.read_bytes())
        if not fresh:
            self._cache = (sig, data)
            return {t: dict(docs) for t, docs in data.items()}
        return data

    def _parse(self, raw: bytes) -> Data:
        try:
            data = json.loads(raw) if raw.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorruptDatabaseError(str(self.path), str(exc), self.good_copies()) from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            detail = "empty file" if data is None else "not a TinyDB document"
            raise CorruptDatabaseError(str(self.path), detail, self.good_copies())
        return data

    def good_copies(self) -> list[str]:
        """Backup copies that parse, newest first."""
        found = []
        for i in range(1, KEEP_COPIES + 1):
            copy = self.backup_dir / f"{self.path.name}.{i}"
            try:
                data = json.loads(copy.read_bytes())
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                found.append(str(copy))
        return found

    def restore_copy(self, copy: str | None = None) -> str:
        """Replace a damaged file with the newest good copy (or the one named)."""
        with self.locked():
            candidates = [copy] if copy else self.good_copies()
            if not candidates:
                raise StoreError(
                    f"No good copy of {self.path} exists.",
                    fix="restore from a backup archive with `mailroom restore FILE`.",
                )
            chosen = Path(candidates[0])
            payload = chosen.read_bytes()
            json.loads(payload)
            if self.path.exists():
                damaged = self.path.with_name(self.path.name + ".damaged")
                os.replace(self.path, damaged)
            atomic_write_bytes(self.path, payload)
            self._cache = None
            return str(chosen)

    @contextlib.contextmanager
    def view(self) -> Iterator[TinyDB]:
        """A read-only TinyDB over a consistent snapshot; no lock needed."""
        tx = _Tx(self.load(), writable=False)
        yield TinyDB(storage=_TxStorage, tx=tx)

    # ------------------------------------------------------------ writing

    @contextlib.contextmanager
    def transaction(self) -> Iterator[TinyDB]:
        """Lock, re-read, let the caller change it, write once atomically.

        If the block raises, nothing is written.
        """
        with self.locked():
            # Fresh: TinyDB mutates documents in place, and another process may have written.
            tx = _Tx(self.load(fresh=True), writable=True)
            yield TinyDB(storage=_TxStorage, tx=tx)
            if tx.dirty:
                self._write(tx.data)

    def _write(self, data: Data) -> None:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        make_dirs(self.path.parent)
        if self.path.exists():
            self._rotate_copies()
        atomic_write_bytes(self.path, payload)
        self._cache = None

    def _rotate_copies(self) -> None:
        make_dirs(self.backup_dir)
        name = self.path.name
        for i in range(KEEP_COPIES - 1, 0, -1):
            older = self.backup_dir / f"{name}.{i}"
            if older.exists():
                os.replace(older, self.backup_dir / f"{name}.{i + 1}")
        newest = self.backup_dir / f"{name}.1"
        with contextlib.suppress(FileNotFoundError):
            newest.unlink()
        # The current file was read and parsed under this lock: it is a good copy.
        os.link(self.path, newest)
