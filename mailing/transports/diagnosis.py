"""Plain-language diagnosis of sending failures (SPEC §9).

One function, :func:`diagnose`, turns what went wrong (an exception, or an SMTP
reply code with its text and the stage it came at) into a :class:`Diagnosis`:
a title, an explanation, a fix, and the raw server reply kept alongside. The
TUI, the command line and the send engine all show the same words.

Nothing here ever sees a password or a token: only server replies and
exception types.
"""

from __future__ import annotations

import errno
import socket
import ssl
from dataclasses import dataclass

# The stages of an SMTP conversation a failure can come from.
STAGES = ("connect", "tls", "auth", "mail", "rcpt", "data", "oauth", "config")


@dataclass(frozen=True)
class Diagnosis:
    """What went wrong, in plain words, and what to do about it.

    ``key`` is a stable identifier of the row (e.g. ``"auth-failed"``) for code
    and tests; ``raw`` is the server's reply or the technical error, unchanged.
    """

    title: str
    explanation: str
    fix: str
    raw: str = ""
    key: str = ""

    def text(self) -> str:
        """The whole diagnosis as a few lines, for a terminal or a log."""
        lines = [self.title, self.explanation, f"Fix: {self.fix}"]
        if self.raw:
            lines.append(f"Server reply: {self.raw}")
        return "\n".join(lines)


_CHECK_LOGIN = (
    "Check the user name and password of the profile, and its security setting "
    "(STARTTLS on port 587, TLS on port 465). Store a new password with "
    "`mailroom profile set-password CODE`."
)


def _d(key: str, title: str, explanation: str, fix: str, raw: str) -> Diagnosis:
    return Diagnosis(title=title, explanation=explanation, fix=fix, raw=raw, key=key)


def _is_gmail(server: str, reply: str) -> bool:
    s = server.lower()
    return (
        "gmail" in s
        or "google" in s
        or "googlemail" in s
        or "support.google.com" in reply.lower()
        or "gsmtp" in reply.lower()
    )


def diagnose(
    failure: BaseException | int | None = None,
    reply: str = "",
    *,
    stage: str = "",
    server: str = "",
) -> Diagnosis:
    """Explain a failure.

    ``failure`` is either an exception (network, TLS, or one of ours carrying
    ``code``/``reply``/``stage``) or an SMTP reply code; ``reply`` is the
    server's text; ``stage`` where in the conversation it happened (see
    :data:`STAGES`); ``server`` the host name, used to recognise Gmail and
    Office 365.
    """
    code: int | None = None
    if isinstance(failure, BaseException):
        code = getattr(failure, "code", None)
        if not isinstance(code, int):
            code = None
        reply = reply or str(getattr(failure, "reply", "") or "")
        stage = stage or str(getattr(failure, "stage", "") or "")
        existing = getattr(failure, "diagnosis", None)
        if isinstance(existing, Diagnosis):
            return existing
        if code is None:
            return _diagnose_exception(failure, reply, stage, server)
    elif isinstance(failure, int):
        code = failure
    if code is None:
        return _d(
            "unknown",
            "Sending failed",
            "The reason is not one Mailroom recognises.",
            "Read the server reply below; if it is not clear, ask the mail provider.",
            reply,
        )
    return _diagnose_reply(code, reply, stage, server)


