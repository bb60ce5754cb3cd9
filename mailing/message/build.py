"""Building the message: as an EmailMessage, or as the bytes that are sent."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage

from mailing.message.address import _addr
from mailing.message.envelope import message_to_bytes
from mailing.message.fast_mime import _mime_bytes
from mailing.message.parts import MessageSpec, _split_type
from mailing.message.prepare import _prepare, _Prepared


def build_message(spec: MessageSpec) -> EmailMessage:
    """The message ``spec`` as it will be sent. Bcc is checked but not written (see the
    package doc).

    ``spec.signature`` is for mail that is not rendered from a template, e.g. a
    hand-written e-mail; templates get it from :func:`mailing.render.render_template`.

    The message is :func:`build_message_bytes`' bytes parsed back (so what is
    inspected here is what is sent), or, when an address needs SMTPUTF8, built by the
    email package with ``policy.SMTPUTF8``.
    """
    p = _prepare(spec)
    if p.utf8:
        return _email_message(p)
    import email.parser

    policy = email.policy.SMTP.clone(cte_type="7bit")
    msg = email.parser.BytesParser(policy=policy).parsebytes(_mime_bytes(p))
    assert isinstance(msg, EmailMessage)
    return msg


def build_message_bytes(spec: MessageSpec) -> tuple[bytes, bool]:
    """``(bytes as sent, needs SMTPUTF8)``: :func:`build_message` without the object.

    The batch build's path: the same checks and the same MIME structure as
    :func:`build_message` + :func:`message_to_bytes`, written straight to bytes
    (the email package's header parsing and folding cost as much as drawing the PDF).
    """
    p = _prepare(spec)
    if p.utf8:
        return message_to_bytes(_email_message(p)), True
    return _mime_bytes(p), False


def _email_message(p: _Prepared) -> EmailMessage:
    """The message built by the email package (``policy.SMTPUTF8`` when needed)."""
    policy = email.policy.SMTPUTF8 if p.utf8 else email.policy.SMTP.clone(cte_type="7bit")
    msg = EmailMessage(policy=policy)
    msg["From"] = _addr(p.from_addr, p.sender_name)
    if p.to:
        msg["To"] = [_addr(a, p.names.get(a.lower(), "")) for a in p.to]
    if p.cc:
        msg["Cc"] = [_addr(a, p.names.get(a.lower(), "")) for a in p.cc]
    if p.reply_to:
        msg["Reply-To"] = [_addr(a) for a in p.reply_to]
    msg["Subject"] = p.subject
    msg["Date"] = p.date
    msg["Message-ID"] = p.message_id
    for name, value in p.extra:
        msg[name] = value
    msg.set_content(p.text)
    if p.html is not None:
        msg.add_alternative(p.html, subtype="html")
        if p.images:
            html_part = msg.get_payload()[1]  # type: ignore[index]  # multipart: the payload is a list of parts
            assert isinstance(html_part, EmailMessage)
            for img, cid in p.images:
                main, sub = _split_type(img.content_type, "image/png")
                html_part.add_related(
                    img.content,
                    maintype=main,
                    subtype=sub,
                    cid=f"<{cid}>",
                    filename=img.filename,
                    disposition="inline",
                )
    for att, main, sub in p.attachments:
        msg.add_attachment(att.content, maintype=main, subtype=sub, filename=att.filename)
    return msg
