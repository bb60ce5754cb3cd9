"""Outbox transport: each message becomes one ``.eml`` file in a folder.

For the demo and for trying Mailroom without a mail server. Files are written
atomically (temporary file, fsync, rename, fsync of the folder), so a reader
never sees half a message. The bytes are exactly those that would have gone
over SMTP.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import uuid
from pathlib import Path

from mailing.transports import SendResult, Transport, config_error
from store.permissions import make_dirs, open_new
from store.records import Profile

log = logging.getLogger("mailroom.outbox")

_MSGID = re.compile(rb"^Message-ID:[ \t]*<?([^>\r\n]*)>?", re.IGNORECASE | re.MULTILINE)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def outbox_folder(profile: Profile, home: Path) -> Path:
    """``profile.outbox_dir`` (relative to the data folder), else ``<home>/outbox``."""
    if profile.outbox_dir:
        folder = Path(profile.outbox_dir).expanduser()
        return folder if folder.is_absolute() else home / folder
    return home / "outbox"


def _name_part(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    match = _MSGID.search(head)
    if match:
        text = _UNSAFE.sub("_", match.group(1).decode("ascii", "replace")).strip("._")
        if text:
            return text[:60]
    return uuid.uuid4().hex


class OutboxTransport(Transport):
    def __init__(self, profile: Profile, home: Path) -> None:
        super().__init__(profile)
        self.folder = outbox_folder(profile, home)

    def send(
        self, raw: bytes, mail_from: str, rcpts: list[str], envid: str | None = None
    ) -> SendResult:
        try:
            make_dirs(self.folder)
        except OSError as exc:
            raise config_error(
                self.profile,
                f"The outbox folder {str(self.folder)!r} cannot be created",
                f"{type(exc).__name__}: {exc.strerror or exc}.",
                f"set another folder: `mailroom profile set {self.profile.code} "
                "--outbox-dir DIR`, or fix its permissions.",
            ) from None
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{_name_part(raw)}.eml"
        target = self.folder / name
        n = 1
        while target.exists():
            n += 1
            target = self.folder / f"{stamp}-{_name_part(raw)}-{n}.eml"
        tmp = self.folder / f".{target.name}.{os.getpid()}.tmp"
        try:
            # Messages hold customers' data: readable by the owner only.
            with os.fdopen(open_new(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
            dir_fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise config_error(
                self.profile,
                f"The message could not be written to the outbox {str(self.folder)!r}",
                f"{type(exc).__name__}: {exc.strerror or exc}.",
                "free disk space or fix the folder's permissions.",
            ) from None
        log.info("profile %s: message written to %s", self.profile.code, target)
        return SendResult(accepted=list(rcpts), refused={}, reply=f"written to {target}")
