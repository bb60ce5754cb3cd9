"""Addresses for headers: checked, IDNA domains, SMTPUTF8, and the Message-ID."""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from email.headerregistry import Address

from email_validator import EmailNotValidError, validate_email

from mailing.addresses import check_address
from mailing.errors import AddressError
from mailing.message.parts import AddressInput


def make_message_id(domain: str) -> str:
    """A new Message-ID ``<...@domain>``; made once per message and kept with it."""
    domain = _ascii_domain(domain.strip().strip("<>").rpartition("@")[2] or "mailroom.invalid")
    return email.utils.make_msgid(domain=domain)


def _ascii_domain(domain: str) -> str:
    try:
        domain.encode("ascii")
        return domain
    except UnicodeEncodeError:
        return domain.encode("idna").decode("ascii")


def _label(item: AddressInput, default: str) -> tuple[str, str]:
    if isinstance(item, tuple):
        return item[0], item[1] or default
    return item, default


def _checked(value: str, field: str, allow_smtputf8: bool) -> tuple[str, bool]:
    """(address for the header, needs SMTPUTF8); IDNA for a non-ASCII domain."""
    norm = check_address(value, field)
    try:
        norm.encode("ascii")
        return norm, False
    except UnicodeEncodeError:
        pass
    try:
        info = validate_email(norm, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:  # pragma: no cover - check_address passed it
        raise AddressError(
            f"The {field} {norm!r} is not valid: {exc}", field=field, value=norm
        ) from None
    if info.ascii_email:
        return info.ascii_email, False
    if not allow_smtputf8:
        raise AddressError(
            f"The {field} {norm!r} has non-ASCII characters before the @, which needs a mail "
            "server with SMTPUTF8; this profile does not allow that.",
            field=field,
            value=norm,
            fix="use an address with only ASCII characters before the @, or a server that "
            "supports SMTPUTF8.",
        )
    return norm, True


def _address_list(
    items: Sequence[AddressInput], default_field: str, allow_smtputf8: bool
) -> tuple[list[str], bool]:
    out: list[str] = []
    utf8 = False
    for item in items:
        value, field = _label(item, default_field)
        addr, needs = _checked(value, field, allow_smtputf8)
        utf8 = utf8 or needs
        if addr.lower() not in (a.lower() for a in out):
            out.append(addr)
    return out, utf8


def _addr(addr: str, display_name: str = "") -> Address:
    local, _, domain = addr.rpartition("@")
    return Address(display_name=display_name, username=local, domain=domain)
