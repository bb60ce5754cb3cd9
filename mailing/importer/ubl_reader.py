"""Reading one UBL 2.1 Invoice or CreditNote, XML with DTDs and entities refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from mailing.importer.candidate import _Candidate
from mailing.importer.numbers import MAX_AMOUNT, MAX_QUANTITY, _number
from mailing.importer.problems import _Problems, _short

MAX_XML_TAGS = 500_000  # '<' in a UBL file, counted before it is parsed

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_OUR_CATEGORIES = frozenset({"S", "Z", "E", "AE", "K", "G", "O"})
_CODE_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")


def _read_ubl(raw: bytes, problems: _Problems) -> Iterator[_Candidate]:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    if raw.count(b"<") > MAX_XML_TAGS:
        problems.add(
            "file",
            f"holds more than {MAX_XML_TAGS:,} XML tags; one invoice never needs that many",
        )
        return
    try:
        root = fromstring(raw, forbid_dtd=True)
    except DefusedXmlException:
        problems.add(
            "file",
            "refused: the XML uses DTDs or entities, which an e-invoice never needs; "
            "export it again as plain UBL",
        )
        return
    except ParseError as exc:
        problems.add(f"line {exc.position[0]}", f"invalid XML: {exc}")
        return
    except LookupError:
        problems.add("line 1", "the XML declares an encoding that is not known; save it as UTF-8")
        return
    except (ValueError, RecursionError):  # never a traceback
        problems.add("file", "cannot be read as XML; export it again as UBL")
        return
    tag = root.tag
    if tag == f"{{{NS['inv']}}}Invoice":
        credit, rootname, line_tag, qty_tag = False, "/Invoice", "InvoiceLine", "InvoicedQuantity"
    elif tag == f"{{{NS['cn']}}}CreditNote":
        credit, rootname, line_tag, qty_tag = (
            True,
            "/CreditNote",
            "CreditNoteLine",
            "CreditedQuantity",
        )
    else:
        problems.add("/", f"the root element is {_short(tag)}, not a UBL 2.1 Invoice or CreditNote")
        return

    def text(el: Any, xpath: str) -> str:
        found = el.find(xpath, NS)
        return (found.text or "").strip() if found is not None and found.text else ""

    def where(name: str) -> str:
        return f"{rootname}/{name}"

    data: dict[str, Any] = {"type": "sales_invoice"}
    locate: dict[str, str] = {}
    flawed = False

    def number(raw_value: str, place: str, label: str, bound: Decimal) -> Decimal | None:
        nonlocal flawed
        value, problem = _number(raw_value, label, bound)
        if problem:
            problems.add(place, problem)
            flawed = True
            return None
        return value

    number_id = text(root, "cbc:ID")
    locate["number"] = where("cbc:ID")
    if not number_id:
        problems.add(where("cbc:ID"), "the invoice number is missing")
    elif not _CODE_OK.match(number_id):
        problems.add(
            where("cbc:ID"),
            f"invoice number {_short(number_id)} must be 1-40 letters, digits, '.', '_' or '-'",
        )
    data["number"] = number_id
    data["date"] = text(root, "cbc:IssueDate")
    locate["date"] = where("cbc:IssueDate")
    due = text(root, "cbc:DueDate") or text(root, "cac:PaymentMeans/cbc:PaymentDueDate")
    if due:
        data["due_date"] = due
    locate["due_date"] = where("cbc:DueDate")
    cur = text(root, "cbc:DocumentCurrencyCode")
    if cur:
        data["currency"] = cur
    locate["currency"] = where("cbc:DocumentCurrencyCode")
    ref = text(root, "cbc:BuyerReference") or text(root, "cac:OrderReference/cbc:ID")
    if ref:
        data["reference"] = ref[:200]
    if credit or text(root, "cbc:InvoiceTypeCode") == "381":
        credit = True  # its amounts are stored negative, as the accounting keeps them
        data["credit_note"] = True
    corrects = text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID")
    if corrects:
        data["corrects"] = corrects[:40]
        locate["corrects"] = where("cac:BillingReference")
        corrects_date = text(
            root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate"
        )
        if corrects_date:
            data["corrects_date"] = corrects_date
    # The exemption reason per VAT category, from the VAT breakdown (BT-121).
    reasons = {
        text(sub, "cac:TaxCategory/cbc:ID"): text(sub, "cac:TaxCategory/cbc:TaxExemptionReasonCode")
        for sub in root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)
    }

    def vat_of(category: str) -> dict[str, str]:
        if category not in _OUR_CATEGORIES:
            return {}
        reason = reasons.get(category, "")
        return {"vat_category": category, **({"vat_exemption": reason} if reason else {})}

    note = text(root, "cbc:Note")
    if note:
        data["description"] = note.splitlines()[0][:200]

    party = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    locate["relation"] = where("cac:AccountingCustomerParty")
    if party is None:
        problems.add(where("cac:AccountingCustomerParty"), "the customer is missing")
        party_ids: list[str] = []
        party_names: list[str] = []
    else:
        party_ids = [
            (e.text or "").strip() for e in party.findall("cac:PartyIdentification/cbc:ID", NS)
        ]
        party_names = [
            n
            for n in (
                text(party, "cac:PartyName/cbc:Name"),
                text(party, "cac:PartyLegalEntity/cbc:RegistrationName"),
            )
            if n
        ]

    lines: list[dict[str, Any]] = []
    sign = Decimal(-1) if credit else Decimal(1)
    for i, el in enumerate(root.findall(f"cac:{line_tag}", NS), start=1):
        at = where(f"cac:{line_tag}[{i}]")
        locate[f"lines.{i - 1}"] = at
        name = text(el, "cac:Item/cbc:Name") or text(el, "cac:Item/cbc:Description")
        checked = [
            number(text(el, xp) or default, f"{at}/{xp}", label, bound)
            for label, xp, default, bound in (
                ("quantity", f"cbc:{qty_tag}", "1", MAX_QUANTITY),
                ("price", "cac:Price/cbc:PriceAmount", "", MAX_AMOUNT),
                ("base quantity", "cac:Price/cbc:BaseQuantity", "1", MAX_QUANTITY),
                ("VAT percent", "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", "0", MAX_AMOUNT),
            )
        ]
        qty, price, base_qty, rate = checked
        if qty is None or price is None or base_qty is None or rate is None:
            continue
        if base_qty <= 0:
            problems.add(
                f"{at}/cac:Price/cbc:BaseQuantity", f"base quantity {base_qty} must be more than 0"
            )
            flawed = True
            continue
        unit = price / base_qty
        if (qty * unit).copy_abs() >= MAX_AMOUNT:
            problems.add(
                at,
                f"the line amount (quantity {qty} × price {price} / base quantity {base_qty}) "
                f"is too large; it must be less than {MAX_AMOUNT:,.0f}",
            )
            flawed = True
            continue
        line: dict[str, Any] = {
            "description": name,
            "quantity": qty * sign,
            "unit_price": unit,
            "vat_rate": rate,
        }
        line.update(vat_of(text(el, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID")))
        article = text(el, "cac:Item/cac:SellersItemIdentification/cbc:ID")
        if article:
            line["article"] = article[:40]
        lines.append(line)
        stated_text = text(el, "cbc:LineExtensionAmount")
        if stated_text:
            xp = f"{at}/cbc:LineExtensionAmount"
            stated = number(stated_text, xp, "line amount", MAX_AMOUNT)
            computed = (qty * unit).quantize(Decimal("0.01"))
            if stated is not None and abs(stated - computed) > Decimal("0.01"):
                problems.add(
                    xp,
                    f"line amount {stated} differs from quantity × price = {computed}",
                )
    # Document-level allowances (negative) and charges become lines of their own.
    for i, el in enumerate(root.findall("cac:AllowanceCharge", NS), start=1):
        at = where(f"cac:AllowanceCharge[{i}]")
        amount = number(text(el, "cbc:Amount"), f"{at}/cbc:Amount", "amount", MAX_AMOUNT)
        rate = number(
            text(el, "cac:TaxCategory/cbc:Percent") or "0",
            f"{at}/cac:TaxCategory/cbc:Percent",
            "VAT percent",
            MAX_AMOUNT,
        )
        if amount is None or rate is None:
            continue
        is_charge = text(el, "cbc:ChargeIndicator").lower() == "true"
        reason = text(el, "cbc:AllowanceChargeReason") or ("Charge" if is_charge else "Allowance")
        locate[f"lines.{len(lines)}"] = at
        # An allowance is a line of quantity -1 at its (positive) amount: EN 16931 allows
        # no negative price (BR-27).
        lines.append(
            {
                "description": reason,
                "quantity": sign if is_charge else -sign,
                "unit_price": amount,
                "vat_rate": rate,
                **vat_of(text(el, "cac:TaxCategory/cbc:ID")),
            }
        )
    data["lines"] = lines
    totals: dict[str, Decimal] = {}
    for key, xp in (
        ("total_excl", "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount"),
        ("total_incl", "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"),
        ("total_vat", "cac:TaxTotal/cbc:TaxAmount"),
    ):
        raw_value = text(root, xp)
        if not raw_value:
            continue
        locate[key] = where(xp)
        value = number(raw_value, where(xp), key, MAX_AMOUNT)
        if value is not None:
            totals[key] = value * sign
    cand = _Candidate(where=rootname, data=data, locate=locate, ubl=raw, totals=totals)
    cand.party = (party_ids, party_names) if party is not None else None
    cand.flawed = flawed
    yield cand
