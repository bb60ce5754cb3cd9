"""`mailroom batch ...` (`mailroom send`, `mailroom sending ...` and `mailroom resend`
are in :mod:`tui.commands_sending`)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from store.errors import MailroomError
from tui.context import Context, print_json


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-30") from None


def _items(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v for value in values for v in value.split(",") if v.strip()]


def register(sub: Any) -> None:
    batch = sub.add_parser("batch", help="build, look at, approve, hold and cancel batches")
    bsub = batch.add_subparsers(dest="batch_command", metavar="ACTION", required=True)

    p = bsub.add_parser("create", help="resolve and render documents into a new batch")
    p.add_argument(
        "--type", required=True, dest="doc_type", help="document type, e.g. sales_invoice"
    )
    p.add_argument("--admin", help="administration code")
    p.add_argument("--from", dest="date_from", type=_date, help="first document date")
    p.add_argument("--to", dest="date_to", type=_date, help="last document date")
    p.add_argument("--numbers", help="only these document numbers, comma-separated")
    p.add_argument("--workers", type=int, help="processes to render with (default: 2)")
    p.add_argument(
        "--include-sent",
        action="store_true",
        help="put in documents sent before too (each marked 'sent before on ...')",
    )
    p.set_defaults(handler=cmd_create)

    p = bsub.add_parser("list", help="the batches and their counts per state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)

    p = bsub.add_parser("show", help="a batch: counts per state and its items")
    p.add_argument("batch_id", metavar="ID")
    p.add_argument("--json", action="store_true")
    p.add_argument("--state", help="only items in this state")
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="at most this many items")
    p.set_defaults(handler=cmd_show)

    p = bsub.add_parser("approve", help="approve draft (or held) messages for sending")
    p.add_argument("batch_id", metavar="ID")
    p.add_argument("--items", nargs="+", help="only these items (default: every draft)")
    p.add_argument(
        "--not-before",
        metavar="TIME",
        help="send no earlier than this (e.g. 2026-12-02T07:00, local time) with `send --due`",
    )
    p.set_defaults(handler=cmd_approve)

    p = bsub.add_parser("schedule", help="the time before which a batch may not be sent")
    p.add_argument("batch_id", metavar="ID")
    p.add_argument("not_before", metavar="TIME|off", help="e.g. 2026-12-02T07:00 (local time)")
    p.set_defaults(handler=cmd_schedule)

    p = bsub.add_parser("hold", help="keep messages back from sending")
    p.add_argument("batch_id", metavar="ID")
    p.add_argument("--items", nargs="+", required=True)
    p.set_defaults(handler=cmd_hold)

    p = bsub.add_parser("cancel", help="cancel every message not sent yet (or some)")
    p.add_argument("batch_id", metavar="ID")
    p.add_argument("--items", nargs="+")
    p.set_defaults(handler=cmd_cancel)

    p = bsub.add_parser("resend", help="send an unknown or failed message again (same Message-ID)")
    p.add_argument("batch_id", metavar="ID")
    p.add_argument("item", metavar="ITEM")
    p.set_defaults(handler=cmd_resend)

    p = bsub.add_parser("mark-sent", help="confirm that an unknown message did arrive")
    p.add_argument("batch_id", metavar="ID")
    p.add_argument("item", metavar="ITEM")
    p.set_defaults(handler=cmd_mark_sent)


# ---------------------------------------------------------------- helpers


class ProgressBar:
    """A one-line progress display on stderr, only on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.on = sys.stderr.isatty()
        self._last = -1.0

    def __call__(self, done: int, total: int, extra: str = "") -> None:
        if not self.on:
            return
        import time

        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        filled = int(width * done / total) if total else width
        sys.stderr.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {extra}\x1b[K"
        )
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def recover_if_idle(ctx: Context) -> list[tuple[str, str]]:
    """When nobody is sending, move leftovers of a crashed send to unknown (and say so)."""
    from store.spool import SenderBusyError, Spool

    spool = Spool(ctx.home)
    found: list[tuple[str, str]] = []
    try:
        with spool.sender_lock(ctx.user):
            for batch in spool.batches():
                found.extend((batch.id, i) for i in batch.recover())
                batch.close()
    except SenderBusyError:
        pass
    return found


