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
    """
    from mailing.render import compose_html, compose_text, html_to_text

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

    # 7-bit transfer encodings unless SMTPUTF8 is needed anyway: no reliance on 8BITMIME.
    policy = email.policy.SMTPUTF8 if utf8 else email.policy.SMTP.clone(cte_type="7bit")
    msg = EmailMessage(policy=policy)
    msg["From"] = _addr(from_addr, sender_name.strip())
    if to_list:
        msg["To"] = [_addr(a) for a in to_list]
    if cc_list:
        msg["Cc"] = [_addr(a) for a in cc_list]
    if reply_list:
        msg["Reply-To"] = [_addr(a) for a in reply_list]
    msg["Subject"] = subject
    when = date or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.astimezone()
    msg["Date"] = email.utils.format_datetime(when)
    mid = message_id or make_message_id(domain)
    check_header_value(mid, "Message-ID")
    msg["Message-ID"] = mid
    for name, value in (extra_headers or {}).items():
        check_header_value(name, "header name")
        check_header_value(value, f"header {name}")
        if not re.fullmatch(r"[A-Za-z0-9-]+", name) or name.lower() in ("bcc", "resent-bcc"):
            raise TemplateError(
                f"The header name {name!r} is not allowed.", field="header name", value=name
            )
        msg[name] = value

    if html is None:
        msg.set_content(text)
    else:
        if not html.strip():
            html = compose_html("")
        html, used = _embed_images(html, images, domain)
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        if used:
            html_part = msg.get_payload()[1]  # type: ignore[index]
            assert isinstance(html_part, EmailMessage)
            for img, cid in used:
                check_header_value(img.filename, "image file name")
                main, sub = _split_type(img.content_type, "image/png")
                html_part.add_related(
                    img.content,
                    maintype=main,
                    subtype=sub,
                    cid=f"<{cid}>",
                    filename=img.filename,
                    disposition="inline",
                )
    for att in attachments:
        check_header_value(att.filename, "attachment file name")
        if not att.filename.strip():
            raise TemplateError("An attachment has no file name.", field="attachment file name")
        main, sub = _split_type(att.content_type, "application/octet-stream")
        msg.add_attachment(att.content, maintype=main, subtype=sub, filename=att.filename)
    return msg


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
