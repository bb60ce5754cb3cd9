"""``mailroom sink``: a local capturing SMTP server for trying profiles out.

It accepts every message (no TLS, no login: point a profile at it with security
'none' and authentication 'none') and stores it in a Maildir, with the envelope
added as ``Return-Path`` and ``X-Mailroom-Envelope-To`` headers (so Bcc
recipients can be seen). It binds to loopback unless told otherwise.
"""

from __future__ import annotations

import logging
import mailbox
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mailing.errors import ConfigError

log = logging.getLogger("mailroom.sink")


class MaildirHandler:
    """aiosmtpd handler that delivers every message into a Maildir."""

    def __init__(self, maildir: Path, announce: Callable[[str], None] | None = None) -> None:
        self.maildir = mailbox.Maildir(str(maildir), create=True)
        self._lock = threading.Lock()
        self.count = 0
        self.announce = announce  # told one line per message that arrives

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        rcpts = ", ".join(envelope.rcpt_tos)
        head = f"Return-Path: <{envelope.mail_from}>\r\nX-Mailroom-Envelope-To: {rcpts}\r\n"
        with self._lock:
            key = self.maildir.add(head.encode("utf-8") + data)
            self.count += 1
            count = self.count
        log.info("stored message %s from %s to %s", key, envelope.mail_from, rcpts)
        if self.announce is not None:
            self.announce(arrival_line(count, envelope.mail_from, rcpts, data))
        return "250 2.0.0 OK stored"


def arrival_line(count: int, sender: str, rcpts: str, data: bytes) -> str:
    """``#3 from a@x to b@y: "Factuur F1" (8.6 kB)``: one line per message received."""
    from email.parser import BytesHeaderParser
    from email.policy import default

    try:
        subject = str(BytesHeaderParser(policy=default).parsebytes(data).get("Subject", ""))
    except Exception:  # a header that does not parse: the line says so, the sink goes on
        subject = "(subject unreadable)"
    subject = " ".join(subject.split())[:80]
    return f"#{count} from {sender} to {rcpts}: {subject!r} ({len(data) / 1000:.1f} kB)"


def start_sink(
    host: str, port: int, maildir: Path, announce: Callable[[str], None] | None = None
) -> Any:
    """Start the sink in a thread; returns the aiosmtpd Controller (call ``.stop()``)."""
    from aiosmtpd.controller import Controller

    handler = MaildirHandler(maildir, announce)
    controller = Controller(
        handler,
        hostname=host,
        port=port,
        enable_SMTPUTF8=True,
        decode_data=False,
        ident="mailroom-sink",
    )
    try:
        controller.start()
    except (OSError, RuntimeError) as exc:
        raise ConfigError(
            f"The sink cannot listen on {host}:{port} ({type(exc).__name__}: {exc}).",
            field="port",
            value=port,
            fix="choose another port with --port, or stop what uses this one.",
        ) from None
    return controller


def run_sink(
    host: str,
    port: int,
    maildir: Path,
    *,
    announce: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> int:
    """Run until Ctrl-C (or until ``stop`` is set); returns how many messages arrived."""
    controller = start_sink(host, port, maildir, announce)
    announce(
        f"Listening on {host}:{port} (SMTP, no TLS, no login); storing messages in the "
        f"Maildir {maildir}. Ctrl-C stops."
    )
    event = stop or threading.Event()
    try:
        while not event.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    count: int = controller.handler.count
    announce(f"Stopped; {count} message(s) received.")
    return count
