"""``mailroom doctor [--json] [--offline]``: is this installation ready to send?

One line a check: OK, or what is wrong and the one command that fixes it (see
``mailing.checks.doctor``). Every check runs whatever an earlier one found. Exit code 0 when
every check is OK, 1 otherwise; ``--json`` gives the same lines as a list.
"""

from __future__ import annotations

import argparse
from typing import Any

from tui.context import Context, print_json


def register(sub: Any) -> None:
    p = sub.add_parser(
        "doctor", help="check the data folder, secrets, profiles (login, nothing sent), letterheads"
    )
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--offline", action="store_true", help="do not contact the mail servers of the profiles"
    )
    p.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.checks.doctor import run_checks

    checks = []
    for check in run_checks(
        ctx.store,
        reach_servers=not args.offline,
        passphrase_file=getattr(args, "passphrase_file", None),
    ):
        checks.append(check)
        if not args.json:
            print(check.line(), flush=True)
    bad = [c for c in checks if not c.ok]
    if args.json:
        print_json([c.__dict__ for c in checks])
    else:
        print(
            "Everything is ready."
            if not bad
            else f"{len(bad)} thing(s) to fix: run each command after '->'."
        )
    return 1 if bad else 0
