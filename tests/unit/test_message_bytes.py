"""The batch's fast MIME writer reads back exactly like the email package's own message.

``build_message_bytes`` writes the message without the email package (whose header
parsing and folding cost as much as drawing the PDF). A mail client must not see a
difference: every case below is built both ways, parsed back with
``policy.default``, and compared header by header and part by part.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from typing import Any

import pytest

from mailing.message import (
    Attachment,
    InlineImage,
    MessageSpec,
    _email_message,
    _prepare,
    build_message_bytes,
    message_to_bytes,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 20 + b"\n%%EOF\n"

BASE: dict[str, Any] = dict(
    sender="facturen@holtkamp.example",
    sender_name="Holtkamp Installatietechniek B.V.",
    to=["a.jansen@bakkerij.example"],
    cc=[],
    bcc=[],
    reply_to=[],
    subject="Factuur 2025-00123",
    html="<html><body><p>Beste klant,</p></body></html>\n",
    text="Beste klant,\n",
    attachments=[Attachment("Factuur 2025-00123.pdf", PDF, "application/pdf")],
    images=[],
    message_id="<fixed.1@holtkamp.example>",
    date=dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC),
    domain=None,
    signature="",
    extra_headers=None,
    allow_smtputf8=True,
    sender_field="sender",
)

LONG_TEXT = (
    "Beste klant,\n\n"
    + "Een heel lange regel zonder einde " * 12
    + "\n   \nMet spaties aan het eind   \n.\n..punt\nFrom the start\n\tTab\n"
    + "Prijs: €\xa01.493,82 = ruim; 100% zeker\n"
)

CASES: dict[str, dict[str, Any]] = {
    "plain": {},
    "text only, no attachments": dict(html=None, attachments=[], text="Zie bijlage.\n"),
    "text only, no final newline": dict(html=None, attachments=[], text="Zie\r\nbijlage."),
    "text only with attachment": dict(html=None, text=LONG_TEXT),
    "long and non-ASCII texts": dict(text=LONG_TEXT, html="<p>" + LONG_TEXT + "</p>"),
    "long ASCII subject": dict(subject="Factuur  2025-00123 " + "lange betreffregel " * 9),
    "subject with one long word": dict(subject="Factuur " + "x" * 120 + " einde"),
    "non-ASCII subject": dict(subject="Rechnung für Bäckerei Müller & Söhne – " + "sehr " * 30),
    "subject that looks encoded": dict(subject="Factuur =?utf-8?q?nep?= 12"),
    "subject with a tab": dict(subject="Factuur\t12"),
    "emoji subject": dict(subject="Factuur 🧾 12"),
    "name without specials": dict(sender_name="Holtkamp Installatietechniek"),
    "name with quotes": dict(sender_name='Holtkamp "de beste" \\ B.V.'),
    "non-ASCII name": dict(sender_name="Bäckerei Müller & Söhne GmbH – Buchhaltung " * 3),
    "no name": dict(sender_name=""),
    "many recipients": dict(
        to=[f"persoon.{i}@bakkerij-{i}.example" for i in range(15)],
        cc=["boekhouding@bakkerij.example", "b@x.example"],
        reply_to=["debiteuren@holtkamp.example"],
    ),
    "international domain": dict(to=["info@bäckerei-müller.example"]),
    "file names": dict(
        attachments=[
            Attachment("bijlage ü.txt", "Grüße\n".encode(), "text/plain"),
            Attachment('naam "met" aanhalingstekens.pdf', PDF, "application/pdf"),
            Attachment("lang-" + "a" * 100 + ".pdf", PDF, "application/pdf"),
            Attachment("überlang-" + "ä" * 80 + ".pdf", PDF, "application/pdf"),
            Attachment("geen-type", b"\x00\x01", ""),
        ]
    ),
    "embedded images": dict(
        html='<p><img src="file:logo.png"><img src="cid:kop.png"></p>',
        images=[
            InlineImage("logo.png", PNG, "image/png"),
            InlineImage("kop.png", PNG + b"2", "image/jpeg"),
        ],
    ),
    "extra headers": dict(extra_headers={"X-Batch": "B-1 ü " + "lang " * 20, "X-Item": "7"}),
    "signature": dict(signature="Groet,\nDana"),
    "recipient names": dict(
        to=["a.jansen@bakkerij.example", "kok@timmer.example", "zonder@naam.example"],
        cc=["b@x.example"],
        names={
            "a.jansen@bakkerij.example": "A. Jansen",
            "kok@timmer.example": "Kok, Timmerbedrijf (B.V.)",
            "b@x.example": "O'Brien & Zn",
        },
    ),
    "recipient names, long or not ASCII": dict(
        to=["a.jansen@bakkerij.example", "m@muller.example"],
        cc=["lang@x.example"],
        names={
            "a.jansen@bakkerij.example": "Anna  Jansen",
            "m@muller.example": "Bäckerei Müller",
            "lang@x.example": "Een heel lange naam van een afdeling " * 3,
        },
    ),
}

# Display names the fast writer writes itself on one line; the email package must write
# the very same header (quoted where it quotes).
SIMPLE_NAMES = ["Jan Jansen", "Holtkamp B.V.", "O'Brien & Zn.", "Kok, Piet", "A (B) C", "3M"]


@pytest.mark.parametrize("display", SIMPLE_NAMES)
def test_simple_recipient_names_are_written_as_the_email_package_writes_them(
    display: str,
) -> None:
    from mailing.message.address import _addr
    from mailing.message.fast_mime import _address_header

    for addrs in (["jan@example.nl"], ["jan@example.nl", "b@example.com"]):
        msg = EmailMessage(policy=email.policy.SMTP)
        msg["To"] = [_addr(a, display if a == addrs[0] else "") for a in addrs]
        expected = msg.policy.fold("To", msg["To"]).rstrip("\r\n")
        assert _address_header("To", addrs, {addrs[0]: display}) == expected


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _shape(msg: EmailMessage) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for part in msg.walk():
        content: Any = None
        if not part.is_multipart():
            content = part.get_content()
            if isinstance(content, str):
                content = content.replace("\r\n", "\n")
        out.append(
            (
                part.get_content_type(),
                part.get_content_disposition(),
                part.get_filename(),
                part["Content-ID"],
                part.get_content_charset(),
                content,
            )
        )
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_bytes_read_back_like_the_email_package(case: str) -> None:
    kwargs = {**BASE, **CASES[case]}
    spec = MessageSpec(**kwargs)
    raw, utf8 = build_message_bytes(spec)
    assert not utf8
    reference = _parse(message_to_bytes(_email_message(_prepare(spec))))
    got = _parse(raw)

    assert sorted(k.lower() for k in got.keys()) == sorted(k.lower() for k in reference.keys())
    for name in reference.keys():
        if name.lower() not in ("content-type", "content-transfer-encoding"):
            if name == "Subject" and "=?" in kwargs["subject"]:
                # The email package writes it as is, and readers decode it as if it were
                # an encoded word; written encoded, the reader sees what was typed.
                assert got[name] == kwargs["subject"]
                continue
            assert str(got[name]) == str(reference[name]), name
    assert _shape(got) == _shape(reference)
    # SMTP-safe: CRLF only, 7-bit, header lines folded
    assert b"\n" not in raw.replace(b"\r\n", b"")
    raw.decode("ascii")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    long_header_lines = [ln for ln in head.split(b"\r\n") if len(ln) > 78]
    assert all(b" " not in ln.strip() for ln in long_header_lines), long_header_lines


def test_smtputf8_messages_still_come_from_the_email_package() -> None:
    raw, utf8 = build_message_bytes(MessageSpec(**{**BASE, "to": ["jürgen@example.de"]}))
    assert utf8
    assert _parse(raw)["To"] == "jürgen@example.de"
