"""Approval: who approved which message when, with the SHA-256 of its bytes.

The approvals are kept in ``batch.json`` (rewritten once per approval, never per
message); sending refuses a message whose bytes no longer hash to what was approved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from store.spool.layout import now_iso
from store.spool.states import State

if TYPE_CHECKING:
    from store.spool.steps import SteppingBatch


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def approve(
    batch: SteppingBatch, items: Iterable[str] | None, user: str
) -> tuple[list[str], list[tuple[str, str]]]:
    """Approve draft (or held) messages: record who, when and each message's SHA-256."""
    info = batch.info(fresh=True)
    if items is None:
        names = [r.item for r in batch.items(State.DRAFT) if r.kind == "email"]
    else:
        names = [batch.find_item(n) for n in items]
    hashes: dict[str, str] = {}
    skipped: list[tuple[str, str]] = []
    for name in names:
        ref = batch.locate(name)
        if ref.kind != "email" or ref.state not in (State.DRAFT, State.HELD):
            skipped.append((name, f"is {ref.state}" if ref.kind == "email" else f"is {ref.kind}"))
            continue
        hashes[name] = sha256_bytes(batch.read(name, "email", ref.state))
    # Record the approval first: a crash after it leaves drafts with a recorded
    # hash, never an approved message without one.
    approval = {"by": user, "at": now_iso(), "items": hashes}
    info.setdefault("approvals", []).append(approval)
    batch.write_info(info)
    moved: list[str] = []
    for name, digest in hashes.items():
        ref = batch.locate(name)
        event = {"event": "approved", "by": user, "sha256": digest}
        if ref.state in (State.DRAFT, State.HELD) and batch.advance(
            name, ref.state, State.APPROVED, event, durable=False
        ):
            moved.append(name)
        else:
            skipped.append((name, "changed state meanwhile"))
    batch.settle(State.APPROVED)
    return moved, skipped


def approved_hashes(batch: SteppingBatch) -> dict[str, dict[str, str]]:
    """item -> {sha256, by, at} of its latest approval."""
    out: dict[str, dict[str, str]] = {}
    for appr in batch.info(fresh=True).get("approvals", []):
        for item, digest in appr.get("items", {}).items():
            out[item] = {"sha256": digest, "by": appr.get("by", ""), "at": appr.get("at", "")}
    return out
