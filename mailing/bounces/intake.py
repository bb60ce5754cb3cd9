"""A delivery report, proven and matched to its item, and recorded.

A report changes an item only when all three hold:

1. it is a delivery report: sent with the null return path or by a mail system's
   MAILER-DAEMON/postmaster (:attr:`Report.from_mail_system`);
2. it names the item: the envelope id we sent (RFC 3461 ENVID, which names the
   batch and item), else a Message-ID it quotes (its rfc822 part, its headers part,
   or the original pasted into a text bounce);
3. the recipient it reports on (its ``Final-Recipient``) is one of that item's To or
   Cc recipients.

Anything else is an *unmatched report* (:class:`Unmatched`, with the reason): kept
for a person to look at (``bounces list --unmatched``), changing nothing.

A failure (``Action: failed``) moves the item ``sent -> bounced`` with the recipient
and the reason, and its archive record says so. A delay (``Action: delayed``: the
customer's server has not taken it yet, the mail system keeps trying) is only a note
on the item, which stays ``sent``: nothing is sent again because of it. A report
about the office's own Bcc copy only changes nothing.
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


@dataclass
class Delay:
    """A delay report about one recipient of a sent item: a note, not a failure."""

    batch: str
    item: str
    recipient: str
    reason: str
    since: str
    matched_by: str
    document: dict[str, Any] = field(default_factory=dict)

    def sentence(self) -> str:
        return delay_sentence(self.recipient, self.since, self.reason)

    def to_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "item": self.item,
            "document": self.document,
            "recipient": self.recipient,
            "since": self.since,
            "reason": self.reason,
            "matched_by": self.matched_by,
            "note": self.sentence(),
        }


def delay_sentence(recipient: str, since: str, reason: str) -> str:
    when = f" since {since}" if since else ""
    why = f": {reason}" if reason else ""
    return f"delayed at the customer's server for {recipient}{when} (still being retried){why}"


@dataclass
class Unmatched:
    """A report (or what claims to be one) that changed nothing, and why."""

    reason: str
    sender: str = ""
    subject: str = ""
    date: str = ""
    recipients: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "from": self.sender,
            "subject": self.subject,
            "date": self.date,
            "recipients": self.recipients,
        }


@dataclass
class Recorded:
    """What one report did: bounces, delay notes, or nothing (``unmatched``)."""

    bounces: list[Bounce] = field(default_factory=list)
    delays: list[Delay] = field(default_factory=list)
    unmatched: Unmatched | None = None


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
            if batch is not None and batch.has_item(found[1]):
                return found[0], found[1], "envelope id"
    for mid in report.message_ids:
        hit = index.by_message_id(mid)
        if hit is not None:
            return hit[0], hit[1], "Message-ID"
    return None


def _customers(meta: dict[str, Any]) -> set[str]:
    recipients = meta.get("recipients") or {}
    return {a.lower() for a in (*recipients.get("to", []), *recipients.get("cc", []))}


def _office_copy(meta: dict[str, Any], failure: Failure) -> bool:
    """The failed recipient is only the profile's Bcc (the office's own copy)."""
    recipients = meta.get("recipients") or {}
    bcc = {a.lower() for a in recipients.get("bcc", [])}
    return failure.recipient in bcc and failure.recipient not in _customers(meta)


def _unmatched(report: Report, reason: str) -> Recorded:
    named = [f.recipient for f in (*report.failures, *report.delays)]
    return Recorded(unmatched=Unmatched(reason, report.sender, report.subject, report.date, named))


def record_bounces(home: Path, report: Report, index: ItemIndex) -> Recorded:
    """Record what ``report`` proves about its item (see the module's three rules)."""
    if not report.from_mail_system:
        who = report.sender or "no sender"
        return _unmatched(
            report,
            f"not sent as a delivery report (from {who}, not with the null return path "
            "nor by a MAILER-DAEMON or postmaster)",
        )
    found = find_item(report, index)
    if found is None:
        return _unmatched(report, "it names no message Mailroom sent")
    batch_id, item, how = found
    batch = index.batch(batch_id)
    assert batch is not None
    try:
        meta = batch.meta(item)
        customers = _customers(meta)
        named = [f for f in (*report.failures, *report.delays) if not _office_copy(meta, f)]
        if not named and (report.failures or report.delays):
            return Recorded()  # only the office's own Bcc copy: the customer has it
        ours = [f for f in named if f.recipient in customers]
        if not ours:
            document = meta.get("document") or {}
            what = " ".join(str(document.get(k, "")) for k in ("type", "number")).strip()
            return _unmatched(
                report,
                f"it names {what or 'a message'} (batch {batch_id}) by its {how}, but "
                f"reports on {', '.join(f.recipient for f in named)}, not one of its "
                f"recipients ({', '.join(sorted(customers)) or 'none'})",
            )
        document = meta.get("document", {})
        bounces = [
            Bounce(batch_id, item, f.recipient, f.kind, f.reason, how, document)
            for f in ours
            if f.kind == "hard"
        ]
        delays = [
            Delay(batch_id, item, f.recipient, f.reason, report.date, how, document)
            for f in ours
            if f.kind == "delayed"
        ]
        if _already(batch, item, report):
            return Recorded()  # read before (another fetch at the same time)
        if bounces:
            _mark(batch, item, bounces, report)
        elif delays:
            _note_delay(batch, item, delays, report)
    finally:
        batch.close()
    if bounces:
        _archive_note(home, batch_id, item, meta, bounces)
    return Recorded(bounces, delays)


def _already(batch: Batch, item: str, report: Report) -> bool:
    """This very report (by its own Message-ID) was recorded for the item before."""
    if not report.own_id:
        return False
    needle = json.dumps(report.own_id).encode()
    return any(
        ev.get("item") == item and ev.get("report") == report.own_id for ev in batch.events(needle)
    )


def _note_delay(batch: Batch, item: str, delays: list[Delay], report: Report) -> None:
    """A note on the item (which stays as it is): ``"note": true`` events are not a
    change of state, and are not the item's last event (store/spool/events.py)."""
    ref = batch.locate(item)
    batch.log(
        {
            "item": item,
            "event": "delayed",
            "state": ref.state,
            "note": True,
            "since": report.date,
            "recipients": {d.recipient: {"reason": d.reason} for d in delays},
            "reason": delays[0].reason,
            "text": "; ".join(d.sentence() for d in delays),
            "matched_by": delays[0].matched_by,
            "report": report.own_id,
        },
        sync=True,
    )


def _mark(batch: Batch, item: str, bounces: list[Bounce], report: Report) -> None:
    first = bounces[0]
    who = ", ".join(f"{b.recipient} ({b.reason})" for b in bounces)
    event = {
        "event": "bounced",
        "kind": "hard",
        "recipients": {b.recipient: {"kind": b.kind, "reason": b.reason} for b in bounces},
        "reason": first.reason,
        "error": f"bounced (hard) for {who}",
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
    from mailing.sending import archive_folder

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
