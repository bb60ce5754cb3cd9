"""Pipelined replies must line up with their commands (RFC 2920 §3.2: the replies
come in the order of the commands).

A reply that cannot answer its command — a 354 to anything but DATA, a success to
DATA, or, when the server sends enhanced status codes (RFC 2034), a recipient's
``2.1.5`` to MAIL, the sender's ``2.1.0`` to RCPT, or any address reply to the end of
a message — means a reply was lost or added on the way. Nothing read after it can be
trusted: the transport drops the connection and the message is ``unknown``, never
given another message's outcome.
"""

from __future__ import annotations

import re

from mailing.transports import TransportError
from mailing.transports.diagnosis import Diagnosis
from mailing.transports.smtp_connect import reply_text
from store.records import Profile

_ENHANCED = re.compile(rb"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
_COMMANDS = {
    "mail": "MAIL FROM",
    "rcpt": "a RCPT TO",
    "data": "DATA",
    "end": "the end of the message",
}


def why_out_of_step(code: int, resp: bytes, command: str, enhanced: bool) -> str | None:
    """Which command a pipelined reply cannot answer, or None when it fits."""
    what = _COMMANDS[command]
    if code == 354:
        return None if command == "data" else what
    if command == "data":
        return what if 200 <= code < 300 else None
    if not enhanced or not 200 <= code < 300:
        return None
    found = _ENHANCED.match(resp if isinstance(resp, bytes) else str(resp).encode())
    if found is None:
        return None  # a server that says it sends them but did not: no proof either way
    subject, detail = found.group(2), found.group(3)
    address = subject == b"1"
    if command == "mail" and address and detail == b"5":
        return what  # 2.1.5 is a recipient's
    if command == "rcpt" and address and detail == b"0":
        return what  # 2.1.0 is the sender's
    if command == "end" and address:
        return what  # an address reply: the next message's MAIL or RCPT
    return None


def out_of_step(
    profile: Profile, code: int, resp: bytes, command: str, enhanced: bool
) -> TransportError | None:
    """The error for a reply that does not fit its command (the outcome of the message
    is not known: ``maybe_sent``), or None."""
    why = why_out_of_step(code, resp, command, enhanced)
    if why is None:
        return None
    text = reply_text(resp)
    diag = Diagnosis(
        title="The server's replies did not line up with the commands",
        explanation=f"The reply {code} {text!r} cannot answer {why}: a reply was lost or "
        "added on the way, so whether this message was taken is not known.",
        fix="Check with the recipient whether it arrived, then send it again or mark it "
        "sent; if it happens again, ask the mail admin about the server.",
        raw=f"{code} {text}",
        key="replies-out-of-step",
    )
    return TransportError(
        "network",
        diag,
        code=code,
        reply=f"{code} {text}",
        stage=command,
        profile=profile.code,
        maybe_sent=True,
    )
