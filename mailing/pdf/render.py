"""Drawing a stored document with its relation, administration, language and letterhead.

The one place that decides which relation's address a document carries (the invoice
debtor's, when it differs) and which letterhead goes under it (the relation's
language code). The batch engine, the CLI and the TUI call this.
"""

from __future__ import annotations

from mailing.config import ConfigSnapshot
from mailing.errors import DocumentError
from mailing.pdf.layout import render_document_pdf
from mailing.pdf.letterhead import Letterhead
from store.errors import NotFoundError
from store.records import Administration, Document, Relation
from store.store import Store


def parties_of(config: ConfigSnapshot, doc: Document) -> tuple[Relation, Administration]:
    """The relation whose address the document carries, and the administration."""
    adm = config.administrations.get(doc.administration)
    if adm is None:
        raise DocumentError(
            f"The administration {doc.administration!r} of {doc.type} {doc.number} does not exist.",
            field="administration",
            value=doc.administration,
            fix="create the administration, or import the document into an existing one.",
        )
    relation = config.relation_of(doc)
    if relation is None:
        raise DocumentError(
            f"The relation {doc.relation!r} of {doc.type} {doc.number} does not exist in "
            f"administration {doc.administration}.",
            field="relation",
            value=doc.relation,
            fix="create the relation, or correct the document.",
        )
    if doc.invoice_debtor:
        debtor = config.relations.get((doc.administration, doc.invoice_debtor))
        if debtor is not None:
            relation = debtor
    return relation, adm


def render_stored_document(
    store: Store,
    config: ConfigSnapshot,
    doc: Document,
    *,
    background: bool = True,
    facturx: bytes | None = None,
    warnings: list[str] | None = None,
) -> bytes:
    """The document's PDF in its relation's language, on the language code's letterhead.

    ``facturx``: the invoice's CII XML to embed (mailing.einvoice makes it);
    ``warnings``: gets a sentence for every text cut to fit its place.
    """
    relation, adm = parties_of(config, doc)
    language = config.language_of(relation)
    letterhead = Letterhead.from_refs(store, language) if background else None
    return render_document_pdf(
        doc,
        relation,
        adm,
        language=relation.language,
        letterhead=letterhead,
        facturx=facturx,
        warnings=warnings,
    )


def find_document(store: Store, doctype: str, number: str, admin: str | None) -> Document:
    """One stored document; ``admin`` may be left out when the number is unambiguous."""
    if admin is not None:
        doc = store.find(Document, f"{admin}/{doctype}/{number}")
        if doc is None:
            raise NotFoundError(
                f"No {doctype} {number!r} in administration {admin}.",
                field="number",
                value=number,
                fix="list the documents with `mailroom documents list`.",
            )
        return doc
    with store.view(Document) as tx:  # one shard of keys and the month of each match
        found = tx.find_number(doctype, number)
    if not found:
        raise NotFoundError(
            f"No {doctype} {number!r} exists.",
            field="number",
            value=number,
            fix="list the documents with `mailroom documents list`.",
        )
    if len(found) > 1:
        admins = ", ".join(sorted(str(d.get("administration")) for d in found))
        raise NotFoundError(
            f"{doctype} {number!r} exists in several administrations ({admins}).",
            field="--admin",
            value=number,
            fix="say which with --admin CODE.",
        )
    return Document.parse(found[0])
