"""A delivery report, matched to its item and recorded: the item goes from ``sent``
to ``bounced`` with the kind (hard, soft), the recipient and the reason; its archive
record says so too.

Matching, most certain first: the envelope id we sent (RFC 3461 ENVID, which names
the batch and item), else a Message-ID the report quotes (its rfc822 part, its
headers part, or the original pasted into a text bounce). A report about the office's
own Bcc copy only is not a bounce of the customer's message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailing.bounces.parse import Failure, Report
from mailing.transports.dsn import parse_envelope_id
from store.db import atomic_write_bytes
from store.permissions import make_dirs
from store.spool import Batch, Spool, State

# The states in which an item's message went out (a report may come for any of them).
OUT_STATES = ("sent", "bounced", "failed")


@dataclass
class Bounce:
    batch: str
    item: str
    recipient: str
    kind: str
    reason: str
    matched_by: str
    document: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "item": self.item,
            "document": self.document,
            "recipient": self.recipient,
            "kind": self.kind,
            "reason": self.reason,
            "matched_by": self.matched_by,
        }


class ItemIndex:
    """Message-ID -> (batch, item) of every message that went out; built on first use."""

    def __init__(self, home: Path) -> None:
        self.spool = Spool(home)
        self._ids: dict[str, tuple[str, str]] | None = None

    def by_message_id(self, message_id: str) -> tuple[str, str] | None:
        if self._ids is None:
            self._ids = {}
            for batch in self.spool.batches():
                if not batch.complete:
                    continue
                for state in OUT_STATES:
                    for ref in batch.items(state):
                        if ref.kind != "email":
                            continue
                        try:
                            mid = str(batch.meta(ref.item).get("message_id") or "")
                        except Exception:
                            continue
                        if mid:
                            self._ids[mid.strip().strip("<>")] = (batch.id, ref.item)
        return self._ids.get(message_id)

    def batch(self, batch_id: str) -> Batch | None:
        try:
            return self.spool.batch(batch_id)
        except Exception:
            return None


def find_item(report: Report, index: ItemIndex) -> tuple[str, str, str] | None:
    """(batch, item, matched by) of the message a report is about, or None."""
    if report.envid:
        found = parse_envelope_id(report.envid)
        if found is not None:
            batch = index.batch(found[0])
            if batch is not None and (batch.path / "meta" / f"{found[1]}.json").exists():
                return found[0], found[1], "envelope id"
    for mid in report.message_ids:
        hit = index.by_message_id(mid)
        if hit is not None:
            return hit[0], hit[1], "Message-ID"
    return None


def _office_copy(meta: dict[str, Any], failure: Failure) -> bool:
    """The failed recipient is only the profile's Bcc (the office's own copy)."""
    recipients = meta.get("recipients") or {}
    customers = {a.lower() for a in (*recipients.get("to", []), *recipients.get("cc", []))}
    bcc = {a.lower() for a in recipients.get("bcc", [])}
    return failure.recipient in bcc and failure.recipient not in customers


def record_bounces(home: Path, report: Report, index: ItemIndex) -> list[Bounce] | None:
    """Record what ``report`` says about its item; None when it matches no item."""
    found = find_item(report, index)
    if found is None:
        return None
    batch_id, item, how = found
    batch = index.batch(batch_id)
    assert batch is not None
    meta = batch.meta(item)
    bounces = [
        Bounce(batch_id, item, f.recipient, f.kind, f.reason, how, meta.get("document", {}))
        for f in report.failures
        if not _office_copy(meta, f)
    ]
    if not bounces:
        return []
    try:
        _mark(batch, item, bounces, report)
    finally:
        batch.close()
    _archive_note(home, batch_id, item, meta, bounces)
    return bounces


def _mark(batch: Batch, item: str, bounces: list[Bounce], report: Report) -> None:
    first = bounces[0]
    hard = any(b.kind == "hard" for b in bounces)
    who = ", ".join(f"{b.recipient} ({b.reason})" for b in bounces)
    event = {
        "event": "bounced",
        "kind": "hard" if hard else "soft",
        "recipients": {b.recipient: {"kind": b.kind, "reason": b.reason} for b in bounces},
        "reason": first.reason,
        "error": f"bounced ({'hard' if hard else 'soft'}) for {who}",
        "matched_by": first.matched_by,
        "report": report.own_id,
    }
    ref = batch.locate(item)
    if ref.state == State.SENT:
        make_dirs(batch.path / State.BOUNCED)  # older batches
        if batch.advance(item, State.SENT, State.BOUNCED, event):
            return
        ref = batch.locate(item)
    # Already bounced (another report), or failed: the report is kept as an event.
    batch.log({"item": item, **event, "state": ref.state}, sync=True)


def _archive_note(
    home: Path, batch_id: str, item: str, meta: dict[str, Any], bounces: list[Bounce]
) -> None:
    """Add the bounce to the archive record of this send, when it was archived."""
    from mailing.archive import archive_folder

    document = meta.get("document")
    if not isinstance(document, dict):
        return
    try:
        folder = archive_folder(home, document, batch_id, item)
        record = json.loads((folder / "record.json").read_bytes())
    except (OSError, ValueError, KeyError):
        return
    if record.get("batch") != batch_id or record.get("item") != item:
        return
    record.setdefault("bounces", []).extend(
        {"recipient": b.recipient, "kind": b.kind, "reason": b.reason} for b in bounces
    )
    atomic_write_bytes(
        folder / "record.json",
        json.dumps(record, indent=2, ensure_ascii=False, default=str).encode("utf-8"),
    )
