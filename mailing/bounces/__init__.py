"""Bounces: delivery reports that come back after the server took a message.

``fetch_bounces(store)`` reads each profile's mailbox over IMAP (``mailbox``), one
message at a time: finds the delivery reports (``parse``), checks that each proves
itself and matches it to its item (``intake``): a failure makes the item ``bounced``,
a delay is a note on it. Recorded reports are filed in the profile's bounce folder;
a message that cannot be read is filed in ``Mailroom unreadable`` with a note saying
why, and reading goes on. A report that proves nothing is an *unmatched report*,
kept in ``bounces/unmatched.jsonl`` for a person to look at.

How far each inbox was read is kept (``bounces/<profile>.json``: UIDVALIDITY and
the last UID), saved after every message, so nothing is read twice, even after a
crash half-way. One fetch at a time per profile (``bounces/<profile>.lock``): two
fetches at once never record one report twice.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailing.bounces.intake import (
    Bounce,
    Delay,
    ItemIndex,
    Recorded,
    Unmatched,
    record_bounces,
)
from mailing.bounces.mailbox import (
    UNREADABLE_FOLDER,
    MailboxError,
    Seen,
    file_away,
    file_unreadable,
    inbox_messages,
    open_inbox,
    open_mailbox,
)
from mailing.bounces.parse import MAX_BYTES, Failure, Report, Unreadable, read_report
from store.db import atomic_write_bytes
from store.errors import MailroomError
from store.permissions import make_dirs
from store.records import Profile

if TYPE_CHECKING:
    from store.store import Store

# Per profile, how far its inbox was read: ``<data folder>/bounces/<profile>.json``.
SEEN_DIR = "bounces"
UNMATCHED_FILE = "unmatched.jsonl"
UNREADABLE_FILE = "unreadable.jsonl"
# How long a fetch waits for another fetch of the same profile.
LOCK_SECONDS = 300.0


@dataclass
class FetchReport:
    """What one `bounces fetch` found."""

    profiles: list[str] = field(default_factory=list)
    read: int = 0  # messages looked at
    reports: int = 0  # of which delivery reports
    bounces: list[Bounce] = field(default_factory=list)
    delays: list[Delay] = field(default_factory=list)
    unmatched: int = 0  # reports that proved nothing (left in the inbox, listed)
    filed: int = 0
    unreadable: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "profiles": self.profiles,
            "messages_read": self.read,
            "delivery_reports": self.reports,
            "unmatched_reports": self.unmatched,
            "filed": self.filed,
            "bounces": [b.to_json() for b in self.bounces],
            "delays": [d.to_json() for d in self.delays],
            "unreadable": self.unreadable,
        }


def fetch_bounces(
    store: Store, profile: str | None = None, *, http_client: Any = None
) -> FetchReport:
    """Read the mailbox of ``profile`` (or of every profile with one) for reports.

    ``http_client`` is passed to msal for Office 365 profiles (tests: a local fake)."""
    profiles = [p for p in store.all(Profile) if profile is None or p.code == profile]
    if profile is not None and not profiles:
        raise MailroomError(
            f"No profile {profile!r} exists.",
            field="profile",
            value=profile,
            fix="list the profiles with `mailroom profile list`.",
        )
    if profile is None:
        profiles = [p for p in profiles if p.imap_server]
        if not profiles:
            raise MailboxError(
                "No profile has a mailbox to read delivery reports from.",
                field="imap_server",
                value="",
                fix="set one with `mailroom bounces setup PROFILE --imap-server HOST`.",
            )
    out = FetchReport()
    index = ItemIndex(store.home)
    for p in profiles:
        out.profiles.append(p.code)
        _fetch_profile(store.home, p, index, out, http_client)
    return out


def _fetch_profile(
    home: Path, p: Profile, index: ItemIndex, out: FetchReport, http_client: Any
) -> None:
    from filelock import FileLock

    from store.locking import hold

    lock_path = home / SEEN_DIR / f"{p.code}.lock"
    make_dirs(lock_path.parent)
    lock = FileLock(str(lock_path), timeout=LOCK_SECONDS)
    subject = f"The mailbox of profile {p.code} is"
    with hold(lock, subject, LOCK_SECONDS, field="profile", value=p.code):
        with open_mailbox(p, home, http_client=http_client) as conn:
            validity = open_inbox(conn, p)
            seen = read_seen(home, p.code, validity)
            for uid, raw in inbox_messages(conn, p, seen, max_bytes=MAX_BYTES):
                # One message at a time: handled, filed, and the read position saved,
                # before the next is read.
                out.read += 1
                _one_message(home, conn, p, index, out, validity, uid, raw)
                seen.last_uid = int(uid)
                write_seen(home, p.code, seen)


def _one_message(
    home: Path,
    conn: Any,
    p: Profile,
    index: ItemIndex,
    out: FetchReport,
    validity: str,
    uid: bytes,
    raw: bytes,
) -> None:
    where = {"profile": p.code, "uidvalidity": validity, "uid": int(uid)}
    try:
        report = read_report(raw)
    except Exception as exc:  # one message's boundary: filed with the reason, reading goes on
        reason = (
            exc.reason
            if isinstance(exc, Unreadable)
            else (f"it could not be read ({type(exc).__name__})")
        )
        note = {**where, **_headline(raw), "reason": reason}
        file_unreadable(conn, p, uid, f"Mailroom could not read this message: {reason}.")
        _append(home, UNREADABLE_FILE, note)
        out.unreadable.append(note)
        return
    if report is None:
        return
    out.reports += 1
    try:
        found = record_bounces(home, report, index)
    except (MailroomError, OSError, ValueError) as exc:
        # A damaged batch, say: the report is kept for a person, reading goes on.
        why = str(exc) if isinstance(exc, MailroomError) else type(exc).__name__
        found = Recorded(unmatched=Unmatched(f"it could not be recorded ({why})", report.sender,
                                             report.subject, report.date))  # fmt: skip
    if found.unmatched is not None:
        out.unmatched += 1
        _append(home, UNMATCHED_FILE, {**where, **found.unmatched.to_json()})
        return
    out.bounces.extend(found.bounces)
    out.delays.extend(found.delays)
    file_away(conn, p, [uid])
    out.filed += 1


def _headline(raw: bytes) -> dict[str, str]:
    """From, Subject and Date of a message that could not be read, as far as they go."""
    head = raw[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    out = {"from": "", "subject": "", "date": ""}
    for line in head.splitlines():
        name, colon, value = line.partition(b":")
        key = name.strip().lower().decode("ascii", "replace")
        if colon and key in out and not out[key]:
            out[key] = " ".join(value.decode("utf-8", "replace").split())[:200]
    return out


def _append(home: Path, name: str, entry: dict[str, Any]) -> None:
    import datetime as dt

    path = home / SEEN_DIR / name
    make_dirs(path.parent)
    line = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **entry}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def listed(home: Path, name: str) -> list[dict[str, Any]]:
    """The unmatched (``UNMATCHED_FILE``) or unreadable (``UNREADABLE_FILE``) messages
    kept so far, oldest first."""
    try:
        lines = (home / SEEN_DIR / name).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def _seen_file(home: Path, code: str) -> Path:
    return home / SEEN_DIR / f"{code}.json"


def read_seen(home: Path, code: str, validity: str) -> Seen:
    """How far this profile's inbox was read (from the start when its UIDVALIDITY
    changed, or nothing was kept)."""
    try:
        data = json.loads(_seen_file(home, code).read_bytes())
    except (OSError, ValueError):
        return Seen(validity)
    if not isinstance(data, dict) or data.get("uidvalidity") != validity or not validity:
        return Seen(validity)
    last = data.get("last_uid")
    return Seen(validity, last if isinstance(last, int) and last >= 0 else 0)


def write_seen(home: Path, code: str, seen: Seen) -> None:
    path = _seen_file(home, code)
    make_dirs(path.parent)
    payload = {"uidvalidity": seen.uidvalidity, "last_uid": seen.last_uid}
    atomic_write_bytes(path, json.dumps(payload).encode())


__all__ = [
    "UNMATCHED_FILE",
    "UNREADABLE_FILE",
    "UNREADABLE_FOLDER",
    "Bounce",
    "Delay",
    "Unmatched",
    "Unreadable",
    "listed",
    "Failure",
    "FetchReport",
    "MailboxError",
    "Report",
    "fetch_bounces",
    "read_report",
    "record_bounces",
]
