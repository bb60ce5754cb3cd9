"""``mailroom settings show|set``: the Settings pane (F6) from a script.

    mailroom settings show [--json]
    mailroom settings set [--system-profile CODE|none] [--approval same-user|other-user]
                          [--admin-profile ADMIN=CODE|none ...]
                          [--personal-profile CODE|none] [--full-name TEXT] [--signature TEXT]
                          [--for-user NAME]

Everything given is one change through the door ``mailing.changes.settings``: refused
as a whole, naming each problem, or written and logged. The personal values are the
acting user's, or ``--for-user NAME``'s (e.g. the demo's users). Test mode is
``mailroom sending redirect``; sending paused is ``mailroom sending pause|resume``.
"""

from __future__ import annotations

import argparse
from typing import Any

from store.errors import MailroomError
from tui.context import Context, print_json


def register(sub: Any) -> None:
    p = sub.add_parser("settings", help="the Settings pane: system, administration, personal")
    ssub = p.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    show = ssub.add_parser("show", help="the settings, and each user's personal ones")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_show)
    st = ssub.add_parser("set", help="change settings; all given at once, or none")
    st.add_argument("--system-profile", metavar="CODE", help="the system profile (SPEC §5.4)")
    st.add_argument(
        "--approval",
        metavar="RULE",
        help="same-user (anyone approves) or other-user (four eyes: not who built it)",
    )
    st.add_argument(
        "--admin-profile",
        metavar="ADMIN=CODE",
        action="append",
        default=[],
        help="an administration's profile (CODE none: no profile of its own); repeat it",
    )
    st.add_argument("--personal-profile", metavar="CODE", help="a personal profile (or none)")
    st.add_argument("--full-name", metavar="TEXT")
    st.add_argument("--signature", metavar="TEXT", help="added to hand-written e-mails")
    st.add_argument("--for-user", metavar="NAME", help="whose personal settings (default: yours)")
    st.set_defaults(handler=run_set)


def _none(value: str) -> str | None:
    return None if value.strip().lower() in ("none", "") else value.strip()


def run_set(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.settings import KEEP, change_settings

    admins: dict[str, str | None] = {}
    for pair in args.admin_profile:
        admin, sep, code = pair.partition("=")
        if not sep or not admin.strip():
            raise MailroomError(
                f"--admin-profile {pair!r} names no administration.",
                field="admin-profile",
                value=pair,
                fix="write it as ADMIN=CODE, e.g. --admin-profile HOLT=MAIN (or HOLT=none).",
            )
        admins[admin.strip()] = _none(code)
    personal: dict[str, Any] = {}
    if args.personal_profile is not None:
        personal["profile"] = _none(args.personal_profile)
    if args.full_name is not None:
        personal["full_name"] = args.full_name
    if args.signature is not None:
        personal["signature"] = args.signature.replace("\\n", "\n")
    if args.for_user and not personal:
        raise MailroomError(
            f"--for-user {args.for_user} changes nothing by itself.",
            field="for-user",
            value=args.for_user,
            fix="add --personal-profile, --full-name or --signature.",
        )
    said = change_settings(
        ctx.store,
        system_profile=KEEP if args.system_profile is None else _none(args.system_profile),
        approval=args.approval,
        admin_profiles=admins,
        users={args.for_user or ctx.user: personal} if personal else None,
    )
    if not said:
        print("Nothing to change: give one of the options (`mailroom settings set --help`).")
        return 0
    print("Settings saved: " + "; ".join(said) + ".")
    return 0


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    from store.records import Administration, User

    store = ctx.store
    system = store.system()
    data = {
        "system_profile": system.profile,
        "approval": system.approval,
        "test_mode": system.redirect_to,
        "sending_paused": system.sending_paused,
        "administrations": {a.code: a.profile for a in store.all(Administration)},
        "users": {
            u.name: {"profile": u.profile, "full_name": u.full_name, "signature": u.signature}
            for u in store.all(User)
        },
    }
    if args.json:
        print_json(data)
        return 0
    print(f"System profile:  {system.profile or '(none)'}")
    rule = "four eyes (not who built it)" if system.approval == "other-user" else "anyone"
    print(f"Approval by:     {rule} ({system.approval})")
    print(f"Test mode:       {('on, to ' + system.redirect_to) if system.redirect_to else 'off'}")
    print(f"Sending:         {'paused' if system.sending_paused else 'not paused'}")
    for code, prof in sorted(data["administrations"].items()):  # type: ignore[union-attr]
        print(f"Administration {code}: profile {prof or '(none: the personal or system one)'}")
    for name, values in sorted(data["users"].items()):  # type: ignore[union-attr]
        print(
            f"User {name}: profile {values['profile'] or '(none)'}, name {values['full_name'] or '-'}"
        )
    return 0
