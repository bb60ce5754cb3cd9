"""A date typed by a person (a filter field, a command-line option): ISO or a sentence."""

from __future__ import annotations

import datetime as dt


def parse_date(
    value: str | None, field: str, *, optional: str = "leave it empty"
) -> dt.date | None:
    """``2026-11-01`` as a date; empty or None as None; anything else a
    :class:`DocumentError` naming ``field``, the value and the fix (``optional`` says how
    to give no date at all)."""
    from mailing.errors import DocumentError

    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DocumentError(
            f"{field} {value!r} is not a date.",
            field=field,
            value=value,
            fix=f"write it as YYYY-MM-DD, e.g. 2026-11-01, or {optional}.",
        ) from None
