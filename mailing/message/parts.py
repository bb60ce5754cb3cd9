"""What a message is made of: addresses as given, attachments, inline images, and
:class:`MessageSpec`, the whole of one message before it is checked and written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
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


@dataclass(frozen=True, kw_only=True)
class MessageSpec:
    """One message as its caller means it: who sends it to whom, what it says and carries.

    What :func:`mailing.message.build_message` and :func:`build_message_bytes` build
    (checked by :func:`mailing.message.prepare._prepare`, in that order).

    ``to``/``cc``/``bcc``/``reply_to`` items may be ``(address, field label)`` so an
    error names where the address came from; ``names`` maps an address to its display
    name. ``signature`` is appended (plain text) for mail that is not rendered from a
    template. ``message_id``, ``date`` and ``domain`` are made when not given (the
    domain from the sender's address). ``sender_field`` names the sender's field in an
    error; ``allow_smtputf8=False`` refuses addresses that need SMTPUTF8.
    """

    sender: str
    sender_name: str
    to: Sequence[AddressInput]
    cc: Sequence[AddressInput] = ()
    bcc: Sequence[AddressInput] = ()
    reply_to: Sequence[AddressInput] = ()
    subject: str
    html: str | None
    text: str
    attachments: Sequence[Attachment] = ()
    images: Sequence[InlineImage] = ()
    message_id: str | None = None
    date: dt.datetime | None = None
    domain: str | None = None
    signature: str = ""
    extra_headers: Mapping[str, str] | None = None
    allow_smtputf8: bool = True
    sender_field: str = "sender"
    names: Mapping[str, str] | None = None


def _split_type(content_type: str, default: str) -> tuple[str, str]:
    ctype = (content_type or default).split(";")[0].strip().lower()
    if "/" not in ctype:
        ctype = default
    main, _, sub = ctype.partition("/")
    return main, sub
