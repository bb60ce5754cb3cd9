"""``mailroom audit [--since WHEN] [--json]``: who changed what, when (the audit log).

Approvals, holds, cancels, resends, marks as sent, restores and every configuration
change, as the doors of ``mailing.changes`` wrote them; never a secret.
"""

from __future__ import annotations

import argparse
from typing import Any

from tui.context import Context, print_json


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="who approved, held, cancelled or changed what, and when")
    p.add_argument("--since", metavar="WHEN", help="from a date (2026-03-01), or 7d / 12h ago")
    p.add_argument("--json", action="store_true", help="every entry with before and after")
    p.set_defaults(handler=run_audit)


def run_audit(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.audit import entries, parse_since

    since = parse_since(args.since) if args.since else None
    found = list(entries(ctx.home, since))
    if args.json:
        print_json([e.__dict__ for e in found])
        return 0
    if not found:
        print("Nothing in the audit log" + (f" since {args.since}." if since else "."))
        return 0
    for entry in found:
        print(entry.line())
    return 0
