"""E-mail profiles (SPEC §1): checks, warnings, and the Test action.

- :func:`check_profile` refuses a profile that cannot send, naming the field.
- :func:`profile_warnings` lists what is allowed but risky or surprising
  (no encryption, no login, Office 365 keeping no copy, ...).
- :func:`test_profile` sends a short test message to the given address or the
  sender itself and reports success or a plain-language diagnosis.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING, Any

from mailing.addresses import check_address, check_header_value, split_addresses
from mailing.errors import ConfigError
from mailing.transports.diagnosis import Diagnosis, diagnose
from store.errors import MailroomError, NotFoundError
from store.records import Profile

if TYPE_CHECKING:
    from store.store import Store


def _is_office365(profile: Profile) -> bool:
    s = profile.server.lower()
    return profile.auth == "oauth2-office365" or "office365" in s or "outlook.com" in s


def _is_gmail(profile: Profile) -> bool:
    s = profile.server.lower()
    return "gmail" in s or "google" in s


def check_profile(profile: Profile) -> None:
    """Raise ConfigError (or AddressError) naming the field when ``profile`` cannot send."""
    code = profile.code

    def need(field: str, what: str, fix: str) -> None:
        raise ConfigError(
            f"Profile {code!r}: {what}", field=f"profile {code} {field}", value="", fix=fix
        )

    if not profile.sender:
        need(
            "sender",
            "the sender (From address) is empty.",
            f"`mailroom profile set {code} --sender ADDRESS`.",
        )
    check_address(profile.sender, f"sender of profile {code}")
    check_header_value(profile.sender_name, f"sender name of profile {code}")
    if profile.reply_to:
        for addr in split_addresses(profile.reply_to):
            check_address(addr, f"reply-to of profile {code}")
    if profile.bcc:
        for addr in split_addresses(profile.bcc):
            check_address(addr, f"bcc of profile {code}")
    if profile.system == "outbox":
        return
    if not profile.server:
        need(
            "server",
            "an SMTP profile needs a server.",
            f"`mailroom profile set {code} --server HOST`.",
        )
    if any(c.isspace() for c in profile.server) or "/" in profile.server or ":" in profile.server:
        raise ConfigError(
            f"Profile {code!r}: the server {profile.server!r} is not a host name "
            "(no spaces, slashes, 'smtp://' or ':port').",
            field=f"profile {code} server",
            value=profile.server,
            fix="give only the host name, and the port separately (--port).",
        )
    if profile.auth == "oauth2-office365":
        if not profile.oauth_client_id:
            need(
                "oauth_client_id",
                "Office 365 sign-in needs an application (client) id.",
                f"`mailroom profile set {code} --oauth-client-id ID --oauth-tenant TENANT`.",
            )
        if profile.security == "none":
            raise ConfigError(
                f"Profile {code!r}: Office 365 sign-in needs an encrypted connection.",
                field=f"profile {code} security",
                value="none",
                fix="set security 'starttls' (smtp.office365.com, port 587).",
            )


def stored_profile(store: Store, code: str) -> Profile:
    """The stored profile ``code``, or NotFoundError saying how to find or add one."""
    profile = store.find(Profile, code)
    if profile is None:
        raise NotFoundError(
            f"There is no profile {code!r}.",
            field="profile",
            value=code,
            fix="see `mailroom profile list`, or add it with `mailroom profile add`.",
        )
    return profile


def profile_warnings(profile: Profile) -> list[str]:
    """What is allowed but risky or surprising, in plain words."""
    out: list[str] = []
    if profile.system == "outbox":
        out.append("System 'outbox': messages are written as .eml files into a folder, not sent.")
        return out
    if profile.security == "none":
        text = "Security is 'none': the connection is not encrypted, so messages"
        if profile.auth == "password":
            text += " and the password"
        out.append(text + " can be read on the way. Use it only for a trusted local relay.")
    if profile.auth == "none":
        out.append(
            "Authentication is 'none': the server must accept mail without a login "
            "(an internal relay). Most providers refuse this."
        )
    if profile.security == "tls" and profile.port == 587:
        out.append("Security 'tls' on port 587: port 587 usually expects 'starttls'.")
    if profile.security == "starttls" and profile.port == 465:
        out.append("Security 'starttls' on port 465: port 465 usually expects 'tls'.")
    if profile.auth == "password" and not profile.username:
        out.append("The user name is empty: the sender address is used to log in.")
    if (
        profile.auth != "none"
        and profile.username
        and profile.sender
        and profile.username.lower() != profile.sender.lower()
    ):
        out.append(
            f"The sender {profile.sender} differs from the login {profile.username}: the "
            "account needs send-as rights for it, or the server refuses the sender."
        )
    if _is_gmail(profile) and profile.auth == "password":
        out.append(
            "Gmail: with two-step login on, use an app password "
            "(https://myaccount.google.com/apppasswords), not the normal password."
        )
    if _is_office365(profile):
        if not profile.bcc:
            out.append(
                "Office 365 does not keep mail sent over SMTP in Sent Items: set Bcc to the "
                "sender's own address to keep a copy."
            )
        if profile.rate_per_minute == 0 or profile.rate_per_minute > 30:
            out.append("Office 365 allows about 30 messages a minute: set the rate limit to 30.")
    return out


@dataclass
class TestResult:
    """The outcome of a profile's Test action."""

    __test__ = False  # not a pytest test class

    ok: bool
    message: str
    diagnosis: Diagnosis | None = None
    reply: str = ""


