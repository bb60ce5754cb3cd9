"""The archive: what was sent, kept with the document after a send (SPEC §3, §7).

Layout, under the data folder::

    archive/<administration>/<relation>/<doctype>-<number>/
        message.eml          the bytes that were sent
        <document>.pdf       the copy document (*kopiedocument*), for the types of SPEC §3
                             that keep one, with background where the table says so
        attachments/<name>   every attachment of the message (SPEC §7)
        record.json          batch, item, Message-ID, sender, recipients, server reply,
                             refused recipients, who approved and when, SHA-256, the
                             DSN envelope id, and ``redirected_to`` when it was sent in
                             test mode (to that address only, not to the customers)

A document sent again later (another batch) is kept beside the first as
``<doctype>-<number>.2``, ``.3``, ...; nothing is overwritten. ``record.json`` is
written last: a folder without it is an archive cut short by a crash, which
the next run completes.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailing.names import safe_file_name
from store.db import atomic_write_bytes
from store.permissions import make_dirs, open_new
from store.spool import Batch

if TYPE_CHECKING:
    from store.store import Store

ARCHIVE_DIR = "archive"
DONE_FILE = "archived.txt"  # per batch: the items already archived, one per line


def archive_root(home: Path) -> Path:
    return home / ARCHIVE_DIR


def _safe(name: str) -> str:
    return safe_file_name(name, "attachment")


def archive_folder(home: Path, document: dict[str, Any], batch_id: str, item: str) -> Path:
    """The folder of this send of the document (a new one if it was sent before)."""
    base = (
        archive_root(home)
        / _safe(document["administration"])
        / _safe(document["relation"])
        / f"{_safe(document['type'])}-{_safe(document['number'])}"
    )
    n = 1
    folder = base
    while True:
        rec = folder / "record.json"
        if not folder.exists():
            return folder
        if rec.exists():
            try:
                data = json.loads(rec.read_bytes())
            except ValueError:
                data = {}
            if data.get("batch") == batch_id and data.get("item") == item:
                return folder
        else:
            return folder  # cut short earlier: complete it
        n += 1
        folder = base.with_name(f"{base.name}.{n}")


def _parts(msg: EmailMessage) -> list[tuple[str, str, bytes]]:
    out: list[tuple[str, str, bytes]] = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            out.append((part.get_filename() or "attachment", part.get_content_type(), payload))
    return out


def sent_events(batch: Batch) -> dict[str, dict[str, Any]]:
    """Per item, the event that made it sent (one pass over the log)."""
    out: dict[str, dict[str, Any]] = {}
    for ev in batch.events():
        if ev.get("event") in ("sent", "marked-sent") and isinstance(ev.get("item"), str):
            out[ev["item"]] = ev
    return out


def archive_item(
    home: Path,
    batch: Batch,
    item: str,
    approvals: dict[str, dict[str, str]],
    sent: dict[str, dict[str, Any]],
    state: str = "sent",
) -> Path:
    """Archive one sent item (``state``: sent, or bounced since); return its folder."""
    from mailing.pdf.layout import COPY_DOCUMENT_TYPES

    meta = batch.meta(item)
    raw = batch.read(item, "email", state)
    document = meta["document"]
    folder = archive_folder(home, document, batch.id, item)
    make_dirs(folder / "attachments")
    atomic_write_bytes(folder / "message.eml", raw)
    msg = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    attachments = _parts(msg)
    copy_name = None
    pdf_name = meta.get("document_pdf")
    for name, _ctype, payload in attachments:
        atomic_write_bytes(folder / "attachments" / _safe(name), payload)
        if name == pdf_name and document["type"] in COPY_DOCUMENT_TYPES:
            # Every type that keeps a copy keeps it with background (SPEC §3), which
            # is the PDF that was sent, byte for byte.
            copy_name = f"copy-{_safe(name)}"
            atomic_write_bytes(folder / copy_name, payload)
    sent_event = sent.get(item, {})
    record = {
        "batch": batch.id,
        "item": item,
        "document": document,
        "message_id": meta.get("message_id"),
        "subject": meta.get("subject"),
        "profile": meta.get("profile"),
        "sender": meta.get("sender"),
        "recipients": meta.get("recipients"),
        "envelope": meta.get("envelope"),
        "sha256": approvals.get(item, {}).get("sha256"),
        "approved_by": approvals.get(item, {}).get("by"),
        "approved_at": approvals.get(item, {}).get("at"),
        "sent_at": sent_event.get("at"),
        "how": sent_event.get("event"),
        "marked_by": sent_event.get("by"),
        "server_reply": sent_event.get("reply"),
        "accepted": sent_event.get("accepted"),
        "refused": sent_event.get("refused"),
        # Test mode: the message went to this address only, not to the customers.
        "redirected_to": sent_event.get("redirected_to"),
        "envelope_id": sent_event.get("envid"),
        "copy_document": copy_name,
        "attachments": [name for name, _, _ in attachments],
    }
    atomic_write_bytes(
        folder / "record.json",
        json.dumps(record, indent=2, ensure_ascii=False, default=str).encode("utf-8"),
    )
    return folder


def archive_batch(store: Store, batch: Batch) -> int:
    """Archive every sent item of the batch not archived yet; return how many were."""
    done_path = batch.path / DONE_FILE
    try:
        done = set(done_path.read_text("utf-8").split())
    except FileNotFoundError:
        done = set()
    pending = [
        (r.item, r.state)
        for state in ("sent", "bounced")
        for r in batch.items(state)
        if r.kind == "email" and r.item not in done
    ]
    if not pending:
        return 0
    approvals = batch.approved_hashes()
    sent = sent_events(batch)
    fd = open_new(done_path, os.O_WRONLY | os.O_APPEND)
    try:
        for item, state in pending:
            archive_item(store.home, batch, item, approvals, sent, state)
            os.write(fd, f"{item}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return len(pending)
