"""E-invoices: the EN 16931 data of an invoice, as Factur-X (CII XML in a PDF/A-3) or UBL.

``data.py`` turns a document into the EN 16931 business terms (BT-1, BT-2, ...);
``xml.py`` writes them as CII (Factur-X, EN 16931 profile) or Peppol BIS Billing 3.0
UBL with the ``factur-x`` library (Akretion), checked against the schemas it ships;
``facturx_pdf.py`` embeds the CII XML into the document's PDF/A-3. ``form_of`` says
which form a relation's invoices take (its own choice, else its administration's).
"""

from mailing.einvoice.attach import EInvoiced, apply_e_invoice, archive_info
from mailing.einvoice.data import EINVOICE_TYPES, e_invoice_data, form_of, seller_country
from mailing.einvoice.facturx_pdf import embed_facturx
from mailing.einvoice.xml import cii_xml, ubl_xml

__all__ = [
    "EInvoiced",
    "apply_e_invoice",
    "archive_info",
    "EINVOICE_TYPES",
    "cii_xml",
    "e_invoice_data",
    "embed_facturx",
    "form_of",
    "seller_country",
    "ubl_xml",
]
