"""An index of every document's messages in the spool, so "was this sent before?" reads
a few small files instead of every batch.

``spool/.history/`` (a dot-folder: not a batch, not in backups; rebuilt when absent
or damaged) holds

- ``batches.json``: per batch, the signature it was read at — the modification time
  and size of ``batch.json``, the event log and every state folder (a message that
  changes state renames its file between two folders, changing both) — and the
  shards its documents fall in;
- ``shard-<S>.json``: per batch, per document whose number hashes to S (a hash of the
  number without its last three characters, so that documents numbered in a row —
  a month's work, a page of the Documents pane — fall in one or two shards and a
  question about them reads those, not the whole history), its items:
  ``[item, state, extension, sent at, Message-ID, accepted recipients, redirected]``.

Nothing in the send engine writes it: before answering, the batches whose signature
changed since (and only those) are read again — a send, a cancel, a new batch — so
it stays true however the spool changed. Written under its own lock, each file by a
rename (no fsync: it is a cache; a damaged or missing file is rebuilt).
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
from store.spool import BATCH_FILE, PRINT_PDF, Batch, Spool
from store.spool.events import EVENTS_FILE
from store.spool.states import STATES

DocKey = tuple[str, str, str]  # (administration, type, number)
Entry = list[Any]  # [item, state, ext, at, message_id, to, redirected]

INDEX_DIR = ".history"
SHARDS = 256
VERSION = 2  # 2: shards by the number without its last three characters
LOCK_SECONDS = 30.0


def shard_of(number: str) -> int:
    """Numbers that differ only in their last three characters share a shard."""
    return zlib.crc32(number[:-3].encode("utf-8")) % SHARDS


def _key_text(key: DocKey) -> str:
    return "\t".join(key)


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
    for s in info.get("items", []):
        admin = s.get("administration") or info.get("administration")
        if admin and s.get("number") is not None:
            out[s["item"]] = (str(admin), doc_type, str(s["number"]))
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


def scan_batch(batch: Batch) -> dict[DocKey, list[Entry]]:
    """Every document's items in one batch, with the send of each sent one."""
    docs = document_keys(batch, batch.info())
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


class HistoryIndex:
    """The index of one data folder's spool."""

    def __init__(self, home: Path) -> None:
        self.spool = Spool(home)
        self.folder = self.spool.root / INDEX_DIR
        self._shards: dict[int, dict[str, dict[str, list[Entry]]]] = {}

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
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
        os.replace(tmp, path)

    def shard(self, i: int) -> dict[str, dict[str, list[Entry]]]:
        """batch id -> document -> its items, for the documents of shard ``i``."""
        if i not in self._shards:
            data = self._read(f"shard-{i}.json")
            self._shards[i] = data if isinstance(data, dict) else {}
        return self._shards[i]

    # ------------------------------------------------------------ refreshing

    def refresh(self) -> list[str]:
        """Read again the batches that changed since; return the ids of every usable
        batch, oldest first (one not built yet, or damaged, left out)."""
        batches = [b for b in self.spool.batches() if b.built]
        if not batches and not self.folder.exists():
            return []
        make_dirs(self.folder)
        lock = FileLock(
            str(self.folder / ".lock"), timeout=LOCK_SECONDS, mode=file_mode(self.folder)
        )
        subject = f"The index of sends in {self.folder} is"
        with hold(lock, subject, LOCK_SECONDS, field="spool", value=str(self.folder)):
            return self._refresh(batches)

    def _refresh(self, batches: list[Batch]) -> list[str]:
        index = self._read("batches.json")
        dirty = False
        if not isinstance(index, dict) or index.get("version") != VERSION:
            index, dirty = {"version": VERSION, "batches": {}}, True
            for name in os.listdir(self.folder):
                if name.startswith("shard-"):
                    os.unlink(self.folder / name)
        known: dict[str, Any] = index["batches"]
        changes: dict[int, dict[str, dict[str, list[Entry]] | None]] = {}
        ids = {b.id for b in batches}
        for gone in [i for i in known if i not in ids]:
            dirty = True
            for s in known.pop(gone).get("shards", []):
                changes.setdefault(int(s), {})[gone] = None
        for batch in batches:
            sig = signature(batch)  # before reading it: a change meanwhile is read next time
            entry = known.get(batch.id)
            if entry is not None and entry.get("sig") == sig:
                continue
            dirty = True
            for s in entry.get("shards", []) if entry else []:
                changes.setdefault(int(s), {})[batch.id] = None
            if not batch.complete:  # damaged: left out (with a warning) until it changes
                known[batch.id] = {"sig": sig, "shards": [], "damaged": True}
                continue
            by_shard: dict[int, dict[str, list[Entry]]] = {}
            for key, items in scan_batch(batch).items():
                by_shard.setdefault(shard_of(key[2]), {})[_key_text(key)] = items
            for s, docs in by_shard.items():
                changes.setdefault(s, {})[batch.id] = docs
            known[batch.id] = {"sig": sig, "shards": sorted(by_shard)}
        usable = [b.id for b in batches if not known[b.id].get("damaged")]
        if not dirty:
            return usable
        for s, per_batch in changes.items():
            shard = dict(self.shard(s))
            for batch_id, new_docs in per_batch.items():
                if new_docs is None:
                    shard.pop(batch_id, None)
                else:
                    shard[batch_id] = new_docs
            self._shards[s] = shard
            self._write(f"shard-{s}.json", shard)
        self._write("batches.json", index)
        return usable

    # ------------------------------------------------------------ reading

    def entries(self, keys: Iterable[DocKey] | None) -> list[tuple[str, DocKey, list[Entry]]]:
        """(batch id, document, its items) for the documents asked about (each once; None:
        all), batches oldest first."""
        order = {b: i for i, b in enumerate(self.refresh())}
        out: list[tuple[str, DocKey, list[Entry]]] = []
        if keys is None:
            for s in range(SHARDS):
                for batch_id, docs in self.shard(s).items():
                    for text, items in docs.items():
                        a, t, n = text.split("\t")
                        out.append((batch_id, (a, t, n), items))
        else:
            for key in keys:  # each once (a set of 50,000 keys would cost memory)
                for batch_id, docs in self.shard(shard_of(key[2])).items():
                    found = docs.get(_key_text(key))
                    if found is not None:
                        out.append((batch_id, key, found))
        out = [e for e in out if e[0] in order]
        out.sort(key=lambda e: order[e[0]])
        return out
