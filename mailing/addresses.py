"""Checking e-mail addresses and header values: one place, used by every rule."""

from __future__ import annotations

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from mailing.errors import AddressError


def check_header_value(value: str, field: str) -> str:
    """Refuse CR, LF and NUL in anything that becomes a header."""
    if any(c in value for c in "\r\n\x00"):
        if any(c in value for c in "\r\n"):
            what, why = "a line break", "which could add mail headers"
        else:
            what, why = "a NUL character (code 0)", "which e-mail cannot carry"
        raise AddressError(
            f"The {field} contains {what}, {why}.",
            field=field,
            value=value.replace("\r", "\\r").replace("\n", "\\n").replace("\x00", "\\0"),
            fix=f"remove it from the {field}.",
        )
    return value


@lru_cache(maxsize=65536)
def _normalise(addr: str) -> tuple[str, bool]:
    result = validate_email(addr, check_deliverability=False, allow_smtputf8=True)
    return result.normalized, bool(result.smtputf8)


def check_address(value: str, field: str) -> str:
    """Return the normalised address, or raise AddressError naming ``field``.

    Internationalised domains are normalised (IDNA is applied by the transport);
    an address whose local part needs SMTPUTF8 is accepted and flagged by
    :func:`needs_smtputf8`.
    """
    raw = (value or "").strip()
    check_header_value(raw, field)
    if not raw:
        raise AddressError(
            f"The {field} is empty.", field=field, value=value, fix=f"fill in the {field}."
        )
    try:
        return _normalise(raw)[0]
    except EmailNotValidError as exc:
        raise AddressError(
            f"The {field} {raw!r} is not a valid e-mail address: {exc}",
            field=field,
            value=raw,
            fix="remove stray text or spaces, and check the spelling (name@example.com).",
        ) from None


def needs_smtputf8(value: str) -> bool:
    try:
        return _normalise(value.strip())[1]
    except EmailNotValidError:
        return False


def split_addresses(value: str) -> list[str]:
    """Split a user-typed list on commas and semicolons."""
    return [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
