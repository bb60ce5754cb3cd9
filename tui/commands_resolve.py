"""``mailroom resolve``: who sends a document and who receives it, with the trace.

    mailroom resolve DOCTYPE NUMBER [--admin CODE] [--user NAME] [--json]
    mailroom resolve --all [--type DOCTYPE] [--admin CODE] [--user NAME] [--json]

The JSON format is described in docs/resolve-format.md.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import TYPE_CHECKING, Any

from store.records import DOC_TYPES
from tui.context import check_doc_type

if TYPE_CHECKING:
    from store.records import Document
    from tui.context import Context


def register(sub: Any) -> None:
    p = sub.add_parser(
        "resolve",
        help="show who sends a document and who receives it, and why",
        description=(
            "Resolve the sender (SPEC 5) and the recipients (SPEC 6) of one document, or of "
            "every document with --all, and print the trace that explains each decision."
        ),
    )
    p.add_argument("doctype", nargs="?", metavar="DOCTYPE", help=f"one of {', '.join(DOC_TYPES)}")
    p.add_argument("number", nargs="?", metavar="NUMBER", help="the document number")
    p.add_argument("--all", action="store_true", help="resolve every matching document")
    p.add_argument(
        "--type", dest="type_filter", metavar="DOCTYPE", help="with --all: only this type"
    )
    p.add_argument("--admin", metavar="CODE", help="the administration (needed when ambiguous)")
    # Not `--user`'s own dest: the global --user would be overwritten by this default.
    p.add_argument(
        "--user",
        dest="resolve_user",
        metavar="NAME",
        help="resolve as this user (personal profile); default: who is working",
    )
    p.add_argument("--json", action="store_true", help="print JSON (docs/resolve-format.md)")
    p.set_defaults(handler=run_resolve)


def run_resolve(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.config import ConfigSnapshot
    from mailing.errors import ConfigError
    from mailing.resolve import Resolver
    from store.records import Document
    from tui.context import print_json

    user = args.resolve_user or ctx.user
    if args.all:
        if args.number is not None:
            raise ConfigError(
                "Give either a document (DOCTYPE NUMBER) or --all, not both.",
                field="resolve",
                value=args.number,
                fix="use `mailroom resolve --all --type DOCTYPE`.",
            )
        doctype = args.type_filter or args.doctype
        if doctype is not None:
            check_doc_type(doctype, "--type")
        cfg = ConfigSnapshot.load(ctx.store)
        with ctx.store.view(Document) as tx:  # the months that hold this type
            docs = [
                Document.model_validate(d)
                for d in tx.select(doc_type=doctype, administration=args.admin)
                if (doctype is None or d.get("type") == doctype)
                and (args.admin is None or d.get("administration") == args.admin)
            ]
        docs.sort(key=lambda d: (d.administration, d.type, d.number))
        resolver = Resolver(cfg)
        results = [resolver.resolve(d, user) for d in docs]
        if args.json:
            print_json([r.to_json() for r in results])
            return 0
        if not results:
            print("No matching documents.")
            return 0
        for r in results:
            d = r.document
            if r.action == "email":
                outcome = f"email  {', '.join(r.recipients.to)} ({r.recipients.rule})"
            else:
                outcome = f"PRINT  ({r.reason})"
            print(
                f"{d.administration:<8} {d.type:<20} {d.number:<12} {d.relation:<10} "
                f"{r.sender.profile} ({r.sender.level})  {outcome}"
                + (f"  [{len(r.warnings)} warning(s)]" if r.warnings else "")
            )
        actions = Counter(r.action for r in results)
        levels = Counter(r.sender.level for r in results)
        rules = Counter(r.recipients.rule for r in results)
        print()
        print(f"{len(results)} document(s): " + ", ".join(f"{k} {v}" for k, v in actions.items()))
        print("sender levels: " + ", ".join(f"{k} {v}" for k, v in sorted(levels.items())))
        print("recipient rules: " + ", ".join(f"{k} {v}" for k, v in sorted(rules.items())))
        return 0

    if args.doctype is None or args.number is None:
        raise ConfigError(
            "Say which document to resolve.",
            field="resolve",
            value=None,
            fix="use `mailroom resolve DOCTYPE NUMBER` or `mailroom resolve --all --type DOCTYPE`.",
        )
    doctype = check_doc_type(args.doctype, "DOCTYPE")
    doc = _find_document(ctx, doctype, args.number, args.admin)
    cfg = ConfigSnapshot.load(ctx.store)
    result = Resolver(cfg).resolve(doc, user)
    if args.json:
        print_json(result.to_json())
    else:
        print(result.explain())
    return 0


def _find_document(ctx: Context, doctype: str, number: str, admin: str | None) -> Document:
    from store.errors import NotFoundError
    from store.records import Document

    if admin is not None:
        doc = ctx.store.find(Document, f"{admin}/{doctype}/{number}")
        if doc is None:
            raise NotFoundError(
                f"There is no {doctype} {number} in administration {admin}.",
                field="NUMBER",
                value=number,
                fix="check the number and the administration; list documents with "
                "`mailroom documents list`.",
            )
        return doc
    with ctx.store.view(Document) as tx:  # one shard of keys and the month of each match
        matches = [Document.model_validate(d) for d in tx.find_number(doctype, number)]
    if not matches:
        raise NotFoundError(
            f"There is no {doctype} {number} in any administration.",
            field="NUMBER",
            value=number,
            fix="check the number; list documents with `mailroom documents list`.",
        )
    if len(matches) > 1:
        admins = ", ".join(sorted(d.administration for d in matches))
        raise NotFoundError(
            f"{doctype} {number} exists in several administrations ({admins}).",
            field="--admin",
            value=None,
            fix="say which with --admin CODE.",
        )
    return matches[0]
