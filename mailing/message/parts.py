"""What a message is made of: addresses as given, attachments, inline images."""

from __future__ import annotations

from dataclasses import dataclass

# An address as given: the address alone, or (address, the field it came from),
# e.g. ("a@b.example", "relation business e-mail"), so an error can name that field.
AddressInput = str | tuple[str, str]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class InlineImage:
    """An image from a stored file, embedded by Content-ID.

    The HTML refers to it as ``src="cid:FILENAME"`` or ``src="file:FILENAME"`` (or by
    ``cid`` when given); the reference is rewritten to the generated Content-ID.
    """

    filename: str
    content: bytes
    content_type: str = "image/png"
    cid: str = ""


def _split_type(content_type: str, default: str) -> tuple[str, str]:
    ctype = (content_type or default).split(";")[0].strip().lower()
    if "/" not in ctype:
        ctype = default
    main, _, sub = ctype.partition("/")
    return main, sub
