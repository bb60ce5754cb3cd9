"""Names and sizes as people read them: a safe file name, a size in decimal units."""

from __future__ import annotations


def human_size(n: int) -> str:
    """A size in decimal units, as limits are given: 50,000,000 bytes is "50 MB".

    A whole number of units is shown without decimals, anything else with one.
    """
    if n < 1000:
        return f"{n} bytes"
    units = ("kB", "MB", "GB", "TB")
    for power, unit in enumerate(units, 1):
        scale = 1000**power
        value = n / scale
        if round(value, 1) < 1000 or unit == units[-1]:
            if n % scale == 0:
                return f"{n // scale:,} {unit}"
            return f"{value:,.1f} {unit}"
    return f"{n:,} bytes"  # pragma: no cover - the loop always returns


def safe_file_name(name: str, default: str = "file", max_chars: int = 80) -> str:
    """``name`` as a file or folder name: letters, digits, ``._-@`` and spaces kept, the
    rest ``_``; no leading or trailing dots or spaces; at most ``max_chars``."""
    keep = "".join(c if c.isalnum() or c in "._-@ " else "_" for c in name)
    keep = keep[:max_chars].strip(" .")
    return keep or default
