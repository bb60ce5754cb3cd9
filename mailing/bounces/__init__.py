"""Bounces: delivery reports that come back after the server took a message.

``fetch_bounces(store)`` reads each profile's mailbox over IMAP (``mailbox``), finds
the delivery reports with a maintained detector (``parse``: ``flufl.bounce``), matches
each to its item by envelope id or quoted Message-ID and records it: the item goes
``sent -> bounced`` with hard/soft and the reason (``intake``). Processed reports are
filed in the profile's bounce folder so they are not read twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mailing.bounces.intake import Bounce, ItemIndex, record_bounces
from mailing.bounces.mailbox import MailboxError, file_away, inbox_messages, open_mailbox
from mailing.bounces.parse import Failure, Report, read_report
from store.errors import MailroomError
from store.records import Profile

if TYPE_CHECKING:
    from store.store import Store


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
            done: list[bytes] = []
            for uid, raw in inbox_messages(conn, p):
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
    return out


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
