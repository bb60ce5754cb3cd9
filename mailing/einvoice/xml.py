"""EN 16931 terms as CII (Factur-X EN 16931 profile) and as Peppol BIS Billing 3.0 UBL."""

from __future__ import annotations

import logging
from typing import Any

from mailing.errors import DocumentError

PEPPOL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def _generate(data: dict[str, Any], flavor: str) -> bytes:
    from facturx import generate_xml

    logging.getLogger("factur-x").setLevel(logging.ERROR)
    try:
        out = generate_xml(dict(data), flavor=flavor, level="en16931", check_schematron=False)
    except Exception as exc:  # the library raises plain exceptions for what it refuses
        number = data.get("BT-1", "")
        raise DocumentError(
            f"The e-invoice of invoice {number} cannot be made: {exc}",
            field="e-invoice",
            value=number,
            fix="complete the administration and the relation (name, address, VAT number).",
        ) from None
    return bytes(out)


def cii_xml(data: dict[str, Any]) -> bytes:
    """The Factur-X (CII, EN 16931 profile) XML, valid against the XSD it ships."""
    return _generate(data, "factur-x")


def ubl_xml(data: dict[str, Any]) -> bytes:
    """Peppol BIS Billing 3.0 UBL 2.1, valid against the UBL 2.1 XSD."""
    from lxml import etree

    xml = _generate(data, "ubl-2.1")
    root = etree.fromstring(xml)
    ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
    custom = root.find("cbc:CustomizationID", ns)
    if custom is not None:
        custom.text = PEPPOL_CUSTOMIZATION
    profile = root.find("cbc:ProfileID", ns)
    if profile is None and custom is not None:
        profile = etree.Element(f"{{{ns['cbc']}}}ProfileID")
        custom.addnext(profile)
    if profile is not None:
        profile.text = PEPPOL_PROFILE
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
