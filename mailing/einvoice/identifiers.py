"""Who a party is, for e-invoices: VAT number, legal registration, Peppol address.

- a **VAT number** with its country prefix, checked with ``python-stdnum`` (every EU
  format and check digit; GB, CH, NO and others where stdnum knows them);
- a **legal registration** (KvK, KBO/BCE, CVR, ...) with its ISO 6523 scheme (0106 for
  a Dutch KvK number, 0208 for a Belgian enterprise number, ...);
- an **electronic address** for Peppol: a scheme from the Electronic Address Scheme
  list (EAS) and an identifier, e.g. 0106 + KvK, 9944 + NL VAT, 0208 + KBO, 9930 + DE VAT,
  0088 + GLN. When none is given it is derived: from the legal registration when its
  scheme is an EAS, else from the VAT number (the country's VAT scheme).

Each check returns ``None`` or (what is wrong, the fix), for the door to word.
"""

from __future__ import annotations

import re
from typing import Any

# The Electronic Address Scheme codes Peppol BIS Billing 3.0 accepts (PEPPOL-EN16931-CL008,
# 2025 release 3.0.19).
EAS_CODES: frozenset[str] = frozenset(
    (
        "0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0151 0177 0183 0184 "
        "0188 0190 0191 0192 0193 0195 0196 0198 0199 0200 0201 0202 0204 0208 0209 0210 "
        "0211 0212 0213 0215 0216 0218 0221 0230 0235 9910 9913 9914 9915 9918 9919 9920 "
        "9922 9923 9924 9925 9926 9927 9928 9929 9930 9931 9932 9933 9934 9935 9936 9937 "
        "9938 9939 9940 9941 9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 9952 9953 "
        "9957 9959 0147 0154 0158 0170 0194 0203 0205 0217 0225 0240"
    ).split()
)
# The schemes most offices meet, by name (for forms, messages and docs).
SCHEME_NAMES: dict[str, str] = {
    "0106": "Dutch KvK number",
    "0190": "Dutch government OIN",
    "9944": "Dutch VAT number",
    "0208": "Belgian enterprise number (KBO/BCE)",
    "9925": "Belgian VAT number",
    "9930": "German VAT number",
    "0204": "German Leitweg-ID",
    "0088": "GLN (GS1 location number)",
    "0060": "DUNS number",
    "0007": "Swedish organisation number",
    "0184": "Danish CVR number",
    "0192": "Norwegian organisation number",
    "0002": "French SIREN",
    "0009": "French SIRET",
    "0211": "Italian VAT number (partita IVA)",
    "0216": "Finnish OVT code",
    "9914": "Austrian VAT number",
    "9920": "Spanish VAT number",
    "9932": "UK VAT number",
    "9957": "French VAT number",
}
# A country's VAT number as an electronic address (EAS).
VAT_SCHEME: dict[str, str] = {
    "AT": "9914", "BE": "9925", "BG": "9926", "CH": "9927", "CY": "9928", "CZ": "9929",
    "DE": "9930", "EE": "9931", "GB": "9932", "EL": "9933", "GR": "9933", "HR": "9934",
    "IE": "9935", "LI": "9936", "LT": "9937", "LU": "9938", "LV": "9939", "MC": "9940",
    "ME": "9941", "MK": "9942", "MT": "9943", "NL": "9944", "PL": "9945", "PT": "9946",
    "RO": "9947", "RS": "9948", "SI": "9949", "SK": "9950", "SM": "9951", "TR": "9952",
    "VA": "9953", "FR": "9957", "HU": "9910", "ES": "9920", "IT": "0211",
}  # fmt: skip
_VAT_COUNTRY = {v: k for k, v in VAT_SCHEME.items() if k != "GR"}
# The legal registration a country's companies have, when none is named.
REGISTRATION_SCHEME: dict[str, str] = {
    "NL": "0106", "BE": "0208", "DK": "0184", "SE": "0007", "NO": "0192", "FR": "0002",
    "FI": "0212",
}  # fmt: skip
# ISO 6523 schemes a legal registration can have: those of the EAS list below 9000.
REGISTRATION_SCHEMES: frozenset[str] = frozenset(c for c in EAS_CODES if c < "9000")
_PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:\-_/]{0,49}$")


def compact(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value).upper()


def vat_country(vat: str) -> str:
    """The two letters a VAT number starts with ('' when it does not)."""
    v = compact(vat)
    return v[:2] if len(v) > 2 and v[:2].isalpha() else ""


def _stdnum_module(country: str, kind: str) -> Any:
    from stdnum.util import get_cc_module

    return get_cc_module(country.lower(), kind)


