"""What goes on the wire of an SMTP send: the pipelined command group (MAIL FROM, every
RCPT TO with its DSN options, DATA), the message's bytes and their end in as few writes
as the socket takes, and whether a message or its addresses need more than plain ASCII.
The transport that says them and reads the replies is :mod:`mailing.transports.smtp`.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable

from mailing.transports.dsn import dsn_mail_options, dsn_rcpt_options

RcptOption = Callable[[str], str]

_MSG_MORE = getattr(socket, "MSG_MORE", 0)


def line_starts_with_dot(raw: bytes) -> bool:
    """Whether a line of the message starts with ".". Looks at each dot (a ``memchr``
    each: base64 has none, so a message with a PDF has a few dozen), not at each line
    start (a two-byte search over 120 KB of base64 lines was 15 times slower)."""
    if raw[:1] == b".":
        return True
    at = raw.find(b".")
    for _ in range(4096):
        if at <= 0:
            return False
        if raw[at - 1] == 0x0A:
            return True
        at = raw.find(b".", at + 1)
    return b"\n." in raw  # a dotty text: one search of the whole


def send_with_tail(smtp: smtplib.SMTP, body: bytes, tail: bytes) -> None:
    """The message's bytes, then its end (and what is pipelined after it).

    On a plain socket the message and its tail go as they are, never copied into
    one buffer, in one ``sendmsg`` (gathered by the kernel) while the socket takes
    it all; on TLS, in one write.
    """
    sock = smtp.sock
    if sock is None:
        raise smtplib.SMTPServerDisconnected("please run connect() first")
    if isinstance(sock, ssl.SSLSocket) or not hasattr(sock, "sendmsg"):
        sock.sendall(body + tail)
        return
    sent = sock.sendmsg([body, tail])
    if sent < len(body):
        sock.sendall(memoryview(body)[sent:], _MSG_MORE)
        sent = len(body)
    if sent < len(body) + len(tail):
        sock.sendall(tail[sent - len(body) :])


# The last two messages asked about and whether they are ASCII: a message's MAIL
# options are asked for up to three times (announced, compared, sent), and the
# scan of 80 KB is not free. Held by reference, so an identity match is the same bytes.
_ASCII_SEEN: list[tuple[bytes, bool]] = []


def is_ascii(raw: bytes) -> bool:
    for seen, answer in _ASCII_SEEN:
        if seen is raw:
            return answer
    answer = raw.isascii()
    _ASCII_SEEN[:] = [(raw, answer), *_ASCII_SEEN[:1]]
    return answer


def mail_options(raw: bytes, smtp: smtplib.SMTP, envid: str | None = None) -> list[str]:
    options: list[str] = []
    if not is_ascii(raw) and smtp.has_extn("8bitmime"):
        options.append("BODY=8BITMIME")
    if smtp.has_extn("size"):
        options.append(f"SIZE={len(raw)}")
    if envid and smtp.has_extn("dsn"):
        options.extend(dsn_mail_options(envid))
    return options


def rcpt_options(smtp: smtplib.SMTP, envid: str | None) -> list[RcptOption]:
    """Per recipient, the RCPT options (DSN's NOTIFY and ORCPT when asked for)."""
    if envid and smtp.has_extn("dsn"):
        return [lambda rcpt: " ".join(dsn_rcpt_options(rcpt))]
    return []


def command_group(
    mail_from: str,
    rcpts: list[str],
    options: list[str],
    rcpt_opts: list[RcptOption] | None = None,
) -> str:
    """MAIL FROM, every RCPT TO and DATA: one group of pipelined commands."""
    opts = "".join(f" {o}" for o in options)
    rcpt_lines = "".join(
        f"RCPT TO:<{r}>{''.join(' ' + o(r) for o in rcpt_opts or ())}\r\n" for r in rcpts
    )
    return f"MAIL FROM:<{mail_from}>{opts}\r\n{rcpt_lines}DATA\r\n"


def pipelined_head(
    raw: bytes,
    mail_from: str,
    rcpts: list[str],
    smtp: smtplib.SMTP | None,
    envid: str | None = None,
) -> str | None:
    """The command group of a message that may be pipelined ahead of it, else None."""
    if smtp is None or not smtp.has_extn("pipelining") or not plain_addresses(mail_from, rcpts):
        return None
    return pipelined_head_on(raw, mail_from, rcpts, smtp, envid)


def pipelined_head_on(
    raw: bytes, mail_from: str, rcpts: list[str], smtp: smtplib.SMTP, envid: str | None
) -> str:
    """The command group of a message on a connection that pipelines (ASCII addresses)."""
    return command_group(
        mail_from, rcpts, mail_options(raw, smtp, envid), rcpt_options(smtp, envid)
    )


_UNSAFE_ADDRESS = re.compile(r"[\x00-\x20<>\x7f]")


def plain_addresses(mail_from: str, rcpts: list[str]) -> bool:
    """ASCII addresses that can be written into commands as they are."""
    return all(a.isascii() and not _UNSAFE_ADDRESS.search(a) for a in (mail_from, *rcpts))
