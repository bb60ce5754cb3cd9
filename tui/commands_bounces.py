"""`mailroom bounces fetch|list|setup`: delivery reports from the profiles' mailboxes."""

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
    q = bsub.add_parser(
        "list", help="the reports that changed nothing (--unmatched) or could not be read"
    )
    which = q.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--unmatched", action="store_true", help="reports that proved nothing, and why"
    )
    which.add_argument(
        "--unreadable", action="store_true", help="messages filed in 'Mailroom unreadable'"
    )
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_list)
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
            f"{doc.get('type', '')} {doc.get('number', '')} (batch {b.batch}): bounced "
            f"for {b.recipient}: {b.reason}"
        )
    for d in report.delays:
        doc = d.document
        print(f"{doc.get('type', '')} {doc.get('number', '')} (batch {d.batch}): {d.sentence()}")
    for u in report.unreadable:
        print(f"could not read the message {u.get('subject')!r}: {u['reason']}")
    print(
        f"{plural(report.read, 'message')} read in {', '.join(report.profiles)}: "
        f"{plural(report.reports, 'delivery report')}, "
        f"{plural(len(report.bounces), 'bounce')} and "
        f"{plural(len(report.delays), 'delay')} recorded, "
        f"{plural(report.unmatched, 'unmatched report')} "
        "(`mailroom bounces list --unmatched`)"
        + (
            f", {len(report.unreadable)} unreadable (filed in 'Mailroom unreadable')"
            if report.unreadable
            else ""
        )
    )
    return 0


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.bounces import UNMATCHED_FILE, UNREADABLE_FILE, listed

    entries = listed(ctx.home, UNMATCHED_FILE if args.unmatched else UNREADABLE_FILE)
    if args.json:
        print_json(entries)
        return 0
    if not entries:
        print("no unmatched reports" if args.unmatched else "no message was unreadable")
    for e in entries:
        print(
            f"{str(e.get('at', ''))[:16].replace('T', ' ')} {e.get('profile', '')}: "
            f"{e.get('subject') or '(no subject)'} from {e.get('from') or '(no sender)'}"
        )
        print(f"    {e.get('reason', '')}")
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
