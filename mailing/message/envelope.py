"""What sending needs from a built message: its bytes, SMTPUTF8, and the envelope."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage

from mailing.message.address import _address_list
from mailing.message.parts import AddressInput


def message_to_bytes(msg: EmailMessage) -> bytes:
    """The message as sent: CRLF line ends, headers folded at 78 (``policy.SMTP``)."""
    return msg.as_bytes(policy=msg.policy)


def needs_smtputf8(msg: EmailMessage) -> bool:
    """True when an address needs the SMTPUTF8 extension to be sent."""
    return bool(getattr(msg.policy, "utf8", False))


def envelope_recipients(msg: EmailMessage, bcc: Sequence[AddressInput] = ()) -> list[str]:
    """``RCPT TO`` addresses: To and Cc of ``msg`` plus ``bcc``, each once, in order."""
    out: list[str] = []
    for name in ("To", "Cc"):
        for header in msg.get_all(name, []):
            for a in getattr(header, "addresses", ()):
                out.append(a.addr_spec)
    bcc_list, _ = _address_list(bcc, "Bcc", True)
    out.extend(bcc_list)
    seen: set[str] = set()
    result = []
    for a in out:
        if a.lower() not in seen:
            seen.add(a.lower())
            result.append(a)
    return result


def envelope_sender(msg: EmailMessage) -> str:
    """``MAIL FROM``: the From address."""
    header = msg["From"]
    addresses = getattr(header, "addresses", ())
    return str(addresses[0].addr_spec) if addresses else ""
