"""The e-invoicing fields of an administration and a relation, for the forms to show.

One declarative list per record (field name, label, help, placeholder), so that the
Relations form and the Administrations form say the same thing, and the door
(``mailing/changes/rules_record.py: identifier_problems``) names a field by the same label.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FormField:
    name: str  # the record's field
    label: str
    help: str = ""
    placeholder: str = ""


_VAT = FormField(
    "vat_number",
    "VAT number",
    "With its country prefix, as registered: NL123456789B01, BE0123456789, DE123456789. "
    "Checked with its check digits.",
    "NL123456789B01",
)
_COC = FormField(
    "coc_number",
    "Legal registration",
    "The chamber of commerce or enterprise number: KvK (8 digits), KBO/BCE (10 digits)...",
    "12345678",
)
_COC_SCHEME = FormField(
    "coc_scheme",
    "Registration scheme",
    "Its ISO 6523 code: 0106 KvK, 0190 OIN, 0208 KBO/BCE, 0184 CVR, 0007 SE org. number; "
    "empty: the country's usual one (NL 0106, BE 0208).",
    "0106",
)
_PEPPOL_SCHEME = FormField(
    "peppol_scheme",
    "Peppol address scheme",
    "The Electronic Address Scheme (EAS) of the Peppol address: 0106 KvK, 0190 OIN, "
    "9944 NL VAT, 0208 KBO, 9925 BE VAT, 9930 DE VAT, 0088 GLN. Empty: derived from the "
    "legal registration, else the VAT number.",
    "0106",
)
_PEPPOL_ID = FormField(
    "peppol_id",
    "Peppol address",
    "The identifier registered in Peppol under that scheme (e.g. the KvK number).",
    "12345678",
)

# The administration (the seller): its VAT number and KvK number already exist as
# ``vat_number`` and ``coc_number``; issue 26 adds the scheme and the Peppol address.
ADMINISTRATION_EINVOICE_FIELDS: tuple[FormField, ...] = (
    _VAT,
    _COC,
    _COC_SCHEME,
    _PEPPOL_SCHEME,
    _PEPPOL_ID,
)
# The relation (the buyer): all five are new with issue 26.
RELATION_EINVOICE_FIELDS: tuple[FormField, ...] = (
    _VAT,
    _COC,
    _COC_SCHEME,
    _PEPPOL_SCHEME,
    _PEPPOL_ID,
)
LABELS: dict[str, str] = {f.name: f.label for f in RELATION_EINVOICE_FIELDS}
