"""Reading the spool for the screens: batches, pages of items, events, document states.

No Textual here: these are small adapters over ``store.spool`` that the Queue,
Documents and Archive panes call (and the benchmark times). What a batch holds is
read page by page: listing a state folder is one ``scandir`` (cached until the
folder changes), and only the items on the page have their side-car read, so the
last page of a 10,000-message batch costs what the first page of a 100-message
batch does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailing import words
from store.spool import (
    DAMAGED_FIX,
    EVENTS_FILE,
    EXT_BY_KIND,
    PRINT_PDF,
    STATES,
    Batch,
    DamagedBatchError,
    ItemRef,
    Spool,
    SpoolError,
)

# What "in a batch" means for a document: a message on its way, not yet final.
PENDING_STATES = frozenset({"draft", "approved", "held", "sending", "failed", "unknown"})
DOC_STATES: tuple[str, ...] = ("not sent", "in a batch", "sent", "to print")
ITEM_FILTERS: tuple[str, ...] = ("all", *STATES)
_KIND_BY_EXT = {e: k for k, e in EXT_BY_KIND.items()}


def human_size(n: int | None) -> str:
    """A size as every screen and message shows it (``mailing.names.human_size``)."""
    from mailing.names import human_size as size_text

    return "" if n is None else size_text(n)


# ---------------------------------------------------------------- batches


@dataclass
class BatchSummary:
    id: str
    type: str
    administration: str
    created_by: str
    created_at: str
    complete: bool
    counts: dict[str, int]
    approved_by: list[str]
    damaged: str = ""  # why batch.json cannot be used; the batch is shown, never used

    def label(self) -> str:
        counts = (
            " ".join(f"{words.item_state(k)} {v}" for k, v in self.counts.items() if v) or "empty"
        )
        if self.damaged:
            fix = DAMAGED_FIX.format(batch=self.id)
            return f"{self.id}  damaged: {self.damaged}; {fix}  {counts}"
        what = f"{words.doc_type_lower(self.type) or '?'} {self.administration or 'all'}"
        mark = "" if self.complete else " (unfinished)"
        return f"{self.id}  {what}{mark}  {counts}"


def summarize_batch(batch: Batch) -> BatchSummary:
    info: dict[str, Any] = {}
    damaged = ""
    built = batch.built
    if built:
        try:
            info = batch.info(fresh=True)
        except DamagedBatchError as exc:  # show the batch, its counts and why
            damaged = exc.reason
        except SpoolError:  # removed meanwhile
            built = False
    return BatchSummary(
        id=batch.id,
        type=str(info.get("type") or ""),
        administration=str(info.get("administration") or ""),
        created_by=str(info.get("created_by") or ""),
        created_at=str(info.get("created_at") or ""),
        complete=built and not damaged,
        counts=batch.counts(),
        approved_by=sorted({str(a.get("by", "")) for a in info.get("approvals", [])}),
        damaged=damaged,
    )


def list_batches(home: Path) -> list[BatchSummary]:
    """Every batch of the spool, newest first, with its counts per state."""
    return [summarize_batch(b) for b in reversed(Spool(home).batches())]


# ---------------------------------------------------------------- events


_EVENT_MARKERS = (b'"error"', b'"detail"', b'"deferred"', b'"refused"')


class EventsIndex:
    """Per item, its last event and its last failed attempt; reads only what was appended."""

    def __init__(self, batch: Batch) -> None:
        self.path = batch.path / EVENTS_FILE
        self.offset = 0
        self.last: dict[str, dict[str, Any]] = {}
        self.failure: dict[str, dict[str, Any]] = {}
        self.sent_at: float | None = None

    def update(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        self.offset += end + 1
        for line in data[: end + 1].splitlines():
            # Only failures, unknowns and deferrals are shown per row: skip parsing the rest.
            if not any(m in line for m in _EVENT_MARKERS):
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            item = ev.get("item")
            if not isinstance(item, str):
                continue
            self.last[item] = ev
            if ev.get("event") in ("attempt-failed", "refused") or ev.get("error"):
                self.failure[item] = ev


def failure_text(ev: dict[str, Any] | None) -> str:
    """One line on why a message failed: the diagnosis, the server's reply."""
    if not ev:
        return ""
    parts = [str(ev.get("error") or "")]
    code = ev.get("code")
    reply = str(ev.get("reply") or "")
    if code or reply:
        parts.append(f"server: {code or ''} {reply}".strip())
    if ev.get("refused"):
        parts.append("refused: " + ", ".join(ev["refused"]))
    return " - ".join(p for p in parts if p)


