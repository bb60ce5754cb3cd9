"""A document as EN 16931 business terms (the data dict of the ``factur-x`` library).

``e_invoice_data`` refuses, before anything is written, a document the official rules
would refuse (``DocumentError`` naming the rule in words and the fix): a negative unit
price (BR-27), a VAT category without its reason, a Peppol invoice to a customer
without an electronic address (PEPPOL-EN16931-R010), ...
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mailing.einvoice.address import split_address
from mailing.einvoice.identifiers import (
    compact,
    electronic_address,
    registration_scheme,
    vat_country,
)
from mailing.einvoice.vat import (
    category_of,
    document_problems,
    line_problems,
    reason_of,
    reason_text,
)
from mailing.errors import DocumentError
from store.records import Administration, Document, DocumentLine, Relation

# The invoices that can go as an e-invoice (issue 17): not reminders or order documents.
EINVOICE_TYPES: frozenset[str] = frozenset(
    {"sales_invoice", "counter_invoice", "subscription_invoice"}
)


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


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def seller_address(adm: Administration) -> tuple[str, str] | None:
    """The administration's Peppol electronic address (EAS scheme, identifier)."""
    country = vat_country(adm.vat_number)
    return electronic_address(
        peppol_scheme=adm.peppol_scheme,
        peppol_id=adm.peppol_id,
        registration=adm.coc_number,
        registration_scheme_=registration_scheme(country, adm.coc_scheme),
        vat_number=adm.vat_number,
    )


def buyer_address(relation: Relation) -> tuple[str, str] | None:
    """The relation's Peppol electronic address (EAS scheme, identifier)."""
    return electronic_address(
        peppol_scheme=relation.peppol_scheme,
        peppol_id=relation.peppol_id,
        registration=relation.coc_number,
        registration_scheme_=registration_scheme(relation.country, relation.coc_scheme),
        vat_number=relation.vat_number,
    )


def rule_problems(doc: Document, *, e_invoice: bool = True) -> list[tuple[str, str, str]]:
    """(where, what is wrong with the rule in words, fix) for what EN 16931 refuses in
    the document itself, before any XML is made (also run at import). The VAT rules
    always hold (the PDF must say the same); with ``e_invoice`` also what only an
    e-invoice cannot carry (a negative price, a credit note without its invoice)."""
    out: list[tuple[str, str, str]] = []
    for n, ln in enumerate(doc.lines, start=1):
        where = f"line {n}"
        price = ln.unit_price
        if price < 0 and e_invoice:
            out.append(
                (
                    where,
                    f"unit price {price} is negative, and an e-invoice may not carry a "
                    "negative price (EN 16931 BR-27)",
                    f"enter the discount as quantity {-ln.quantity} at unit price {-price}: "
                    "the amount stays the same.",
                )
            )
        for what, fix in line_problems(ln.vat_rate, ln.vat_category, ln.vat_exemption):
            out.append((where, what, fix))
    cats = [category_of(ln.vat_rate, ln.vat_category) for ln in doc.lines]
    out += [("document", what, fix) for what, fix in document_problems(cats)]
    if doc.credit_note and not doc.corrects and e_invoice:
        out.append(
            (
                "corrects",
                "a credit note must name the invoice it corrects (BillingReference; "
                "Peppol NL-R-001)",
                "give the number of the corrected invoice in 'corrects'.",
            )
        )
    return out


def _refuse(doc: Document, where: str, what: str, fix: str, field: str = "") -> DocumentError:
    return DocumentError(
        f"Invoice {doc.number} cannot be an e-invoice: {where}: {what}.",
        field=field or where,
        value=doc.number,
        fix=fix,
    )


def _party_ids(out: dict[str, Any], vat: str, coc: str, scheme: str, *, with_vat: bool) -> None:
    if vat and with_vat:
        out["vat_identifier"] = compact(vat)
    if coc:
        out["legal_identifier"] = coc.strip()
        if scheme:
            out["legal_identifier_schemeid"] = scheme


