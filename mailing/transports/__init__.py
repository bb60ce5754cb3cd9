"""Transports: the code that hands a finished message to a mailbox.

``open_transport(profile, home)`` gives a :class:`Transport` for a profile; use it
as a context manager. It connects lazily, reuses one connection for many
messages and reconnects when the server dropped an idle one::

    with open_transport(profile, home) as transport:
        result = transport.send(raw, mail_from, rcpts)

``send`` returns a :class:`SendResult` (recipients accepted, and those refused
with the server's code and reply). Every failure is a :class:`TransportError`
with a ``kind`` the send engine acts on and a plain-language ``diagnosis``:

========== =================================================================
kind       meaning, and what the send engine does
========== =================================================================
temporary  4xx: retry later with back-off
permanent  5xx for the message or every recipient: fail it, do not retry
auth       login refused or impossible: pause the queue (every message fails)
tls        certificate or encryption problem: pause; nothing was sent
network    connection refused, unknown host, timeout, dropped: retry later.
           ``maybe_sent`` is True when the drop came after the message data
           was sent and before the server answered: the outcome is unknown
config     the profile cannot be used as it is (missing password, field...)
========== =================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from mailing.transports.diagnosis import Diagnosis, diagnose
from store.errors import MailroomError
from store.records import Profile

Kind = Literal["temporary", "permanent", "auth", "tls", "network", "config"]
KINDS: tuple[str, ...] = ("temporary", "permanent", "auth", "tls", "network", "config")


@dataclass
class SendResult:
    """What the server did with one message."""

    accepted: list[str]
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    reply: str = ""


class TransportError(MailroomError):
    """Sending failed. ``reply`` is the raw server reply (never a secret)."""

    def __init__(
        self,
        kind: Kind,
        diagnosis: Diagnosis,
        *,
        code: int | None = None,
        reply: str = "",
        stage: str = "",
        profile: str = "",
        refused: dict[str, tuple[int, str]] | None = None,
        maybe_sent: bool = False,
    ) -> None:
        self.kind: Kind = kind
        self.code = code
        self.reply = reply
        self.stage = stage
        self.diagnosis = diagnosis
        self.profile = profile
        self.refused: dict[str, tuple[int, str]] = refused or {}
        self.maybe_sent = maybe_sent
        where = f"Profile {profile!r}: " if profile else ""
        text = f"{where}{diagnosis.title}. {diagnosis.explanation}"
        if reply:
            text += f" (server: {reply})"
        super().__init__(text, field="profile", value=profile, fix=diagnosis.fix)


def error_for_reply(
    code: int, reply: str, *, stage: str, profile: Profile, **extra: Any
) -> TransportError:
    """The TransportError for an SMTP reply ``code`` at ``stage``."""
    diag = diagnose(code, reply, stage=stage, server=profile.server)
    full = reply if reply.startswith(str(code)) else f"{code} {reply}".strip()
    kind: Kind
    if stage == "auth" or diag.key in ("starttls-required", "auth-required"):
        kind = "auth"
    elif 400 <= code < 500:
        kind = "temporary"
    else:
        kind = "permanent"
    return TransportError(
        kind, diag, code=code, reply=full, stage=stage, profile=profile.code, **extra
    )


def config_error(profile: Profile, title: str, explanation: str, fix: str) -> TransportError:
    diag = Diagnosis(title=title, explanation=explanation, fix=fix, raw="", key="config")
    return TransportError("config", diag, stage="config", profile=profile.code)


class Transport:
    """Base of every transport: a context manager with ``send`` and ``close``."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    def send(
        self, raw: bytes, mail_from: str, rcpts: list[str], envid: str | None = None
    ) -> SendResult:
        """Offer one message. ``envid`` names it in delivery status notifications
        (RFC 3461 ENVID) when the server offers DSN."""
        raise NotImplementedError

    def open(self) -> None:
        """Connect and log in now (a run does so before it claims a message), raising
        :class:`TransportError` as :meth:`send` would. Nothing to do for a transport
        without a connection."""

    def announce(
        self, raw: bytes, mail_from: str, rcpts: list[str], envid: str | None = None
    ) -> None:
        """A hint: this message will be the next one given to :meth:`send`.

        A transport may prepare it (SMTP pipelines its envelope after the current
        message). Nothing of it may be delivered before that ``send``.
        """

    def close(self) -> None:
        """Close the connection, if any. Safe to call more than once."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_transport(profile: Profile, home: Path, *, http_client: Any = None) -> Transport:
    """The transport for ``profile``; nothing connects until the first ``send``.

    ``http_client`` is passed to msal for Office 365 profiles (tests use it to
    drive msal against a local fake of the identity endpoints).
    """
    if profile.system == "outbox":
        from mailing.transports.outbox import OutboxTransport

        return OutboxTransport(profile, home)
    from mailing.transports.smtp import SMTPTransport
    from mailing.transports.smtp_connect import password_login

    if profile.auth == "oauth2-office365":
        from mailing.transports.office365 import xoauth2_login

        return SMTPTransport(profile, xoauth2_login(profile, home, http_client=http_client), home)
    if profile.auth == "password":
        return SMTPTransport(profile, password_login(profile), home)
    return SMTPTransport(profile, None, home)


__all__ = [
    "KINDS",
    "SendResult",
    "Transport",
    "TransportError",
    "error_for_reply",
    "open_transport",
]
