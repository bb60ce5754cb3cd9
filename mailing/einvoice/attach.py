"""What an invoice carries as e-invoice when it is mailed: Factur-X inside, or UBL beside."""

from __future__ import annotations

from dataclasses import dataclass

from mailing.einvoice.data import EINVOICE_TYPES, e_invoice_data, form_of
from mailing.einvoice.facturx_pdf import embed_facturx
from mailing.einvoice.xml import cii_xml, ubl_xml
from mailing.pdf.layout_texts import document_title, layout_language
from mailing.pdf.pdfa import ArchiveInfo
from store.records import Administration, Document, Relation


@dataclass(frozen=True)
class EInvoiced:
    pdf: bytes  # the document's PDF, with factur-x.xml inside when Factur-X
    ubl: bytes | None  # the Peppol UBL to attach beside it, when UBL
    ubl_name: str = ""


def archive_info(doc: Document, adm: Administration, language: str) -> ArchiveInfo:
    return ArchiveInfo(
        title=f"{document_title(doc.type, language)} {doc.number}",
        number=doc.number,
        administration=adm.name,
        administration_code=adm.code,
        date=doc.date,
        language=layout_language(language),
    )


def apply_e_invoice(
    pdf: bytes, doc: Document, relation: Relation, adm: Administration, language: str
) -> EInvoiced:
    """The invoice's e-invoice form, as its relation (or else its administration) says.

    Only sales, counter and subscription invoices; a document imported with its own UBL
    keeps that one (it is attached as it came) and gets no second.
    """
    form = form_of(relation, adm)
    if doc.type not in EINVOICE_TYPES or form == "off":
        return EInvoiced(pdf, None)
    data = e_invoice_data(doc, relation, adm)
    if form == "factur-x":
        return EInvoiced(embed_facturx(pdf, cii_xml(data), archive_info(doc, adm, language)), None)
    if doc.ubl is not None:
        return EInvoiced(pdf, None)
    return EInvoiced(pdf, ubl_xml(data), f"{doc.number}.xml")
