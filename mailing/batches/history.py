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

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailing.batches.history_index import DocKey, HistoryIndex
from store.errors import NotFoundError
from store.spool.states import STATES

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
    bounced: dict[DocKey, list[tuple[str, str]]] = field(default_factory=dict)  # batch, item
    failed: dict[DocKey, list[tuple[str, str]]] = field(default_factory=dict)  # batch, item
    damaged: list[str] = field(default_factory=list)  # built batches that cannot be read

    def last_sent(self, key: DocKey) -> SentRecord | None:
        sends = self.sent.get(key)
        return sends[-1] if sends else None


def document_history(home: Path, *, keys: Iterable[DocKey] | None = None) -> History:
    """What the spool says about every document (or only ``keys``), from the index of
    sends (``mailing/batches/history_index.py``): only the batches changed since are read."""
    history = History()
    index = HistoryIndex(home)
    for batch_id, key, items in index.entries(keys):  # oldest batch first
        for item, state, ext, at, mid, to, redirected in items:
            if state in OPEN_STATES and ext == ".eml":
                history.open[key] = (batch_id, item, state)
            elif state == "print" and ext == ".pdf":
                history.printed[key] = batch_id
            elif state == "bounced" and ext == ".eml":
                history.bounced.setdefault(key, []).append((batch_id, item))
            elif state == "failed" and ext == ".eml":
                history.failed.setdefault(key, []).append((batch_id, item))
            elif state == "sent" and ext == ".eml":
                record = SentRecord(batch=batch_id, item=item, at=at, message_id=mid, to=tuple(to))
                table = history.redirected if redirected else history.sent
                table.setdefault(key, []).append(record)
    history.damaged = index.damaged
    # Batch ids sort by the second they were made in; the send times order the sends.
    for table in (history.sent, history.redirected):
        for sends in table.values():
            sends.sort(key=lambda r: (r.at, r.batch))
    return history


def delivered_to(home: Path, batch_id: str, item: str) -> set[str]:
    """The recipients a server took an item that did not count as sent (failed,
    bounced) for: whoever took it, less whoever a report says it bounced for."""
    from mailing.sending.delivery import delivered_before
    from store.spool import Spool

    try:
        batch = Spool(home).batch(batch_id)
    except NotFoundError:  # a batch removed since: nobody took anything from it
        return set()
    try:
        needle = json.dumps(item).encode()
        events = [ev for ev in batch.events(needle) if ev.get("item") == item]
        if any(ev.get("redirected_to") for ev in events):
            return set()  # test mode: the customers got nothing
        took = delivered_before(events).get(item, set())
        for ev in events:
            if ev.get("event") == "bounced":
                took -= set(ev.get("recipients") or {})
        return took
    finally:
        batch.close()


def report_notes(home: Path, batch_id: str, item: str) -> list[str]:
    """What delivery reports said about one sent item, in words: "bounced on DATE for
    ADDRESS: reason", "delayed at the customer's server for ADDRESS since ...: reason"."""
    from store.spool import Spool

    try:
        batch = Spool(home).batch(batch_id)
    except NotFoundError:  # a batch removed since: no reports to tell
        return []
    out: list[str] = []
    try:
        for ev in batch.events(b'"report"'):
            if ev.get("item") != item:
                continue
            if ev.get("event") == "bounced":
                for rcpt, what in (ev.get("recipients") or {}).items():
                    reason = (what or {}).get("reason") or ev.get("reason") or ""
                    out.append(f"bounced on {str(ev.get('at'))[:10]} for {rcpt}: {reason}")
            elif ev.get("event") == "delayed" and ev.get("text"):
                out.append(str(ev["text"]))
    finally:
        batch.close()
    return out


# What the Documents pane shows of a document, by the state of its message.
PENDING_STATES = frozenset({"draft", "approved", "held", "sending", "failed", "unknown"})
DOC_STATES: tuple[str, ...] = ("not sent", "in a batch", "sent", "to print")


def document_states(
    home: Path, keys: Iterable[DocKey] | None = None
) -> dict[DocKey, tuple[str, str]]:
    """(administration, type, number) -> (shown state, batch id): ``sent`` when any batch
    sent it, else ``in a batch`` while a message for it waits, else ``to print`` when its
    latest batch put it on the print list; documents in no batch are left out."""
    out: dict[DocKey, tuple[str, str]] = {}
    for batch_id, key, items in HistoryIndex(home).entries(keys):  # oldest first
        for state in STATES:  # in the order of the folders, as the pane always did
            for entry in items:
                if entry[1] != state:
                    continue
                if state == "sent" and entry[6]:
                    continue  # sent to the test address only: not to the customer
                if state == "sent":
                    shown = "sent"
                elif state == "print":
                    shown = "to print"
                elif state in PENDING_STATES:
                    shown = "in a batch"
                else:  # cancelled, bounced: as if it was never in this batch
                    continue
                if out.get(key, ("", ""))[0] == "sent" and shown != "sent":
                    continue
                out[key] = (shown, batch_id)
    return out
