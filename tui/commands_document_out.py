"""``mailroom documents`` that draw or write a document out: its PDF (``pdf``,
``preview``), its e-invoice as Peppol UBL (``export-ubl``), its own attachments
(``attach``). The command group and the rest are :mod:`tui.commands_documents`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.context import check_doc_type

if TYPE_CHECKING:
    from tui.context import Context


def documents_pdf(args: argparse.Namespace, ctx: Context) -> int:
    from mailing.changes.files import write_user_file
    from mailing.config import ConfigSnapshot
    from mailing.einvoice import e_invoice_for
    from mailing.pdf.render import find_document, parties_of, render_stored_document

    doc = find_document(ctx.store, check_doc_type(args.doctype, "DOCTYPE"), args.number, args.admin)
    config = ConfigSnapshot.load(ctx.store)
    relation, adm = parties_of(config, doc)
    einvoice = e_invoice_for(doc, relation, adm)  # Factur-X inside, when the relation takes it
    cut: list[str] = []
    pdf = render_stored_document(
        ctx.store,
        config,
        doc,
        background=not args.no_background,
        facturx=einvoice.facturx,
        warnings=cut,
    )
    for warning in cut:
        print(f"warning: {warning}", file=sys.stderr)
    out = Path(args.out)
    try:
        write_user_file(out, pdf)
    except OSError as exc:
        from mailing.errors import DocumentError

        raise DocumentError(
            f"The PDF cannot be written to {out} ({exc.strerror}).",
            field="--out",
            value=str(out),
            fix="choose a folder you can write to.",
        ) from None
    print(f"{doc.type} {doc.number}: {len(pdf)} bytes written to {out}", file=sys.stderr)
    return 0


def documents_preview(args: Any, ctx: Any) -> int:
    """Compose one document exactly as a batch would, and write or describe it."""
    from mailing.batches import Composer
    from mailing.changes.files import write_user_file
    from mailing.pdf.render import find_document

    doc = find_document(ctx.store, args.doctype, args.number, args.admin)
    composed = Composer(ctx.store, ctx.user).compose(doc)
    res = composed.resolution
    print(res.explain())
    if args.pdf:
        write_user_file(Path(args.pdf), composed.pdf, mode=0o644)
        print(f"PDF written to {args.pdf}")
    if composed.raw is None:
        print(f"{doc.type} {doc.number} goes to print ({res.reason}); there is no message.")
        return 0
    print(f"Subject: {composed.subject}")
    for name, size in composed.attachments:
        print(f"Attachment: {name} ({size:,} bytes)")
    if args.eml:
        write_user_file(Path(args.eml), composed.raw, mode=0o644)
        print(f"Message ({len(composed.raw):,} bytes) written to {args.eml}")
    return 0


def documents_export_ubl(args: argparse.Namespace, ctx: Context) -> int:
    """One invoice as Peppol UBL to a file, or every invoice into a folder."""
    from mailing.changes.files import write_user_file
    from mailing.config import ConfigSnapshot
    from mailing.einvoice import EINVOICE_TYPES, e_invoice_data, form_of, ubl_xml
    from mailing.errors import DocumentError
    from mailing.names import safe_file_name
    from mailing.pdf.render import find_document, parties_of
    from store.records import Document

    config = ConfigSnapshot.load(ctx.store)
    out = Path(args.out)
    if (args.doctype is None) != (args.number is None):
        raise DocumentError(
            "Give both DOCTYPE and NUMBER for one invoice, or neither for all invoices.",
            field="NUMBER",
            value=args.doctype or args.number,
            fix="e.g. `mailroom documents export-ubl sales_invoice F20260025 --out F.xml`.",
        )
    if args.doctype is not None:
        doctype = check_doc_type(args.doctype, "DOCTYPE")
        docs = [find_document(ctx.store, doctype, args.number, args.admin)]
        targets = [out]
    elif args.batch is not None:
        docs = batch_invoices(ctx, args.batch)
        targets = [
            out / safe_file_name(f"{d.administration}-{d.type}-{d.number}.xml") for d in docs
        ]
    else:
        with ctx.store.view(Document) as tx:
            docs = [
                d
                for d in tx.all(Document)
                if d.type in EINVOICE_TYPES
                and (args.admin is None or d.administration == args.admin)
            ]
        docs.sort(key=lambda d: (d.administration, d.number))
        targets = [
            out / safe_file_name(f"{d.administration}-{d.type}-{d.number}.xml") for d in docs
        ]
    if not docs:
        raise DocumentError(
            "There is no invoice to export.",
            field="--batch" if args.batch else "--admin",
            value=args.batch or args.admin,
            fix="name a batch or an administration that has sales, counter or "
            "subscription invoices.",
        )
    datas = []
    for doc in docs:  # every invoice is checked before anything is written
        relation, adm = parties_of(config, doc)
        xr = form_of(relation, adm) == "xrechnung"  # a German customer's own form
        data = e_invoice_data(doc, relation, adm, peppol=True, xrechnung=xr)
        datas.append(ubl_xml(data, xrechnung=xr))
    for target, xml in zip(targets, datas, strict=True):
        try:
            if target.parent != Path(""):
                target.parent.mkdir(parents=True, exist_ok=True)
            write_user_file(target, xml, mode=0o644)
        except OSError as exc:
            raise DocumentError(
                f"The UBL cannot be written to {target} ({exc.strerror}).",
                field="--out",
                value=str(target),
                fix="choose a folder you can write to.",
            ) from None
        print(f"{target}", file=sys.stdout)
    print(f"{len(docs)} invoice(s) written as Peppol BIS Billing 3.0 UBL.", file=sys.stderr)
    return 0


def batch_invoices(ctx: Context, batch_id: str) -> list[Any]:
    """The invoices a batch was built from, in build order."""
    from mailing.einvoice import EINVOICE_TYPES
    from mailing.pdf.render import find_document
    from store.spool import Spool

    batch = Spool(ctx.home).batch(batch_id)
    docs = []
    for item in batch.all_items():
        document = batch.meta(item).get("document") or {}
        if document.get("type") in EINVOICE_TYPES:
            docs.append(
                find_document(
                    ctx.store,
                    str(document["type"]),
                    str(document["number"]),
                    str(document["administration"]),
                )
            )
    return docs


def documents_attach(args: argparse.Namespace, ctx: Context) -> int:
    """Add and remove a document's own attachments through the one door; list them."""
    from mailing.changes import copy_in_file, set_document_attachments
    from mailing.errors import DocumentError
    from mailing.pdf.render import find_document

    doc = find_document(ctx.store, check_doc_type(args.doctype, "DOCTYPE"), args.number, args.admin)
    names = [a.name for a in doc.attachments]
    unknown = [n for n in args.remove if n not in names]
    if unknown:
        raise DocumentError(
            f"{doc.number} has no attachment named {unknown[0]!r}.",
            field="--remove",
            value=unknown[0],
            fix=f"give one of: {', '.join(names) or '(it has none)'}.",
        )
    kept = [a for a in doc.attachments if a.name not in args.remove]
    added = [copy_in_file(ctx.store, f, "attachment") for f in args.files]
    if args.files or args.remove:
        doc = set_document_attachments(ctx.store, doc.id, [*kept, *added])
    for a in doc.attachments:
        print(f"{a.name}  ({a.size:,} bytes)")
    if not doc.attachments:
        print(f"{doc.number} has no attachments of its own.")
    return 0
