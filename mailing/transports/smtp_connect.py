"""Connecting to an SMTP server: verified TLS or STARTTLS, the greeting, and the login."""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from collections.abc import Callable
from pathlib import Path

from mailing.transports import TransportError, config_error, error_for_reply
from mailing.transports.diagnosis import Diagnosis, diagnose
from mailing.transports.smtplib_adapter import set_tls_server_name
from store.records import Profile

log = logging.getLogger("mailroom.smtp")

# Logs in on a connected, encrypted (or knowingly plain) SMTP session; raises
# TransportError. Gets the password or token itself, so it never travels far.
Login = Callable[[smtplib.SMTP], None]


def reply_text(resp: bytes | str) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else resp
    return " ".join(text.split())


def tls_context(profile: Profile, home: Path | None = None) -> ssl.SSLContext:
    """The system trust store, plus the profile's extra CA file."""
    ctx = ssl.create_default_context()
    if profile.ca_file:
        path = Path(profile.ca_file).expanduser()
        if not path.is_absolute() and home is not None:
            path = home / path
        try:
            ctx.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise config_error(
                profile,
                f"The CA file {str(path)!r} of the profile cannot be used",
                f"Reading it failed: {type(exc).__name__}: {exc}.",
                "Point the profile's ca_file at a PEM file with the CA certificate "
                "(`mailroom profile set CODE --ca-file PATH`), or clear it.",
            ) from None
    return ctx


def _tls_error(
    profile: Profile, title: str, explanation: str, fix: str, key: str
) -> TransportError:
    diag = Diagnosis(title=title, explanation=explanation, fix=fix, raw="", key=key)
    return TransportError("tls", diag, stage="tls", profile=profile.code)


def failure(
    profile: Profile, exc: BaseException, stage: str, *, maybe_sent: bool = False
) -> TransportError:
    """A TransportError for an exception raised by the network or TLS layer."""
    if isinstance(exc, TransportError):
        return exc
    if isinstance(exc, smtplib.SMTPResponseException):
        return error_for_reply(
            exc.smtp_code, reply_text(exc.smtp_error), stage=stage, profile=profile
        )
    diag = diagnose(exc, stage=stage, server=profile.server)
    return TransportError(
        "tls" if isinstance(exc, ssl.SSLError) else "network",
        diag,
        stage=stage,
        profile=profile.code,
        maybe_sent=maybe_sent,
    )


def password_login(profile: Profile) -> Login:
    """Log in with the profile's user name and the password from the keyring."""

    def login(smtp: smtplib.SMTP) -> None:
        from store.secrets import get_secret

        password = get_secret(profile.code, "password")
        if not password:
            raise config_error(
                profile,
                f"No password is stored for profile {profile.code!r}",
                "The profile logs in with a password, and the keyring holds none for it.",
                f"store it with `mailroom profile set-password {profile.code}`.",
            )
        if not smtp.has_extn("auth"):
            diag = Diagnosis(
                title="The server does not offer a login",
                explanation="The profile logs in with a password, but the server does not "
                "offer SMTP AUTH on this connection (some servers offer it only after "
                "STARTTLS, or only on port 587).",
                fix="Check the profile's server, port and security; if the server needs no "
                "login, set authentication to 'none'.",
                key="auth-not-offered",
            )
            raise TransportError("auth", diag, stage="auth", profile=profile.code)
        user = profile.username or profile.sender
        # The error is raised outside the except blocks so that no chained
        # exception keeps smtplib's frames (whose locals hold the password).
        error: TransportError | None = None
        offered = str(smtp.esmtp_features.get("auth", "")).upper().split()
        mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), "")
        try:
            if not mechanism:
                raise smtplib.SMTPException("no PLAIN or LOGIN")
            # One attempt with one mechanism: smtplib's login() would try each
            # offered mechanism in turn, doubling failed logins (and lock-outs). The
            # user name and password go as UTF-8 (RFC 4616 for PLAIN); smtplib's own
            # auth() encodes them as ASCII and fails on the first other character.
            _authenticate(smtp, mechanism, user, password)
        except smtplib.SMTPResponseException as exc:
            error = error_for_reply(
                exc.smtp_code, reply_text(exc.smtp_error), stage="auth", profile=profile
            )
        except smtplib.SMTPException as exc:  # no common mechanism
            diag = Diagnosis(
                title="No common way of logging in",
                explanation=f"The server offers AUTH {smtp.esmtp_features.get('auth', '')!s}"
                ", none of which Mailroom can use with a password.",
                fix="Ask the provider which login methods the server supports.",
                raw=str(exc),
                key="auth-not-possible",
            )
            error = TransportError("auth", diag, stage="auth", profile=profile.code)
        finally:
            del password
        if error is not None:
            raise error

    return login


