"""A backup by e-mail: mailing one, and taking the archive out of a saved message."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from mailing.backup.errors import BackupError, RestoreError
from mailing.backup.layout import DEFAULT_MAIL_LIMIT, SUFFIX
from mailing.backup.write import BackupResult, default_name, write_backup
from mailing.manual import SentMail, send_mail
from mailing.manual_parts import check_recipients
from mailing.names import human_size
from store.store import Store

# ---------------------------------------------------------------- sending


def check_mail_size(size: int, limit: int, what: str = "The backup") -> None:
    """Refuse an attachment that would make the message larger than ``limit`` bytes."""
    # Base64 makes an attachment 4/3 as large, plus line ends.
    encoded = (size + 2) // 3 * 4 * 78 // 76 + 4096
    if limit and encoded > limit:
        raise BackupError(
            f"{what} is {human_size(size)}, about {human_size(encoded)} once attached; "
            f"the limit for mail is {human_size(limit)}.",
            field="size",
            value=size,
            fix="raise the limit with --max-size MB if the mail server accepts larger "
            "messages, or make the backup with `mailroom backup create FILE` and copy it "
            "another way.",
        )


class BackupSent(BaseModel):
    """A backup made and mailed: the JSON of ``mailroom backup send --json``."""

    model_config = ConfigDict(extra="forbid")

    backup: BackupResult
    mail: SentMail

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def send_backup(
    store: Store,
    user: str,
    to: list[str],
    *,
    cc: list[str] | None = None,
    profile: str | None = None,
    administration: str | None = None,
    template: str | None = None,
    max_bytes: int = DEFAULT_MAIL_LIMIT,
) -> BackupSent:
    """Make a backup and mail it (SPEC §8).

    The sender is the given profile, else personal, administration, system; the
    backup object's template is used when there is one. A backup larger than
    ``max_bytes`` once attached is refused before anything is sent.
    """
    import tempfile

    from mailing.message import Attachment

    # Check what the user typed before the (possibly long) work of making the archive.
    check_recipients(to, "To")
    check_recipients(cc or [], "Cc")
    with tempfile.TemporaryDirectory(prefix="mailroom-backup-") as tmp:
        made = write_backup(store, Path(tmp) / default_name(), user=user)
        check_mail_size(made.size, max_bytes)
        payload = made.path.read_bytes()
        host = socket.gethostname()
        created = dt.datetime.fromisoformat(made.created).astimezone()
        when = created.strftime("%Y-%m-%d %H:%M")
        own_text = not (template or _has_backup_template(store))
        mail = send_mail(
            store,
            user,
            "backup",
            to=to,
            cc=cc or [],
            subject=f"Mailroom backup of {host}, {when}" if own_text else "",
            body=(
                f"Attached: a backup of the Mailroom data folder on {host}, made {when} "
                f"({made.members} files, {human_size(made.size)}).\n\n"
                "Restore it with: mailroom restore FILE (the archive, or this e-mail saved "
                "as .eml). Passwords are not in it: enter them again after a restore on "
                "another machine.\n"
                if own_text
                else ""
            ),
            attachments=[Attachment(made.path.name, payload, "application/gzip")],
            template=template,
            auto_template=True,
            values={
                "file_name": made.path.name,
                "created": created.date(),
                "size": human_size(made.size),
                "installation": host,
            },
            profile=profile,
            administration=administration,
            keep_eml=False,
        )
    return BackupSent(backup=made, mail=mail)


def _has_backup_template(store: Store) -> bool:
    from store.records import Template

    return any(t.object == "backup" for t in store.all(Template))


# ---------------------------------------------------------------- e-mail carrier


# The first line of a saved e-mail: a header field ("Received: ...") or an mbox "From ".
_MAIL_START = re.compile(rb"^(From |[!-9;-~]+:)")


def _looks_like_mail(head: bytes) -> bool:
    return bool(_MAIL_START.match(head.lstrip(b"\r\n")))


def _archive_from_eml(source: str, raw: bytes) -> bytes:
    msg = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    found: list[bytes] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename() or ""
        ctype = part.get_content_type()
        if not (
            filename.endswith((SUFFIX, ".tgz"))
            or ctype in ("application/gzip", "application/x-gzip", "application/x-tar")
        ):
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload[:2] == b"\x1f\x8b":
            found.append(payload)
    if not found:
        raise RestoreError(
            f"{source}: the e-mail carries no backup archive ({SUFFIX} attachment). "
            "Nothing was restored.",
            field="file",
            value=source,
            fix="give the .eml of a message sent by `mailroom backup send`, or the archive itself.",
        )
    if len(found) > 1:
        raise RestoreError(
            f"{source}: the e-mail carries {len(found)} backup archives; it is not clear which "
            "to restore. Nothing was restored.",
            field="file",
            value=source,
            fix="save the attachment you mean and restore that file.",
        )
    return found[0]
