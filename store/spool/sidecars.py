"""The side-cars of a batch's items, in ``meta/``: one file per item, or packed per chunk.

An item's side-car (document, resolution trace, envelope, ...) is found, first to last:

- ``meta/<item>.json``: one file for the item. Every batch built before session 7 has
  one per item; a side-car written again later (``mailing.batches.once.mark_one``,
  :meth:`SideCars.write_meta`) is one too, and wins over a pack;
- ``meta/pack-<first>-<last>.jsonl``: the side-cars of a chunk of items, as the build
  writes them (one file per chunk instead of one per item: creating a file is most of
  a build's system time, docs/performance.md). ``first`` and ``last`` are the sequence
  numbers (the number before the item name's ``-``) of the items it holds. Its first
  line is ``{"items": [...]}``, their names; then one line per item, its side-car
  beginning ``{"item": "<item>",``. Written once by temporary name + rename (a reader
  never sees half of one) and never changed.

A pack is read whole and the last one read is kept: reading every side-car of a batch
in item order opens each pack once.
"""

from __future__ import annotations

import bisect
import errno
import json
import os
import re
from pathlib import Path
from typing import Any

from store.errors import NotFoundError
from store.permissions import file_mode
from store.spool.errors import DAMAGED_FIX, SpoolError
from store.spool.files import json_bytes, read_whole, write_new_file

META_DIR = "meta"
PACK_RE = re.compile(r"pack-(\d+)-(\d+)\.jsonl")
# The extension of each kind's file (``layout.EXT_BY_KIND``, repeated: no circle).
_EXT = {"email": ".eml", "print": ".pdf", "error": ".err"}
_HEAD_READ = 16384  # enough for a pack's first line of names
_MAX_SEQ = 1 << 62


def pack_name(first: int, last: int) -> str:
    return f"pack-{first:05d}-{last:05d}.jsonl"


def seq_of(item: str) -> int | None:
    """An item's sequence number (``00042-F42`` -> 42), None when its name has none."""
    head = item.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def pack_bytes(entries: list[tuple[str, dict[str, Any]]]) -> bytes:
    """A pack of side-cars: the names' line, then each side-car, ``item`` its first key."""
    lines = [json_bytes({"items": [item for item, _ in entries]})]
    for item, meta in entries:
        line: dict[str, Any] = {"item": item}
        line.update((k, v) for k, v in meta.items() if k != "item")
        lines.append(json_bytes(line))
    return b"\n".join(lines) + b"\n"


def _line_key(item: str) -> bytes:
    return b'{"item": ' + json_bytes(item) + b","


