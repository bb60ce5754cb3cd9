"""Building the MIME message that is spooled, previewed and sent (SPEC §2, §7).

The structure, with ``policy.SMTP`` (CRLF line ends, headers folded and encoded)::

    multipart/mixed                      only when there are attachments
      multipart/alternative              only when the message has HTML
        text/plain                       made from the HTML (mailing.render.html_to_text)
        multipart/related                only when images are embedded
          text/html                      <img src="cid:..."> for each embedded image
          image/*                        Content-ID, inline
      application/pdf ...                attachments, in the order given

**Bcc.** No Bcc header is written: the bytes of a message are exactly what goes to
the server, and a Bcc header there would show the blind copies to everyone. The
Bcc addresses travel in the envelope only: :func:`envelope_recipients` gives To,
Cc and Bcc for ``RCPT TO``; the spool keeps them in the item's side-car
(``meta/<item>.json`` → ``envelope.rcpts``), never in the ``.eml``.

**Header injection.** Every header value (subject, display names, file names,
extra headers) is checked with :func:`mailing.addresses.check_header_value` and
every address with :func:`mailing.addresses.check_address`, naming its field: a
``\\r\\nBcc: x@y`` in a relation name or subject is refused, never written.

**Internationalised addresses.** A non-ASCII domain is written in its IDNA (``xn--``)
form. A non-ASCII local part (``jürgen@…``) cannot be written in 7-bit headers:
the message is then built with ``policy.SMTPUTF8`` and :func:`needs_smtputf8` says
so; the transport must send it with the SMTPUTF8 extension, and refuse clearly when
the server does not offer it. ``allow_smtputf8=False`` refuses such addresses here.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from mailing.addresses import check_address, check_header_value
from mailing.errors import AddressError, TemplateError

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


_IMG_SRC = re.compile(r"""(\bsrc\s*=\s*)(["']?)(cid|file):([^"'\s>]+)\2""", re.IGNORECASE)


def _content_id(image: InlineImage, domain: str) -> str:
    if image.cid:
        return image.cid.strip("<>")
    digest = hashlib.sha256(image.content).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9.\-]", "-", image.filename)[:40] or "image"
    return f"{safe}.{digest}@{domain}"


def _embed_images(
    html: str, images: Sequence[InlineImage], domain: str
) -> tuple[str, list[tuple[InlineImage, str]]]:
    """Rewrite ``cid:``/``file:`` references to Content-IDs; return the images used."""
    by_name: dict[str, InlineImage] = {}
    for img in images:
        by_name[img.filename] = img
        if img.cid:
            by_name[img.cid.strip("<>")] = img
    used: dict[str, tuple[InlineImage, str]] = {}

    def repl(m: re.Match[str]) -> str:
        ref = m.group(4)
        img = by_name.get(ref)
        if img is None:
            if m.group(3).lower() == "cid" and any(ref == c for _, c in used.values()):
                return m.group(0)
            known = ", ".join(sorted(i.filename for i in images)) or "none"
            raise TemplateError(
                f"The message refers to the image {ref!r}, which is not among the template's "
                f"images (known: {known}).",
                field="images",
                value=ref,
                fix="add the image to the template, or correct the name in the HTML source.",
            )
        key = img.filename
        if key not in used:
            used[key] = (img, _content_id(img, domain))
        return f"{m.group(1)}{m.group(2)}cid:{used[key][1]}{m.group(2)}"

    return _IMG_SRC.sub(repl, html), list(used.values())


def _split_type(content_type: str, default: str) -> tuple[str, str]:
    ctype = (content_type or default).split(";")[0].strip().lower()
    if "/" not in ctype:
        ctype = default
    main, _, sub = ctype.partition("/")
    return main, sub


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


def _prepare(
    *,
    sender: str,
    sender_name: str,
    to: Sequence[AddressInput],
    cc: Sequence[AddressInput],
    bcc: Sequence[AddressInput],
    reply_to: Sequence[AddressInput],
    subject: str,
    html: str | None,
    text: str,
    attachments: Sequence[Attachment],
    images: Sequence[InlineImage],
    message_id: str | None,
    date: dt.datetime | None,
    domain: str | None,
    signature: str,
    extra_headers: dict[str, str] | None,
    allow_smtputf8: bool,
    sender_field: str,
) -> _Prepared:
    """Every check of :func:`build_message`, in its order; the parts ready to write."""
    from mailing.html_text import html_to_text
    from mailing.render import compose_html, compose_text

    check_header_value(subject, "subject")
    check_header_value(sender_name, "sender name")
    from_addr, utf8 = _checked(sender, sender_field, allow_smtputf8)
    to_list, u1 = _address_list(to, "To", allow_smtputf8)
    cc_list, u2 = _address_list(cc, "Cc", allow_smtputf8)
    _bcc_list, u3 = _address_list(bcc, "Bcc", allow_smtputf8)
    reply_list, u4 = _address_list(reply_to, "Reply-To", allow_smtputf8)
    utf8 = utf8 or u1 or u2 or u3 or u4
    if not to_list and not cc_list and not _bcc_list:
        raise AddressError(
            "The message has no recipient.",
            field="To",
            value="",
            fix="give the relation an e-mail address for this document type.",
        )
    domain = _ascii_domain(domain or from_addr.rpartition("@")[2])

    if signature.strip():
        if html is not None:
            html = _append_signature_html(html, signature)
            text = html_to_text(html)
        else:
            text = compose_text(text, "", signature)

    when = date or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.astimezone()
    mid = message_id or make_message_id(domain)
    check_header_value(mid, "Message-ID")
    extra: list[tuple[str, str]] = []
    for name, value in (extra_headers or {}).items():
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
        html, used = _embed_images(html, images, domain)
        for img, _cid in used:
            check_header_value(img.filename, "image file name")
    checked: list[tuple[Attachment, str, str]] = []
    for att in attachments:
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
    )


