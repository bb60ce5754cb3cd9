"""An index of every document's messages in the spool, so "was this sent before?" reads
the batches that hold the document, not every batch.

``spool/.history/`` (a dot-folder: not a batch, not in backups; rebuilt when absent
or damaged) holds

- ``batches.json``: which batches hold which documents, coarsely: per batch, the
  stamp of its ``batch.json`` (inode, size, modification and change times: a
  ``batch.json`` is only ever replaced by a rename) and the shards its documents
  fall in. A document's shard is a hash of its number without the last three
  characters, so that documents numbered in a row — a month's work, a page of the
  Documents pane, a batch — fall in one or two shards;
- ``shard-<S>.json``: per batch that holds documents of shard S, the signature the
  batch was read at — the modification time and size of ``batch.json``, the event
  log and every state folder (a message that changes state renames its file between
  two folders, changing both) — and its documents of shard S with their items:
  ``[item, state, extension, sent at, Message-ID, accepted recipients, redirected]``.

A question about some documents (``entries``) first compares every batch's stamp
with ``batches.json`` and reads the ``batch.json`` of a batch that is new or changed
(its items say which documents it holds); then, for each batch that holds a
document asked about, it takes the batch's items from the shard file when the
signature kept there is the batch's signature now, and reads the batch (its state
folders and event log) again otherwise. Nothing in the send engine or the build
writes the index, so no writer can leave it behind: a batch made, sent, cancelled
or removed by another process since is seen at the next question. A missing,
damaged or stale file, or a batch missing from one, only means that batch is read
again; it never stands for "no messages". Written under its own lock, each file by
a rename (no fsync: it is a cache).
"""

from __future__ import annotations

import json
import os
import secrets
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from filelock import FileLock

from store.locking import hold
from store.permissions import file_mode, make_dirs, open_new
from store.spool import BATCH_FILE, PRINT_PDF, Batch, Spool, SpoolError
from store.spool.events import EVENTS_FILE
from store.spool.states import STATES

DocKey = tuple[str, str, str]  # (administration, type, number)
Entry = list[Any]  # [item, state, ext, at, message_id, to, redirected]
Docs = dict[str, list[Entry]]  # "administration\ttype\tnumber" -> its items in one batch

INDEX_DIR = ".history"
SHARDS = 256
VERSION = 3  # 3: batches.json says which shards each batch holds; shards carry signatures
LOCK_SECONDS = 30.0


def shard_of(number: str) -> int:
    """Numbers that differ only in their last three characters share a shard."""
    return _shard_of_stem(number[:-3])


def _shard_of_stem(stem: str) -> int:
    return zlib.crc32(stem.encode("utf-8")) % SHARDS


def _key_text(key: DocKey) -> str:
    return "\t".join(key)


def stamp_of(batch: Batch) -> list[int] | None:
    """The stamp of the batch's ``batch.json``, or None while it is not built."""
    try:
        st = os.stat(batch.path / BATCH_FILE)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def signature(batch: Batch) -> list[int]:
    out: list[int] = []
    for name in (BATCH_FILE, EVENTS_FILE, *STATES):
        try:
            st = os.stat(batch.path / name)
            out += [st.st_mtime_ns, st.st_size]
        except FileNotFoundError:
            out += [0, 0]
    return out


def document_keys(batch: Batch, info: dict[str, Any]) -> dict[str, DocKey]:
    """item -> (administration, type, number): from ``batch.json`` when it says, else
    from the side-cars."""
    out: dict[str, DocKey] = {}
    doc_type = str(info.get("type"))
    batch_admin = info.get("administration")
    for s in info.get("items", []):
        admin = s.get("administration") or batch_admin
        number = s.get("number")
        if admin and number is not None:
            out[s["item"]] = (str(admin), doc_type, str(number))
            continue
        try:
            doc = batch.meta(s["item"]).get("document", {})
        except Exception:
            continue
        out[s["item"]] = (
            str(doc.get("administration")),
            str(doc.get("type")),
            str(doc.get("number")),
        )
    return out


