"""The formatting filters money, amount, number and date, in the language's Babel locale."""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import jinja2

from mailing.errors import ConfigError
from mailing.render.problems import _BadValue
from mailing.render.state import _STATE

DEFAULT_LOCALE = "nl_NL"


@functools.lru_cache(maxsize=64)
def _babel_locale(name: str) -> Any:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"The locale {name!r} is not known ({exc}).",
            field="locale",
            value=name,
            fix="use a locale such as nl_NL, en_GB or de_DE on the language code.",
        ) from None


def check_locale(name: str) -> str:
    """Raise ConfigError unless Babel knows ``name``; return it."""
    _babel_locale(name)
    return name


def _current_locale() -> Any:
    st = _STATE.get()
    return _babel_locale(st.locale if st else DEFAULT_LOCALE)


def _as_decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        d = Decimal(str(value))
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise _BadValue(f"{what}: {value!r} is not a number") from None
    else:
        raise _BadValue(f"{what}: a {type(value).__name__} is not a number")
    if not d.is_finite() or (d != 0 and abs(d.adjusted()) > 30):
        raise _BadValue(f"{what}: {value!r} is out of range for an amount")
    return d


@jinja2.pass_context
def money_filter(
    context: jinja2.runtime.Context,
    value: Any,
    currency: str | None = None,
    symbol: bool = True,
) -> str:
    """``{{ total|money }}``: the amount in the document's currency and the language.

    ``€ 1.234,56`` for nl_NL, ``€1,234.56`` for en_GB, ``1.234,56 €`` for de_DE;
    ``symbol=False`` leaves the currency out (``1.234,56``). Empty for no value.
    """
    if value is None or value == "":
        return ""
    amount = _as_decimal(value, "money")
    cur = currency or context.get("currency") or "EUR"
    if not isinstance(cur, str) or not re.fullmatch(r"[A-Z]{3}", cur):
        raise _BadValue(f"money: {cur!r} is not a currency code such as EUR")
    st = _STATE.get()
    return _money(str(amount), cur, st.locale if st else DEFAULT_LOCALE, symbol)


@functools.lru_cache(maxsize=4096)
def _money(amount: str, cur: str, locale: str, symbol: bool) -> str:
    """An amount formatted (a batch repeats its prices and totals: made once each)."""
    from babel.numbers import format_currency

    loc, value = _babel_locale(locale), Decimal(amount)
    if symbol:
        return str(format_currency(value, cur, locale=loc))
    return str(format_currency(value, cur, format="#,##0.00", locale=loc, currency_digits=True))


@jinja2.pass_context
def amount_filter(context: jinja2.runtime.Context, value: Any, currency: str | None = None) -> str:
    """``{{ total|amount }}``: the amount without the currency, ``1.234,56`` / ``1,234.56``."""
    result: str = money_filter(context, value, currency, False)
    return result


def number_filter(value: Any, digits: int | None = None) -> str:
    """``{{ quantity|number }}``: a number with the language's separators."""
    from babel.numbers import format_decimal

    if value is None or value == "":
        return ""
    d = _as_decimal(value, "number")
    if digits is not None:
        if not isinstance(digits, int) or not 0 <= digits <= 10:
            raise _BadValue("number: digits must be between 0 and 10")
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return str(format_decimal(d, format=fmt, locale=_current_locale()))
    return str(format_decimal(d, locale=_current_locale()))


def _numeric_pattern(loc: Any) -> str:
    pattern = str(loc.date_formats["short"].pattern)
    return re.sub(r"y+", "yyyy", pattern)


def date_filter(value: Any, format: str = "short") -> str:
    """``{{ date|date }}``: ``14-03-2025`` (nl), ``14/03/2025`` (en_GB), ``14.03.2025`` (de).

    ``format`` may be ``short`` (the default: numeric with a four-digit year),
    ``medium``, ``long`` (``14 maart 2025``) or ``full``, or a Babel pattern such as
    ``d MMMM y``. Empty for no value.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise _BadValue(f"date: a {type(value).__name__} is not a date")
    if not isinstance(format, str) or len(format) > 64:
        raise _BadValue("date: the format must be short, medium, long, full or a short pattern")
    return _format_date(value, format, _current_locale())


@functools.lru_cache(maxsize=1024)
def _format_date(value: dt.date, format: str, loc: Any) -> str:
    """Cached: a batch's documents share their dates (invoice date, due date)."""
    from babel.dates import format_date

    if format == "short":
        return str(format_date(value, _numeric_pattern(loc), locale=loc))
    return str(format_date(value, format, locale=loc))
