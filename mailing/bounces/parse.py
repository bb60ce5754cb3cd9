"""Reading one message of the mailbox: is it a delivery report, for whom, why.

Whether a message is a bounce, and which recipients failed for good (hard) or for now
(soft), is the maintained detector's call (``flufl.bounce``: RFC 3464 reports and the
common non-standard shapes of Exchange, qmail, Postfix, Yahoo, ...). Around it we read
only what the standards put there: the ENVID we sent (``Original-Envelope-Id``), the
per-recipient ``Status`` and ``Diagnostic-Code``, and the Message-IDs of the quoted
original, for matching the report to its item.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message

from flufl.bounce import all_failures

# A Message-ID as quoted in a report: in a header, a rfc822 part, or a pasted text.
_MESSAGE_ID = re.compile(rb"<([^<>\s@]{1,200}@[^<>\s@]{1,200})>")
# An SMTP reply in a non-standard report: "550 5.1.1 <x@y>: Recipient address rejected".
_SMTP_REPLY = re.compile(r"\b([45]\d\d)[ -]#?([45]\.\d{1,3}\.\d{1,3})\b[^\n]{0,200}")
_MAX_REASON = 300


@dataclass
class Failure:
    recipient: str
    kind: str  # "hard" (permanent) or "soft" (delayed, temporary)
    reason: str


@dataclass
class Report:
    """One delivery report: who failed, and what it quotes to find the message by."""

    failures: list[Failure]
    envid: str | None = None
    message_ids: list[str] = field(default_factory=list)  # quoted, the report's own left out
    subject: str = ""
    own_id: str = ""


def _text(msg: Message) -> str:
    """Every text part of the report, decoded."""
    out = []
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset() or "utf-8"
                try:
                    out.append(payload.decode(charset, "replace"))
                except LookupError:
                    out.append(payload.decode("utf-8", "replace"))
    return "\n".join(out)


def _status_blocks(msg: Message) -> tuple[str | None, dict[str, tuple[str, str]]]:
    """From each message/delivery-status part: the ENVID, and per recipient
    (Status, Diagnostic-Code)."""
    envid: str | None = None
    per_rcpt: dict[str, tuple[str, str]] = {}
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks:
            if not isinstance(block, Message):
                continue
            if block.get("Original-Envelope-Id"):
                envid = str(block["Original-Envelope-Id"]).strip()
            rcpt = block.get("Original-Recipient") or block.get("Final-Recipient")
            if not rcpt:
                continue
            address = str(rcpt).split(";", 1)[-1].strip().strip("<>").lower()
            status = str(block.get("Status", "")).strip()
            diag = str(block.get("Diagnostic-Code", "")).split(";", 1)[-1]
            per_rcpt[address] = (status, " ".join(diag.split()))
    return envid, per_rcpt


def _reason(address: str, status: dict[str, tuple[str, str]], text: str, subject: str) -> str:
    if address in status:
        code, diag = status[address]
        reason = diag if code and code in diag else " ".join(x for x in (code, diag) if x)
        if reason:
            return reason[:_MAX_REASON]
    # A non-standard report: the server's reply quoted near the address, else any.
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if address in line.lower():
            for near in lines[n : n + 4]:
                found = _SMTP_REPLY.search(near)
                if found:
                    return " ".join(found.group(0).split())[:_MAX_REASON]
    found = _SMTP_REPLY.search(text)
    if found:
        return " ".join(found.group(0).split())[:_MAX_REASON]
    return (subject or "the message could not be delivered")[:_MAX_REASON]


def read_report(raw: bytes) -> Report | None:
    """The delivery report in ``raw``, or None when it is not one."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    temporary, permanent = all_failures(msg)
    if not temporary and not permanent:
        return None
    subject = " ".join(str(msg.get("Subject", "")).split())
    own = str(msg.get("Message-ID", "")).strip().strip("<>")
    envid, status = _status_blocks(msg)
    text = _text(msg)
    failures = []
    for kind, found in (("hard", permanent), ("soft", temporary - permanent)):
        for addr in sorted(found):
            address = addr.decode("ascii", "replace").lower()
            failures.append(Failure(address, kind, _reason(address, status, text, subject)))
    ids = []
    for m in _MESSAGE_ID.finditer(raw):
        mid = m.group(1).decode("ascii", "replace")
        if mid != own and mid not in ids:
            ids.append(mid)
    return Report(failures, envid, ids, subject, own)