def build_test_message(profile: Profile, to: str) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    sender = check_address(profile.sender, f"sender of profile {profile.code}")
    _, _, domain = sender.rpartition("@")
    msg["From"] = Address(profile.sender_name, addr_spec=sender) if profile.sender_name else sender
    msg["To"] = to
    if profile.reply_to:
        msg["Reply-To"] = profile.reply_to
    msg["Subject"] = f"Mailroom test message (profile {profile.code})"
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    ascii_domain = domain if domain.isascii() else domain.encode("idna").decode()
    msg["Message-ID"] = make_msgid("mailroom-test", domain=ascii_domain)
    text = (
        f"This is a test message from Mailroom, sent with profile {profile.code} "
        f"({profile.description or profile.system}).\n\n"
        "If you can read it, the profile works.\n"
    )
    msg.set_content(text)
    if profile.html:
        msg.add_alternative(
            "<html><body><p>This is a test message from Mailroom, sent with profile "
            f"<b>{profile.code}</b>.</p><p>If you can read it, the profile works.</p>"
            "</body></html>",
            subtype="html",
        )
    return msg


def test_profile(
    store: Store, code: str, to: str | None = None, *, http_client: Any = None
) -> TestResult:
    """Send a short test message to ``to`` (default: the sender) with profile ``code``."""
    from mailing.transports import TransportError, open_transport

    __tracebackhide__ = True
    profile = stored_profile(store, code)
    try:
        check_profile(profile)
        rcpt = (
            check_address(to, "test address")
            if to
            else check_address(profile.sender, f"sender of profile {code}")
        )
        raw = build_test_message(profile, rcpt).as_bytes()
        with open_transport(profile, store.home, http_client=http_client) as transport:
            result = transport.send(raw, profile.sender, [rcpt])
    except TransportError as exc:
        return TestResult(False, str(exc), exc.diagnosis, exc.reply)
    except MailroomError as exc:
        diag = Diagnosis(
            title=exc.message.split("\n")[0],
            explanation=exc.message,
            fix=exc.fix or "correct the profile and test again.",
            key="config",
        )
        return TestResult(False, str(exc), diag)
    except OSError as exc:  # a network error outside a transport step
        diag = diagnose(exc, server=profile.server)
        return TestResult(False, diag.title, diag)
    if rcpt in result.refused:
        c, r = result.refused[rcpt]
        diag = diagnose(c, r, stage="rcpt", server=profile.server)
        return TestResult(False, diag.title, diag, r)
    if profile.system == "outbox":
        message = f"Test message to {rcpt} {result.reply}."
    else:
        message = (
            f"Test message sent from {profile.sender} to {rcpt} through "
            f"{profile.server}:{profile.port} (server: {result.reply})."
        )
    return TestResult(True, message, None, result.reply)


test_profile.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
