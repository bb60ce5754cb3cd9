"""Commands: backup create/send/verify and restore (SPEC §8)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.commands_mail import print_sent
from tui.context import Context, print_json


def _mb(value: str) -> int:
    """Megabytes as sizes are shown everywhere: 1 MB = 1,000,000 bytes (mailing.backup)."""
    from mailing.backup import MB

    try:
        mb = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of megabytes") from None
    if not mb >= 0 or mb == float("inf"):
        raise argparse.ArgumentTypeError("the size must be a number of megabytes, 0 or more")
    return int(mb * MB)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser("backup", help="make a backup of the data folder, or mail one")
    bsub = backup.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    p = bsub.add_parser("create", help="write a backup archive (.tar.gz) to FILE")
    p.add_argument("file", help="the archive to write (a folder: a dated name inside it)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=cmd_backup_create)
    p = bsub.add_parser("send", help="make a backup and mail it")
    p.add_argument("--to", action="append", required=True, help="recipient (repeatable)")
    p.add_argument("--cc", action="append", default=[], help="copy to (repeatable)")
    p.add_argument("--profile", help="send from this profile (default: the sender order)")
    p.add_argument("--admin", help="administration, for the sender order")
    p.add_argument("--template", help="template of the backup object (default: the first one)")
    p.add_argument(
        "--max-size",
        type=_mb,
        default=None,
        metavar="MB",
        help="largest backup to mail, in MB (default 25; 0: no limit)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_backup_send)
    p = bsub.add_parser("verify", help="check an archive (or the .eml carrying it); change nothing")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_backup_verify)

    p = sub.add_parser(
        "restore",
        help="replace the data with a backup (archive or .eml); the current data is kept first",
    )
    p.add_argument("file", help="a backup archive, or the .eml of the message that carried it")
    p.add_argument(
        "--max-size",
        type=_mb,
        default=None,
        metavar="MB",
        help="largest unpacked size to accept, in MB (default 4000)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_restore)


def cmd_backup_create(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.backup import write_backup
    from mailing.names import human_size

    result = write_backup(ctx.store, Path(args.file), user=ctx.user)
    if args.json:
        print_json(result.to_json())
    else:
        print(
            f"backup written to {result.path} ({result.members} files, "
            f"{human_size(result.size)}; SHA-256 {result.sha256})"
        )
    return 0


def cmd_backup_send(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.backup import DEFAULT_MAIL_LIMIT, send_backup
    from mailing.names import human_size

    limit = DEFAULT_MAIL_LIMIT if args.max_size is None else args.max_size
    result = send_backup(
        ctx.store,
        ctx.user,
        args.to,
        cc=args.cc,
        profile=args.profile,
        administration=args.admin,
        template=args.template,
        max_bytes=limit,
    )
    if args.json:
        print_json(result.to_json())
        return 0
    print(f"backup of {result.backup.members} files, {human_size(result.backup.size)}")
    print_sent(result.mail)
    return 1 if result.mail.refused else 0


def cmd_backup_verify(args: argparse.Namespace, ctx: Context) -> int:
    import tui.keymap  # noqa: F401 - registers the key map check (which bindings exist)
    from mailing.backup import verify_backup

    info = verify_backup(Path(args.file), ctx.home)
    if args.json:
        print_json(info)
    else:
        print(
            f"{args.file}: a good backup of {info['members']} files and {info['records']} "
            f"records, made {info['created']} by {info['created_by']} on {info['host']}"
        )
        for w in info["warnings"]:
            print(f"warning: {w}", file=sys.stderr)
    return 0


def cmd_restore(args: argparse.Namespace, ctx: Context) -> int:
    import tui.keymap  # noqa: F401 - registers the key map check (which bindings exist)
    from mailing.backup import RestoreLimits, restore_backup

    limits = (
        RestoreLimits() if args.max_size is None else RestoreLimits(max_total_bytes=args.max_size)
    )
    result = restore_backup(ctx.store, Path(args.file), user=ctx.user, limits=limits)
    if args.json:
        print_json(result.to_json())
        return 0
    print(
        f"restored {result.members} files and {result.records} records from {args.file} "
        f"(made {result.created})"
    )
    if result.previous_backup:
        print(f"the data as it was is kept in {result.previous_backup}")
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(
        "sending is PAUSED so that restored queues are not sent again by accident; check them "
        "with `mailroom batch list`, then `mailroom sending resume`"
    )
    return 0
