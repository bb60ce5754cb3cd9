"""SMTP transport (stdlib smtplib): STARTTLS or implicit TLS, always verified.

- Certificates are checked against the system's trust store, plus the profile's
  ``ca_file`` when it names one. There is no switch to skip verification.
- On a ``starttls`` profile, a server that does not offer STARTTLS is an error
  before anything else is said: no downgrade, no credentials in clear text.
- Every network step has the profile's timeout.
- One connection is reused for many messages; a reused connection the server
  dropped meanwhile is reconnected once, before the message is offered.
- Refused recipients are reported one by one (smtplib's ``sendmail`` would
  return them silently when others were accepted).
- When the server offers DSN (RFC 3461) and the message has an envelope id, MAIL
  carries ``ENVID`` (and ``RET=HDRS``: a report quotes the headers, not the
  invoice) and every RCPT ``NOTIFY=FAILURE,DELAY`` with its ``ORCPT``, so a
  failure or delay notice names the item (:mod:`mailing.transports.dsn`).

Connecting, TLS and the login are :mod:`mailing.transports.smtp_connect`.
"""

from __future__ import annotations

import logging
import smtplib
from pathlib import Path

from mailing.transports import (
    SendResult,
    Transport,
    TransportError,
    config_error,
    error_for_reply,
)
from mailing.transports.diagnosis import Diagnosis
from mailing.transports.smtp_connect import Login, connect, failure, quiet_close, reply_text
from mailing.transports.smtp_replies import out_of_step
from mailing.transports.smtp_wire import (
    line_starts_with_dot,
    mail_options,
    pipelined_head,
    pipelined_head_on,
    plain_addresses,
    rcpt_options,
    send_with_tail,
)
from store.records import Profile

log = logging.getLogger("mailroom.smtp")