class SideCars:
    """The side-cars of one batch folder (mixed into ``layout.BatchFolder``)."""

    id: str
    path: Path
    _dir: str
    _packs: list[tuple[int, int, str]] | None = None  # (first, last, name), as last listed
    _pack_read: tuple[str, dict[str, bytes]] | None = None  # the last pack read, by item

    def _no_item(self, item: str) -> NotFoundError:
        return NotFoundError(
            f"Batch {self.id} has no item {item!r}.",
            field="item",
            value=item,
            fix=f"list the items with `mailroom batch show {self.id}`.",
        )

    def _damaged(self, item: str, name: str, why: str) -> SpoolError:
        return SpoolError(
            f"Batch {self.id} is damaged: the file {name} of item {item} is {why}.",
            field="item",
            value=item,
            fix=DAMAGED_FIX.format(batch=self.id),
        )

    # ------------------------------------------------------------ writing

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
        """Write one item: its own side-car file, then its file (the layout before packs)."""
        self.write_meta(item, meta, sync=sync)
        write_new_file(self.path / state / f"{item}{_EXT[kind]}", payload, sync=sync)

    def add_items(self, entries: list[tuple[str, str, str, bytes, dict[str, Any]]]) -> None:
        """Write a chunk of items (build time): one pack of their side-cars, then each
        item's file, (item, kind, state, bytes, side-car) each, none fsynced (the build
        syncs once before ``batch.json``). An item never has a file without its side-car."""
        if not entries:
            return
        seqs = [seq_of(e[0]) for e in entries]
        if any(s is None for s in seqs):  # not a build's names: one side-car file each
            for item, kind, state, payload, meta in entries:
                self.add_item(item, kind, state, payload, meta, sync=False)
            return
        known = [s for s in seqs if s is not None]
        name = pack_name(min(known), max(known))
        body = pack_bytes([(e[0], e[4]) for e in entries])
        write_new_file(self.path / META_DIR / name, body, sync=False)
        modes: dict[str, int] = {}  # per state folder, taken once a chunk (a stat each)
        for item, kind, state, payload, _ in entries:
            if state not in modes:
                modes[state] = file_mode(self.path / state)
            path = self.path / state / f"{item}{_EXT[kind]}"
            write_new_file(path, payload, sync=False, mode=modes[state])

    def write_meta(self, item: str, meta: dict[str, Any], *, sync: bool = True) -> None:
        """An item's side-car as its own file, ``meta/<item>.json``: wins over a pack."""
        write_new_file(self.path / META_DIR / f"{item}.json", json_bytes(meta), sync=sync)

    # ------------------------------------------------------------ reading

    def _list_packs(self) -> list[tuple[int, int, str]]:
        found: list[tuple[int, int, str]] = []
        try:
            with os.scandir(f"{self._dir}/{META_DIR}") as it:
                for e in it:
                    if e.name[0] == "p" and (m := PACK_RE.fullmatch(e.name)):
                        found.append((int(m[1]), int(m[2]), e.name))
        except FileNotFoundError:
            pass
        self._packs = sorted(found)
        return self._packs

    def _pack_of(self, item: str) -> str | None:
        """The name of the pack whose range holds ``item``'s number (listed again once
        when none does: a batch being built gains packs)."""
        seq = seq_of(item)
        if seq is None:
            return None
        for packs in (self._packs, None):
            if packs is None:
                packs = self._list_packs()
            at = bisect.bisect_right(packs, (seq, _MAX_SEQ)) - 1
            if at >= 0 and packs[at][0] <= seq <= packs[at][1]:
                return packs[at][2]
        return None

    def _read_pack(self, item: str, name: str) -> dict[str, bytes] | None:
        """The side-cars of pack ``name`` by item (None: no such file); a pack whose
        lines are cut short lists its missing items with ``b""``."""
        cached = self._pack_read
        if cached is not None and cached[0] == name:
            return cached[1]
        try:
            raw = read_whole(f"{self._dir}/{META_DIR}/{name}")
        except FileNotFoundError:
            self._packs = None
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                why = "a symbolic link, which is not followed"
                raise self._damaged(item, f"{META_DIR}/{name}", why) from None
            raise
        lines = raw.split(b"\n")
        try:
            listed = json.loads(lines[0])["items"]
        except (ValueError, RecursionError, TypeError, KeyError):
            listed = None
        if not isinstance(listed, list) or not all(isinstance(i, str) for i in listed):
            why = "not valid JSON (cut short, or not a pack)"
            raise self._damaged(item, f"{META_DIR}/{name}", why)
        body = lines[1 : len(listed) + 1]
        body += [b""] * (len(listed) - len(body))
        found = dict(zip(listed, body, strict=True))
        self._pack_read = (name, found)
        return found

    def meta_bytes(self, item: str) -> bytes | None:
        """The JSON text of ``item``'s side-car (its own file, else its line of a pack),
        None when it has none. Raises ``SpoolError`` (naming the batch, the file and the
        fix) for a link where a side-car should be, or a pack cut short."""
        name = f"{META_DIR}/{item}.json"
        try:
            return read_whole(f"{self._dir}/{name}", 16384)
        except FileNotFoundError:
            pass
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            raise self._damaged(item, name, "a symbolic link, which is not followed") from None
        pack = self._pack_of(item)
        found = self._read_pack(item, pack) if pack is not None else None
        line = found.get(item) if found is not None else None
        if line is None:
            return None
        if not line.startswith(_line_key(item)):  # cut short, or not this item's line
            why = "cut short, or not a pack of side-cars (the item's line is missing)"
            raise self._damaged(item, f"{META_DIR}/{pack}", why)
        return line

    def meta(self, item: str) -> dict[str, Any]:
        """``item``'s side-car; ``NotFoundError`` when it has none, ``SpoolError`` (with
        the batch, the file and the fix) when it cannot be read."""
        raw = self.meta_bytes(item)
        if raw is None:
            raise self._no_item(item)
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            own = f"{META_DIR}/{item}.json"
            name = own if os.path.lexists(f"{self._dir}/{own}") else None
            if name is None:
                name = f"{META_DIR}/{self._pack_of(item)}"
                raise self._damaged(item, name, "not valid JSON (cut short, or not a pack)")
            raise self._damaged(item, name, "not valid JSON")
        return data

    def has_item(self, item: str) -> bool:
        """Whether ``item`` has a side-car (its own file, or a line in a pack)."""
        try:
            return self.meta_bytes(item) is not None
        except SpoolError:
            return True  # it has one, damaged: reading it says so

    def all_items(self) -> list[str]:
        """Every item of the batch, in build order: the side-car files' names and the
        names each pack lists on its first line."""
        names: set[str] = set()
        packs: list[tuple[int, int, str]] = []
        with os.scandir(self.path / META_DIR) as it:
            for e in it:
                if e.name.endswith(".json") and e.name[0] != ".":
                    names.add(e.name[:-5])
                elif e.name[0] == "p" and (m := PACK_RE.fullmatch(e.name)):
                    packs.append((int(m[1]), int(m[2]), e.name))
        self._packs = sorted(packs)
        for _, _, name in packs:
            names.update(self._pack_items(name))
        return sorted(names)

    def _pack_items(self, name: str) -> list[str]:
        path = f"{self._dir}/{META_DIR}/{name}"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            raise self._pack_damaged(name, "a symbolic link, which is not followed") from None
        try:
            head = os.pread(fd, _HEAD_READ, 0)
            if b"\n" not in head and len(head) == _HEAD_READ:
                head = read_whole(path)
        finally:
            os.close(fd)
        try:
            items = json.loads(head.split(b"\n", 1)[0]).get("items")
        except (ValueError, RecursionError, AttributeError):
            items = None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise self._pack_damaged(name, "not valid JSON (cut short, or not a pack)")
        return items

    def _pack_damaged(self, name: str, why: str) -> SpoolError:
        return SpoolError(
            f"Batch {self.id} is damaged: the file {META_DIR}/{name} is {why}.",
            field="batch",
            value=self.id,
            fix=DAMAGED_FIX.format(batch=self.id),
        )

    def find_item(self, name: str) -> str:
        """An item by its name, or by its document number when that is unique."""
        if self.has_item(name):
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
