"""Helpers for the spool and send-engine tests: a store with a profile, and a spooled batch.

``spool_batch`` writes a batch as ``mailing.batches.build`` did before side-cars were
packed (``Batch.add_item``, one ``meta/<item>.json`` each, plus ``batch.json``), with
small hand-built messages, so the spool and the engine can be tested without rendering
PDFs, on the layout a spool may still hold; a build's batches have packed side-cars.
"""

from __future__ import annotations

import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from mailing.sending import letterhead_fingerprint, template_fingerprint
from store.records import Administration, LanguageCode, Profile, SystemSettings, Template
from store.spool import Batch, Spool, now_iso
from store.store import Store

SENDER = "billing@sender.example"


def make_store(home: Path, profile_fields: dict[str, Any], **profile_extra: Any) -> Store:
    store = Store(home, "alice")
    from mailing.identity import mark_demo

    mark_demo(home)  # alice and the sender are names, not logins: a demo folder allows them
    profile = Profile.parse(
        {"code": "P", "sender": SENDER, "auth": "none", **profile_fields, **profile_extra}
    )
    tpl = Template(code="INV-NL", object="sales_invoice", subject="Factuur {{ number }}", body="x")
    lang = LanguageCode(administration="A", code="NL", templates={"sales_invoice": "INV-NL"})
    store.put_many(
        [
            SystemSettings(profile="P"),
            profile,
            Administration(code="A", name="A B.V."),
            tpl,
            lang,
        ]
    )
    return store


def message_bytes(i: int, rcpts: list[str], *, bcc: list[str] | None = None) -> tuple[bytes, str]:
    msg = EmailMessage(policy=email.policy.SMTP)
    mid = f"<batchtest.{i}@sender.example>"
    msg["From"] = SENDER
    msg["To"] = ", ".join(rcpts)
    msg["Subject"] = f"Invoice {i}"
    msg["Message-ID"] = mid
    msg.set_content(f"Invoice number {i}.\n")
    return msg.as_bytes(), mid


def spool_batch(
    store: Store,
    n: int,
    rcpts: list[str] | None = None,
    *,
    profile: str = "P",
    approve: bool = True,
    bcc: list[str] | None = None,
) -> Batch:
    """A batch of ``n`` small messages (drafts, approved by bob when ``approve``);
    ``bcc``: the office's own copy, in the envelope but not a customer."""
    rcpts = rcpts or ["customer@example.com"]
    bcc = bcc or []
    spool = Spool(store.home)
    batch = spool.new_batch()
    from mailing.config import ConfigSnapshot

    cfg = ConfigSnapshot.load(store)
    tpl = cfg.templates["INV-NL"]
    lang = cfg.language_codes[("A", "NL")]
    items = []
    for i in range(1, n + 1):
        item = f"{i:05d}-F{i}"
        raw, mid = message_bytes(i, rcpts, bcc=bcc)
        meta = {
            "item": item,
            "kind": "email",
            "document": {
                "type": "sales_invoice",
                "number": f"F{i}",
                "administration": "A",
                "relation": "R1",
                "date": "2026-11-01",
            },
            "profile": profile,
            "envelope": {"mail_from": SENDER, "rcpts": rcpts + bcc},
            "recipients": {"to": rcpts, "cc": [], "bcc": bcc, "reply_to": [], "rule": "per_type"},
            "message_id": mid,
            "size": len(raw),
            "fingerprints": {
                "template": {"code": tpl.code, "sha256": template_fingerprint(tpl)},
                "letterhead": letterhead_fingerprint(lang),
            },
        }
        batch.add_item(item, "email", "draft", raw, meta, sync=False)
        items.append(
            {
                "item": item,
                "number": f"F{i}",
                "kind": "email",
                "state": "draft",
                "to": rcpts,
                "profile": profile,
                "size": len(raw),
            }
        )
    batch.write_info(
        {
            "id": batch.id,
            "type": "sales_invoice",
            "created_by": "alice",
            "created_at": now_iso(),
            "items": items,
            "approvals": [],
        }
    )
    if approve:
        batch.approve(None, "bob")
        batch.close()
    return batch


def message_ids(data: bytes) -> str:
    for line in data.split(b"\r\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    raise AssertionError("no Message-ID")
