"""The profile's mailbox over IMAP: read the delivery reports, file them away.

IMAP over implicit TLS (port 993 by default), the certificate always verified
against the system's trust store plus the profile's ``ca_file``; the profile's login
(user name or sender) with its password from the keyring, or for an Office 365
profile XOAUTH2 with a token for IMAP from its sign-in. Messages are read with
``BODY.PEEK`` (they stay unread); a report that was matched to an item is moved to
the profile's ``bounce_folder`` (created when missing), so it is not read twice.
Anything else — ordinary mail, reports about messages Mailroom did not send — is
left where it is.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailing.transports.smtp_connect import tls_context
from store.errors import MailroomError
from store.records import Profile

# Reports older than this are not looked at (a bounce comes within days).
LOOK_BACK_DAYS = 60
# Where a message that cannot be read is filed, with a note saying why.
UNREADABLE_FOLDER = "Mailroom unreadable"


class MailboxError(MailroomError):
    """The mailbox cannot be read: says which profile, which server, and the fix."""


def _error(profile: Profile, what: str, fix: str) -> MailboxError:
    return MailboxError(
        f"Profile {profile.code}: the mailbox {profile.imap_server}:{profile.imap_port} "
        f"cannot be read: {what}.",
        field="imap_server",
        value=profile.imap_server,
        fix=fix,
    )


def _password(profile: Profile) -> str:
    from store.secrets import get_secret

    password = get_secret(profile.code, "password")
    if not password:
        raise MailboxError(
            f"No password is stored for profile {profile.code!r}, so its mailbox cannot be read.",
            field="password",
            value=profile.code,
            fix=f"store it with `mailroom profile set-password {profile.code}`.",
        )
    return password


@contextmanager
def open_mailbox(
    profile: Profile, home: Path, *, http_client: Any = None
) -> Iterator[imaplib.IMAP4_SSL]:
    """A logged-in IMAP connection to the profile's mailbox."""
    if not profile.imap_server:
        raise MailboxError(
            f"Profile {profile.code} has no mailbox to read delivery reports from.",
            field="imap_server",
            value="",
            fix=f"set it with `mailroom bounces setup {profile.code} --imap-server HOST`.",
        )
    if profile.auth == "none":
        raise MailboxError(
            f"Profile {profile.code} does not log in, so its mailbox cannot be read.",
            field="auth",
            value=profile.auth,
            fix="give the profile a password or an Office 365 sign-in.",
        )
    ctx = tls_context(profile, home)
    try:
        conn = imaplib.IMAP4_SSL(
            profile.imap_server,
            profile.imap_port,
            ssl_context=ctx,
            timeout=profile.timeout_seconds,
        )
    except ssl.SSLCertVerificationError as exc:
        raise _error(
            profile,
            f"its certificate is not trusted ({exc.verify_message})",
            "check the server name; if the office uses its own CA, name its certificate "
            "in the profile's ca_file.",
        ) from None
    except (OSError, ssl.SSLError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _error(
            profile,
            f"connecting failed ({why or type(exc).__name__})",
            "check the IMAP server name and port (993 for IMAP over TLS) and the network.",
        ) from None
    try:
        if profile.auth == "oauth2-office365":
            if not _xoauth2(conn, profile, home, http_client):
                raise _error(
                    profile,
                    "the server refused the Office 365 sign-in",
                    "the mailbox may not allow IMAP, or the sign-in lacks IMAP access: "
                    f"sign in again with `mailroom profile login {profile.code}`.",
                )
        else:
            try:
                _login(conn, profile.username or profile.sender, _password(profile))
            except imaplib.IMAP4.error:
                raise _error(
                    profile,
                    "the server refused the login",
                    f"check the user name and the password (`mailroom profile set-password "
                    f"{profile.code}`).",
                ) from None
        yield conn
    finally:
        try:
            conn.logout()
        except (TimeoutError, imaplib.IMAP4.error, OSError):
            pass


def _login(conn: imaplib.IMAP4_SSL, user: str, password: str) -> None:
    """LOGIN, or for a user name or password that is not ASCII (which LOGIN cannot
    carry: imaplib would fail naming one of its characters) AUTHENTICATE PLAIN, whose
    UTF-8 RFC 4616 defines."""
    if user.isascii() and password.isascii():
        conn.login(user, password)
        return
    token = b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")
    conn.authenticate("PLAIN", lambda _challenge: token)


def _xoauth2(conn: imaplib.IMAP4_SSL, profile: Profile, home: Path, http_client: Any) -> bool:
    """AUTHENTICATE XOAUTH2; whether it worked. Returns instead of raising, so that no
    frame holding the token is ever part of a traceback."""
    from mailing.transports.office365 import IMAP_SCOPES, get_access_token, xoauth2_string

    user, token = get_access_token(profile, home, http_client=http_client, scopes=IMAP_SCOPES)
    calls = 0

    def answer(challenge: bytes) -> bytes:
        nonlocal calls
        calls += 1
        # After a refusal the server sends an error challenge; answer empty.
        return xoauth2_string(user, token).encode() if calls == 1 else b""

    try:
        conn.authenticate("XOAUTH2", answer)
    except imaplib.IMAP4.error:
        return False
    return True


def _ok(profile: Profile, typ: str, data: object, what: str) -> None:
    if typ != "OK":
        raise _error(
            profile, f"{what} failed ({data!r})", "try again; if it stays, ask the mail admin."
        )


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Seen:
    """How far the inbox was read: messages up to ``last_uid`` were looked at (valid
    while the mailbox's UIDVALIDITY is unchanged)."""

    uidvalidity: str = ""
    last_uid: int = 0


def open_inbox(conn: imaplib.IMAP4_SSL, profile: Profile) -> str:
    """Select the inbox; its UIDVALIDITY."""
    typ, data = conn.select("INBOX")
    _ok(profile, typ, data, "opening the inbox")
    _, validity = conn.response("UIDVALIDITY")
    return (validity[0] or b"").decode() if validity and validity[0] else ""


def inbox_messages(
    conn: imaplib.IMAP4_SSL,
    profile: Profile,
    seen: Seen,
    *,
    days: int = LOOK_BACK_DAYS,
    max_bytes: int = 10 * 1024 * 1024,
) -> Iterator[tuple[bytes, bytes]]:
    """(uid, raw message) of every message of the selected inbox from the last ``days``
    days not looked at before (``seen``, which moves on as they are given)."""
    since = (dt.date.today() - dt.timedelta(days=days)).strftime("%d-%b-%Y")
    typ, data = conn.uid("SEARCH", "UID", f"{seen.last_uid + 1}:*", "SINCE", since)
    _ok(profile, typ, data, "searching the inbox")
    uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > seen.last_uid)
    for number in uids:
        uid = str(number).encode()
        # At most one byte more than a report can be: a huge message is not downloaded.
        typ, parts = conn.uid("FETCH", uid.decode(), f"(BODY.PEEK[]<0.{max_bytes + 1}>)")
        _ok(profile, typ, parts, "reading a message")
        body = next((p[1] for p in parts if isinstance(p, tuple) and len(p) == 2), None)
        if body is not None:
            yield uid, body
        seen.last_uid = number


