"""The Factur-X CII XML (EN 16931 profile) written straight from our EN 16931 terms.

The ``factur-x`` library makes the same XML from the same terms (``generate_xml``),
but generically: it walks and normalises the whole dict and builds an lxml tree per
invoice, about 2 ms an invoice — as much as drawing the PDF. Mailroom only ever fills
the terms that ``data.py`` makes, so this module writes exactly those, in the order
the schema wants, as text. The tests hold it to the library: for every shape of
invoice the two give the same bytes, and the result passes the library's own check
and the official XSD.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

_NS = (
    'xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100" '
    'xmlns:ram="urn:un:unece:uncefact:data:standard:'
    'ReusableAggregateBusinessInformationEntity:100" '
    'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
    'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
# Characters XML 1.0 cannot carry at all (the library's lxml refuses them too).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;"}
)


def _text(value: object) -> str:
    text = str(value)
    if _NOT_XML.search(text):
        bad = _NOT_XML.search(text)
        assert bad is not None
        raise ValueError(
            f"the text {text!r} holds the character U+{ord(bad.group()):04X}, "
            "which an XML file cannot carry"
        )
    return text.translate(_ESCAPES)


def _attr(value: object) -> str:
    return _text(value).translate(_ATTR_ESCAPES)


_DECIMAL = re.compile(r"-?\d+(\.\d+)?")


def _number(value: object) -> str:
    """An xs:decimal as the schema wants it: digits, an optional point, no exponent."""
    text = str(value)
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"the amount {text!r} is not a plain decimal number")
    return text


def _date(value: dt.date | str) -> str:
    return value.strftime("%Y%m%d") if isinstance(value, dt.date) else _text(value)


class _Writer:
    def __init__(self) -> None:
        self.out: list[str] = []

    def open(self, depth: int, tag: str) -> None:
        self.out.append(f"{'  ' * depth}<{tag}>\n")

    def close(self, depth: int, tag: str) -> None:
        self.out.append(f"{'  ' * depth}</{tag}>\n")

    def leaf(self, depth: int, tag: str, value: object, attrs: str = "") -> None:
        self.out.append(f"{'  ' * depth}<{tag}{attrs}>{_text(value)}</{tag.split()[0]}>\n")

    def number(self, depth: int, tag: str, value: object) -> None:
        self.out.append(f"{'  ' * depth}<{tag}>{_number(value)}</{tag.split()[0]}>\n")

    def date(self, depth: int, tag: str, value: dt.date | str) -> None:
        self.open(depth, tag)
        self.leaf(depth + 1, 'udt:DateTimeString format="102"', _date(value))
        self.close(depth, tag)


def _address(w: _Writer, depth: int, party: Mapping[str, Any]) -> None:
    w.open(depth, "ram:PostalTradeAddress")
    for key, tag in (
        ("postcode", "ram:PostcodeCode"),
        ("addr_l1", "ram:LineOne"),
        ("addr_l2", "ram:LineTwo"),
        ("addr_l3", "ram:LineThree"),
        ("city", "ram:CityName"),
        ("country_code", "ram:CountryID"),
    ):
        if party.get(key):
            w.leaf(depth + 1, tag, party[key])
    w.close(depth, "ram:PostalTradeAddress")


def _email(w: _Writer, depth: int, party: Mapping[str, Any]) -> None:
    if party.get("einvoicing_addr"):
        w.open(depth, "ram:URIUniversalCommunication")
        scheme = _attr(party.get("einvoicing_addr_schemeid") or "EM")
        w.leaf(depth + 1, f'ram:URIID schemeID="{scheme}"', party["einvoicing_addr"])
        w.close(depth, "ram:URIUniversalCommunication")


def _line(w: _Writer, line: Mapping[str, Any]) -> None:
    w.open(2, "ram:IncludedSupplyChainTradeLineItem")
    w.open(3, "ram:AssociatedDocumentLineDocument")
    w.leaf(4, "ram:LineID", line["BT-126"])
    w.close(3, "ram:AssociatedDocumentLineDocument")
    w.open(3, "ram:SpecifiedTradeProduct")
    if line.get("BT-155"):
        w.leaf(4, "ram:SellerAssignedID", line["BT-155"])
    w.leaf(4, "ram:Name", line["BT-153"])
    w.close(3, "ram:SpecifiedTradeProduct")
    w.open(3, "ram:SpecifiedLineTradeAgreement")
    w.open(4, "ram:NetPriceProductTradePrice")
    w.number(5, "ram:ChargeAmount", line["BT-146"])
    w.close(4, "ram:NetPriceProductTradePrice")
    w.close(3, "ram:SpecifiedLineTradeAgreement")
    w.open(3, "ram:SpecifiedLineTradeDelivery")
    w.number(4, f'ram:BilledQuantity unitCode="{_attr(line["BT-130"])}"', line["BT-129"])
    w.close(3, "ram:SpecifiedLineTradeDelivery")
    w.open(3, "ram:SpecifiedLineTradeSettlement")
    w.open(4, "ram:ApplicableTradeTax")
    w.leaf(5, "ram:TypeCode", "VAT")
    w.leaf(5, "ram:CategoryCode", line["BT-151"])
    if line.get("BT-152"):
        w.number(5, "ram:RateApplicablePercent", line["BT-152"])
    w.close(4, "ram:ApplicableTradeTax")
    w.open(4, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    w.number(5, "ram:LineTotalAmount", line["BT-131"])
    w.close(4, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    w.close(3, "ram:SpecifiedLineTradeSettlement")
    w.close(2, "ram:IncludedSupplyChainTradeLineItem")


def _party(w: _Writer, depth: int, tag: str, party: Mapping[str, Any]) -> None:
    """A trade party in the library's order: ids, name, legal registration, address,
    electronic address, tax registrations."""
    w.open(depth, tag)
    ids = party.get("identifiers") or {}
    for scheme, ident in ids.items():
        if not scheme:
            w.leaf(depth + 1, "ram:ID", ident)
    for scheme, ident in ids.items():
        if scheme:
            w.leaf(depth + 1, f'ram:GlobalID schemeID="{_attr(scheme)}"', ident)
    w.leaf(depth + 1, "ram:Name", party["name"])
    if party.get("legal_identifier"):
        w.open(depth + 1, "ram:SpecifiedLegalOrganization")
        scheme = party.get("legal_identifier_schemeid")
        attrs = f' schemeID="{_attr(scheme)}"' if scheme else ""
        w.leaf(depth + 2, f"ram:ID{attrs}", party["legal_identifier"])
        w.close(depth + 1, "ram:SpecifiedLegalOrganization")
    if party.get("country_code"):
        _address(w, depth + 1, party)
    _email(w, depth + 1, party)
    if party.get("vat_identifier"):
        w.open(depth + 1, "ram:SpecifiedTaxRegistration")
        w.leaf(depth + 2, 'ram:ID schemeID="VA"', party["vat_identifier"])
        w.close(depth + 1, "ram:SpecifiedTaxRegistration")
    w.close(depth, tag)


def _settlement(w: _Writer, data: Mapping[str, Any]) -> None:
    w.open(2, "ram:ApplicableHeaderTradeSettlement")
    if data.get("BT-83"):
        w.leaf(3, "ram:PaymentReference", data["BT-83"])
    w.leaf(3, "ram:InvoiceCurrencyCode", data["BT-5"])
    if data.get("BT-81"):
        w.open(3, "ram:SpecifiedTradeSettlementPaymentMeans")
        w.leaf(4, "ram:TypeCode", data["BT-81"])
        if data.get("BT-84"):
            w.open(4, "ram:PayeePartyCreditorFinancialAccount")
            w.leaf(5, "ram:IBANID", data["BT-84"])
            if data.get("BT-85"):
                w.leaf(5, "ram:AccountName", data["BT-85"])
            w.close(4, "ram:PayeePartyCreditorFinancialAccount")
        if data.get("BT-86"):
            w.open(4, "ram:PayeeSpecifiedCreditorFinancialInstitution")
            w.leaf(5, "ram:BICID", data["BT-86"])
            w.close(4, "ram:PayeeSpecifiedCreditorFinancialInstitution")
        w.close(3, "ram:SpecifiedTradeSettlementPaymentMeans")
    for vat in data["BG-23"]:
        w.open(3, "ram:ApplicableTradeTax")
        w.number(4, "ram:CalculatedAmount", vat["BT-117"])
        w.leaf(4, "ram:TypeCode", "VAT")
        if vat.get("BT-120"):
            w.leaf(4, "ram:ExemptionReason", vat["BT-120"])
        w.number(4, "ram:BasisAmount", vat["BT-116"])
        w.leaf(4, "ram:CategoryCode", vat["BT-118"])
        if vat.get("BT-121"):
            w.leaf(4, "ram:ExemptionReasonCode", vat["BT-121"])
        if vat.get("BT-119"):
            w.number(4, "ram:RateApplicablePercent", vat["BT-119"])
        w.close(3, "ram:ApplicableTradeTax")
    if data.get("BT-9"):
        w.open(3, "ram:SpecifiedTradePaymentTerms")
        w.date(4, "ram:DueDateDateTime", data["BT-9"])
        w.close(3, "ram:SpecifiedTradePaymentTerms")
    w.open(3, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    w.number(4, "ram:LineTotalAmount", data["BT-106"])
    w.number(4, "ram:TaxBasisTotalAmount", data["BT-109"])
    w.number(4, f'ram:TaxTotalAmount currencyID="{_attr(data["BT-5"])}"', data["BT-110"])
    w.number(4, "ram:GrandTotalAmount", data["BT-112"])
    w.number(4, "ram:DuePayableAmount", data["BT-115"])
    w.close(3, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    for ref in data.get("BG-3") or []:
        w.open(3, "ram:InvoiceReferencedDocument")
        w.leaf(4, "ram:IssuerAssignedID", ref["BT-25"])
        if ref.get("BT-26"):
            w.open(4, "ram:FormattedIssueDateTime")
            w.leaf(5, 'qdt:DateTimeString format="102"', _date(ref["BT-26"]))
            w.close(4, "ram:FormattedIssueDateTime")
        w.close(3, "ram:InvoiceReferencedDocument")
    w.close(2, "ram:ApplicableHeaderTradeSettlement")


def write_cii(data: Mapping[str, Any]) -> bytes:
    """The CII XML of the terms ``data.py`` makes (raises ValueError for a text that
    XML cannot carry)."""
    w = _Writer()
    w.out.append(f"<?xml version='1.0' encoding='UTF-8'?>\n<rsm:CrossIndustryInvoice {_NS}>\n")
    w.open(1, "rsm:ExchangedDocumentContext")
    w.open(2, "ram:GuidelineSpecifiedDocumentContextParameter")
    w.leaf(3, "ram:ID", "urn:cen.eu:en16931:2017")
    w.close(2, "ram:GuidelineSpecifiedDocumentContextParameter")
    w.close(1, "rsm:ExchangedDocumentContext")
    w.open(1, "rsm:ExchangedDocument")
    w.leaf(2, "ram:ID", data["BT-1"])
    w.leaf(2, "ram:TypeCode", data["BT-3"])
    w.date(2, "ram:IssueDateTime", data["BT-2"])
    w.close(1, "rsm:ExchangedDocument")
    w.open(1, "rsm:SupplyChainTradeTransaction")
    for line in data["BG-25"]:
        _line(w, line)
    w.open(2, "ram:ApplicableHeaderTradeAgreement")
    if data.get("BT-10"):
        w.leaf(3, "ram:BuyerReference", data["BT-10"])
    _party(w, 3, "ram:SellerTradeParty", data["BG-4"])
    _party(w, 3, "ram:BuyerTradeParty", data["BG-7"])
    w.close(2, "ram:ApplicableHeaderTradeAgreement")
    w.open(2, "ram:ApplicableHeaderTradeDelivery")
    if data.get("BG-13"):
        _party(w, 3, "ram:ShipToTradeParty", data["BG-13"])
    if data.get("BT-72"):
        w.open(3, "ram:ActualDeliverySupplyChainEvent")
        w.date(4, "ram:OccurrenceDateTime", data["BT-72"])
        w.close(3, "ram:ActualDeliverySupplyChainEvent")
    w.close(2, "ram:ApplicableHeaderTradeDelivery")
    _settlement(w, data)
    w.close(1, "rsm:SupplyChainTradeTransaction")
    w.out.append("</rsm:CrossIndustryInvoice>\n")
    return "".join(w.out).encode("utf-8")
