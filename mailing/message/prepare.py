"""Every check of a message, in order; its parts ready to be written as MIME."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from dataclasses import dataclass, field

from mailing.addresses import check_header_value
from mailing.errors import AddressError, TemplateError
from mailing.message.address import _address_list, _ascii_domain, _checked, make_message_id
from mailing.message.images import _embed_images
from mailing.message.parts import Attachment, InlineImage, MessageSpec, _split_type


@dataclass
class _Prepared:
    """A message's checked parts, before they are written as MIME."""

    from_addr: str
    sender_name: str
    to: list[str]
    cc: list[str]
    reply_to: list[str]
    subject: str
    date: str
    message_id: str
    extra: list[tuple[str, str]]
    html: str | None
    text: str
    images: list[tuple[InlineImage, str]]
    attachments: list[tuple[Attachment, str, str]]  # (attachment, maintype, subtype)
    utf8: bool
    names: dict[str, str] = field(default_factory=dict)  # address (lower) -> display name


def _prepare(spec: MessageSpec) -> _Prepared:
    """Every check of :func:`build_message`, in its order; the parts ready to write."""
    from mailing.render import compose_html, compose_text
    from mailing.render.html_text import html_to_text

    sender_name, subject, html, text = spec.sender_name, spec.subject, spec.html, spec.text
    allow_smtputf8 = spec.allow_smtputf8
    check_header_value(subject, "subject")
    check_header_value(sender_name, "sender name")
    shown: dict[str, str] = {}
    for addr, name in (spec.names or {}).items():
        name = " ".join(str(name).split())
        if name:
            check_header_value(name, f"name of {addr}")
            shown[addr.lower()] = name
    from_addr, utf8 = _checked(spec.sender, spec.sender_field, allow_smtputf8)
    to_list, u1 = _address_list(spec.to, "To", allow_smtputf8)
    cc_list, u2 = _address_list(spec.cc, "Cc", allow_smtputf8)
    _bcc_list, u3 = _address_list(spec.bcc, "Bcc", allow_smtputf8)
    reply_list, u4 = _address_list(spec.reply_to, "Reply-To", allow_smtputf8)
    utf8 = utf8 or u1 or u2 or u3 or u4
    if not to_list and not cc_list and not _bcc_list:
        raise AddressError(
            "The message has no recipient.",
            field="To",
            value="",
            fix="give the relation an e-mail address for this document type.",
        )
    domain = _ascii_domain(spec.domain or from_addr.rpartition("@")[2])

    if spec.signature.strip():
        if html is not None:
            html = _append_signature_html(html, spec.signature)
            text = html_to_text(html)
        else:
            text = compose_text(text, "", spec.signature)

    when = spec.date or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.astimezone()
    mid = spec.message_id or make_message_id(domain)
    check_header_value(mid, "Message-ID")
    extra: list[tuple[str, str]] = []
    for name, value in (spec.extra_headers or {}).items():
        check_header_value(name, "header name")
        check_header_value(value, f"header {name}")
        if not re.fullmatch(r"[A-Za-z0-9-]+", name) or name.lower() in ("bcc", "resent-bcc"):
            raise TemplateError(
                f"The header name {name!r} is not allowed.", field="header name", value=name
            )
        extra.append((name, value))

    used: list[tuple[InlineImage, str]] = []
    if html is not None:
        if not html.strip():
            html = compose_html("")
        html, used = _embed_images(html, spec.images, domain)
        for img, _cid in used:
            check_header_value(img.filename, "image file name")
    checked: list[tuple[Attachment, str, str]] = []
    for att in spec.attachments:
        check_header_value(att.filename, "attachment file name")
        if not att.filename.strip():
            raise TemplateError("An attachment has no file name.", field="attachment file name")
        main, sub = _split_type(att.content_type, "application/octet-stream")
        checked.append((att, main, sub))
    return _Prepared(
        from_addr=from_addr,
        sender_name=sender_name.strip(),
        to=to_list,
        cc=cc_list,
        reply_to=reply_list,
        subject=subject,
        date=email.utils.format_datetime(when),
        message_id=mid,
        extra=extra,
        html=html,
        text=text,
        images=used,
        attachments=checked,
        utf8=utf8,
        names=shown,
    )


def _append_signature_html(html: str, signature: str) -> str:
    from html import escape

    sig = escape(signature.strip("\n")).replace("\n", "<br>\n")
    block = f'\n<p class="signature">{sig}</p>\n'
    from mailing.render import last_body_close

    end = last_body_close(html)
    if end is None:
        return html + block
    return html[:end] + block + html[end:]
