"""Bounces: delivery reports that come back after the server took a message.

``fetch_bounces(store)`` reads each profile's mailbox over IMAP (``mailbox``), finds
the delivery reports with a maintained detector (``parse``: ``flufl.bounce``), matches
each to its item by envelope id or quoted Message-ID and records it: the item goes
``sent -> bounced`` with hard/soft and the reason (``intake``). Processed reports are
filed in the profile's bounce folder so they are not read twice; how far each inbox
was read is kept (``bounces/<profile>.json``: UIDVALIDITY and the last UID), so the
rest of the mail is not read again either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailing.bounces.intake import Bounce, ItemIndex, record_bounces
from mailing.bounces.mailbox import (
    MailboxError,
    Seen,
    file_away,
    inbox_messages,
    open_inbox,
    open_mailbox,
)
from mailing.bounces.parse import Failure, Report, read_report
from store.db import atomic_write_bytes
from store.errors import MailroomError
from store.permissions import make_dirs
from store.records import Profile

if TYPE_CHECKING:
    from store.store import Store

# Per profile, how far its inbox was read: ``<data folder>/bounces/<profile>.json``.
SEEN_DIR = "bounces"


@dataclass
class FetchReport:
    """What one `bounces fetch` found."""

    profiles: list[str] = field(default_factory=list)
    read: int = 0  # messages looked at
    reports: int = 0  # of which delivery reports
    bounces: list[Bounce] = field(default_factory=list)
    unmatched: int = 0  # reports about no message of Mailroom (left in the inbox)
    filed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "profiles": self.profiles,
            "messages_read": self.read,
            "delivery_reports": self.reports,
            "unmatched_reports": self.unmatched,
            "filed": self.filed,
            "bounces": [b.to_json() for b in self.bounces],
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
        with open_mailbox(p, store.home, http_client=http_client) as conn:
            validity = open_inbox(conn, p)
            seen = read_seen(store.home, p.code, validity)
            done: list[bytes] = []
            for uid, raw in inbox_messages(conn, p, seen):
                out.read += 1
                report = read_report(raw)
                if report is None:
                    continue
                out.reports += 1
                found = record_bounces(store.home, report, index)
                if found is None:
                    out.unmatched += 1
                    continue
                out.bounces.extend(found)
                done.append(uid)
            file_away(conn, p, done)
            out.filed += len(done)
            write_seen(store.home, p.code, seen)
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
    "Bounce",
    "Failure",
    "FetchReport",
    "MailboxError",
    "Report",
    "fetch_bounces",
    "read_report",
    "record_bounces",
]