def warn_unknown(found: list[tuple[str, str]]) -> None:
    for batch_id, item in found:
        print(
            f"warning: {batch_id} {item} was being sent when a sender stopped; it is now "
            f"'unknown'. Check with the recipient, then `mailroom batch resend {batch_id} {item}` "
            f"or `mailroom batch mark-sent {batch_id} {item}`.",
            file=sys.stderr,
        )


def batch_overview(batch: Any) -> dict[str, Any]:
    """One batch for `batch list` and `batch show`; a damaged batch says so, never raises."""
    from store.spool import DamagedBatchError, SpoolError

    damaged: str | None = None
    info: dict[str, Any] = {}
    built = batch.built
    if built:
        try:
            info = batch.head()  # not every item of batch.json: a small file beside it
        except DamagedBatchError as exc:
            damaged = exc.reason
        except SpoolError:  # removed meanwhile
            built = False
    return {
        "id": batch.id,
        "type": info.get("type"),
        "administration": info.get("administration"),
        "created_by": info.get("created_by"),
        "created_at": info.get("created_at"),
        "complete": built and damaged is None,
        "damaged": damaged,
        "approved_by": [a.get("by") for a in info.get("approvals", [])],
        "counts": {k: v for k, v in batch.listed_counts().items() if v},
        # Sent in test mode: its "sent" went to the test address, not to the customers.
        "test_mode": (batch.path / "test-mode").exists(),
    }


def _damaged_line(overview: dict[str, Any]) -> str:
    from store.spool import DAMAGED_FIX

    fix = DAMAGED_FIX.format(batch=overview["id"])
    return f"damaged: {overview['damaged']}; {fix}"


def item_rows(
    batch: Any, state: str | None, offset: int, limit: int | None
) -> list[dict[str, Any]]:
    """Per item: document, recipients, sender, size, state, last error; paged."""
    from store.spool import STATES

    info = batch.info()
    summaries = {s["item"]: s for s in info.get("items", [])}
    refs = []
    for st in [state] if state else STATES:
        refs.extend(batch.items(st))
    refs.sort(key=lambda r: r.item)
    end = None if limit is None else offset + limit
    page = refs[offset:end]
    last = batch.last_events() if page else {}
    delays: dict[str, list[dict[str, Any]]] = {}
    if page:
        for ev in batch.events(b'"event": "delayed"'):
            if ev.get("event") == "delayed" and isinstance(ev.get("item"), str):
                delays.setdefault(ev["item"], []).extend(
                    {"recipient": r, "since": ev.get("since"), "reason": (v or {}).get("reason")}
                    for r, v in (ev.get("recipients") or {}).items()
                )
                delays.setdefault(ev["item"] + "\0text", []).append({"text": ev.get("text")})
    rows = []
    for ref in page:
        s = summaries.get(ref.item, {})
        ev = last.get(ref.item, {})
        error = ev.get("error") if ev.get("state") == ref.state else None
        if ref.state in ("failed", "print") and not error:
            error = s.get("reason")
        if ev.get("refused") and ref.state == "sent":
            error = "refused for " + ", ".join(ev["refused"])
        before = s.get("sent_before")
        rows.append(
            {
                "item": ref.item,
                "number": s.get("number"),
                "state": ref.state,
                "kind": ref.kind,
                "to": s.get("to", []),
                "profile": s.get("profile"),
                "size": s.get("size"),
                "error": error,
                "reply": ev.get("reply") or None,
                "delivered_to": ev.get("accepted"),
                "refused": ev.get("refused") or None,
                "redirected_to": ev.get("redirected_to"),
                "bounce": (
                    {"kind": ev.get("kind"), "reason": ev.get("reason"), "to": ev.get("recipients")}
                    if ref.state == "bounced"
                    else None
                ),
                "sent_before": before,
                "delayed": delays.get(ref.item) or None,
                "note": _note(before, ev, delays.get(ref.item + "\0text")),
            }
        )
    return rows