def _diagnose_reply(code: int, reply: str, stage: str, server: str) -> Diagnosis:
    low = reply.lower()
    raw = f"{code} {reply}".strip() if not reply.startswith(str(code)) else reply

    # ---- authentication
    if code == 535 and "5.7.139" in reply:
        if "basic authentication is disabled" in low:
            return _d(
                "o365-basic-auth-disabled",
                "Office 365 no longer accepts a password for this mailbox",
                "The Microsoft 365 tenant has switched off basic (password) authentication "
                "for SMTP.",
                "Switch the profile to authentication 'oauth2-office365' and sign in with "
                "`mailroom profile login CODE`, or ask the Microsoft 365 administrator to "
                "allow SMTP AUTH for this mailbox.",
                raw,
            )
        return _d(
            "o365-smtp-auth-disabled",
            "SMTP AUTH is switched off for this Office 365 tenant or mailbox",
            "Microsoft 365 refused the login because authenticated SMTP "
            "(SmtpClientAuthentication) is disabled, so no password or token is accepted.",
            "Ask the Microsoft 365 administrator to enable 'Authenticated SMTP' for this "
            "mailbox (Microsoft 365 admin center > Users > Mail > Manage email apps), then "
            "use Test again.",
            raw,
        )
    if code == 534 and ("5.7.9" in reply or "application-specific" in low):
        return _d(
            "gmail-app-password",
            "Gmail needs an app password",
            "Two-step login is on for this Google account, so Gmail does not accept the "
            "normal password over SMTP.",
            "Create an app password at https://myaccount.google.com/apppasswords and store "
            "it with `mailroom profile set-password CODE`.",
            raw,
        )
    if code == 534:
        return _d(
            "auth-mechanism-refused",
            "The server wants a stronger way of logging in",
            "The server refused this login method (534).",
            _CHECK_LOGIN,
            raw,
        )
    if code == 535:
        if _is_gmail(server, reply):
            return _d(
                "gmail-login-refused",
                "Gmail refused the user name or password",
                "Either the password is wrong, or two-step login is on and Gmail needs an "
                "app password instead of the normal one. If sending worked before, the "
                "password was probably changed.",
                "Create an app password at https://myaccount.google.com/apppasswords and "
                "store it with `mailroom profile set-password CODE`; check the user name is "
                "the full address.",
                raw,
            )
        return _d(
            "auth-failed",
            "The server refused the user name or password",
            "The login was refused (535). If sending worked before, the password was "
            "probably changed, or the mailbox was moved to another server.",
            _CHECK_LOGIN,
            raw,
        )
    if code == 530 and ("starttls" in low or "tls" in low or "ssl" in low):
        return _d(
            "starttls-required",
            "The server requires an encrypted connection",
            "The server said it must have STARTTLS (or SSL) before anything else, but the "
            "profile's security setting did not start it.",
            "Set the profile's security to 'starttls' (usually port 587) or 'tls' (port "
            "465): `mailroom profile set CODE --security starttls --port 587`.",
            raw,
        )
    if code == 530 or (code == 550 and "5.7.57" in reply):
        return _d(
            "auth-required",
            "The server requires a login",
            "The server refuses to send mail for a client that has not logged in.",
            "Set the profile's authentication to 'password' with a user name, and store "
            "the password with `mailroom profile set-password CODE`.",
            raw,
        )
    if code == 538 or (stage == "auth" and code == 504):
        return _d(
            "auth-not-possible",
            "The server does not accept this way of logging in",
            f"The server answered {code} to the login.",
            _CHECK_LOGIN,
            raw,
        )

    # ---- size: before the sender, for a 552 to MAIL FROM ... SIZE= (RFC 1870) is about
    # the message's size, not about who sends it
    too_big = "size" in low or "5.3.4" in reply or "too large" in low or "too big" in low
    if (code in (552, 452) and too_big) or (code == 552 and stage in ("mail", "data")):
        return _d(
            "message-too-big",
            "The message is too large for that server",
            "The server refused the message because of its size (attachments included).",
            "Send fewer or smaller attachments, or set the profile's maximum message size to "
            "what the provider allows.",
            raw,
        )

    # ---- the sender
    send_as = (
        "send as" in low
        or "sendas" in low
        or "send-as" in low
        or "5.7.60" in reply
        or "on behalf" in low
        or "not owned by user" in low
        or "sender address rejected" in low
    )
    if code >= 500 and (stage == "mail" or send_as):
        return _d(
            "sender-refused",
            "The server refused the sender address",
            "The account the profile logs in with may not send as this From address: it "
            "lacks send-as (or send-on-behalf) rights for it, or the address is not one of "
            "its own.",
            "Give the login account send-as rights for the sender address (in Microsoft 365: "
            "Exchange admin center > mailbox > Delegation), or set the profile's sender to "
            "the account's own address.",
            raw,
        )

    # ---- rate
    if 400 <= code < 500 and any(
        word in low for word in ("rate", "too many", "exceeded", "throttl", "limit")
    ):
        return _d(
            "rate-limited",
            "The server asks to slow down",
            "Too many messages or connections in a short time; the server is throttling.",
            "Wait and try again; lower the profile's rate limit (Office 365 allows about 30 "
            "messages a minute).",
            raw,
        )

    # ---- recipients
    if stage == "rcpt":
        if code >= 500:
            return _d(
                "recipient-refused",
                "The server refused a recipient address",
                "The address does not exist, is misspelt, or the server will not deliver there.",
                "Check the recipient's address in the relation or document; correct the "
                "field named in the message.",
                raw,
            )
        return _d(
            "recipient-temporary",
            "The server could not accept a recipient right now",
            f"A temporary refusal ({code}); the message may go through later.",
            "Nothing to change; Mailroom retries later.",
            raw,
        )

    # ---- generic
    if code == 421:
        return _d(
            "server-closing",
            "The server closed the connection",
            "The server is busy or shutting down (421).",
            "Nothing to change; Mailroom retries later.",
            raw,
        )
    if 400 <= code < 500:
        return _d(
            "temporary",
            "The server refused for now",
            f"A temporary failure ({code}); the same message should go through later.",
            "Nothing to change; Mailroom retries later.",
            raw,
        )
    if stage == "data" and code >= 500:
        return _d(
            "message-rejected",
            "The server rejected the message",
            f"The server refused the message itself ({code}), for example as spam or for "
            "its content.",
            "Read the server reply; check attachments and content, or ask the mail provider.",
            raw,
        )
    return _d(
        "refused",
        "The server refused",
        f"The server answered {code}.",
        "Read the server reply; if it is not clear, ask the mail provider.",
        raw,
    )