def build_message(
    *,
    sender: str,
    sender_name: str,
    to: Sequence[AddressInput],
    cc: Sequence[AddressInput] = (),
    bcc: Sequence[AddressInput] = (),
    reply_to: Sequence[AddressInput] = (),
    subject: str,
    html: str | None,
    text: str,
    attachments: Sequence[Attachment] = (),
    images: Sequence[InlineImage] = (),
    message_id: str | None = None,
    date: dt.datetime | None = None,
    domain: str | None = None,
    signature: str = "",
    extra_headers: dict[str, str] | None = None,
    allow_smtputf8: bool = True,
    sender_field: str = "sender",
) -> EmailMessage:
    """The message as it will be sent. Bcc is checked but not written (see the module doc).

    ``signature`` is appended (plain text) for mail that is not rendered from a
    template, e.g. a hand-written e-mail; templates get it from
    :func:`mailing.render.render_template`. ``to``/``cc``/``bcc``/``reply_to`` items
    may be ``(address, field label)`` so an error names where the address came from.

    The message is :func:`build_message_bytes`' bytes parsed back (so what is
    inspected here is what is sent), or, when an address needs SMTPUTF8, built by the
    email package with ``policy.SMTPUTF8``.
    """
    p = _prepare(
        sender=sender,
        sender_name=sender_name,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        subject=subject,
        html=html,
        text=text,
        attachments=attachments,
        images=images,
        message_id=message_id,
        date=date,
        domain=domain,
        signature=signature,
        extra_headers=extra_headers,
        allow_smtputf8=allow_smtputf8,
        sender_field=sender_field,
    )
    if p.utf8:
        return _email_message(p)
    import email.parser

    policy = email.policy.SMTP.clone(cte_type="7bit")
    msg = email.parser.BytesParser(policy=policy).parsebytes(_mime_bytes(p))
    assert isinstance(msg, EmailMessage)
    return msg


def build_message_bytes(
    *,
    sender: str,
    sender_name: str,
    to: Sequence[AddressInput],
    cc: Sequence[AddressInput] = (),
    bcc: Sequence[AddressInput] = (),
    reply_to: Sequence[AddressInput] = (),
    subject: str,
    html: str | None,
    text: str,
    attachments: Sequence[Attachment] = (),
    images: Sequence[InlineImage] = (),
    message_id: str | None = None,
    date: dt.datetime | None = None,
    domain: str | None = None,
    signature: str = "",
    extra_headers: dict[str, str] | None = None,
    allow_smtputf8: bool = True,
    sender_field: str = "sender",
) -> tuple[bytes, bool]:
    """``(bytes as sent, needs SMTPUTF8)``: :func:`build_message` without the object.

    The batch build's path: the same checks and the same MIME structure as
    :func:`build_message` + :func:`message_to_bytes`, written straight to bytes
    (the email package's header parsing and folding cost as much as drawing the PDF).
    """
    p = _prepare(
        sender=sender,
        sender_name=sender_name,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        subject=subject,
        html=html,
        text=text,
        attachments=attachments,
        images=images,
        message_id=message_id,
        date=date,
        domain=domain,
        signature=signature,
        extra_headers=extra_headers,
        allow_smtputf8=allow_smtputf8,
        sender_field=sender_field,
    )
    if p.utf8:
        return message_to_bytes(_email_message(p)), True
    return _mime_bytes(p), False


