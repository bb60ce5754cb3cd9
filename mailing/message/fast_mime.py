"""The 7-bit message written straight to bytes, as ``policy.SMTP`` would write it."""

from __future__ import annotations

import email.policy
import re
from collections.abc import Sequence
from email.message import EmailMessage
from functools import lru_cache

from mailing.message.address import _addr
from mailing.message.parts import _split_type
from mailing.message.prepare import _Prepared

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


def _address_header(name: str, addrs: Sequence[str], names: dict[str, str] | None = None) -> str:
    if names and any(a.lower() in names for a in addrs):
        line = _named_line(name, addrs, names)
        if line is not None:
            return line
        # With display names: the email package quotes (commas, quotes) and encodes
        # (RFC 2047, non-ASCII) each name as a phrase, and folds the header.
        msg = EmailMessage(policy=email.policy.SMTP)
        msg[name] = [_addr(a, names.get(a.lower(), "")) for a in addrs]
        return msg.policy.fold(name, msg[name]).rstrip("\r\n")
    lines = [f"{name}: {addrs[0]}"]
    for a in addrs[1:]:
        if len(lines[-1]) + 2 + len(a) > _MAXLEN:
            lines[-1] += ","
            lines.append(" " + a)
        else:
            lines[-1] += ", " + a
    return "\r\n".join(lines)


# A display name written as it is, or quoted: words of letters, digits and a few signs
# with single spaces between them (what the email package writes the same, unfolded).
_SIMPLE_NAME = re.compile(r"[A-Za-z0-9&'.,()-]+(?: [A-Za-z0-9&'.,()-]+)*")


def _named_line(name: str, addrs: Sequence[str], names: dict[str, str]) -> str | None:
    """The header on one line, as the email package writes it, when every display name
    is simple and the line fits; else None (the email package makes it)."""
    shown = []
    for a in addrs:
        display = names.get(a.lower(), "")
        if not display:
            shown.append(a)
            continue
        if _SIMPLE_NAME.fullmatch(display) is None:
            return None
        quoted = _quote_string(display) if _SPECIALS.search(display) else display
        shown.append(f"{quoted} <{a}>")
    line = f"{name}: {', '.join(shown)}"
    return line if len(line) <= _MAXLEN else None


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


_BASE64_LINE = re.compile(rb".{1,76}", re.DOTALL)


def _base64(data: bytes) -> bytes:
    """``base64.encodebytes`` with CRLF line ends: encoded in one call, then cut into
    lines of 76 by one ``findall`` (encodebytes encodes 57 bytes per call: 3 times
    slower on a PDF; cutting by slices in a Python loop takes as long as the encoding)."""
    import binascii

    if not data:
        return b""
    lines = _BASE64_LINE.findall(binascii.b2a_base64(data, newline=False))
    lines.append(b"")  # the last line's CRLF, without copying the whole again
    return _CRLF.join(lines)


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
    head.append("\r\n")  # the blank line before the body
    return b"".join(("\r\n".join(head).encode("ascii"), _base64(content)))


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    import secrets

    while True:
        boundary = f"=_mailroom_{secrets.token_hex(12)}"
        marker = boundary.encode("ascii")
        if not any(marker in p for p in parts):
            break
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n--{boundary}\r\n'
    sep = b"\r\n--" + marker + _CRLF
    pieces = [head.encode("ascii")]
    for i, part in enumerate(parts):
        if i:
            pieces.append(sep)
        pieces.append(part)
    pieces.append(b"\r\n--" + marker + b"--" + _CRLF)
    return b"".join(pieces)  # one copy of the parts (an attachment's base64 is large)


def _mime_bytes(p: _Prepared) -> bytes:
    """The 7-bit message as ``policy.SMTP`` would write it (see the comment above)."""
    headers = [_from_header(p.from_addr, p.sender_name)]
    if p.to:
        headers.append(_address_header("To", p.to, p.names))
    if p.cc:
        headers.append(_address_header("Cc", p.cc, p.names))
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
    headers.append("")
    return b"".join(("\r\n".join(headers).encode("ascii"), body))
