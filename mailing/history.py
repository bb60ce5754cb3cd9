"""Which documents went out: for every document, whether it was sent, when, in which
batch and with which Message-ID — read from the spool, where the truth is.

A document counts as **sent** when a batch has its message in ``sent/`` and that send
was not in test mode (redirected to one address: ``mailroom sending redirect``). It is
**open** while a message for it waits in a batch (draft, held, approved, sending,
unknown). It is **printed** when a batch put it on its print list (it cannot be
mailed). ``batch create`` leaves all three out; ``--include-sent`` puts the sent and
printed ones back in.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store.spool import PRINT_PDF, Batch, Spool

DocKey = tuple[str, str, str]  # (administration, type, number)

OPEN_STATES = ("draft", "held", "approved", "sending", "unknown")


@dataclass(frozen=True)
class SentRecord:
    """One real send of a document."""

    batch: str
    item: str
    at: str
    message_id: str
    to: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "item": self.item,
            "at": self.at,
            "message_id": self.message_id,
            "to": list(self.to),
        }

    def sentence(self) -> str:
        return f"sent before on {self.at[:10]} (batch {self.batch})"


@dataclass
class History:
    """Every document's sends (oldest first), open batches and test-mode sends."""

    sent: dict[DocKey, list[SentRecord]] = field(default_factory=dict)
    open: dict[DocKey, tuple[str, str, str]] = field(default_factory=dict)  # batch, item, state
    redirected: dict[DocKey, list[SentRecord]] = field(default_factory=dict)
    printed: dict[DocKey, str] = field(default_factory=dict)  # the batch of its print list

    def last_sent(self, key: DocKey) -> SentRecord | None:
        sends = self.sent.get(key)
        return sends[-1] if sends else None


def _document_keys(batch: Batch, info: dict[str, Any]) -> dict[str, DocKey]:
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


def _names(batch: Batch, state: str, ext: str = ".eml") -> list[str]:
    try:
        with os.scandir(batch.path / state) as it:
            return [
                os.path.splitext(e.name)[0]
                for e in it
                if e.name[0] != "." and e.name != PRINT_PDF and e.name.endswith(ext)
            ]
    except FileNotFoundError:
        return []


def _sent_events(batch: Batch) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for ev in batch.events():
        if ev.get("event") in ("sent", "marked-sent") and isinstance(ev.get("item"), str):
            out[ev["item"]] = ev
    return out


def document_history(home: Path, *, keys: Iterable[DocKey] | None = None) -> History:
    """What the spool says about every document (or only ``keys``)."""
    wanted = set(keys) if keys is not None else None
    history = History()
    for batch in Spool(home).batches():  # oldest first
        if not batch.complete:
            continue
        docs = _document_keys(batch, batch.info())
        if wanted is not None:
            docs = {i: k for i, k in docs.items() if k in wanted}
        if not docs:
            continue
        for state in OPEN_STATES:
            for item in _names(batch, state):
                if item in docs:
                    history.open[docs[item]] = (batch.id, item, state)
        for item in _names(batch, "print", ".pdf"):
            if item in docs:
                history.printed[docs[item]] = batch.id
        sent_items = [i for i in _names(batch, "sent") if i in docs]
        if not sent_items:
            continue
        events = _sent_events(batch)
        for item in sorted(sent_items):
            ev = events.get(item, {})
            mid = ev.get("message_id")
            if not mid:
                try:
                    mid = batch.meta(item).get("message_id")
                except Exception:
                    mid = None
            record = SentRecord(
                batch=batch.id,
                item=item,
                at=str(ev.get("at") or ""),
                message_id=str(mid or ""),
                to=tuple(ev.get("accepted") or ()),
            )
            table = history.redirected if ev.get("redirected_to") else history.sent
            table.setdefault(docs[item], []).append(record)
    # Batch ids sort by the second they were made in; the send times order the sends.
    for table in (history.sent, history.redirected):
        for sends in table.values():
            sends.sort(key=lambda r: (r.at, r.batch))
    return history