def vat_problem(value: str) -> tuple[str, str] | None:
    """Is ``value`` a VAT number (with its country prefix) that stdnum accepts?"""
    v = compact(value)
    country = vat_country(v)
    if not country:
        return (
            "must start with its two-letter country prefix",
            "enter it as on the VAT registration, e.g. NL123456789B01 or BE0123456789.",
        )
    from stdnum.eu import vat as eu_vat
    from stdnum.exceptions import ValidationError

    try:
        if country in eu_vat.MEMBER_STATES or country == "EL":
            eu_vat.validate(v)
            return None
        module = _stdnum_module(country if country != "GB" else "gb", "vat")
        if module is None and country == "NO":
            module = _stdnum_module("no", "mva")
        if module is None:
            if not re.fullmatch(r"[A-Z]{2}[A-Z0-9]{2,13}", v):
                return ("is not a VAT number", "enter the country prefix and the number.")
            return None
        module.validate(v)
    except ValidationError as exc:
        return (
            f"is not a valid {country} VAT number ({str(exc).rstrip('.').lower()})",
            "check the digits against the VAT registration (a typing error breaks the "
            "check digit).",
        )
    return None


def _validate_with(module_path: str, ident: str) -> str | None:
    import importlib

    from stdnum.exceptions import ValidationError

    module = importlib.import_module(f"stdnum.{module_path}")
    try:
        module.validate(ident)
    except ValidationError as exc:
        return str(exc).rstrip(".").lower()
    return None


_CHECKERS: dict[str, str] = {
    "0208": "be.vat",
    "0088": "ean",
    "0184": "dk.cvr",
    "0007": "se.orgnr",
    "0192": "no.orgnr",
    "0002": "fr.siren",
    "0009": "fr.siret",
    "0204": "de.leitweg",
    "0211": "it.iva",
}


def identifier_problem(scheme: str, ident: str, *, eas: bool) -> tuple[str, str] | None:
    """Is ``ident`` right for ``scheme`` (an EAS code when ``eas``, else an ISO 6523 one)?"""
    known = EAS_CODES if eas else REGISTRATION_SCHEMES
    what = "electronic address scheme" if eas else "registration scheme"
    if scheme not in known:
        return (
            f"has {what} {scheme!r}, which is not in the {'Peppol EAS' if eas else 'ISO 6523'} list",
            "use e.g. 0106 (KvK), 0190 (OIN), 0208 (KBO), 0088 (GLN)"
            + (", 9944 (NL VAT), 9930 (DE VAT)." if eas else "."),
        )
    v = ident.strip()
    if not v:
        return ("is empty", "enter the identifier that goes with the scheme.")
    if scheme == "0106" and not re.fullmatch(r"\d{8}", v):
        return (
            "is not a KvK number (scheme 0106 takes 8 digits)",
            "enter the 8 digits of the KvK number.",
        )
    if scheme == "0190" and not re.fullmatch(r"\d{20}", v):
        return ("is not an OIN (scheme 0190 takes 20 digits)", "enter the 20 digits of the OIN.")
    if scheme in _VAT_COUNTRY:
        country = _VAT_COUNTRY[scheme]
        if vat_country(v) not in (country, "GR" if country == "EL" else country):
            return (
                f"is not a {country} VAT number, which scheme {scheme} "
                f"({SCHEME_NAMES.get(scheme, country + ' VAT number')}) takes",
                f"enter the VAT number with its prefix, e.g. {country}...",
            )
        bad = vat_problem(v)
        if bad:
            return bad
    if scheme in _CHECKERS:
        problem = _validate_with(_CHECKERS[scheme], v)
        if problem:
            name = SCHEME_NAMES.get(scheme, f"scheme {scheme}")
            return (f"is not a valid {name} ({problem})", "check the digits.")
    elif not _PLAIN_ID.match(v):
        return (
            "must be 1-50 letters and digits without spaces",
            "enter the identifier as registered.",
        )
    return None


def registration_scheme(country: str, scheme: str) -> str:
    """The scheme of a legal registration: as given, else the country's usual one."""
    return scheme or REGISTRATION_SCHEME.get(country.upper(), "")


def electronic_address(
    *,
    peppol_scheme: str,
    peppol_id: str,
    registration: str,
    registration_scheme_: str,
    vat_number: str,
) -> tuple[str, str] | None:
    """(EAS scheme, identifier) of a party for Peppol: as given, else derived."""
    if peppol_scheme and peppol_id:
        return peppol_scheme, peppol_id.strip()
    if registration and registration_scheme_ in EAS_CODES:
        return registration_scheme_, registration.strip()
    country = vat_country(vat_number)
    if country and country in VAT_SCHEME:
        return VAT_SCHEME[country], compact(vat_number)
    return None