def _breakdown(lines: list[DocumentLine], sign: Decimal) -> list[dict[str, Any]]:
    groups: dict[tuple[str, Decimal, str], Decimal] = {}
    for ln in lines:
        cat = category_of(ln.vat_rate, ln.vat_category)
        key = (cat, ln.vat_rate, reason_of(cat, ln.vat_exemption))
        groups[key] = groups.get(key, Decimal("0.00")) + ln.amount * sign
    out = []
    for (cat, rate, reason), base in sorted(groups.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
        vat = (base * rate / 100).quantize(Decimal("0.01"))
        row: dict[str, Any] = {
            "BT-116": _money(base),
            "BT-117": _money(vat),
            "BT-118": cat,
        }
        if cat != "O":  # BR-O-09: no rate when not subject to VAT
            row["BT-119"] = _money(rate)
        if reason:
            row["BT-120"] = reason_text(reason) or reason
            row["BT-121"] = reason
        out.append(row)
    return out


def e_invoice_data(
    doc: Document,
    relation: Relation,
    adm: Administration,
    *,
    peppol: bool = False,
    xrechnung: bool = False,
) -> dict[str, Any]:
    """The EN 16931 terms of ``doc`` (an invoice) for ``relation`` from ``adm``.

    ``peppol``: for Peppol BIS Billing 3.0 (UBL), whose electronic addresses must come
    from the EAS list (no e-mail) and are required for seller and buyer; ``xrechnung``:
    for the German XRechnung 3.0 (UBL, on top of that), which wants the seller's
    contact (BG-6: BR-DE-2, BR-DE-5..7)."""
    peppol = peppol or xrechnung
    if doc.type not in EINVOICE_TYPES:
        raise DocumentError(
            f"A {doc.type.replace('_', ' ')} cannot be an e-invoice; only sales, counter "
            "and subscription invoices can.",
            field="type",
            value=doc.type,
            fix="choose an invoice.",
        )
    country = seller_country(adm)
    problems = rule_problems(doc)
    if problems:
        raise _refuse(doc, *problems[0])
    cats = {category_of(ln.vat_rate, ln.vat_category) for ln in doc.lines}
    with_vat = "O" not in cats  # BR-O-02..04: no VAT identifiers when not subject to VAT
    if cats & {"AE", "K"} and not relation.vat_number:
        kind = "reverse charge (AE)" if "AE" in cats else "an intra-Community supply (K)"
        raise _refuse(
            doc,
            f"relation {relation.code}",
            f"{kind} needs the customer's VAT number (EN 16931 "
            f"{'BR-AE-02' if 'AE' in cats else 'BR-IC-02'})",
            f"enter the VAT number of relation {relation.code}.",
            field="VAT number",
        )
    seller: dict[str, Any] = {
        "name": adm.name,
        "country_code": country,
        **split_address(adm.address, country),
    }
    _party_ids(
        seller,
        adm.vat_number,
        adm.coc_number,
        registration_scheme(country, adm.coc_scheme),
        with_vat=with_vat,
    )
    buyer_country = (relation.country or "NL").upper()
    buyer: dict[str, Any] = {
        "name": relation.name,
        "identifiers": {None: relation.code},
        "country_code": buyer_country,
        **split_address(relation.address, buyer_country),
    }
    _party_ids(
        buyer,
        relation.vat_number,
        relation.coc_number,
        registration_scheme(buyer_country, relation.coc_scheme),
        with_vat=with_vat,
    )
    for party, address, email, who in (
        (seller, seller_address(adm), adm.email, f"administration {adm.code}"),
        (buyer, buyer_address(relation), relation.business_email, f"relation {relation.code}"),
    ):
        if address is not None:
            party["einvoicing_addr_schemeid"], party["einvoicing_addr"] = address
        elif peppol:
            raise _refuse(
                doc,
                who,
                "a Peppol invoice needs an electronic address of "
                f"{'the seller (PEPPOL-EN16931-R020)' if party is seller else 'the buyer (PEPPOL-EN16931-R010)'}, "
                "and there is none: no Peppol address, KvK/KBO number or VAT number",
                f"enter the Peppol address of {who} (e.g. scheme 0106 with its KvK number), "
                "or its KvK or VAT number.",
                field="Peppol address",
            )
        elif email:
            party["einvoicing_addr"], party["einvoicing_addr_schemeid"] = email, "EM"
    if xrechnung:
        for value, rule, what in (
            (adm.phone, "BR-DE-6", "phone number"),
            (adm.email, "BR-DE-7", "e-mail address"),
        ):
            if not value:
                raise _refuse(
                    doc,
                    f"administration {adm.code}",
                    f"an XRechnung needs the seller's contact {what} ({rule}), and it has none",
                    f"enter the {what} of administration {adm.code}.",
                    field=what,
                )
        seller["contacts"] = [{"name": adm.name, "phone": adm.phone, "email": adm.email}]
    credit = doc.credit_note
    sign = Decimal(-1) if credit else Decimal(1)
    data: dict[str, Any] = {
        "BT-1": doc.number,
        "BT-2": doc.date,
        "BT-3": "381" if credit else "380",
        "BT-5": doc.currency,
        "BT-10": doc.reference or relation.code,
        "BT-72": doc.date,  # the delivery date: the invoice date (no own field yet)
        "BG-4": seller,
        "BG-7": buyer,
    }
    if doc.corrects:
        ref: dict[str, Any] = {"BT-25": doc.corrects}
        if doc.corrects_date is not None:
            ref["BT-26"] = doc.corrects_date
        data["BG-3"] = [ref]
    if "K" in cats:  # BR-IC-12: the country delivered to
        data["BG-13"] = {
            "name": relation.name,
            "country_code": buyer_country,
            **{k: v for k, v in buyer.items() if k in ("addr_l1", "postcode", "city")},
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
    data["BG-23"] = _breakdown(doc.lines, sign)
    total_excl = doc.total_excl * sign
    total_vat = sum((Decimal(r["BT-117"]) for r in data["BG-23"]), Decimal("0.00"))
    data["BT-106"] = _money(total_excl)
    data["BT-109"] = _money(total_excl)
    data["BT-110"] = _money(total_vat)
    data["BT-112"] = _money(total_excl + total_vat)
    data["BT-115"] = _money(total_excl + total_vat)
    data["BG-25"] = [
        {
            "BT-126": str(n),
            "BT-153": ln.description or ln.article or "-",
            **({"BT-155": ln.article} if ln.article else {}),
            "BT-146": f"{ln.unit_price:f}",  # never "1E+2": the schema wants plain decimals
            "BT-129": f"{ln.quantity * sign:f}",
            "BT-130": "C62",
            "BT-151": category_of(ln.vat_rate, ln.vat_category),
            **({} if "O" in cats else {"BT-152": _money(ln.vat_rate)}),  # BR-O-05
            "BT-131": _money(ln.amount * sign),
        }
        for n, ln in enumerate(doc.lines, start=1)
    ]
    return data