def file_unreadable(conn: imaplib.IMAP4_SSL, profile: Profile, uid: bytes, why: str) -> None:
    """Move a message that cannot be read to ``Mailroom unreadable``, followed there by
    a short note saying why (a message of its own: IMAP keeps no text on a message)."""
    import email.utils

    note = (
        f"From: Mailroom <mailroom@localhost>\r\n"
        f"Date: {email.utils.formatdate(localtime=True)}\r\n"
        f"Subject: Why Mailroom did not read the message before this one\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{why}\r\n"
    ).encode()
    folder = _quoted(UNREADABLE_FOLDER)
    file_away(conn, profile, [uid], folder=UNREADABLE_FOLDER)
    conn.append(folder, r"(\Seen)", None, note)


def file_away(
    conn: imaplib.IMAP4_SSL, profile: Profile, uids: list[bytes], *, folder: str = ""
) -> None:
    """Move the processed reports to the profile's bounce folder (or ``folder``)."""
    if not uids:
        return
    name = folder or profile.bounce_folder
    folder = _quoted(name)
    conn.create(folder)  # "already exists" is an answer, not a problem
    ids = b",".join(uids).decode()
    if "MOVE" in conn.capabilities:
        typ, data = conn.uid("MOVE", ids, folder)
        _ok(profile, typ, data, f"moving messages to {name}")
        return
    typ, data = conn.uid("COPY", ids, folder)
    _ok(profile, typ, data, f"copying messages to {name}")
    typ, data = conn.uid("STORE", ids, "+FLAGS.SILENT", r"(\Deleted)")
    _ok(profile, typ, data, "marking the filed reports")
    conn.expunge()
