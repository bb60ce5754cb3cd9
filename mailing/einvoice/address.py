"""Address lines as an e-invoice wants them: street, further lines, postcode, city.

The postcode is found by the country's own pattern (NL ``1234 AB``, BE ``1000``, DE
``50667``, GB ``SW1A 1AA``, ...), before or after the city, or on a line of its own
(the British way), with or without a country prefix (``D-50667``); it never goes into
the city field whole.
"""

from __future__ import annotations

import re

_FOUR = r"\d{4}"
_FIVE = r"\d{5}"
POSTCODE: dict[str, str] = {
    "NL": r"\d{4}\s?[A-Z]{2}",
    "BE": _FOUR, "AT": _FOUR, "CH": _FOUR, "DK": _FOUR, "NO": _FOUR, "LU": _FOUR,
    "HU": _FOUR, "SI": _FOUR, "BG": _FOUR, "CY": _FOUR, "AU": _FOUR, "LI": _FOUR,
    "DE": _FIVE, "FR": _FIVE, "IT": _FIVE, "ES": _FIVE, "FI": _FIVE, "EE": _FIVE,
    "HR": _FIVE, "LT": r"(?:LT-?)?\d{5}", "GR": r"\d{3}\s?\d{2}", "EL": r"\d{3}\s?\d{2}",
    "SE": r"\d{3}\s?\d{2}", "CZ": r"\d{3}\s?\d{2}", "SK": r"\d{3}\s?\d{2}",
    "PL": r"\d{2}-\d{3}", "PT": r"\d{4}-\d{3}", "LV": r"(?:LV-?)?\d{4}", "RO": r"\d{6}",
    "MT": r"[A-Z]{3}\s?\d{4}", "IE": r"[A-Z]\d[\dW]\s?[A-Z\d]{4}",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}",
    "US": r"\d{5}(?:-\d{4})?", "CA": r"[A-Z]\d[A-Z]\s?\d[A-Z]\d",
}  # fmt: skip
_ANY = r"\d{4}\s?[A-Z]{2}|\d{3}\s?\d{2}|\d{2}-\d{3}|\d{4}-\d{3}|\d{4,6}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"


def _patterns(country: str) -> list[re.Pattern[str]]:
    """The country's postcode alone, before the city, after it; then any common postcode
    before the city (an address written the way of another country)."""
    out = []
    for code, orders in ((POSTCODE.get(country.upper()), 3), (_ANY, 2)):
        if code is None:
            continue
        pc = rf"(?:[A-Z]{{1,2}}-)?(?P<pc>{code})"
        out += [
            re.compile(rf"^{pc}$"),
            re.compile(rf"^{pc}[\s,]+(?P<city>.+?)$"),
            re.compile(rf"^(?P<city>.+?)[\s,]+{pc}$"),
        ][:orders]
    return out


def split_address(lines: list[str], country: str = "") -> dict[str, str]:
    """Street (line 1), further lines (2, 3), postcode and city of ``lines``."""
    out: dict[str, str] = {}
    rest = [ln.strip() for ln in lines if ln.strip()]
    if len(rest) > 1:
        last = rest.pop()
        for pattern in _patterns(country):
            m = pattern.match(last)
            if m is None:
                continue
            out["postcode"] = m.group("pc").upper()
            city = m.groupdict().get("city")
            if city:
                out["city"] = city.strip(" ,")
            elif len(rest) > 1:  # the postcode on a line of its own: the city above it
                out["city"] = rest.pop()
            break
        else:
            out["city"] = last
    for key, line in zip(("addr_l1", "addr_l2", "addr_l3"), rest, strict=False):
        out[key] = line
    return out
