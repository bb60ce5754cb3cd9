"""A document's own e-mail attachments (SPEC §7, the tab "E-mailbijlagen" of sales
orders, sales invoices and purchase orders): set through this door, nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from mailing.errors import DocumentError
from store.records import Document, StoredFileRef
from store.store import Store

# The document types that carry attachments of their own (SPEC §7).
ATTACHMENT_DOC_TYPES: tuple[str, ...] = ("sales_invoice", "order_confirmation", "purchase_order")


def set_document_attachments(
    store: Store, key: str, attachments: Sequence[StoredFileRef]
) -> Document:
    """Replace the attachments of document ``key`` (``ADMIN/type/number``); all or nothing."""
    from mailing.words import doc_type_lower

    with store.transaction(Document) as tx:
        doc = tx.find(Document, key)
        if doc is None:
            raise DocumentError(
                f"There is no document {key}.",
                field="document",
                value=key,
                fix="give it as ADMINISTRATION/type/number, e.g. HOLT/sales_invoice/F20260001.",
            )
        if doc.type not in ATTACHMENT_DOC_TYPES:
            kinds = ", ".join(doc_type_lower(t) for t in ATTACHMENT_DOC_TYPES)
            raise DocumentError(
                f"A {doc_type_lower(doc.type)} has no attachments of its own.",
                field="document",
                value=key,
                fix=f"attach files to a {kinds}; or to the template, for every message.",
            )
        names = [a.name for a in attachments]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise DocumentError(
                f"Two attachments of {key} have the same name: {', '.join(twice)}.",
                field="attachments",
                value=twice[0],
                fix="rename one of the files before attaching it.",
            )
        changed = doc.model_copy(update={"attachments": list(attachments)})
        tx.put(changed)
    return changed
