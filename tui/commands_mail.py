"""Commands: report (a report as PDF, and mailed) and mail (a hand-written e-mail) (SPEC §8)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from store.errors import MailroomError
from tui.context import Context, print_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="make a report as PDF, and mail it")
    p.add_argument("name", choices=["relations", "batch"], help="which report")
    p.add_argument("--pdf", metavar="FILE", help="write the PDF to FILE")
    p.add_argument("--mail-to", action="append", default=[], metavar="ADDR", help="mail it to")
    p.add_argument("--batch", metavar="ID", help="batch report: which batch (default: latest)")
    p.add_argument("--admin", metavar="CODE", help="only this administration; sender order")
    p.add_argument("--profile", help="send from this profile (default: the sender order)")
    p.add_argument("--template", help="template of the report object")
    p.add_argument("--json", action="store_true", help="print the report's data as JSON")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("mail", help="send a hand-written e-mail")
    p.add_argument("--to", action="append", required=True, help="recipient (repeatable)")
    p.add_argument("--cc", action="append", default=[])
    p.add_argument("--bcc", action="append", default=[])
    p.add_argument("--subject", default="")
    p.add_argument("--body-file", metavar="FILE", help="the text ('-' for standard input)")
    p.add_argument("--attach", action="append", default=[], metavar="FILE")
    p.add_argument("--template", help="a template of the manual object")
    p.add_argument("--profile", help="send from this profile (default: the sender order)")
    p.add_argument("--admin", metavar="CODE", help="administration, for the sender order")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_mail)


def print_sent(sent: object) -> None:
    from mailing.manual import SentMail

    assert isinstance(sent, SentMail)
    print(f"sent from {sent.sender} (profile {sent.profile}, {sent.level} level)")
    print(f"  to: {', '.join(sent.to)}")
    if sent.cc:
        print(f"  cc: {', '.join(sent.cc)}")
    if sent.bcc:
        print(f"  bcc: {', '.join(sent.bcc)}")
    print(f"  message-id: {sent.message_id}")
    if sent.reply:
        print(f"  server: {sent.reply}")
    for addr, (code, text) in sent.refused.items():
        print(f"  REFUSED {addr}: {code} {text}", file=sys.stderr)
    if sent.archive:
        print(f"  archived in {sent.archive}")


def cmd_report(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.reports import make_report

    if args.name != "batch" and args.batch:
        raise MailroomError(
            "--batch only goes with the batch report.",
            field="--batch",
            value=args.batch,
            fix="leave --batch out, or ask for `mailroom report batch`.",
        )
    made = make_report(ctx.store, ctx.user, args.name, batch=args.batch, administration=args.admin)
    if args.pdf:
        from mailing.changes.files import write_user_file

        write_user_file(Path(args.pdf).expanduser().absolute(), made.pdf, mode=0o644)
        print(f"{made.title}: {made.summary}; PDF written to {args.pdf}", file=sys.stderr)
    sent = None
    if args.mail_to:
        from mailing.manual import send_report

        sent = send_report(
            ctx.store,
            ctx.user,
            made,
            args.mail_to,
            profile=args.profile,
            administration=args.admin,
            template=args.template,
        )
    if args.json:
        out = made.data.to_json()
        if sent is not None:
            out["mail"] = sent.to_json()
        print_json(out)
        return 0
    if not args.pdf:
        print(f"{made.title}: {made.summary}")
        _print_text(made)
    if sent is not None:
        print_sent(sent)
    return 0


def _print_text(made: object) -> None:
    from mailing.reports import BatchReport, MadeReport, RelationsReport

    assert isinstance(made, MadeReport)
    data = made.data
    if isinstance(data, RelationsReport):
        for p in data.problems:
            print(f"problem: {p}")
        for e in data.with_problems:
            print(f"{e.administration}/{e.code} {e.name}:")
            for p in e.problems:
                print(f"  - {p}")
    elif isinstance(data, BatchReport):
        for r in data.rows:
            who = ", ".join(r.to) or "-"
            extra = f"  ({r.why})" if r.why else ""
            print(f"{r.item}  {r.kind}:{r.state}  {who}{extra}")


def cmd_mail(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.manual import send_manual

    body = ""
    if args.body_file == "-":
        body = sys.stdin.read()
    elif args.body_file:
        try:
            body = Path(args.body_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MailroomError(
                f"The body file {args.body_file!r} cannot be read ({exc}).",
                field="--body-file",
                value=args.body_file,
                fix="give a UTF-8 text file.",
            ) from None
    sent = send_manual(
        ctx.store,
        ctx.user,
        args.to,
        args.cc,
        args.bcc,
        args.subject,
        body,
        [Path(a) for a in args.attach],
        template=args.template,
        profile=args.profile,
        administration=args.admin,
    )
    if args.json:
        print_json(sent.to_json())
    else:
        print_sent(sent)
    return 1 if sent.refused else 0
