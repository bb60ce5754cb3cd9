"""Delivery status notifications asked for at send (RFC 3461).

When the server offers DSN, a message goes with an envelope id (``ENVID``) that
names its item, ``RET=HDRS`` (a report quotes the headers, never the invoice), and
per recipient ``NOTIFY=FAILURE,DELAY`` with the original address (``ORCPT``). A
report coming back then names the item and the recipient, whatever the relays did
to the headers (``mailing.bounces`` reads them).
"""

from __future__ import annotations

import re

NOTIFY = "NOTIFY=FAILURE,DELAY"

# What xtext leaves as it is: "!".."~" but "+" and "=".
_XCHARS = re.compile(r"[!-*,-<>-~]*")


def xtext(value: str) -> str:
    """RFC 3461 §4: "+" followed by two hex digits for "+", "=" and anything outside
    "!".."~"."""
    if _XCHARS.fullmatch(value):
        return value  # the usual address or envelope id: nothing to encode
    out = []
    for ch in value:
        if "!" <= ch <= "~" and ch not in "+=":
            out.append(ch)
        else:
            out.extend(f"+{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)


def unxtext(value: str) -> str:
    """The text an xtext stands for (the inverse of :func:`xtext`)."""
    raw = bytearray()
    i = 0
    while i < len(value):
        if value[i] == "+" and _hex(value[i + 1 : i + 3]):
            raw.append(int(value[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(value[i].encode("utf-8"))
            i += 1
    return raw.decode("utf-8", "replace")


def _hex(pair: str) -> bool:
    return len(pair) == 2 and all(c in "0123456789ABCDEFabcdef" for c in pair)


def envelope_id(batch: str, item: str) -> str:
    """The ENVID of an item: ``mailroom.<batch>.<item>`` (at most 100 characters)."""
    return f"mailroom.{batch}.{item}"[:100]


def parse_envelope_id(envid: str) -> tuple[str, str] | None:
    """(batch, item) from an ENVID made by :func:`envelope_id`, else None."""
    text = unxtext(envid.strip())
    if not text.startswith("mailroom."):
        return None
    rest = text[len("mailroom.") :]
    # Batch ids are "YYYYMMDD-HHMMSS-xxxx": three dash-separated parts, no dot.
    batch, dot, item = rest.partition(".")
    if not dot or not _SAFE_BATCH.fullmatch(batch) or not _SAFE_ITEM.fullmatch(item):
        return None  # not one we made (a report may carry anything: "../", "/", ...)
    return batch, item


# What a batch id and an item name are made of: never a path separator or a dot.
_SAFE_BATCH = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,63}")
# An item is "<sequence>-<document number>": a number may hold more, but never a path.
_SAFE_ITEM = re.compile(r"(?!.*\.\.)[0-9A-Za-z][^/\\\x00-\x1f\x7f]{0,98}")


def dsn_mail_options(envid: str) -> list[str]:
    return [f"ENVID={xtext(envid)}", "RET=HDRS"]


def dsn_rcpt_options(rcpt: str) -> list[str]:
    return [NOTIFY, f"ORCPT=rfc822;{xtext(rcpt)}"]
