"""The document database on disk: one TinyDB file per month, a small index, one commit.

``documents/`` in the data folder holds

- ``<YYYY-MM>-p<NNNN>.g<N>.json``: documents dated in that month, a TinyDB file
  (table ``documents``, each record with its key in ``_key``); a month is cut in parts
  of at most :data:`PART_SIZE` documents, so no file is larger than that however busy
  the month (a batch of 50,000 reads them one after the other, in bounded memory);
- ``keys-<S>.g<N>.json``: key (``administration/type/number``) -> part, for the keys
  whose number falls in shard S (a hash of the number), so finding one document by its
  number reads one small shard and one month, not years of history;
- ``index.json``: the commit point: which file holds each part (with its count,
  document types, administrations, first and last date) and each shard.

Files are never changed: a write puts the months and shards it changed in new files
of the next generation N, then replaces ``index.json`` atomically. A crash before
that leaves the previous index and its files, whole; leftovers are removed under the
lock. The last :data:`KEEP_COPIES` indexes are kept (``index.1.json`` …) with the files
they name: the good copies ``mailroom config restore-copy --documents`` puts back.

An older data folder has one ``documents.json``; it is moved to this layout on first
open, under the lock: the index is written last, and the old file is moved to
``backups/`` only after, so a kill at any point leaves the old layout or the new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock

from store.db import atomic_write_bytes, fsync_dir
from store.errors import CorruptDatabaseError, StoreError
from store.locking import hold
from store.permissions import file_mode, make_dirs

FOLDER = "documents"
LEGACY_FILE = "documents.json"
INDEX = "index.json"
TABLE = "documents"
KEY = "_key"
KEY_SHARDS = 16
KEEP_COPIES = 3
FORMAT = 1
LOCK_TIMEOUT_SECONDS = 30.0
UNDATED = "undated"
PART_SIZE = 1000

Doc = dict[str, Any]
Manifest = dict[str, Any]

# Files never change once written, so a parsed file is good for as long as it is named.
_CACHE: OrderedDict[str, Any] = OrderedDict()
# The documents of the last few parsed month files by key (shared, read-only): each
# parsed file is the cache's own object, so a file read again is keyed again.
_KEYED: list[tuple[Any, dict[str, Doc]]] = []
_KEYED_FILES = 2
_CACHE_FILES = 4


def part_name(month: str, i: int) -> str:
    return f"{month}-p{i:04d}"


def month_of_part(part: str) -> str:
    return part.rsplit("-p", 1)[0]


def period_of(doc: Doc) -> str:
    """The month of a stored document's date (``YYYY-MM``)."""
    date = doc.get("date")
    if isinstance(date, str) and len(date) >= 7 and date[4] == "-":
        return date[:7]
    return UNDATED


def shard_of(number: str) -> int:
    return zlib.crc32(str(number).encode("utf-8")) % KEY_SHARDS


def key_of(doc: Doc) -> str:
    return f"{doc.get('administration')}/{doc.get('type')}/{doc.get('number')}"


def empty_manifest() -> Manifest:
    return {"format": FORMAT, "generation": 0, "periods": {}, "keys": {}}


def summary_of(docs: dict[str, Doc], file: str) -> dict[str, Any]:
    dates = [d["date"] for d in docs.values() if isinstance(d.get("date"), str)]
    return {
        "file": file,
        "count": len(docs),
        "types": sorted({str(d.get("type")) for d in docs.values()}),
        "administrations": sorted({str(d.get("administration")) for d in docs.values()}),
        "first": min(dates) if dates else None,
        "last": max(dates) if dates else None,
    }