def scan_batch(batch: Batch, info: dict[str, Any]) -> dict[DocKey, list[Entry]]:
    """Every document's items in one batch, with the send of each sent one."""
    docs = document_keys(batch, info)
    out: dict[DocKey, list[Entry]] = {}
    events: dict[str, dict[str, Any]] | None = None
    for state in STATES:
        try:
            with os.scandir(batch.path / state) as it:
                names = sorted(e.name for e in it if e.name[0] != "." and e.name != PRINT_PDF)
        except FileNotFoundError:
            continue
        for name in names:
            item, ext = os.path.splitext(name)
            key = docs.get(item)
            if key is None:
                continue
            entry: Entry = [item, state, ext, "", "", [], False]
            if state == "sent" and ext == ".eml":
                if events is None:
                    events = {
                        ev["item"]: ev
                        for ev in batch.events()
                        if ev.get("event") in ("sent", "marked-sent")
                        and isinstance(ev.get("item"), str)
                    }
                ev = events.get(item, {})
                mid = ev.get("message_id")
                if not mid:
                    try:
                        mid = batch.meta(item).get("message_id")
                    except Exception:
                        mid = None
                entry[3:] = [
                    str(ev.get("at") or ""),
                    str(mid or ""),
                    [str(a) for a in ev.get("accepted") or ()],
                    bool(ev.get("redirected_to")),
                ]
            out.setdefault(key, []).append(entry)
    return out


def _shards_field(record: Any) -> list[int] | None:
    shards = record.get("shards") if isinstance(record, dict) else None
    if isinstance(shards, list) and all(type(s) is int and 0 <= s < SHARDS for s in shards):
        return shards
    return None