def _note(
    before: dict[str, Any] | None, ev: dict[str, Any], delays: list[dict[str, Any]] | None = None
) -> str | None:
    notes = []
    if before:
        notes.append(f"sent before on {str(before.get('at'))[:10]} (batch {before.get('batch')})")
    if ev.get("redirected_to"):
        notes.append(f"sent to the test address {ev['redirected_to']}, not to the customer")
    notes.extend(str(d["text"]) for d in delays or () if d.get("text"))
    return "; ".join(notes) or None


# ---------------------------------------------------------------- commands


def cmd_create(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.batches import BuildProgress, build_batch, built_summary

    bar = ProgressBar("building")

    def progress(p: BuildProgress) -> None:
        bar(p.done, p.total)

    numbers = [n.strip() for n in args.numbers.split(",") if n.strip()] if args.numbers else None
    batch = build_batch(
        ctx.store,
        ctx.user,
        args.doc_type,
        administration=args.admin,
        date_from=args.date_from,
        date_to=args.date_to,
        numbers=numbers,
        workers=args.workers,
        progress=progress,
        include_sent=args.include_sent,
    )
    info = built_summary(batch)  # not batch.json: 50,000 items need not be read back
    counts = info["counts"]
    # The summary goes to stderr and the id alone to stdout (its last line), so
    # `ID=$(mailroom batch create ...)` gives a script the id.
    print(
        f"built {info['items']} documents in {info['build_seconds']} s: "
        + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())),
        file=sys.stderr,
    )
    if counts.get("print"):
        print(f"to print: {batch.path / 'print' / 'print.pdf'}", file=sys.stderr)
    left = info.get("left_out", {})
    if left.get("sent"):
        print(
            f"left out {left['sent']} document(s) sent before; --include-sent puts them in",
            file=sys.stderr,
        )
    if left.get("printed"):
        print(
            f"left out {left['printed']} document(s) on an earlier print list; "
            "--include-sent puts them in",
            file=sys.stderr,
        )
    if left.get("in_open_batch"):
        print(
            f"left out {left['in_open_batch']} document(s) waiting in an open batch",
            file=sys.stderr,
        )
    if info.get("cut_texts"):
        print(
            f"{info['cut_texts']} document(s) have a text cut to fit its place on the page, "
            f"ending in …; which: `mailroom report batch --batch {batch.id}`",
            file=sys.stderr,
        )
    again = info["sent_before"]
    if again:
        print(f"{again} document(s) were sent before and go again", file=sys.stderr)
    print(batch.id)
    return 0


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    from store.spool import Spool

    warn_unknown(recover_if_idle(ctx))
    rows = [batch_overview(b) for b in Spool(ctx.home).batches()]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no batches")
        return 0
    for r in rows:
        if r["damaged"]:
            print(f"{r['id']}  {_damaged_line(r)}")
            continue
        counts = ", ".join(f"{n} {k}" for k, n in r["counts"].items()) or "empty"
        flag = "" if r["complete"] else "  (not finished building)"
        print(f"{r['id']}  {r['type'] or '?':<20} {r['created_by'] or '?':<10} {counts}{flag}")
    return 0


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    from store.spool import STATES, Spool

    warn_unknown(recover_if_idle(ctx))
    batch = Spool(ctx.home).batch(args.batch_id)
    if args.state and args.state not in STATES:
        raise MailroomError(
            f"{args.state!r} is not a state.",
            field="state",
            value=args.state,
            fix=f"use one of {', '.join(STATES)}.",
        )
    overview = batch_overview(batch)
    if overview["damaged"]:
        if args.json:
            print_json(overview)
        else:
            print(f"batch {batch.id}: {_damaged_line(overview)}")
            print("  " + (", ".join(f"{n} {k}" for k, n in overview["counts"].items()) or "empty"))
        return 1
    rows = item_rows(batch, args.state, args.offset, args.limit)
    info = batch.info()
    if args.json:
        print_json(
            {
                **overview,
                "approvals": [
                    {"by": a.get("by"), "at": a.get("at"), "items": len(a.get("items", {}))}
                    for a in info.get("approvals", [])
                ],
                "items": rows,
            }
        )
        return 0
    print(
        f"batch {batch.id}: {overview['type']}, built by {overview['created_by']} "
        f"at {overview['created_at']}"
    )
    for a in info.get("approvals", []):
        print(f"  approved by {a.get('by')} at {a.get('at')}: {len(a.get('items', {}))} messages")
    test_mode = (batch.path / "test-mode").exists()
    print(
        "  "
        + ", ".join(
            f"{n} {'sent to the test address' if k == 'sent' and test_mode else k}"
            for k, n in overview["counts"].items()
        )
    )
    for r in rows:
        to = ", ".join(r["to"]) if r["to"] else "-"
        size = f"{r['size']:>8}" if r["size"] else " " * 8
        line = f"  {r['item']:<28} {r['state']:<9} {size} {r['profile'] or '-':<12} {to}"
        if r["error"]:
            line += f"\n      {r['error']}"
        if r["note"]:
            line += f"\n      {r['note']}"
        print(line)
    return 0


