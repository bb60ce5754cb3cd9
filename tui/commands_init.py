"""``mailroom init [--group NAME]``: create the data folder, or share it with a group.

Without ``--group`` the folder is created private (0700) if it does not exist, and its
state is printed. With ``--group NAME`` every administrator of that group can work in
it under their own login: files 0660, setgid folders 2770 (see docs/sharing.md).
"""

from __future__ import annotations

import argparse
from typing import Any

from tui.context import Context


def register(sub: Any) -> None:
    p = sub.add_parser(
        "init", help="create the data folder; --group NAME shares it with that group's members"
    )
    p.add_argument(
        "--group",
        metavar="NAME",
        help="share the data folder with the members of this group (files 0660, folders 2770)",
    )
    p.set_defaults(handler=run_init)


def run_init(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.sharing import share_data_folder
    from store.permissions import marked_group

    home = ctx.store.home
    if not args.group:
        group = marked_group(home)
        state = f"shared with the group {group}" if group else "private (only you: mode 700)"
        print(f"Data folder {home}: {state}.")
        return 0
    from mailing.changes.sharing import already_shared

    if already_shared(home, args.group):
        print(
            f"Data folder {home}: already shared with the group {args.group}, and everything "
            "in it is as that asks (files 0660, folders 2770). Nothing to change."
        )
        return 0
    wrong = share_data_folder(ctx.store, args.group)
    if wrong:
        print(f"Data folder {home}: shared with the group {args.group}, except:")
        for w in wrong:
            print(f"  {w.path}: {w.why}")
        print(
            "Fix: these belong to another user; run it once as root: "
            f"sudo mailroom --home {home} init --group {args.group}"
        )
        return 1
    print(
        f"Data folder {home}: shared with the group {args.group} "
        "(files 0660, folders 2770 with setgid: new files get the group). Checked."
    )
    return 0
