"""`mailroom send`, `mailroom sending pause|resume|status|redirect|history` and
`mailroom resend TYPE NUMBER`."""

from __future__ import annotations

import argparse
import contextlib
import gc
import signal
import sys
from typing import Any

from store.errors import MailroomError
from tui.commands_batch import ProgressBar, warn_unknown
from tui.context import Context, print_json


def register(sub: Any) -> None:
    p = sub.add_parser("send", help="send the approved messages (of one batch, or of all)")
    p.add_argument("batch_id", nargs="?", metavar="ID")
    p.add_argument(
        "--due",
        action="store_true",
        help="send every batch whose time has come (for cron or a systemd timer)",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be sent; send nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_send)

    p = sub.add_parser("sending", help="pause or resume all sending; test mode; what went out")
    ssub = p.add_subparsers(dest="sending_command", metavar="ACTION", required=True)
    q = ssub.add_parser("pause", help="stop every send until resumed")
    q.add_argument("--reason", default="")
    q.set_defaults(handler=cmd_pause)
    q = ssub.add_parser("resume", help="allow sending again")
    q.set_defaults(handler=cmd_resume)
    q = ssub.add_parser("status", help="paused or not, test mode, and who is sending now")
    q.set_defaults(handler=cmd_sending_status)
    q = ssub.add_parser(
        "redirect",
        help="test mode: send every message to ADDRESS only (the envelope; the message "
        "is unchanged), or `off`",
    )
    q.add_argument("address", metavar="ADDRESS|off")
    q.set_defaults(handler=cmd_redirect)
    q = ssub.add_parser("history", help="when, in which batch and how a document was sent")
    q.add_argument("doc_type", metavar="TYPE", help="document type, e.g. sales_invoice")
    q.add_argument("number", metavar="NUMBER")
    q.add_argument("--admin", help="administration code")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_history)

    p = sub.add_parser("resend", help="a one-message batch to send one document again, on purpose")
    p.add_argument("doc_type", metavar="TYPE", help="document type, e.g. sales_invoice")
    p.add_argument("number", metavar="NUMBER")
    p.add_argument("--admin", help="administration code (when several have this number)")
    p.add_argument(
        "--everyone",
        action="store_true",
        help="send it to every recipient again, also to those who got it (recorded as such)",
    )
    p.set_defaults(handler=cmd_resend_document)