def _authenticate(smtp: smtplib.SMTP, mechanism: str, user: str, password: str) -> None:
    """AUTH PLAIN (RFC 4616: authorization id, user and password in UTF-8, NUL
    between) or AUTH LOGIN (user, then password, each UTF-8 in base64). Raises
    ``SMTPAuthenticationError`` with the server's reply when refused. The secret
    never appears in an exception: only the server's reply does."""
    import base64

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    if mechanism == "PLAIN":
        token = b64(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8"))
        code, resp = smtp.docmd("AUTH", f"PLAIN {token}")
    else:
        code, resp = smtp.docmd("AUTH", "LOGIN " + b64(user.encode("utf-8")))
        if code == 334:
            code, resp = smtp.docmd(b64(password.encode("utf-8")))
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


def connect(profile: Profile, login: Login | None, home: Path | None = None) -> smtplib.SMTP:
    """A connected SMTP session for ``profile``: greeted, encrypted as set, logged in."""
    p = profile
    if not p.server:
        raise config_error(
            p,
            f"Profile {p.code!r} has no server",
            "An SMTP profile needs the name of the mail server.",
            f"`mailroom profile set {p.code} --server HOST`.",
        )
    ctx = tls_context(p, home) if p.security != "none" else None
    local = socket.gethostname() or "localhost"
    stage = "connect"
    smtp: smtplib.SMTP
    if p.security == "tls":
        smtp = smtplib.SMTP_SSL(local_hostname=local, timeout=p.timeout_seconds, context=ctx)
    else:
        smtp = smtplib.SMTP(local_hostname=local, timeout=p.timeout_seconds)
    # The name to verify the certificate against: set by smtplib's constructor only,
    # and we construct without connecting.
    set_tls_server_name(smtp, p.server)
    try:
        code, resp = smtp.connect(p.server, p.port)
        if code != 220:
            raise error_for_reply(code, reply_text(resp), stage="connect", profile=p)
        code, resp = smtp.ehlo()
        if code != 250:
            code, resp = smtp.helo()
            if code != 250:
                raise error_for_reply(code, reply_text(resp), stage="connect", profile=p)
        if p.security == "starttls":
            stage = "tls"
            if not smtp.has_extn("starttls"):
                raise _tls_error(
                    p,
                    "The server does not offer STARTTLS",
                    f"Profile {p.code!r} uses STARTTLS, but {p.server}:{p.port} does not "
                    "offer it, so the connection would not be encrypted. Nothing was sent "
                    "and no password was given.",
                    "Check the port (STARTTLS is usually 587; 465 is 'tls'). If the server "
                    "really offers no encryption, choose security 'none' explicitly.",
                    "starttls-not-offered",
                )
            smtp.starttls(context=ctx)
            code, resp = smtp.ehlo()
            if code != 250:
                raise error_for_reply(code, reply_text(resp), stage="tls", profile=p)
        if login is not None:
            stage = "auth"
            login(smtp)
    except BaseException as exc:
        quiet_close(smtp)
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            raise _tls_error(
                p,
                "The server does not offer STARTTLS",
                "STARTTLS was refused.",
                "Check the port and security of the profile.",
                "starttls-not-offered",
            ) from None
        if isinstance(exc, TransportError | smtplib.SMTPException | OSError | EOFError):
            raise failure(p, exc, stage) from None
        raise
    log.info("connected to %s:%s for profile %s", p.server, p.port, p.code)
    return smtp


def quiet_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.close()
    except OSError:
        pass