def _report_moves(verb: str, moved: list[str], skipped: list[tuple[str, str]]) -> int:
    print(f"{verb} {len(moved)} message(s)")
    for item, why in skipped:
        print(f"  not {verb}: {item} {why}", file=sys.stderr)
    return 0 if moved or not skipped else 1


def _change(args: argparse.Namespace, ctx: Context, action: str, items: list[str] | None) -> int:
    from mailing.changes import BATCH_ACTIONS, change_items

    done, skipped = change_items(ctx.store, ctx.user, args.batch_id, action, items)
    return _report_moves(BATCH_ACTIONS[action].done, done, skipped)


def cmd_approve(args: argparse.Namespace, ctx: Context) -> int:
    if args.not_before:  # a bad time is refused before anything is approved
        from mailing.changes.sending import not_before_stamp

        not_before_stamp(args.batch_id, args.not_before)
    code = _change(args, ctx, "approve", _items(args.items))
    if args.not_before:
        _schedule(ctx, args.batch_id, args.not_before)
    return code


def _schedule(ctx: Context, batch_id: str, when: str | None) -> None:
    from mailing.changes import schedule_batch

    stamp = schedule_batch(ctx.store, ctx.user, batch_id, when)
    if stamp:
        print(f"batch {batch_id} goes out with `mailroom send --due` from {stamp}")
    else:
        print(f"batch {batch_id} has no time: it goes out with the next `mailroom send`")


def cmd_schedule(args: argparse.Namespace, ctx: Context) -> int:
    when = None if args.not_before.strip().lower() == "off" else args.not_before
    _schedule(ctx, args.batch_id, when)
    return 0


def cmd_hold(args: argparse.Namespace, ctx: Context) -> int:
    return _change(args, ctx, "hold", _items(args.items))


def cmd_cancel(args: argparse.Namespace, ctx: Context) -> int:
    return _change(args, ctx, "cancel", _items(args.items))


def cmd_resend(args: argparse.Namespace, ctx: Context) -> int:
    code = _change(args, ctx, "resend", [args.item])
    if code == 0:
        print(f"{args.item} goes out with the next `mailroom send`")
    return code


def cmd_mark_sent(args: argparse.Namespace, ctx: Context) -> int:
    return _change(args, ctx, "mark_sent", [args.item])