def _email_message(p: _Prepared) -> EmailMessage:
    """The message built by the email package (``policy.SMTPUTF8`` when needed)."""
    policy = email.policy.SMTPUTF8 if p.utf8 else email.policy.SMTP.clone(cte_type="7bit")
    msg = EmailMessage(policy=policy)
    msg["From"] = _addr(p.from_addr, p.sender_name)
    if p.to:
        msg["To"] = [_addr(a) for a in p.to]
    if p.cc:
        msg["Cc"] = [_addr(a) for a in p.cc]
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
            html_part = msg.get_payload()[1]  # type: ignore[index]
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


# ---------------------------------------------------------------- MIME, written directly
#
# What ``policy.SMTP`` (7-bit) writes, without the email package's header parser:
# CRLF line ends; header lines folded at 78 characters; non-ASCII header text as
# RFC 2047 encoded words (``email.header``); non-ASCII or long file names as RFC
# 2231 parameters; text parts quoted-printable (7bit when plain ASCII with short
# lines), binary parts base64 in 76-character lines. The result parses back with
# the email package to the same headers, parts and contents.

_CRLF = b"\r\n"
_MAXLEN = 78
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')
_PLAIN_HEADER = re.compile(r"[\x20-\x7e\t]*")  # printable ASCII (and tab) only


def _quote_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _encoded_words(name: str, value: str) -> str:
    from email.header import Header

    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _unstructured(name: str, value: str) -> str:
    """``Name: value``, folded at white space, or as encoded words when it must be."""
    line = f"{name}: {value}"
    plain = _PLAIN_HEADER.fullmatch(value) is not None and "=?" not in value
    if plain and len(line) <= _MAXLEN:
        return line
    words = value.split(" ")
    if plain and all(len(w) < 900 for w in words):
        lines = [f"{name}:"]
        for i, word in enumerate(words):
            piece = " " + word
            if i > 0 and len(lines[-1]) + len(piece) > _MAXLEN and lines[-1].strip():
                lines.append(piece)  # fold: the space becomes the continuation's white space
            else:
                lines[-1] += piece
        return "\r\n".join(lines)
    return f"{name}: {_encoded_words(name, value)}"


def _address_header(name: str, addrs: Sequence[str]) -> str:
    lines = [f"{name}: {addrs[0]}"]
    for a in addrs[1:]:
        if len(lines[-1]) + 2 + len(a) > _MAXLEN:
            lines[-1] += ","
            lines.append(" " + a)
        else:
            lines[-1] += ", " + a
    return "\r\n".join(lines)


@lru_cache(maxsize=256)
def _from_header(addr: str, display_name: str) -> str:
    """``From:`` (one sender per profile, so cached); non-ASCII names by the email package.

    A display name is a *phrase*, where readers differ on the white space between
    two encoded words; the email package's folding keeps ASCII words outside them.
    """
    if not display_name:
        return f"From: {addr}"
    if _PLAIN_HEADER.fullmatch(display_name) and "=?" not in display_name:
        shown = _quote_string(display_name) if _SPECIALS.search(display_name) else display_name
        head = f"From: {shown}"
        sep = "\r\n " if len(head) + 3 + len(addr) > _MAXLEN else " "
        return f"{head}{sep}<{addr}>"
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = _addr(addr, display_name)
    return msg.policy.fold("From", msg["From"]).rstrip("\r\n")


def _rfc2231_chunks(value: str) -> list[str]:
    from urllib.parse import quote

    encoded = quote(value, safe="!#$&+-.^_`|~", encoding="utf-8")
    chunks: list[str] = []
    while encoded:
        cut = min(60, len(encoded))
        if cut < len(encoded):  # never split a %XX escape
            pct = encoded.rfind("%", cut - 2, cut)
            if pct != -1:
                cut = pct
        chunks.append(encoded[:cut])
        encoded = encoded[cut:]
    return chunks


def _disposition(kind: str, filename: str) -> str:
    """``Content-Disposition`` with the file name, quoted or RFC 2231-encoded."""
    head = f"Content-Disposition: {kind};"
    plain = _PLAIN_HEADER.fullmatch(filename) is not None and "\t" not in filename
    if plain and len(filename) <= 60:
        param = f"filename={_quote_string(filename)}"
        if len(head) + 1 + len(param) <= _MAXLEN:
            return f"{head} {param}"
        return f"{head}\r\n {param}"
    chunks = _rfc2231_chunks(filename)
    if len(chunks) == 1:
        return f"{head}\r\n filename*=utf-8''{chunks[0]}"
    charset = "utf-8''"
    params = [f"filename*{i}*={charset if i == 0 else ''}{c}" for i, c in enumerate(chunks)]
    return head + ";".join(f"\r\n {p}" for p in params)