class DocumentFiles:
    """The ``documents/`` folder of one data folder: reading, committing, migrating."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.folder = home / FOLDER
        self.legacy = home / LEGACY_FILE
        self.path = self.folder / INDEX  # what messages name
        make_dirs(self.folder)
        self._lock = FileLock(
            str(self.folder / ".lock"), timeout=LOCK_TIMEOUT_SECONDS, mode=file_mode(self.folder)
        )
        self.ensure()

    def ensure(self) -> None:
        """Before each use: a ``documents.json`` put here (an older version, a restore)
        is moved into this layout first."""
        if self.legacy.exists():
            make_dirs(self.folder)
            with self.locked():
                self.migrate()

    # ------------------------------------------------------------ locking

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        subject = f"The documents in {self.folder} are"
        with hold(
            self._lock, subject, LOCK_TIMEOUT_SECONDS, field="database", value=str(self.folder)
        ):
            yield

    # ------------------------------------------------------------ reading

    def manifest(self) -> Manifest:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return empty_manifest()
        data: Manifest = self._parse(self.path, raw)
        if not isinstance(data.get("periods"), dict) or not isinstance(data.get("keys"), dict):
            raise CorruptDatabaseError(str(self.path), "not a document index", self.good_copies())
        return data

    def _parse(self, path: Path, raw: bytes) -> Any:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorruptDatabaseError(str(path), str(exc), self.good_copies()) from None
        if not isinstance(data, dict):
            raise CorruptDatabaseError(str(path), "not a database file", self.good_copies())
        return data

    def read(self, name: str) -> Any:
        """A file of the layout, parsed (shared: callers must not change it)."""
        path = self.folder / name
        try:  # a batch asks for each document in turn: one stat, not an open, when cached
            st = os.stat(path)
        except FileNotFoundError:
            st = None
        if st is not None:
            sig = f"{path}:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"
            cached = _CACHE.get(sig)
            if cached is not None:
                _CACHE.move_to_end(sig)
                return cached
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            sig = f"{path}:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"
            cached = _CACHE.get(sig)
            if cached is not None:
                _CACHE.move_to_end(sig)
                return cached
            raw = fh.read()
        data = self._parse(path, raw)
        _CACHE[sig] = data
        while len(_CACHE) > _CACHE_FILES:
            _CACHE.popitem(last=False)
        return data

    def period_docs(self, manifest: Manifest, period: str) -> dict[str, Doc]:
        """key -> stored document (with ``_key``) of one month; shared, read-only."""
        entry = manifest["periods"].get(period)
        if entry is None:
            return {}
        data = self.read(str(entry["file"]))
        for parsed, keyed in _KEYED:  # a batch asks for one document at a time, in order
            if parsed is data:
                return keyed
        table = data.get(TABLE, {})
        if not isinstance(table, dict):
            raise CorruptDatabaseError(str(self.folder / entry["file"]), "no documents table", [])
        keyed = {str(d.get(KEY)): d for d in table.values() if isinstance(d, dict)}
        _KEYED.insert(0, (data, keyed))
        del _KEYED[_KEYED_FILES:]
        return keyed

    def shard(self, manifest: Manifest, i: int) -> dict[str, str]:
        name = manifest["keys"].get(str(i))
        if name is None:
            return {}
        data = self.read(str(name))
        return {str(k): str(v) for k, v in data.items()}

    # ------------------------------------------------------------ writing

    def commit(
        self,
        manifest: Manifest,
        periods: dict[str, dict[str, Doc]],
        shards: dict[int, dict[str, str]],
    ) -> Manifest:
        """Write the changed months and shards as new files, then the index (under the lock)."""
        gen = int(manifest.get("generation", 0)) + 1
        months: dict[str, Any] = dict(manifest["periods"])
        shard_files: dict[str, Any] = dict(manifest["keys"])
        for period, docs in periods.items():
            if not docs:
                months.pop(period, None)
                continue
            name = f"{period}.g{gen}.json"
            table = {str(i): d for i, d in enumerate(docs.values(), 1)}
            self._write_file(name, {TABLE: table})
            months[period] = summary_of(docs, name)
        for i, keys in shards.items():
            if not keys:
                shard_files.pop(str(i), None)
                continue
            name = f"keys-{i}.g{gen}.json"
            self._write_file(name, keys)
            shard_files[str(i)] = name
        new = {
            "format": FORMAT,
            "generation": gen,
            "periods": dict(sorted(months.items())),
            "keys": shard_files,
        }
        self._rotate_index()
        atomic_write_bytes(self.path, _dumps(new))
        self._collect()
        return new

    def _write_file(self, name: str, data: Any) -> None:
        path = self.folder / name
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a leftover of a commit that did not finish
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode(self.folder))
        with os.fdopen(fd, "wb") as fh:
            fh.write(_dumps(data))
            fh.flush()
            os.fsync(fh.fileno())

    def _copy(self, i: int) -> Path:
        return self.folder / f"index.{i}.json"

    def _rotate_index(self) -> None:
        if not self.path.exists():
            return
        for i in range(KEEP_COPIES - 1, 0, -1):
            if self._copy(i).exists():
                os.replace(self._copy(i), self._copy(i + 1))
        with contextlib.suppress(FileNotFoundError):
            self._copy(1).unlink()
        os.link(self.path, self._copy(1))

    def _named_files(self) -> set[str]:
        named = {INDEX} | {self._copy(i).name for i in range(1, KEEP_COPIES + 1)}
        for path in (self.path, *(self._copy(i) for i in range(1, KEEP_COPIES + 1))):
            try:
                m = json.loads(path.read_bytes())
                named |= {str(e["file"]) for e in m["periods"].values()}
                named |= {str(v) for v in m["keys"].values()}
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue
        return named

    def _collect(self) -> None:
        """Remove the files no kept index names (leftovers of older or unfinished writes)."""
        named = self._named_files()
        for entry in os.scandir(self.folder):
            if entry.name.startswith(".") or entry.name in named:
                continue
            if entry.name.endswith(".json") and entry.is_file():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)

    # ------------------------------------------------------------ copies

    def good_copies(self) -> list[str]:
        """Kept indexes whose files are all there and parse, newest first."""
        found = []
        for i in range(1, KEEP_COPIES + 1):
            copy = self._copy(i)
            try:
                m = json.loads(copy.read_bytes())
                for name in [*(e["file"] for e in m["periods"].values()), *m["keys"].values()]:
                    json.loads((self.folder / name).read_bytes())
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue
            found.append(str(copy))
        return found

    def restore_copy(self, copy: str | None = None) -> str:
        """Put back the newest good index (or the one named) with the files it names."""
        with self.locked():
            candidates = [copy] if copy else self.good_copies()
            if not candidates:
                raise StoreError(
                    f"No good copy of the documents in {self.folder} exists.",
                    fix="restore from a backup archive with `mailroom restore FILE`.",
                )
            chosen = Path(candidates[0])
            payload = chosen.read_bytes()
            json.loads(payload)
            if self.path.exists():
                os.replace(self.path, self.path.with_name(INDEX + ".damaged"))
            atomic_write_bytes(self.path, payload)
            _CACHE.clear()
            _KEYED.clear()
            return str(chosen)

    # ------------------------------------------------------------ migration

    def migrate(self) -> None:
        """Move a single ``documents.json`` into this layout (under the lock)."""
        if not self.legacy.exists():
            return
        if not self.path.exists():
            from store.db import Database

            data = Database(self.legacy).load(fresh=True)  # a damaged file: its good copies
            periods: dict[str, dict[str, Doc]] = {}
            shards: dict[int, dict[str, str]] = {}
            filled: dict[str, int] = {}  # month -> its parts so far
            for doc in data.get(TABLE, {}).values():
                key = str(doc.get(KEY) or key_of(doc))
                month = period_of(doc)
                part = part_name(month, max(0, filled.get(month, 1) - 1))
                if len(periods.get(part, ())) >= PART_SIZE:
                    part = part_name(month, filled[month])
                filled[month] = int(part.rsplit("-p", 1)[1]) + 1
                periods.setdefault(part, {})[key] = {**doc, KEY: key}
                shards.setdefault(shard_of(str(doc.get("number"))), {})[key] = part
            self._collect()  # what an interrupted migration left
            self.commit(empty_manifest(), periods, shards)  # the index last: the commit
        # Migrated (now or by a process killed right after): the old file goes to backups.
        backups = self.home / "backups"
        make_dirs(backups)
        os.replace(self.legacy, backups / f"{LEGACY_FILE}.migrated")
        fsync_dir(self.home)


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
