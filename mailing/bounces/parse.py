"""Reading one message of the mailbox: is it a delivery report, for whom, why.

A report must first *be* one: sent with the null return path (``Return-Path: <>``,
as RFC 3464 §2 and RFC 5321 §4.5.5 ask of every delivery report) or from the
reporting system's ``MAILER-DAEMON`` or ``postmaster``. A message from anyone else
is never taken as a report, whatever it says (:attr:`Report.from_mail_system`).

Who failed is read from the report's ``message/delivery-status`` part when it has
one (RFC 3464: per recipient its ``Final-Recipient``, its ``Action`` — ``failed``
or ``delayed`` — its ``Status`` and ``Diagnostic-Code``); the common non-standard
shapes (Exchange, qmail, Yahoo, ...) are the maintained detector's call
(``flufl.bounce``). A ``failed`` recipient is a failure; a ``delayed`` one is only a
delay: the mail system is still trying (:attr:`Report.delays`).

A message is read within bounds (:data:`MAX_BYTES`, :data:`MAX_PARTS`); one that
cannot be read raises :class:`Unreadable` with a sentence saying why, so that the
caller files it away and goes on with the next.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses

from flufl.bounce import all_failures

# A Message-ID as quoted in a report: in a header, a rfc822 part, or a pasted text.
_MESSAGE_ID = re.compile(rb"<([^<>\s@]{1,200}@[^<>\s@]{1,200})>")
# An SMTP reply in a non-standard report: "550 5.1.1 <x@y>: Recipient address rejected".
_SMTP_REPLY = re.compile(r"\b([45]\d\d)[ -]#?([45]\.\d{1,3}\.\d{1,3})\b[^\n]{0,200}")
_MAX_REASON = 300
# A report quotes the headers (RET=HDRS) or at most the message: far below this.
MAX_BYTES = 10 * 1024 * 1024
# Multipart or enclosed-message parts in one message: a report has three to six.
MAX_PARTS = 200
_PART_HEADER = re.compile(rb"(?im)^content-type:[ \t]*(?:multipart|message)/")
# Who writes delivery reports (RFC 5321 §4.5.1, RFC 2142).
MAIL_SYSTEM = ("mailer-daemon", "postmaster")


class Unreadable(Exception):
    """A message that cannot be read as mail; ``reason`` says why, in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Failure:
    recipient: str
    kind: str  # "hard": failed for good; "delayed": still being retried
    reason: str
    original: str = ""  # the Original-Recipient, when the report names one


@dataclass
class Report:
    """One delivery report: who failed, who is delayed, and what it quotes to find
    the message by."""

    failures: list[Failure]
    envid: str | None = None
    message_ids: list[str] = field(default_factory=list)  # quoted, the report's own left out
    subject: str = ""
    own_id: str = ""
    delays: list[Failure] = field(default_factory=list)
    sender: str = ""  # the From address
    return_path: str | None = None  # None: no Return-Path header
    date: str = ""

    @property
    def from_mail_system(self) -> bool:
        """Sent as a delivery report is: null return path, or MAILER-DAEMON/postmaster."""
        if self.return_path is not None and self.return_path.strip() in ("", "<>"):
            return True
        local = self.sender.rsplit("@", 1)[0].lower() if "@" in self.sender else ""
        return local in MAIL_SYSTEM


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


@dataclass
class _Status:
    action: str
    status: str
    diag: str
    original: str


def _address(field_value: object) -> str:
    return str(field_value).split(";", 1)[-1].strip().strip("<>").lower()


def _status_blocks(msg: Message) -> tuple[str | None, dict[str, _Status]]:
    """From each message/delivery-status part: the ENVID, and per Final-Recipient its
    Action, Status, Diagnostic-Code and Original-Recipient."""
    envid: str | None = None
    per_rcpt: dict[str, _Status] = {}
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
            final = block.get("Final-Recipient") or block.get("Original-Recipient")
            if not final:
                continue
            diag = str(block.get("Diagnostic-Code", "")).split(";", 1)[-1]
            per_rcpt[_address(final)] = _Status(
                action=str(block.get("Action", "")).strip().lower(),
                status=str(block.get("Status", "")).strip(),
                diag=" ".join(diag.split()),
                original=_address(block.get("Original-Recipient", "")),
            )
    return envid, per_rcpt


def _reason(address: str, status: dict[str, _Status], text: str, subject: str) -> str:
    if address in status:
        code, diag = status[address].status, status[address].diag
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


def _parse(raw: bytes) -> Message:
    if len(raw) > MAX_BYTES:
        raise Unreadable(f"it is larger than a delivery report can be ({MAX_BYTES:,} bytes)")
    parts = len(_PART_HEADER.findall(raw))
    if parts > MAX_PARTS:
        raise Unreadable(f"it has {parts:,} parts within parts, more than {MAX_PARTS}")
    try:
        return email.message_from_bytes(raw, policy=email.policy.compat32)
    except RecursionError:
        raise Unreadable("its parts are nested too deeply to read") from None


def _failures(msg: Message, status: dict[str, _Status]) -> tuple[set[str], set[str]]:
    """(failed, delayed) recipients."""
    if status:
        failed = {a for a, s in status.items() if s.action.startswith(("fail", "error"))}
        delayed = {a for a, s in status.items() if s.action.startswith("delayed")}
        return failed, delayed
    try:
        temporary, permanent = all_failures(msg)
    except RecursionError:
        raise Unreadable("its parts are nested too deeply to read") from None
    except Exception as exc:  # the third-party detector met a shape it cannot take
        why = f"the delivery-report reader could not read it ({type(exc).__name__})"
        raise Unreadable(why) from None
    hard = {a.decode("ascii", "replace").lower() for a in permanent}
    soft = {a.decode("ascii", "replace").lower() for a in temporary}
    return hard, soft - hard


def read_report(raw: bytes) -> Report | None:
    """The delivery report in ``raw``, or None when it is not one. Raises
    :class:`Unreadable` for a message that cannot be read within the bounds."""
    msg = _parse(raw)
    try:
        envid, status = _status_blocks(msg)
        failed, delayed = _failures(msg, status)
        if not failed and not delayed:
            return None
        subject = " ".join(str(msg.get("Subject", "")).split())
        own = str(msg.get("Message-ID", "")).strip().strip("<>")
        text = _text(msg)
    except RecursionError:
        raise Unreadable("its parts are nested too deeply to read") from None
    lists: dict[str, list[Failure]] = {"hard": [], "delayed": []}
    for kind, found in (("hard", failed), ("delayed", delayed)):
        for address in sorted(found):
            original = status[address].original if address in status else ""
            reason = _reason(address, status, text, subject)
            lists[kind].append(Failure(address, kind, reason, original))
    ids = []
    for m in _MESSAGE_ID.finditer(raw):
        mid = m.group(1).decode("ascii", "replace")
        if mid != own and mid not in ids:
            ids.append(mid)
    senders = getaddresses([str(msg.get("From", ""))])
    return_path = msg.get("Return-Path")
    return Report(
        lists["hard"],
        envid,
        ids,
        subject,
        own,
        delays=lists["delayed"],
        sender=(senders[0][1] if senders else "").lower(),
        return_path=None if return_path is None else str(return_path),
        date=" ".join(str(msg.get("Date", "")).split()),
    )