class HistoryIndex:
    """The index of one data folder's spool."""

    def __init__(self, home: Path) -> None:
        self.spool = Spool(home)
        self.folder = self.spool.root / INDEX_DIR
        self._shards: dict[int, dict[str, Any]] = {}
        self._changed: set[int] = set()  # shard files to write
        self._held: dict[str, set[DocKey]] = {}  # the documents of each batch.json read now
        # Built batches whose batch.json cannot be read: which documents they sent is not
        # known, so a build refuses while there is one (mailing/batches/once.py).
        self.damaged: list[str] = []

    # ------------------------------------------------------------ files

    def _read(self, name: str) -> Any:
        try:
            return json.loads((self.folder / name).read_bytes())
        except (OSError, ValueError):
            return None

    def _write(self, name: str, data: Any) -> None:
        path = self.folder / name
        tmp = path.with_name(f".{name}.tmp-{os.getpid()}-{secrets.token_hex(3)}")
        fd = open_new(tmp, os.O_WRONLY | os.O_EXCL)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def shard(self, i: int) -> dict[str, Any]:
        """batch id -> {"sig": its signature when read, "docs": its documents of shard
        ``i``}; a batch missing here, or with another signature, is read again."""
        if i not in self._shards:
            data = self._read(f"shard-{i}.json")
            self._shards[i] = data if isinstance(data, dict) else {}
        return self._shards[i]

    # ------------------------------------------------------------ which batches hold what

    def _holders(self, index: dict[str, Any]) -> tuple[list[tuple[Batch, list[int]]], bool]:
        """Every usable batch, oldest first, with the shards of its documents (from
        ``index`` while the batch's ``batch.json`` is the one it was taken from; read
        again otherwise); and whether ``index`` changed. Batches not built yet, or
        damaged (with a warning), are left out."""
        known: dict[str, Any] = index["batches"]
        out: list[tuple[Batch, list[int]]] = []
        changed = False
        present: set[str] = set()
        for batch in self.spool.batches():
            stamp = stamp_of(batch)  # before reading it: a change meanwhile is read next time
            if stamp is None:
                continue
            present.add(batch.id)
            record = known.get(batch.id)
            if isinstance(record, dict) and record.get("stamp") == stamp:
                if record.get("damaged") is True:
                    self.damaged.append(batch.id)
                    continue
                shards = _shards_field(record)
                if shards is not None:
                    out.append((batch, shards))
                    continue
            changed = True
            if not batch.complete:  # damaged: left out (with a warning) until it changes
                known[batch.id] = {"stamp": stamp, "damaged": True}
                self.damaged.append(batch.id)
                continue
            held = set(document_keys(batch, batch.info()).values())
            self._held[batch.id] = held
            shards = sorted({_shard_of_stem(stem) for stem in {k[2][:-3] for k in held}})
            known[batch.id] = {"stamp": stamp, "shards": shards}
            out.append((batch, shards))
        for gone in [i for i in known if i not in present]:
            del known[gone]
            changed = True
        return out, changed

    def _docs(self, batch: Batch, shards: list[int], need: Iterable[int]) -> dict[int, Docs]:
        """The batch's documents of the shards ``need``: from the shard files while the
        batch's signature is the one they were read at, else read from the batch now."""
        sig = signature(batch)  # before reading it: a change meanwhile is read next time
        out: dict[int, Docs] = {}
        for s in need:
            record = self.shard(s).get(batch.id)
            if not isinstance(record, dict) or record.get("sig") != sig:
                break
            docs = record.get("docs")
            if not isinstance(docs, dict):
                break
            out[s] = docs
        else:
            return out
        try:
            info = batch.info(fresh=True)
        except SpoolError:  # removed or damaged since: as if it was not there
            return {}
        by_shard: dict[int, Docs] = {s: {} for s in shards}
        for key, items in scan_batch(batch, info).items():
            by_shard.setdefault(shard_of(key[2]), {})[_key_text(key)] = items
        for s, docs in by_shard.items():
            self.shard(s)[batch.id] = {"sig": sig, "docs": docs}
            self._changed.add(s)
        return by_shard

    # ------------------------------------------------------------ reading

    def entries(self, keys: Iterable[DocKey] | None) -> list[tuple[str, DocKey, list[Entry]]]:
        """(batch id, document, its items) for the documents asked about (each once; None:
        all), batches oldest first."""
        if not self.spool.root.is_dir():
            return []
        make_dirs(self.folder)
        lock = FileLock(
            str(self.folder / ".lock"), timeout=LOCK_SECONDS, mode=file_mode(self.folder)
        )
        subject = f"The index of sends in {self.folder} is"
        with hold(lock, subject, LOCK_SECONDS, field="spool", value=str(self.folder)):
            return self._entries(None if keys is None else list(dict.fromkeys(keys)))

    def _entries(self, keys: list[DocKey] | None) -> list[tuple[str, DocKey, list[Entry]]]:
        index = self._read("batches.json")
        if not isinstance(index, dict) or index.get("version") != VERSION:
            index = {"version": VERSION, "batches": {}}
            for name in os.listdir(self.folder):
                if name.startswith("shard-"):
                    os.unlink(self.folder / name)
        elif not isinstance(index.get("batches"), dict):
            index["batches"] = {}
        holders, changed = self._holders(index)
        wanted: dict[int, list[DocKey]] = {}
        for key in keys or ():
            wanted.setdefault(shard_of(key[2]), []).append(key)
        out: list[tuple[str, DocKey, list[Entry]]] = []
        for batch, shards in holders:  # oldest first
            need = shards if keys is None else [s for s in shards if s in wanted]
            held = self._held.get(batch.id)
            if held is not None and keys is not None:  # its batch.json was read just now
                need = [s for s in need if any(k in held for k in wanted[s])]
            if not need:
                continue
            for s, docs in self._docs(batch, shards, need).items():
                if keys is None:
                    for text, items in docs.items():
                        a, t, n = text.split("\t")
                        out.append((batch.id, (a, t, n), items))
                    continue
                for key in wanted.get(s, ()):
                    found = docs.get(_key_text(key))
                    if found is not None:
                        out.append((batch.id, key, found))
        self._save(index, changed)
        return out

    def _save(self, index: dict[str, Any], changed: bool) -> None:
        known: dict[str, Any] = index["batches"]
        for s in sorted(self._changed):  # without batches gone, or no longer in shard s
            shard = {
                b: v for b, v in self.shard(s).items() if s in (_shards_field(known.get(b)) or ())
            }
            self._shards[s] = shard
            self._write(f"shard-{s}.json", shard)
        self._changed.clear()
        if changed:
            self._write("batches.json", index)