# ---------------------------------------------------------------- one batch, paged


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


@dataclass
class BatchView:
    """One batch as the Queue pane reads it: a page at a time."""

    batch: Batch
    _names: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    _meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    _refs: dict[str, tuple[Any, list[ItemRef]]] = field(default_factory=dict)
    _warned: set[str] | None = None
    events: EventsIndex = field(init=False)

    def __post_init__(self) -> None:
        self.events = EventsIndex(self.batch)

    @classmethod
    def open(cls, home: Path, batch_id: str) -> BatchView:
        return cls(Spool(home).batch(batch_id))

    # -- listing, cached per folder until the folder changes

    def names(self, state: str) -> list[str]:
        folder = self.batch.path / state
        try:
            stamp = os.stat(folder).st_mtime_ns
        except FileNotFoundError:
            return []
        cached = self._names.get(state)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        with os.scandir(folder) as it:
            names = sorted(
                e.name
                for e in it
                if e.name[0] != "."
                and e.name != PRINT_PDF
                and os.path.splitext(e.name)[1] in _KIND_BY_EXT
            )
        self._names[state] = (stamp, names)
        return names

    def counts(self) -> dict[str, int]:
        return {s: len(self.names(s)) for s in STATES}

    def refs(self, state: str = "all", warnings_only: bool = False) -> list[ItemRef]:
        states = STATES if state == "all" else (state,)
        listings = [self.names(st) for st in states]
        # The folders' modification stamps: unchanged folders, unchanged list.
        key = (state, tuple(self._names[st][0] if st in self._names else 0 for st in states))
        cached = self._refs.get(state)
        if cached is not None and cached[0] == key:
            out = cached[1]
        else:
            # One ref per item: the folders are listed one after another while a
            # sender moves items between them, so an item can be seen in two (the
            # later listing wins; the next look sees where it stayed).
            by_item: dict[str, ItemRef] = {}
            for st, names in zip(states, listings, strict=True):
                for name in names:
                    stem, ext = os.path.splitext(name)
                    by_item[stem] = ItemRef(stem, _KIND_BY_EXT[ext], st)
            out = list(by_item.values())
            if state == "all":
                out.sort(key=lambda r: r.item)
            self._refs[state] = (key, out)
        if warnings_only:
            warned = self.warned()
            out = [r for r in out if r.item in warned]
        return out

    def profile_counts(self, states: Iterable[str]) -> dict[str, int]:
        """Messages per sending profile, over the e-mail items in ``states``."""
        out: dict[str, int] = {}
        for st in states:
            for ref in self.refs(st):
                if ref.kind == "email":
                    code = str(self.meta(ref.item).get("profile") or "?")
                    out[code] = out.get(code, 0) + 1
        return out

    def meta(self, item: str) -> dict[str, Any]:
        data = self._meta.get(item)
        if data is None:
            try:
                data = self.batch.meta(item)
            except Exception:
                data = {}
            if len(self._meta) > 2000:
                self._meta.clear()
            self._meta[item] = data
        return data

    def warned(self) -> set[str]:
        """Items whose resolution carried a warning (side-cars are written once: cached)."""
        if self._warned is None:
            found: set[str] = set()
            meta_dir = self.batch.path / "meta"
            for name in self.batch.all_items():
                try:
                    raw = (meta_dir / f"{name}.json").read_bytes()
                except FileNotFoundError:
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
        if ref.state in ("failed", "unknown", "sent", "approved", "bounced"):
            ev = self.events.failure.get(ref.item)
            last = self.events.last.get(ref.item, {})
            if ref.state == "unknown":
                note = "UNKNOWN: " + str(last.get("detail") or "may have been delivered")
            elif ref.state == "failed":
                note = failure_text(ev) or str(meta.get("error") or "")
            elif ref.state == "approved" and last.get("deferred"):
                note = "deferred: " + failure_text(ev)
            elif ref.state == "bounced":
                note = failure_text(ev) or "bounced"
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
        refs = self.refs(state, warnings_only)
        self.events.update()
        return [self.row(r) for r in refs[offset : offset + limit]], len(refs)

    def print_pdf(self) -> Path | None:
        path = self.batch.path / "print" / PRINT_PDF
        return path if path.exists() else None


# ---------------------------------------------------------------- dry run