def cmd_pause(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes import set_sending_paused

    set_sending_paused(ctx.store, True, args.reason or f"paused by {ctx.user}")
    print("sending is paused; `mailroom sending resume` allows it again")
    return 0


def cmd_resume(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes import set_sending_paused

    set_sending_paused(ctx.store, False, "")
    print("sending is allowed again")
    return 0


def cmd_sending_status(args: argparse.Namespace, ctx: Context) -> int:
    from store.spool import Spool

    system = ctx.store.system()
    print(
        f"sending: {'PAUSED (' + system.paused_reason + ')' if system.sending_paused else 'allowed'}"
    )
    if system.redirect_to:
        print(f"TEST MODE: every message goes to {system.redirect_to} only")
    who = Spool(ctx.home).sender()
    if who:
        print(
            f"sending now: {who.get('user')} (process {who.get('pid')} on {who.get('host')}, "
            f"since {who.get('since')})"
        )
    else:
        print("nobody is sending now")
    return 0


def cmd_redirect(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes import set_redirect

    if args.address.strip().lower() == "off":
        set_redirect(ctx.store, ctx.user, None)
        print("test mode is off: messages go to their own recipients again")
        return 0
    address = set_redirect(ctx.store, ctx.user, args.address)
    print(
        f"TEST MODE: every message now goes to {address} only (the customers get nothing; "
        "a message sent so does not count as sent to them). `mailroom sending redirect off` "
        "ends it."
    )
    return 0


def _one_document(ctx: Context, doc_type: str, number: str, admin: str | None) -> Any:
    from mailing.batches import select_documents

    docs = select_documents(ctx.store, doc_type, administration=admin, numbers=[number])
    if len(docs) > 1:
        admins = ", ".join(sorted(d.administration for d in docs))
        raise MailroomError(
            f"Several administrations have a {doc_type} {number}: {admins}.",
            field="admin",
            value=number,
            fix="say which with --admin CODE.",
        )
    return docs[0]


def cmd_history(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.batches import document_history
    from mailing.batches.history import report_notes

    doc = _one_document(ctx, args.doc_type, args.number, args.admin)
    key = (doc.administration, doc.type, doc.number)
    history = document_history(ctx.home, keys=[key])
    sends = history.sent.get(key, [])
    tests = history.redirected.get(key, [])
    waiting = history.open.get(key)
    bounced = history.bounced.get(key, [])
    if args.json:
        print_json(
            {
                "administration": doc.administration,
                "type": doc.type,
                "number": doc.number,
                "sent": [r.to_json() for r in sends],
                "test_mode_sends": [r.to_json() for r in tests],
                "bounced": [
                    {"batch": b, "item": i, "reports": report_notes(ctx.home, b, i)}
                    for b, i in bounced
                ],
                "reports": {
                    f"{r.batch}/{r.item}": report_notes(ctx.home, r.batch, r.item) for r in sends
                },
                "open_batch": (
                    {"batch": waiting[0], "item": waiting[1], "state": waiting[2]}
                    if waiting
                    else None
                ),
            }
        )
        return 0
    print(f"{doc.type} {doc.number} of {doc.administration}:")
    if not sends and not bounced:
        print("  never sent")
    for r in sends:
        print(f"  sent {r.at} in batch {r.batch} ({r.item}), Message-ID {r.message_id}")
        if r.to:
            print(f"    to {', '.join(r.to)}")
        for note in report_notes(ctx.home, r.batch, r.item):
            print(f"    {note}")
    for b, i in bounced:
        notes = report_notes(ctx.home, b, i) or ["bounced"]
        for note in notes:
            print(f"  {note} (batch {b}, {i})")
    for r in tests:
        print(f"  sent to the test address only (not to the customer): {r.at} in batch {r.batch}")
    if waiting:
        print(f"  waiting in batch {waiting[0]} ({waiting[2]})")
    return 0


def cmd_resend_document(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.batches import build_batch, document_history

    doc = _one_document(ctx, args.doc_type, args.number, args.admin)
    key = (doc.administration, doc.type, doc.number)
    batch = build_batch(
        ctx.store,
        ctx.user,
        doc.type,
        administration=doc.administration,
        numbers=[doc.number],
        include_sent=True,
        resend=True,
        everyone=args.everyone,
    )
    last = document_history(ctx.home, keys=[key]).last_sent(key)
    before = last.sentence() if last else "never sent before"
    for ref in batch.items("draft"):
        meta = batch.meta(ref.item)
        recipients = meta.get("recipients") or {}
        customers = {*recipients.get("to", []), *recipients.get("cc", [])}
        took = set(meta.get("delivered_before") or ())
        if customers and customers <= took:
            from mailing.changes import change_items

            change_items(ctx.store, ctx.user, batch.id, "cancel", [ref.item])
            raise MailroomError(
                f"Every recipient of {doc.type} {doc.number} got it before "
                f"({', '.join(sorted(customers))}; {before}): nothing to resend.",
                field="everyone",
                value=doc.number,
                fix=f"to send it to everyone again on purpose, add --everyone "
                f"(`mailroom resend {doc.type} {doc.number} --everyone`).",
            )
        if took:
            before += f"; not again to {', '.join(sorted(took))}, who got it"
    if args.everyone:
        before += "; to everyone again, as asked"
    print(
        f"one-message batch for {doc.type} {doc.number} ({before}); approve it with "
        f"`mailroom batch approve {batch.id}`, then `mailroom send {batch.id}`",
        file=sys.stderr,
    )
    print(batch.id)
    return 0


def cmd_send(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.sending import Progress, SendOptions, send

    bar = ProgressBar("sending")
    stop_asked: list[int] = []

    def ask_stop(signum: int, frame: Any) -> None:
        # SIGTERM (Stop in the TUI) or SIGHUP (the terminal closed): finish the
        # message in flight, then stop; the rest stays approved.
        stop_asked.append(signum)

    def progress(p: Progress) -> None:
        with contextlib.suppress(OSError):  # a hung-up terminal
            bar(p.done, p.total, f"{p.sent} sent, {p.failed} failed")

    if args.due and args.batch_id:
        raise MailroomError(
            "Give a batch id or --due, not both.",
            field="batch",
            value=args.batch_id,
            fix="`mailroom send --due` sends every batch whose time has come.",
        )
    stops = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)  # SIGINT: Ctrl-C
    previous = {sig: signal.signal(sig, ask_stop) for sig in stops}
    # What start-up made (modules, the parser, the settings) lives to the end: kept
    # out of the collector's passes over the heap while the messages go (issue 31).
    gc.freeze()
    try:
        report = send(
            ctx.store,
            ctx.user,
            args.batch_id,
            SendOptions(
                dry_run=args.dry_run, progress=progress, should_stop=lambda: bool(stop_asked)
            ),
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if report.stopped:
        print(
            f"stopped on request ({signal.Signals(stop_asked[0]).name}) after "
            f"{report.count('sent')} sent; the messages not yet sent stay approved"
        )
    if args.json:
        print_json(
            {
                **report.summary(),
                "items": [o.__dict__ for o in report.outcomes],
            }
        )
    else:
        warn_unknown(report.found_unknown)
        for o in report.outcomes:
            if (o.outcome != "sent" or o.detail) and o.outcome != "stopped":
                print(f"{o.batch} {o.item}: {o.outcome}" + (f" - {o.detail}" if o.detail else ""))
        s = report.summary()
        if args.dry_run:
            print(f"dry run: {s['would-send']} would be sent, {s['refused']} refused")
        else:
            print(
                f"{s['sent']} sent, {s['failed']} failed, {s['refused']} refused, "
                f"{s['deferred']} deferred, {s['unknown']} unknown, {s['paused']} paused"
                + (f", {s['stopped']} not sent (stopped)" if report.stopped else "")
            )
        for code, why in report.paused_profiles.items():
            print(f"profile {code} paused: {why}", file=sys.stderr)
        for batch_id, when in report.not_due:
            print(f"batch {batch_id} waits until {when}")
    bad = report.count("failed") + report.count("refused") + report.count("unknown")
    if report.stopped:
        return 3
    return 1 if bad or report.paused_profiles or report.count("deferred") else 0