def _text_part(subtype: str, text: str) -> bytes:
    # As the email package does: the text's lines, each ending in CRLF.
    lines = text.encode("utf-8").splitlines()
    if text.isascii() and all(len(line) <= _MAXLEN for line in lines):
        cte = "7bit"
        body = b"\r\n".join(lines) + _CRLF
    else:
        import binascii

        cte = "quoted-printable"
        body = binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True).replace(b"\n", _CRLF)
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}'
    return head.encode("ascii") + _CRLF + _CRLF + body


def _base64(data: bytes) -> bytes:
    import base64

    return base64.encodebytes(data).replace(b"\n", _CRLF)


def _binary_part(
    main: str, sub: str, content: bytes, disposition: str, filename: str, cid: str = ""
) -> bytes:
    head = [
        f"Content-Type: {main}/{sub}",
        "Content-Transfer-Encoding: base64",
        _disposition(disposition, filename),
    ]
    if cid:
        head.append(f"Content-ID: <{cid}>")
    return "\r\n".join(head).encode("ascii") + _CRLF + _CRLF + _base64(content)


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    import secrets

    while True:
        boundary = f"=_mailroom_{secrets.token_hex(12)}"
        marker = boundary.encode("ascii")
        if not any(marker in p for p in parts):
            break
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"'.encode("ascii")
    sep = b"\r\n--" + marker + _CRLF
    return (
        head
        + _CRLF
        + _CRLF
        + b"--"
        + marker
        + _CRLF
        + sep.join(parts)
        + b"\r\n--"
        + marker
        + b"--"
        + _CRLF
    )


def _mime_bytes(p: _Prepared) -> bytes:
    """The 7-bit message as ``policy.SMTP`` would write it (see the comment above)."""
    headers = [_from_header(p.from_addr, p.sender_name)]
    if p.to:
        headers.append(_address_header("To", p.to))
    if p.cc:
        headers.append(_address_header("Cc", p.cc))
    if p.reply_to:
        headers.append(_address_header("Reply-To", p.reply_to))
    headers.append(_unstructured("Subject", p.subject))
    headers.append(f"Date: {p.date}")
    headers.append(f"Message-ID: {p.message_id}")
    for name, value in p.extra:
        headers.append(_unstructured(name, value))
    headers.append("MIME-Version: 1.0")

    body = _text_part("plain", p.text)
    if p.html is not None:
        html = _text_part("html", p.html)
        if p.images:
            related = [html]
            for img, cid in p.images:
                main, sub = _split_type(img.content_type, "image/png")
                related.append(_binary_part(main, sub, img.content, "inline", img.filename, cid))
            html = _multipart("related", related)
        body = _multipart("alternative", [body, html])
    if p.attachments:
        parts = [body]
        for att, main, sub in p.attachments:
            parts.append(_binary_part(main, sub, att.content, "attachment", att.filename))
        body = _multipart("mixed", parts)
    return "\r\n".join(headers).encode("ascii") + _CRLF + body


def _append_signature_html(html: str, signature: str) -> str:
    from html import escape

    sig = escape(signature.strip("\n")).replace("\n", "<br>\n")
    block = f'\n<p class="signature">{sig}</p>\n'
    from mailing.render import last_body_close

    end = last_body_close(html)
    if end is None:
        return html + block
    return html[:end] + block + html[end:]


def message_to_bytes(msg: EmailMessage) -> bytes:
    """The message as sent: CRLF line ends, headers folded at 78 (``policy.SMTP``)."""
    return msg.as_bytes(policy=msg.policy)


def needs_smtputf8(msg: EmailMessage) -> bool:
    """True when an address needs the SMTPUTF8 extension to be sent."""
    return bool(getattr(msg.policy, "utf8", False))


def envelope_recipients(msg: EmailMessage, bcc: Sequence[AddressInput] = ()) -> list[str]:
    """``RCPT TO`` addresses: To and Cc of ``msg`` plus ``bcc``, each once, in order."""
    out: list[str] = []
    for name in ("To", "Cc"):
        for header in msg.get_all(name, []):
            for a in getattr(header, "addresses", ()):
                out.append(a.addr_spec)
    bcc_list, _ = _address_list(bcc, "Bcc", True)
    out.extend(bcc_list)
    seen: set[str] = set()
    result = []
    for a in out:
        if a.lower() not in seen:
            seen.add(a.lower())
            result.append(a)
    return result


def envelope_sender(msg: EmailMessage) -> str:
    """``MAIL FROM``: the From address."""
    header = msg["From"]
    addresses = getattr(header, "addresses", ())
    return str(addresses[0].addr_spec) if addresses else ""
