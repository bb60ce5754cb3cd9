"""Numbers from an import file: parsed, finite, within their bound and at most 4 decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from mailing.importer.problems import _short

MAX_AMOUNT = Decimal("1e12")  # prices, amounts and totals lie strictly between -10¹² and 10¹²
MAX_QUANTITY = Decimal("1e9")  # quantities likewise between -10⁹ and 10⁹
MAX_DECIMALS = 4
_STEP = Decimal(1).scaleb(-MAX_DECIMALS)  # 0.0001


def _decimal(value: Any) -> Decimal | Any:
    """A number from a file: '12.50', '12,50' (comma when there is no dot), 12.5."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, str) and len(value) <= 1000:
        text = value.strip().replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            return Decimal(text)
        except InvalidOperation:
            return value  # validation names it
    return value


def _sane(value: Decimal, bound: Decimal) -> bool:
    """Finite and strictly between -bound and bound; no arithmetic that could overflow."""
    return value.is_finite() and value.copy_abs() < bound


def _number(raw: Any, label: str, bound: Decimal) -> tuple[Decimal, str | None]:
    """A number read from the file, checked before any arithmetic: (value, None), or
    (0, what is wrong) so that the document can still be checked for other problems."""
    value = _decimal(raw)
    shown = _short(str(raw) if isinstance(raw, Decimal) else raw)
    if not isinstance(value, Decimal):
        return Decimal(0), f"{label} {shown} is not a number; write digits like 1234.50"
    if not value.is_finite():
        return Decimal(0), (
            f"{label} {shown} is not a usable number (infinite or not a number); "
            "write digits like 1234.50"
        )
    if value.copy_abs() >= bound:
        return Decimal(0), (
            f"{label} {shown} is too large; it must be less than {bound:,.0f} "
            f"(and more than -{bound:,.0f})"
        )
    if value != value.quantize(_STEP):
        return Decimal(0), (
            f"{label} {shown} has more than {MAX_DECIMALS} decimals; round it to at most "
            f"{MAX_DECIMALS}"
        )
    return value, None


# Which bound each number field has; a VAT rate is further checked to be 0-100.
_BOUNDS = {
    "quantity": MAX_QUANTITY,
    "unit_price": MAX_AMOUNT,
    "vat_rate": MAX_AMOUNT,
    "amount": MAX_AMOUNT,
    "open_amount": MAX_AMOUNT,
    "total_excl": MAX_AMOUNT,
    "total_vat": MAX_AMOUNT,
    "total_incl": MAX_AMOUNT,
}

_TOTAL_KEYS = ("total_excl", "total_vat", "total_incl")
