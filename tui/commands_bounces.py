"""`mailroom bounces fetch|setup`: delivery reports from the profiles' mailboxes."""

from __future__ import annotations

import argparse
from typing import Any

from tui.context import Context, print_json


def register(sub: Any) -> None:
    p = sub.add_parser("bounces", help="read delivery reports (bounces) from the mailbox")
    bsub = p.add_subparsers(dest="bounces_command", metavar="ACTION", required=True)
    q = bsub.add_parser(
        "fetch", help="read the mailbox, mark bounced messages, file the reports away"
    )
    q.add_argument("--profile", help="only this profile's mailbox (default: every one set up)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_fetch)
    q = bsub.add_parser("setup", help="the mailbox (IMAP over TLS) a profile's reports come to")
    q.add_argument("profile", metavar="PROFILE")
    q.add_argument("--imap-server", required=True, help="e.g. outlook.office365.com")
    q.add_argument("--imap-port", type=int, default=993)
    q.add_argument("--folder", help="where processed reports are filed (default: Mailroom bounces)")
    q.set_defaults(handler=cmd_setup)


def cmd_fetch(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.bounces import fetch_bounces

    report = fetch_bounces(ctx.store, args.profile)
    if args.json:
        print_json(report.to_json())
        return 0
    for b in report.bounces:
        doc = b.document
        print(
            f"{b.batch} {b.item}: {doc.get('type', '')} {doc.get('number', '')} bounced "
            f"({b.kind}) for {b.recipient}: {b.reason}"
        )
    print(
        f"{report.read} message(s) read in {', '.join(report.profiles)}: "
        f"{report.reports} delivery report(s), {len(report.bounces)} bounce(s) recorded, "
        f"{report.filed} report(s) filed away, {report.unmatched} about no message of Mailroom"
    )
    return 0


def cmd_setup(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes import update_profile

    fields: dict[str, Any] = {"imap_server": args.imap_server, "imap_port": args.imap_port}
    if args.folder:
        fields["bounce_folder"] = args.folder
    profile = update_profile(ctx.store, args.profile, fields)
    print(
        f"profile {profile.code} reads delivery reports from {profile.imap_server}:"
        f"{profile.imap_port} and files them in {profile.bounce_folder!r}"
    )
    return 0
