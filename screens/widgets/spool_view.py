"""Reading one batch for the screens: a page of its items at a time.

No Textual here: a small adapter over ``store.spool`` that the Queue, Documents and
Preview panes call (and ``benchmarks/queue_view.py`` times). Listing a state folder
is one ``listdir``, kept sorted until the folder changes; a filter's list is those
names and a small number per name (:class:`Listing`), and only the items on the page
are made into rows: their side-car read (``Batch.meta``), their events parsed
(:mod:`.spool_events`), so the last page of a 10,000-message batch costs what the
first page of a 100-message batch does, past one listing of the folders. The batches' list and the documents' states are their own modules
(re-exported here for the panes that import them from this one), and so is the
dry run of an approval (:mod:`.spool_dry_run`, which reads through a ``BatchView``).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailing import words
from screens.widgets.spool_events import EventsIndex, delay_text, failure_text
from store.errors import MailroomError
from store.spool import BATCH_FILE, EXT_BY_KIND, PRINT_PDF, STATES, Batch, ItemRef, Spool

ITEM_FILTERS: tuple[str, ...] = ("all", *STATES)
# In batch.json, an item's summary and its profile: {"item": "...", ..., "profile": "..."}
# (greedy: an object has one "profile" key, and no brace inside its span)
_SUMMARY_PROFILE = re.compile(r'\{"item": "([^"\\]+)"[^{}]*"profile": "([^"\\]+)"')
_SUMMARY_START = '{"item": "'
_PIECE = 65536
_KIND_BY_EXT = {e: k for k, e in EXT_BY_KIND.items()}


def human_size(n: int | None) -> str:
    """A size as every screen and message shows it (``mailing.names.human_size``)."""
    from mailing.names import human_size as size_text

    return "" if n is None else size_text(n)


@dataclass
class ItemRow:
    item: str
    kind: str
    state: str
    number: str
    relation: str
    to: str
    size: int | None
    warnings: int
    note: str

    def label(self, width: int = 76) -> str:
        left = f"{words.item_state(self.state):<9} {self.number:<12} {self.relation:<8}"
        right = self.note or self.to
        if self.warnings:
            right = f"!{self.warnings} {right}"
        size = human_size(self.size)
        room = max(width - len(left) - len(size) - 3, 8)
        right = right if len(right) <= room else right[: room - 1] + "~"
        return f"{left} {right:<{room}} {size:>8}"


# An item as listed: (name, kind, state); an ItemRef is made only when asked for.
Entry = tuple[str, str, str]
_EXTS = tuple(_KIND_BY_EXT)
_KINDS = tuple(_KIND_BY_EXT.values())
_CODE_OF_EXT = {ext: i for i, ext in enumerate(_EXTS)}  # a kind's code: 0..3
_MAIL_EXT = EXT_BY_KIND["email"]


@dataclass(frozen=True, repr=False)
class Listing:
    """The items of one filter in the order shown: their names, and per name the
    code of its kind and state (``state index * 4 + kind code``).

    No tuple, no ``ItemRef`` per item: a page makes the (name, kind, state) of its
    rows only (:meth:`entries`), so a 10,000-message batch costs a dictionary of
    names and small numbers, not 10,000 objects for the collector to look at.
    """

    key: tuple[int, ...]  # the folders' modification stamps it was made from
    states: tuple[str, ...]
    names: list[str]
    codes: dict[str, int]

    def __len__(self) -> int:
        return len(self.names)

    def entry(self, name: str) -> Entry:
        code = self.codes[name]
        return name, _KINDS[code & 3], self.states[code >> 2]

    def entries(self, start: int = 0, stop: int | None = None) -> list[Entry]:
        return [self.entry(n) for n in self.names[start:stop]]


@dataclass(repr=False)
class BatchView:
    """One batch as the Queue pane reads it: a page at a time."""

    batch: Batch
    _names: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    _meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    _listings: dict[str, Listing] = field(default_factory=dict)
    _entries: dict[str, tuple[Listing, list[Entry]]] = field(default_factory=dict)
    _refs: dict[str, tuple[list[Entry], list[ItemRef]]] = field(default_factory=dict)
    _warned: set[str] | None = None
    _profile_of: dict[str, str] | None = None
    events: EventsIndex = field(init=False)

    def __post_init__(self) -> None:
        self.events = EventsIndex(self.batch)

    def __repr__(self) -> str:
        # Short: Textual names a worker after the repr of its arguments.
        return f"BatchView({self.batch.id!r})"

    @classmethod
    def open(cls, home: Path, batch_id: str) -> BatchView:
        return cls(Spool(home).batch(batch_id))

    # -- listing, cached per folder until the folder changes

    def names(self, state: str) -> list[str]:
        """The item files in ``state``'s folder, sorted (one ``listdir``, kept until
        the folder's modification stamp changes)."""
        folder = f"{self.batch.path}/{state}"
        try:
            stamp = os.stat(folder).st_mtime_ns
        except FileNotFoundError:
            return []
        cached = self._names.get(state)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            listed = os.listdir(folder)
        except FileNotFoundError:
            return []
        names = [n for n in listed if n.endswith(_EXTS) and n[0] != "." and n != PRINT_PDF]
        names.sort()
        self._names[state] = (stamp, names)
        return names

    def counts(self) -> dict[str, int]:
        return {s: len(self.names(s)) for s in STATES}

    def listing(self, state: str = "all") -> Listing:
        """The items in ``state`` (every state: "all", by name), kept until a folder
        changes."""
        states = STATES if state == "all" else (state,)
        listings = [self.names(st) for st in states]
        # The folders' modification stamps: unchanged folders, unchanged list.
        key = tuple(self._names[st][0] if st in self._names else 0 for st in states)
        cached = self._listings.get(state)
        if cached is not None and cached.key == key:
            return cached
        # One entry per item: the folders are listed one after another while a
        # sender moves items between them, so an item can be seen in two (the
        # later listing wins; the next look sees where it stayed).
        codes: dict[str, int] = {}
        for i, names in enumerate(listings):
            for name in names:
                dot = name.rfind(".")
                codes[name[:dot]] = i * 4 + _CODE_OF_EXT[name[dot:]]
        order = sorted(codes) if state == "all" and len(states) > 1 else list(codes)
        made = Listing(key, states, order, codes)
        self._listings[state] = made
        return made

    def entries(self, state: str = "all") -> list[Entry]:
        """The items in ``state`` (every state: "all", by name) as (name, kind, state)."""
        listing = self.listing(state)
        cached = self._entries.get(state)
        if cached is not None and cached[0] is listing:
            return cached[1]
        out = listing.entries()
        self._entries[state] = (listing, out)
        return out

    def refs(self, state: str = "all", warnings_only: bool = False) -> list[ItemRef]:
        entries = self.entries(state)
        cached = self._refs.get(state)
        if cached is not None and cached[0] is entries:
            out = cached[1]
        else:
            out = [ItemRef(*e) for e in entries]
            self._refs[state] = (entries, out)
        if warnings_only:
            warned = self.warned()
            out = [r for r in out if r.item in warned]
        return out

    def profile_counts(self, states: Iterable[str]) -> dict[str, int]:
        """Messages per sending profile, over the e-mail items in ``states``.

        The profile of each message is in ``batch.json`` (the build's summary of every
        item, read once); only an item it does not name has its side-car read.
        """
        built = self._profiles()
        out: dict[str, int] = {}
        for st in states:
            items = self._mail_items(st)
            found = Counter(map(built.get, items))  # None: not in batch.json
            for code, n in found.items():
                if code is not None:
                    out[code] = out.get(code, 0) + n
            if None in found:
                for item in items:
                    if item not in built:
                        code = str(self.meta(item).get("profile") or "?")
                        out[code] = out.get(code, 0) + 1
        return out

    def _mail_items(self, state: str) -> list[str]:
        """The e-mail items in ``state``; an item there also as another kind is of
        that kind, as in :meth:`listing` (its file sorts after the ``.eml``)."""
        names = self.names(state)
        cut = len(_MAIL_EXT)
        mail = [n[:-cut] for n in names if n.endswith(_MAIL_EXT)]
        if len(mail) < len(names):
            other = {n[: n.rfind(".")] for n in names if not n.endswith(_MAIL_EXT)}
            mail = [n for n in mail if n not in other]
        return mail

    def _profiles(self) -> dict[str, str]:
        """item -> profile code, as the build listed them in ``batch.json``.

        Found in its text, not parsed: ``json.loads`` of a 10,000-item batch holds
        the interpreter for tens of milliseconds, the keys pressed meanwhile wait.
        An item not found so (an address with a brace in it) has its side-car read.
        """
        if self._profile_of is None:
            try:
                raw = (self.batch.path / BATCH_FILE).read_bytes()
            except OSError:
                raw = b""
            text = raw.decode("utf-8", "replace")
            found: dict[str, str] = {}
            # A piece of ~64 KB at a time, cut where a summary begins (no match goes
            # over a brace), and the interpreter let go between pieces: this runs
            # in a worker, and the keys pressed meanwhile are the pane's to handle
            # (one pass over 1.8 MB held them ~10 ms). Each piece split on the
            # expression: [before, item, profile, between, item, profile, ...],
            # strings only (no match object, tuple or decoding per item).
            start = 0
            while start < len(text):
                cut = text.find(_SUMMARY_START, start + _PIECE)
                end = len(text) if cut < 0 else cut
                parts = _SUMMARY_PROFILE.split(text[start:end])
                found.update(zip(parts[1::3], parts[2::3], strict=True))
                start = end
                time.sleep(0)
            self._profile_of = found
        return self._profile_of

    def meta(self, item: str) -> dict[str, Any]:
        data = self._meta.get(item)
        if data is None:
            try:
                data = self.batch.meta(item)
            except MailroomError:  # gone or damaged: the item shows without its details
                data = {}
            if len(self._meta) > 2000:
                self._meta.clear()
            self._meta[item] = data
        return data

    def warned(self) -> set[str]:
        """Items whose resolution carried a warning (side-cars are written once: cached)."""
        if self._warned is None:
            found: set[str] = set()
            for name in self.batch.all_items():
                try:
                    raw = self.batch.meta_bytes(name)
                except MailroomError:  # damaged: its row says so
                    continue
                if raw is None:
                    continue
                if b'"warnings": []' in raw or b'"warnings"' not in raw:
                    continue
                data = json.loads(raw)
                if data.get("warnings"):
                    found.add(name)
            self._warned = found
        return self._warned

    def row(self, ref: ItemRef) -> ItemRow:
        meta = self.meta(ref.item)
        doc = meta.get("document", {})
        to = ", ".join(meta.get("recipients", {}).get("to", []))
        note = ""
        if ref.state in ("failed", "unknown", "approved", "bounced"):
            ev = self.events.failure.get(ref.item)
            last = self.events.last.get(ref.item) or {}
            if ref.state == "unknown":
                note = "UNKNOWN: " + str(last.get("detail") or "may have been delivered")
            elif ref.state == "failed":
                note = failure_text(ev) or str(meta.get("error") or "")
            elif ref.state == "approved" and last.get("deferred"):
                note = "deferred: " + failure_text(ev)
            elif ref.state == "bounced":
                note = failure_text(ev) or "bounced"
        if ref.state == "sent":
            last = self.events.last.get(ref.item) or {}
            if last.get("redirected_to"):
                note = "sent to the test address only, not to the customer"
            note = delay_text(self.events.delay.get(ref.item)) or note
        before = meta.get("sent_before")
        if not note and isinstance(before, dict):
            note = f"sent before on {str(before.get('at'))[:10]}"
        if ref.kind == "print":
            note = f"to print: {words.print_reason(meta.get('reason'))}"
        elif ref.kind == "error":
            note = str(meta.get("error") or "could not be built")
        return ItemRow(
            item=ref.item,
            kind=ref.kind,
            state=ref.state,
            number=str(doc.get("number") or ref.item.split("-", 1)[-1]),
            relation=str(doc.get("relation") or ""),
            to=to,
            size=meta.get("size"),
            warnings=len(meta.get("warnings") or []),
            note=note,
        )

    def page(
        self, offset: int, limit: int, state: str = "all", warnings_only: bool = False
    ) -> tuple[list[ItemRow], int]:
        self.events.update()
        if warnings_only:
            refs = self.refs(state, warnings_only)
            return [self.row(r) for r in refs[offset : offset + limit]], len(refs)
        listing = self.listing(state)  # (name, kind, state) for the rows shown only
        rows = [self.row(ItemRef(*e)) for e in listing.entries(offset, offset + limit)]
        return rows, len(listing)

    def print_pdf(self) -> Path | None:
        path = self.batch.path / "print" / PRINT_PDF
        return path if path.exists() else None
