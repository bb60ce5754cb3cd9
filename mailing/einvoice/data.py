"""A document as EN 16931 business terms (the data dict of the ``factur-x`` library)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from mailing.errors import DocumentError
from store.records import Administration, Document, Relation

# The invoices that can go as an e-invoice (issue 17): not reminders or order documents.
EINVOICE_TYPES: frozenset[str] = frozenset(
    {"sales_invoice", "counter_invoice", "subscription_invoice"}
)
_POSTCODE_CITY = re.compile(r"^\s*(\d{4}\s?[A-Z]{2}|\d{4,5}|[A-Z]{1,2}-?\d{3,5})\s+(.+?)\s*$")


def form_of(relation: Relation, administration: Administration) -> str:
    """'off', 'factur-x' or 'ubl': the relation's own choice, else the administration's."""
    return relation.e_invoice or administration.e_invoice


def seller_country(administration: Administration) -> str:
    """The seller's country (BT-40): the first two letters of its VAT number."""
    vat = administration.vat_number.replace(" ", "").upper()
    if len(vat) < 3 or not vat[:2].isalpha():
        raise DocumentError(
            f"An e-invoice of administration {administration.code} needs its VAT number "
            f"with the country prefix (EN 16931 BT-31, BT-40); it is {vat or 'empty'!r}.",
            field="VAT number",
            value=administration.vat_number,
            fix="enter the administration's VAT number as NL123456789B01.",
        )
    return vat[:2]


def _address(lines: list[str]) -> dict[str, str]:
    """Address lines as street (line 1), further lines, postcode and city."""
    out: dict[str, str] = {}
    rest = [ln.strip() for ln in lines if ln.strip()]
    if len(rest) > 1:
        last = rest.pop()
        m = _POSTCODE_CITY.match(last)
        if m:
            out["postcode"], out["city"] = m.group(1), m.group(2)
        else:
            out["city"] = last
    for key, line in zip(("addr_l1", "addr_l2", "addr_l3"), rest, strict=False):
        out[key] = line
    return out


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _category(rate: Decimal) -> str:
    return "S" if rate > 0 else "Z"


def e_invoice_data(doc: Document, relation: Relation, adm: Administration) -> dict[str, Any]:
    """The EN 16931 terms of ``doc`` (an invoice) for ``relation`` from ``adm``."""
    if doc.type not in EINVOICE_TYPES:
        raise DocumentError(
            f"A {doc.type.replace('_', ' ')} cannot be an e-invoice; only sales, counter "
            "and subscription invoices can.",
            field="type",
            value=doc.type,
            fix="choose an invoice.",
        )
    country = seller_country(adm)
    seller: dict[str, Any] = {
        "name": adm.name,
        "vat_identifier": adm.vat_number.replace(" ", "").upper(),
        "country_code": country,
        **_address(adm.address),
    }
    if adm.coc_number:
        seller["legal_identifier"] = adm.coc_number
    if adm.email:
        seller["einvoicing_addr"], seller["einvoicing_addr_schemeid"] = adm.email, "EM"
    buyer: dict[str, Any] = {
        "name": relation.name,
        "identifiers": {None: relation.code},
        "country_code": (relation.country or "NL").upper(),
        **_address(relation.address),
    }
    if relation.business_email:
        buyer["einvoicing_addr"], buyer["einvoicing_addr_schemeid"] = (
            relation.business_email,
            "EM",
        )
    data: dict[str, Any] = {
        "BT-1": doc.number,
        "BT-2": doc.date,
        "BT-3": "380",
        "BT-5": doc.currency,
        "BT-10": doc.reference or relation.code,
        "BT-72": doc.date,  # the delivery date: the invoice date (no own field yet)
        "BG-4": seller,
        "BG-7": buyer,
    }
    if doc.due_date is not None:
        data["BT-9"] = doc.due_date
    if adm.iban:
        data["BT-81"] = "58"  # SEPA credit transfer
        data["BT-83"] = doc.number
        data["BT-84"] = adm.iban.replace(" ", "")
        data["BT-85"] = adm.name
        if adm.bic:
            data["BT-86"] = adm.bic
    summary = doc.vat_summary()
    data["BG-23"] = [
        {
            "BT-116": _money(base),
            "BT-117": _money(vat),
            "BT-118": _category(rate),
            "BT-119": _money(rate),
        }
        for rate, (base, vat) in sorted(summary.items(), reverse=True)
    ]
    data["BT-106"] = _money(doc.total_excl)
    data["BT-109"] = _money(doc.total_excl)
    data["BT-110"] = _money(doc.total_vat)
    data["BT-112"] = _money(doc.total_incl)
    data["BT-115"] = _money(doc.total_incl)
    data["BG-25"] = [
        {
            "BT-126": str(n),
            "BT-153": ln.description or ln.article or "-",
            **({"BT-155": ln.article} if ln.article else {}),
            "BT-146": f"{ln.unit_price:f}",  # never "1E+2": the schema wants plain decimals
            "BT-129": f"{ln.quantity:f}",
            "BT-130": "C62",
            "BT-151": _category(ln.vat_rate),
            "BT-152": _money(ln.vat_rate),
            "BT-131": _money(ln.amount),
        }
        for n, ln in enumerate(doc.lines, start=1)
    ]
    return data
