"""``mailroom audit [--since WHEN] [--json]`` and ``mailroom audit verify``.

Approvals, holds, cancels, resends, marks as sent, restores and every configuration
change, as the doors of ``mailing.changes`` wrote them; never a secret. ``verify``
checks the hash chain (docs/sharing.md) and names the first entry that does not fit:
exit 0 when it all fits, 1 when not.
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
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION")
    verify = asub.add_parser(
        "verify", help="check that no entry was changed or removed (the hash chain)"
    )
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=run_verify)


def run_audit(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.audit import entries, parse_since

    ctx.need_data_folder()
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


def run_verify(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.audit import FILE_NAME, verify

    ctx.need_data_folder()
    verdict = verify(ctx.home)
    if args.json:
        print_json(verdict.__dict__)
    elif verdict.ok:
        print(f"OK: {verdict.sentence(ctx.home / FILE_NAME)}.")
    else:
        print(f"NOT OK: {verdict.sentence(ctx.home / FILE_NAME)}")
        print(
            "Fix: find out who changed the log and why (the entries up to there are as "
            "written); keep this copy, and compare it with the audit.log of a backup."
        )
    return 0 if verdict.ok else 1