@dataclass
class DryRun:
    mailed: int = 0
    printed: int = 0
    print_reasons: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    warnings: int = 0
    total_bytes: int = 0
    already: dict[str, int] = field(default_factory=dict)
    profiles: dict[str, int] = field(default_factory=dict)  # profile code -> messages

    def text(self) -> str:
        lines = [
            f"{self.mailed:,} message(s) will be mailed ({human_size(self.total_bytes)} in all).",
            f"{self.printed:,} document(s) go to print"
            + (
                ": " + ", ".join(f"{n} {why}" for why, n in sorted(self.print_reasons.items()))
                if self.print_reasons
                else "."
            ),
            f"{self.warnings:,} item(s) have warnings (w in the queue shows them).",
        ]
        if self.failed:
            lines.append(f"{self.failed:,} could not be built or are too large (failed).")
        other = {k: v for k, v in self.already.items() if v}
        if other:
            lines.append(
                "Already: "
                + ", ".join(f"{v} {words.item_state(k)}" for k, v in other.items())
                + "."
            )
        return "\n".join(lines)


PRINT_REASON_TEXT = words.PRINT_REASONS


def dry_run(view: BatchView, items: Iterable[str] | None = None) -> DryRun:
    """What approving (all drafts, or ``items``) would lead to; reads the side-cars."""
    out = DryRun()
    if items is None:
        mail_refs = [r for r in view.refs("draft") if r.kind == "email"]
    else:
        wanted = set(items)
        mail_refs = [r for r in view.refs("all") if r.item in wanted and r.kind == "email"]
    for ref in mail_refs:
        meta = view.meta(ref.item)
        out.mailed += 1
        out.total_bytes += int(meta.get("size") or 0)
        code = str(meta.get("profile") or "?")
        out.profiles[code] = out.profiles.get(code, 0) + 1
    # One count everywhere: the items the w filter shows (of those chosen).
    warned = view.warned()
    out.warnings = len(warned) if items is None else len(warned & set(items))
    for ref in view.refs("print"):
        out.printed += 1
        reason = str(view.meta(ref.item).get("reason") or "?")
        text = PRINT_REASON_TEXT.get(reason, reason)
        out.print_reasons[text] = out.print_reasons.get(text, 0) + 1
    out.failed = len(view.names("failed"))
    for st in ("approved", "sent", "held", "unknown"):
        out.already[st] = len(view.names(st))
    return out


# ---------------------------------------------------------------- documents' states


@dataclass
class _BatchDocs:
    stamp: int
    docs: dict[str, tuple[str, str, str]]  # item -> (administration, type, number)


class DocumentStates:
    """The state of every document, derived from the spool (nothing stored per message).

    A document is ``sent`` when any batch sent it, else ``in a batch`` while a
    message for it waits (draft, approved, held, failed, unknown), else ``to print``
    when its latest batch put it on the print list, else ``not sent``.
    """

    def __init__(self, home: Path) -> None:
        self.spool = Spool(home)
        self._docs: dict[str, _BatchDocs] = {}

    def _items_of(self, batch: Batch) -> dict[str, tuple[str, str, str]]:
        meta_dir = batch.path / "meta"
        try:
            stamp = os.stat(meta_dir).st_mtime_ns
        except FileNotFoundError:
            return {}
        cached = self._docs.get(batch.id)
        if cached is not None and cached.stamp == stamp:
            return cached.docs
        docs: dict[str, tuple[str, str, str]] = {}
        for item in batch.all_items():
            try:
                doc = batch.meta(item).get("document", {})
            except Exception:
                continue
            docs[item] = (
                str(doc.get("administration")),
                str(doc.get("type")),
                str(doc.get("number")),
            )
        self._docs[batch.id] = _BatchDocs(stamp, docs)
        return docs

    def states(self) -> dict[tuple[str, str, str], tuple[str, str]]:
        """(administration, type, number) -> (state, batch id)."""
        out: dict[tuple[str, str, str], tuple[str, str]] = {}
        for batch in self.spool.batches():  # oldest first: later batches overwrite
            docs = self._items_of(batch)
            if not docs:
                continue
            for state in STATES:
                try:
                    with os.scandir(batch.path / state) as it:
                        names = [e.name for e in it if e.name[0] != "." and e.name != PRINT_PDF]
                except FileNotFoundError:
                    continue
                for name in names:
                    key = docs.get(os.path.splitext(name)[0])
                    if key is None:
                        continue
                    if state == "sent":
                        shown = "sent"
                    elif state == "print":
                        shown = "to print"
                    elif state in PENDING_STATES:
                        shown = "in a batch"
                    else:  # cancelled: as if it was never in this batch
                        continue
                    if out.get(key, ("", ""))[0] == "sent" and shown != "sent":
                        continue
                    out[key] = (shown, batch.id)
        return out