def _diagnose_exception(exc: BaseException, reply: str, stage: str, server: str) -> Diagnosis:
    raw = reply or f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        msg = (exc.verify_message or str(exc)).lower()
        if "expired" in msg:
            return _d(
                "certificate-expired",
                "The server's certificate has expired",
                "The mail server presented a certificate whose validity has ended. Mailroom "
                "does not send over a connection it cannot verify.",
                "Ask the mail provider to renew the certificate; check the computer's date "
                "and time are right.",
                raw,
            )
        if "hostname" in msg or "ip address mismatch" in msg:
            return _d(
                "certificate-wrong-host",
                "The server's certificate is for another name",
                f"The certificate does not name the server {server or 'in the profile'}.",
                "Use the server name the provider documents (the one on its certificate), "
                "not an IP address or alias.",
                raw,
            )
        return _d(
            "certificate-untrusted",
            "The server's certificate is not trusted",
            "The certificate is not signed by a certificate authority this computer "
            "trusts (self-signed, or from a private CA). Nothing was sent and no password "
            "was given to the server.",
            "If the server is yours, name its CA file in the profile (`--ca-file`); "
            "otherwise ask the provider. Mailroom never sends unverified.",
            raw,
        )
    if isinstance(exc, ssl.SSLError):
        return _d(
            "tls-failed",
            "The encrypted connection could not be set up",
            "The TLS handshake failed; often the security setting does not fit the port "
            "(TLS is usually port 465, STARTTLS port 587).",
            "Check the profile's security and port.",
            raw,
        )
    if isinstance(exc, socket.gaierror):
        return _d(
            "unknown-host",
            "The server name is not known",
            f"The name {server or '(empty)'} could not be found in DNS.",
            "Check the spelling of the profile's server, and that this computer can reach "
            "the internet (DNS).",
            raw,
        )
    if isinstance(exc, ConnectionRefusedError):
        return _d(
            "connection-refused",
            "The server refused the connection",
            "Nothing listens on that port of the server, or a firewall refuses it.",
            "Check the profile's server and port (587 for STARTTLS, 465 for TLS); check "
            "the firewall allows outgoing mail.",
            raw,
        )
    import smtplib

    # smtplib turns a read timeout into SMTPServerDisconnected("... timed out").
    timed_out = isinstance(exc, smtplib.SMTPServerDisconnected) and (
        isinstance(exc.__context__, TimeoutError) or "timed out" in str(exc)
    )
    if isinstance(exc, TimeoutError | socket.timeout) or timed_out:
        return _d(
            "timeout",
            "The server did not answer in time",
            "The connection or a step of it took longer than the profile's timeout. A "
            "firewall silently dropping the port looks like this.",
            "Check the server and port; check the firewall; raise the profile's timeout "
            "if the server is slow.",
            raw,
        )
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return _d(
            "network-unreachable",
            "The server cannot be reached",
            "There is no network route to the server.",
            "Check this computer's network connection.",
            raw,
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError | EOFError):
        return _d(
            "disconnected",
            "The server closed the connection unexpectedly",
            "The connection dropped in the middle of the conversation.",
            "Try again; if it keeps happening, check the security setting and port.",
            raw,
        )
    if isinstance(exc, OSError):
        return _d(
            "network",
            "A network error stopped the sending",
            f"{type(exc).__name__}: {exc}",
            "Check the network connection and the profile's server and port.",
            raw,
        )
    fix = str(getattr(exc, "fix", "") or "")
    message = str(getattr(exc, "message", "") or exc)
    return _d(
        "error",
        message.split("\n")[0][:200] or "Sending failed",
        message,
        fix or "Read the message above.",
        raw if reply else "",
    )
