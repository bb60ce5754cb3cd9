"""What an invoice carries as e-invoice when it is mailed: Factur-X inside, or UBL beside."""

from __future__ import annotations

from dataclasses import dataclass

from mailing.einvoice.data import EINVOICE_TYPES, e_invoice_data, form_of
from mailing.einvoice.xml import cii_xml, ubl_xml
from store.records import Administration, Document, Relation


@dataclass(frozen=True)
class EInvoice:
    facturx: bytes | None = None  # the CII XML to embed in the PDF (Factur-X)
    ubl: bytes | None = None  # the Peppol UBL to attach beside the PDF
    ubl_name: str = ""


def e_invoice_for(doc: Document, relation: Relation, adm: Administration) -> EInvoice:
    """The invoice's e-invoice, in the form its relation (or else its administration) takes.

    Only sales, counter and subscription invoices; a document imported with its own UBL
    keeps that one (attached as it came) and gets no second.
    """
    form = form_of(relation, adm)
    if doc.type not in EINVOICE_TYPES or form == "off":
        return EInvoice()
    if form == "factur-x":
        return EInvoice(facturx=cii_xml(e_invoice_data(doc, relation, adm)))
    if doc.ubl is not None:
        return EInvoice()
    xr = form == "xrechnung"
    data = e_invoice_data(doc, relation, adm, peppol=True, xrechnung=xr)
    return EInvoice(ubl=ubl_xml(data, xrechnung=xr), ubl_name=f"{doc.number}.xml")