class SMTPTransport(Transport):
    """One reusable SMTP connection for one profile."""

    def __init__(self, profile: Profile, login: Login | None, home: Path | None = None) -> None:
        super().__init__(profile)
        self.login = login
        self.home = home
        self._smtp: smtplib.SMTP | None = None
        # PIPELINING across messages (RFC 2920 §3.1: message content may be the first
        # "command" of a group): the next message, as announced by the engine, and the
        # head (MAIL/RCPT/DATA) already written for it whose replies are not read yet.
        self._announced: tuple[bytes, str, list[str], str | None] | None = None
        self._pending: str | None = None
        # What the pending head was made for (the message's bytes, sender, recipients,
        # envelope id): the same message given to send() takes it as it is.
        self._pending_for: tuple[bytes, str, list[str], str | None] | None = None

    # ------------------------------------------------------------ connecting

    def _connect(self) -> smtplib.SMTP:
        return connect(self.profile, self.login, self.home)

    def _drop(self) -> None:
        if self._smtp is not None:
            quiet_close(self._smtp)
        self._smtp = None
        self._pending = self._pending_for = None

    def open(self) -> None:
        """Connect, encrypt and log in now, if not connected yet."""
        if self._smtp is None:
            self._smtp = self._connect()

    def announce(
        self, raw: bytes, mail_from: str, rcpts: list[str], envid: str | None = None
    ) -> None:
        """The message :meth:`send` will be given next, so that its MAIL FROM, RCPT TO
        and DATA can go out with this message's final dot, in one write.

        Only the envelope goes ahead, never the content: a message that is then not
        sent (paused, or not the one given) is dropped with the connection, never
        completed. Safe to leave out.
        """
        self._announced = (raw, mail_from, list(rcpts), envid)

    def close(self) -> None:
        self._announced = None
        if self._pending is not None:
            # The server may be waiting for the announced message's content: anything
            # written now (even QUIT) would become that content. Just hang up.
            self._drop()
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError, EOFError):
                pass
            finally:
                quiet_close(self._smtp)
                self._smtp = None

    # ------------------------------------------------------------ sending

    def send(
        self, raw: bytes, mail_from: str, rcpts: list[str], envid: str | None = None
    ) -> SendResult:
        p = self.profile
        if not rcpts:
            raise config_error(
                p, "The message has no recipients", "Nothing to send to.", "add a recipient."
            )
        utf8 = not all(a.isascii() for a in (mail_from, *rcpts))
        head_now = self._pending_head(raw, mail_from, rcpts, envid)
        if head_now is None:
            head_now = pipelined_head(raw, mail_from, rcpts, self._smtp, envid)
        head_smtp = self._smtp  # the connection head_now was made for
        if self._pending is not None and self._pending != head_now:
            self._drop()  # another message than the one announced: the server waits in DATA
        for attempt in (1, 2):
            fresh = self._smtp is None
            smtp = self._smtp or self._connect()
            self._smtp = smtp
            if utf8 and not smtp.has_extn("smtputf8"):
                diag = Diagnosis(
                    title="The server cannot take this address",
                    explanation="An address has non-ASCII characters before the @, and the "
                    "server does not support SMTPUTF8.",
                    fix="Use an ASCII address for this recipient or sender.",
                    key="smtputf8-unsupported",
                )
                raise TransportError("permanent", diag, stage="mail", profile=p.code)
            if not utf8 and smtp.has_extn("pipelining") and plain_addresses(mail_from, rcpts):
                # The command group made once per message (it was made three times:
                # announced, compared, sent), unless the connection changed meanwhile.
                head = head_now if smtp is head_smtp and head_now is not None else None
                try:
                    return self._send_pipelined(
                        smtp,
                        raw,
                        mail_from,
                        rcpts,
                        head or pipelined_head_on(raw, mail_from, rcpts, smtp, envid),
                        retry=attempt == 1 and not fresh,
                    )
                except _Reconnect:
                    log.info("connection for profile %s was dropped; reconnecting", p.code)
                    continue
            options: list[str] = ["SMTPUTF8"] if utf8 else []
            options.extend(mail_options(raw, smtp, envid))
            rcpt_opts = rcpt_options(smtp, envid)
            try:
                code, resp = smtp.mail(mail_from, options)
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._drop()
                if attempt == 1 and not fresh:
                    log.info("connection for profile %s was dropped; reconnecting", p.code)
                    continue
                raise failure(p, exc, "mail") from None
            if code == 421 and attempt == 1 and not fresh:
                self._drop()
                continue
            break
        if code != 250:
            self._reset_or_drop(code)
            raise error_for_reply(code, reply_text(resp), stage="mail", profile=p)

        accepted: list[str] = []
        refused: dict[str, tuple[int, str]] = {}
        try:
            for rcpt in rcpts:
                code, resp = smtp.rcpt(rcpt, [o(rcpt) for o in rcpt_opts])
                if code in (250, 251):
                    accepted.append(rcpt)
                else:
                    refused[rcpt] = (code, reply_text(resp))
                    if code == 421:
                        break
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise failure(p, exc, "rcpt") from None
        if not accepted:
            first_code, first_reply = next(iter(refused.values()))
            self._reset_or_drop(first_code)
            temporary = all(400 <= c < 500 for c, _ in refused.values())
            err = error_for_reply(first_code, first_reply, stage="rcpt", profile=p, refused=refused)
            err.kind = "temporary" if temporary else "permanent"
            raise err

        # DATA, by hand, so that a drop before and after the final dot differ.
        try:
            code, resp = smtp.docmd("DATA")
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise failure(p, exc, "data") from None
        if code != 354:
            self._reset_or_drop(code)
            raise error_for_reply(code, reply_text(resp), stage="data", profile=p, refused=refused)
        return self._data(smtp, raw, accepted, refused, len(rcpts))

    def _send_pipelined(
        self,
        smtp: smtplib.SMTP,
        raw: bytes,
        mail_from: str,
        rcpts: list[str],
        head: str,
        *,
        retry: bool,
    ) -> SendResult:
        """One message with ESMTP PIPELINING (RFC 2920): two round trips instead of 3 + n.

        MAIL FROM, every RCPT TO and DATA (``head``, :func:`pipelined_head_on`) go out in one
        write; their replies are read in order, so refusals are still reported per
        recipient and every failure gives the same error (and diagnosis) as the
        one-command-at-a-time path. Raises ``_Reconnect`` when a reused connection
        turns out to be dead (or closing, 421) at MAIL and ``retry`` allows one reconnect.
        """
        p = self.profile
        written, self._pending, self._pending_for = self._pending == head, None, None
        try:
            if not written:
                smtp.send(head.encode("ascii"))
            code, resp = smtp.getreply()
            self._in_step(smtp, code, resp, "mail")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            if retry:
                raise _Reconnect from None
            raise failure(p, exc, "mail") from None
        if code == 421:
            self._drop()
            if retry:
                raise _Reconnect
            raise error_for_reply(code, reply_text(resp), stage="mail", profile=p)
        mail_code, mail_resp = code, resp

        accepted: list[str] = []
        refused: dict[str, tuple[int, str]] = {}
        data_code, data_resp = 0, b""
        stage = "rcpt"
        try:
            for rcpt in rcpts:
                code, resp = smtp.getreply()
                self._in_step(smtp, code, resp, "rcpt")
                if code in (250, 251):
                    accepted.append(rcpt)
                    continue
                if mail_code == 250:
                    refused[rcpt] = (code, reply_text(resp))
                if code == 421:  # the server closes: no more replies will come
                    self._drop()
                    if mail_code != 250:
                        break
                    if not accepted:
                        first_code, first_reply = next(iter(refused.values()))
                        raise error_for_reply(
                            first_code, first_reply, stage="rcpt", profile=p, refused=refused
                        )
                    raise error_for_reply(
                        code, reply_text(resp), stage="rcpt", profile=p, refused=refused
                    )
            if self._smtp is not None:
                stage = "data"
                data_code, data_resp = smtp.getreply()
                self._in_step(smtp, data_code, data_resp, "data")
                if data_code == 354 and (mail_code != 250 or not accepted):
                    # A server that took DATA anyway: end it; there is nobody to deliver to.
                    smtp.send(b".\r\n")
                    smtp.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise failure(p, exc, stage) from None
        if mail_code != 250:
            self._reset_or_drop(mail_code)
            raise error_for_reply(mail_code, reply_text(mail_resp), stage="mail", profile=p)
        if not accepted:
            first_code, first_reply = next(iter(refused.values()))
            self._reset_or_drop(first_code)
            temporary = all(400 <= c < 500 for c, _ in refused.values())
            err = error_for_reply(first_code, first_reply, stage="rcpt", profile=p, refused=refused)
            err.kind = "temporary" if temporary else "permanent"
            raise err
        if data_code != 354:
            self._reset_or_drop(data_code)
            raise error_for_reply(
                data_code, reply_text(data_resp), stage="data", profile=p, refused=refused
            )
        return self._data(smtp, raw, accepted, refused, len(rcpts), chain=True)

    def _data(
        self,
        smtp: smtplib.SMTP,
        raw: bytes,
        accepted: list[str],
        refused: dict[str, tuple[int, str]],
        total: int,
        *,
        chain: bool = False,
    ) -> SendResult:
        """The message after a 354: dot-stuffed once, sent in one write, and the reply.

        With ``chain`` (the server pipelines), the announced next message's command
        group follows the final dot in the same write; its replies are read by the
        :meth:`send` of that message.
        """
        p = self.profile
        # Dot-stuffing (RFC 5321 §4.5.2), as a regular expression on "^." would; the
        # very bytes when no line starts with a dot (an invoice's never does).
        body = raw
        if line_starts_with_dot(raw):
            body = raw.replace(b"\n.", b"\n..")
            if body[:1] == b".":
                body = b"." + body
        tail = b".\r\n" if body.endswith(b"\r\n") else b"\r\n.\r\n"
        nxt, self._announced = self._announced, None
        head = (
            pipelined_head(nxt[0], nxt[1], nxt[2], smtp, nxt[3])
            if chain and nxt is not None
            else None
        )
        if head is not None:
            tail += head.encode("ascii")
        try:
            send_with_tail(smtp, body, tail)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise failure(p, exc, "data") from None
        self._pending, self._pending_for = head, nxt if head is not None else None
        try:
            code, resp = smtp.getreply()
            if chain:
                self._in_step(smtp, code, resp, "end")
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise failure(p, exc, "data", maybe_sent=True) from None
        if code != 250:
            if self._pending is None or code == 421:
                self._reset_or_drop(code)
            # else: the transaction ended with the refusal; the next one is under way
            raise error_for_reply(code, reply_text(resp), stage="data", profile=p, refused=refused)
        reply = f"{code} {reply_text(resp)}"
        log.info(
            "profile %s: message accepted for %d of %d recipients (%s)",
            p.code,
            len(accepted),
            total,
            reply,
        )
        return SendResult(accepted=accepted, refused=refused, reply=reply)

    def _pending_head(
        self, raw: bytes, mail_from: str, rcpts: list[str], envid: str | None
    ) -> str | None:
        """The head already written for this very message (announced and chained
        after the previous one's end), else None."""
        made_for = self._pending_for
        if self._pending is None or made_for is None or self._smtp is None:
            return None
        if made_for[0] is raw and made_for[1:] == (mail_from, rcpts, envid):
            return self._pending
        return None

    def _in_step(self, smtp: smtplib.SMTP, code: int, resp: bytes, command: str) -> None:
        """A pipelined reply must fit its command (:mod:`mailing.transports.smtp_replies`);
        one that does not drops the connection: the message is ``unknown``."""
        error = out_of_step(self.profile, code, resp, command, smtp.has_extn("enhancedstatuscodes"))
        if error is not None:
            self._drop()
            raise error

    def _reset_or_drop(self, code: int) -> None:
        """After a refusal: RSET so the connection can be reused, or drop it on 421."""
        if self._smtp is None:
            return
        if code == 421:
            self._drop()
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()


class _Reconnect(Exception):
    """A reused connection was found dropped before the message: connect again, once."""
