"""``mailroom documents``: import, list, show, and draw documents as PDF.

    mailroom documents import FILE [--admin CODE] [--replace] [--attachments DIR]
    mailroom documents list [--type DOCTYPE] [--admin CODE] [--from DATE] [--to DATE]
                            [--all] [--json]
    mailroom documents show DOCTYPE NUMBER [--admin CODE] [--json]
    mailroom documents pdf DOCTYPE NUMBER --out FILE [--admin CODE] [--no-background]
    mailroom documents export-ubl [DOCTYPE NUMBER] --out FILE|FOLDER [--admin CODE] [--batch ID]
    mailroom documents attach DOCTYPE NUMBER [--add FILE ...] [--remove NAME ...] [--admin CODE]

The import formats (JSON, CSV, UBL 2.1) are described in docs/import-formats.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from store.records import DOC_TYPES
from tui.context import check_doc_type

if TYPE_CHECKING:
    from tui.context import Context


def register(sub: Any) -> None:
    from tui.commands_document_out import (
        documents_attach,
        documents_export_ubl,
        documents_pdf,
        documents_preview,
    )

    p = sub.add_parser("documents", help="import, list, show and draw documents")
    dsub = p.add_subparsers(dest="documents_command", metavar="ACTION", required=True)

    pv = sub.add_parser(
        "preview",
        help="write the exact message a document would be sent as (.eml), and show why",
    )
    pv.add_argument("doctype", metavar="DOCTYPE", help=f"one of {', '.join(DOC_TYPES)}")
    pv.add_argument("number", metavar="NUMBER")
    pv.add_argument("--admin", metavar="CODE", help="the administration (when ambiguous)")
    pv.add_argument("--eml", metavar="FILE", help="write the message to FILE")
    pv.add_argument("--pdf", metavar="FILE", help="write the document PDF to FILE")
    pv.set_defaults(handler=documents_preview)

    imp = dsub.add_parser(
        "import",
        help="import documents from JSON, CSV or UBL 2.1 XML; all or nothing",
        description=(
            "Import documents. The format follows the file's extension (.json, .csv, .xml). "
            "Everything is checked first; when anything is wrong nothing is imported and "
            "every problem is listed. See docs/import-formats.md."
        ),
    )
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--admin", metavar="CODE", help="the administration the documents belong to")
    imp.add_argument(
        "--replace", action="store_true", help="replace documents whose number already exists"
    )
    imp.add_argument(
        "--attachments",
        metavar="DIR",
        help=(
            "the folder the documents' attachment paths are relative to (default: the "
            "import file's folder); no file outside it is ever attached"
        ),
    )
    imp.set_defaults(handler=documents_import)

    ls = dsub.add_parser("list", help="list the documents")
    ls.add_argument("--type", dest="type_filter", metavar="DOCTYPE", help="only this type")
    ls.add_argument("--admin", metavar="CODE", help="only this administration")
    ls.add_argument("--from", dest="date_from", metavar="DATE", help="only from this date on")
    ls.add_argument("--to", dest="date_to", metavar="DATE", help="only up to this date")
    ls.add_argument(
        "--all",
        action="store_true",
        help=f"every document (without --all, --from or --to: the newest {RECENT_LIMIT:,})",
    )
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=documents_list)

    att = dsub.add_parser(
        "attach",
        help="a document's own e-mail attachments (SPEC §7): add files, remove by name, list",
    )
    att.add_argument("doctype", metavar="DOCTYPE", help=f"one of {', '.join(DOC_TYPES)}")
    att.add_argument("number", metavar="NUMBER")
    att.add_argument(
        "--add", dest="files", action="append", default=[], metavar="FILE", help="attach a file"
    )
    att.add_argument("--remove", action="append", default=[], metavar="NAME", help="remove one")
    att.add_argument("--admin", metavar="CODE", help="the administration (when ambiguous)")
    att.set_defaults(handler=documents_attach)

    show = dsub.add_parser("show", help="show one document with its lines and totals")
    show.add_argument("doctype", metavar="DOCTYPE", help=f"one of {', '.join(DOC_TYPES)}")
    show.add_argument("number", metavar="NUMBER")
    show.add_argument("--admin", metavar="CODE", help="the administration (when ambiguous)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=documents_show)

    pdf = dsub.add_parser("pdf", help="draw a document as PDF on its letterhead")
    pdf.add_argument("doctype", metavar="DOCTYPE", help=f"one of {', '.join(DOC_TYPES)}")
    pdf.add_argument("number", metavar="NUMBER")
    pdf.add_argument("--out", required=True, metavar="FILE", help="the PDF file to write")
    pdf.add_argument("--admin", metavar="CODE", help="the administration (when ambiguous)")
    pdf.add_argument(
        "--no-background", action="store_true", help="without the letterhead background"
    )
    pdf.set_defaults(handler=documents_pdf)

    ubl = dsub.add_parser(
        "export-ubl",
        help="write invoices as Peppol BIS Billing 3.0 UBL (for an access point)",
        description=(
            "Write one invoice as Peppol BIS Billing 3.0 UBL 2.1 XML to FILE, or, without "
            "DOCTYPE and NUMBER, every sales, counter and subscription invoice (of a batch "
            "with --batch ID, of --admin CODE, or of all administrations) into the folder "
            "FOLDER, one file per invoice."
        ),
    )
    ubl.add_argument("doctype", metavar="DOCTYPE", nargs="?", help="an invoice type")
    ubl.add_argument("number", metavar="NUMBER", nargs="?")
    ubl.add_argument("--out", required=True, metavar="FILE|FOLDER", help="where to write")
    ubl.add_argument("--admin", metavar="CODE", help="the administration")
    ubl.add_argument("--batch", metavar="ID", help="the invoices of this batch")
    ubl.set_defaults(handler=documents_export_ubl)


# `documents list` without --all or dates: this many of the newest (as the Documents pane).
RECENT_LIMIT = 1000


def _date_option(value: str | None, what: str) -> str | None:
    """An ISO date given on the command line, as ISO text; a clear error otherwise."""
    from mailing.dates import parse_date

    date = parse_date(value, what, optional=f"leave {what} out")
    return date.isoformat() if date else None


def documents_import(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.importer import import_documents

    result = import_documents(
        ctx.store,
        args.file,
        administration=args.admin,
        replace=args.replace,
        attachments_dir=args.attachments,
    )
    by_type: dict[str, int] = {}
    for d in result.documents:
        by_type[d.type] = by_type.get(d.type, 0) + 1
    detail = ", ".join(f"{n} {t}" for t, n in sorted(by_type.items()))
    print(f"Imported {result.count} document(s) from {args.file}: {detail}.")
    return 0


def documents_list(args: argparse.Namespace, ctx: Context) -> int:
    from store.records import Document
    from tui.context import print_json

    if args.type_filter:
        check_doc_type(args.type_filter, "--type")
    date_from = _date_option(args.date_from, "--from")
    date_to = _date_option(args.date_to, "--to")
    older_from: str | None = None
    # Without --all or dates: the newest documents, from the newest months only, so
    # that years of history are not read (as the Documents pane). With them, only the
    # months that can hold a match are read; each document is validated as printed.
    with ctx.store.view(Document) as tx:
        if args.all or date_from or date_to:
            raw = [
                d
                for d in tx.select(
                    doc_type=args.type_filter,
                    administration=args.admin,
                    date_from=date_from,
                    date_to=date_to,
                )
                if (args.type_filter is None or d.get("type") == args.type_filter)
                and (args.admin is None or d.get("administration") == args.admin)
            ]
        else:
            raw, older_from = tx.recent(
                RECENT_LIMIT, doc_type=args.type_filter, administration=args.admin
            )
    if older_from is not None:
        print(
            f"The newest {len(raw):,} document(s), from {older_from} on; older ones are left "
            "out: --from DATE lists those from a date, --all every one.",
            file=sys.stderr,
        )
    raw.sort(key=lambda d: (str(d.get("administration")), str(d.get("type")), str(d.get("number"))))
    docs = (Document.model_validate(d) for d in raw)
    if args.json:
        print_json([_summary(d) for d in docs])
        return 0
    if not raw:
        print("No documents.")
        return 0
    print(f"{'ADMIN':<8} {'TYPE':<20} {'NUMBER':<14} {'RELATION':<10} {'DATE':<10} {'TOTAL':>14}")
    for d in docs:
        total = f"{d.currency} {d.total_incl:,.2f}"
        extra = " +UBL" if d.ubl else ""
        extra += f" +{len(d.attachments)} att." if d.attachments else ""
        print(
            f"{d.administration:<8} {d.type:<20} {d.number:<14} {d.relation:<10} "
            f"{d.date.isoformat():<10} {total:>14}{extra}"
        )
    print(f"\n{len(raw)} document(s)")
    return 0


def _summary(d: Any) -> dict[str, Any]:
    return {
        "administration": d.administration,
        "type": d.type,
        "number": d.number,
        "relation": d.relation,
        "date": d.date.isoformat(),
        "due_date": d.due_date.isoformat() if d.due_date else None,
        "currency": d.currency,
        "total_excl": str(d.total_excl),
        "total_vat": str(d.total_vat),
        "total_incl": str(d.total_incl),
        "attachments": [a.name for a in d.attachments],
        "ubl": d.ubl.name if d.ubl else None,
    }


def documents_show(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.pdf.render import find_document
    from tui.context import print_json

    doc = find_document(ctx.store, check_doc_type(args.doctype, "DOCTYPE"), args.number, args.admin)
    if args.json:
        data = doc.dump()
        data.update(_summary(doc))
        print_json(data)
        return 0
    print(f"{doc.type} {doc.number}  (administration {doc.administration})")
    print(
        f"  relation     {doc.relation}"
        + (f"  billed to {doc.invoice_debtor}" if doc.invoice_debtor else "")
    )
    print(f"  date         {doc.date.isoformat()}")
    if doc.due_date:
        print(f"  due date     {doc.due_date.isoformat()}")
    if doc.reference:
        print(f"  reference    {doc.reference}")
    if doc.description:
        print(f"  description  {doc.description}")
    if doc.order_override is not None:
        o = doc.order_override
        print(f"  order override  to={o.to} cc={o.cc} bcc={o.bcc}")
    if doc.type == "reminder":
        print("  open items:")
        for item in doc.open_items:
            age = (doc.date - item.due_date).days
            print(
                f"    {item.number:<14} {item.date.isoformat()} due {item.due_date.isoformat()} "
                f"{max(age, 0):>4} days  {item.amount:>12,.2f} open {item.open_amount:>12,.2f}"
            )
    else:
        print("  lines:")
        for ln in doc.lines:
            print(
                f"    {ln.article:<10} {ln.description[:40]:<40} {ln.quantity:>8} x "
                f"{ln.unit_price:>10,.2f}  {ln.vat_rate:>5}%  {ln.amount:>12,.2f}"
            )
        print(f"  total excl.  {doc.currency} {doc.total_excl:,.2f}")
        for rate, (base, vat) in sorted(doc.vat_summary().items(), reverse=True):
            print(f"  VAT {rate}% over {base:,.2f}: {vat:,.2f}")
    print(f"  total        {doc.currency} {doc.total_incl:,.2f}")
    for a in doc.attachments:
        print(f"  attachment   {a.name} ({a.size} bytes)")
    if doc.ubl:
        print(f"  UBL          {doc.ubl.name} ({doc.ubl.size} bytes, sent as second attachment)")
    return 0
