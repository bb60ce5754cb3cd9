"""The built message, parsed back with the email package as a mail client would."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from mailing.catalogue import sample_context
from mailing.errors import AddressError, TemplateError
from mailing.message import (
    Attachment,
    InlineImage,
    MessageSpec,
    build_message,
    envelope_recipients,
    envelope_sender,
    make_message_id,
    message_to_bytes,
    needs_smtputf8,
)
from mailing.render import render_template
from store.records import Template

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40 + b"logo"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

TEMPLATE = Template(
    code="HOLT-NL-sales_invoice",
    object="sales_invoice",
    subject="Factuur {{ number }} van {{ administration_name }}",
    body=(
        '<p><img src="file:logo.png" alt="Holtkamp"></p>\n'
        "<p>Beste {{ contact_name }},</p>\n"
        "<p>Het bedrag van {{ total|money }} graag vóór {{ due_date|date }}.</p>\n"
        '<p><img src="https://cdn.example/banner.png" alt="Banner"> '
        '<a href="https://pay.example/2025-00123">Betaal online</a></p>'
    ),
    disclaimer="<p>Disclaimer {{ administration_name }}</p>",
)


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _content(part: EmailMessage | None) -> str:
    """A text part's content with the line ends a reader sees."""
    assert part is not None
    value = part.get_content()
    assert isinstance(value, str)
    return value.replace("\r\n", "\n")


def _build(**over: Any) -> EmailMessage:
    r = render_template(TEMPLATE, sample_context("sales_invoice"), "nl_NL")
    spec = MessageSpec(
        sender="facturen@holtkamp.example",
        sender_name="Holtkamp Installatietechniek B.V.",
        to=["a.jansen@bakkerij.example"],
        cc=["boekhouding@bakkerij.example"],
        bcc=["archief@holtkamp.example"],
        reply_to=["debiteuren@holtkamp.example"],
        subject=r.subject,
        html=r.html,
        text=r.text,
        attachments=[
            Attachment("Factuur 2025-00123.pdf", PDF, "application/pdf"),
            Attachment("Algemene voorwaarden.pdf", PDF + b"terms", "application/pdf"),
            Attachment("bijlage ü.txt", "Grüße\n".encode(), "text/plain"),
        ],
        images=[InlineImage("logo.png", PNG, "image/png")],
        message_id="<fixed.1@holtkamp.example>",
        date=dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC),
    )
    return build_message(dataclasses.replace(spec, **over))


def test_the_eml_parses_back_with_everything_in_place(tmp_path: Path) -> None:
    eml = tmp_path / "preview.eml"
    eml.write_bytes(message_to_bytes(_build()))
    msg = _parse(eml.read_bytes())

    assert msg["Subject"] == "Factuur 2025-00123 van Holtkamp Installatietechniek B.V."
    assert msg["From"] == '"Holtkamp Installatietechniek B.V." <facturen@holtkamp.example>'
    assert msg["From"].addresses[0].display_name == "Holtkamp Installatietechniek B.V."
    assert msg["To"] == "a.jansen@bakkerij.example"
    assert msg["Cc"] == "boekhouding@bakkerij.example"
    assert msg["Reply-To"] == "debiteuren@holtkamp.example"
    assert msg["Message-ID"] == "<fixed.1@holtkamp.example>"
    assert msg["Date"] == "Fri, 14 Mar 2025 09:30:00 +0000"
    assert msg["Bcc"] is None and b"archief@holtkamp.example" not in eml.read_bytes()

    # both parts
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text = _content(text_part)
    html = _content(html_part)
    assert "Beste Mevr. A. Jansen," in text
    assert "Het bedrag van €\xa01.493,82 graag vóór 13-04-2025." in text
    assert "Betaal online (https://pay.example/2025-00123)" in text
    assert "Disclaimer Holtkamp" in text and "<p>" not in text

    # the embedded image, referenced by its Content-ID; the linked one left as a link
    images = [p for p in msg.walk() if p.get_content_maintype() == "image"]
    assert len(images) == 1
    cid = images[0]["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert images[0].get_content() == PNG
    assert images[0].get_content_disposition() == "inline"
    assert 'src="https://cdn.example/banner.png"' in html
    assert "file:logo.png" not in html
    assert html_part.get_content_type() == "text/html"
    related = next(p for p in msg.walk() if p.get_content_type() == "multipart/related")
    assert images[0] in related.iter_parts()

    # attachments in order, by name and content
    atts = list(msg.iter_attachments())
    assert [a.get_filename() for a in atts] == [
        "Factuur 2025-00123.pdf",
        "Algemene voorwaarden.pdf",
        "bijlage ü.txt",
    ]
    assert atts[0].get_content() == PDF and atts[0].get_content_type() == "application/pdf"
    assert atts[1].get_content() == PDF + b"terms"
    assert atts[2].get_payload(decode=True) == "Grüße\n".encode()  # bytes as stored


def test_bytes_use_crlf_and_short_lines() -> None:
    raw = message_to_bytes(_build())
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    raw.decode("ascii")  # 7-bit clean: encoded words, quoted-printable, base64


def test_envelope_has_the_bcc_that_the_headers_do_not() -> None:
    msg = _build(bcc=["archief@holtkamp.example", "A.Jansen@bakkerij.example"])
    rcpts = envelope_recipients(msg, ["archief@holtkamp.example", "A.Jansen@bakkerij.example"])
    assert rcpts == [
        "a.jansen@bakkerij.example",
        "boekhouding@bakkerij.example",
        "archief@holtkamp.example",
    ]
    assert envelope_sender(msg) == "facturen@holtkamp.example"


def test_text_only_message_has_one_plain_part() -> None:
    msg = _parse(
        message_to_bytes(
            _build(html=None, text="Beste klant,\n\nZie bijlage.\n", images=[], attachments=[])
        )
    )
    assert msg.get_content_type() == "text/plain"
    assert _content(msg) == "Beste klant,\n\nZie bijlage.\n"


def test_message_id_is_made_once_with_the_sender_domain() -> None:
    msg = _build(message_id=None)
    mid = msg["Message-ID"]
    assert mid.startswith("<") and mid.endswith("@holtkamp.example>")
    assert _parse(message_to_bytes(msg))["Message-ID"] == mid  # stable in the bytes
    assert make_message_id("holtkamp.example") != make_message_id("holtkamp.example")


def test_signature_for_a_hand_written_mail() -> None:
    msg = _parse(
        message_to_bytes(
            _build(html="<p>Hallo</p>", text="Hallo\n", images=[], signature="Groet,\nDana")
        )
    )
    assert _content(msg.get_body(preferencelist=("plain",))) == "Hallo\n\nGroet,\nDana\n"
    assert "Groet,<br>" in _content(msg.get_body(preferencelist=("html",)))


@pytest.mark.parametrize(
    "html",
    [
        '<p><img src="cid:missing.png"></p>',
        "<P><IMG SRC=CID:missing.png></P>",
        '<p><img \u017frc="file:missing.png"></p>',  # long s: "s" when case is ignored
    ],
)
def test_an_unknown_image_reference_is_an_error(html: str) -> None:
    with pytest.raises(TemplateError, match="'missing.png'"):
        _build(html=html)


def test_an_upper_case_image_reference_is_embedded() -> None:
    msg = _build(html='<p><IMG SRC="CID:logo.png"></p>')
    html = _content(msg.get_body(("html",)))
    assert "CID:logo.png" not in html and "cid:logo.png." in html


# ---------------------------------------------------------------- header injection

INJECT = "Jansen\r\nBcc: victim@evil.example"


@pytest.mark.parametrize(
    ("field", "over"),
    [
        ("subject", {"subject": f"Factuur {INJECT}"}),
        ("subject", {"subject": "Factuur\nBcc: victim@evil.example"}),
        ("sender name", {"sender_name": INJECT}),
        ("To", {"to": ["a@b.example\r\nBcc: victim@evil.example"]}),
        ("attachment file name", {"attachments": [Attachment(f"f{INJECT}.pdf", PDF)]}),
        ("header X-Batch", {"extra_headers": {"X-Batch": INJECT}}),
    ],
)
def test_header_injection_is_refused(field: str, over: dict[str, object]) -> None:
    with pytest.raises(AddressError) as info:
        _build(**over)
    assert info.value.field == field
    assert "line break" in str(info.value)


def test_injection_through_a_relation_name_never_adds_a_header() -> None:
    ctx = sample_context("sales_invoice")
    ctx["relation_name"] = INJECT
    t = TEMPLATE.model_copy(update={"subject": "Factuur voor {{ relation_name }}"})
    with pytest.raises(TemplateError):
        render_template(t, ctx, "nl_NL")
    # without the line break the text stays inside the subject
    ctx["relation_name"] = "Jansen Bcc: victim@evil.example"
    r = render_template(t, ctx, "nl_NL")
    msg = _parse(message_to_bytes(_build(subject=r.subject, html=r.html, text=r.text)))
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Factuur voor Jansen Bcc: victim@evil.example"
    assert sorted(k.lower() for k in msg.keys()) == sorted(
        [
            "from",
            "to",
            "cc",
            "reply-to",
            "subject",
            "date",
            "message-id",
            "mime-version",
            "content-type",
        ]
    )


def test_long_non_ascii_subject_is_encoded_and_round_trips() -> None:
    subject = "Rechnung für Bäckerei Müller & Söhne – " + "sehr lange Betreffzeile " * 8
    msg = _parse(message_to_bytes(_build(subject=subject.strip())))
    assert msg["Subject"] == subject.strip()


# ---------------------------------------------------------------- addresses


def test_invalid_address_names_the_field_it_came_from() -> None:
    with pytest.raises(AddressError) as info:
        _build(to=[("jansen at bakkerij", "relation business e-mail")])
    assert info.value.field == "relation business e-mail"
    assert "jansen at bakkerij" in str(info.value)
    with pytest.raises(AddressError) as info2:
        _build(cc=["boekhouding@@bakkerij.example"])
    assert info2.value.field == "Cc"
    with pytest.raises(AddressError) as info3:
        _build(sender="not an address")
    assert info3.value.field == "sender"


def test_no_recipient_is_an_error() -> None:
    with pytest.raises(AddressError, match="no recipient"):
        _build(to=[], cc=[], bcc=[])


def test_international_domain_is_written_as_idna() -> None:
    msg = _build(to=["info@bäckerei-müller.example"])
    assert not needs_smtputf8(msg)
    raw = message_to_bytes(msg)
    raw.decode("ascii")
    ascii_domain = "bäckerei-müller.example".encode("idna").decode()
    assert ascii_domain.startswith("xn--")
    assert _parse(raw)["To"] == f"info@{ascii_domain}"


def test_international_local_part_needs_smtputf8_or_is_refused() -> None:
    msg = _build(to=["jürgen@example.de"])
    assert needs_smtputf8(msg)
    parsed = _parse(message_to_bytes(msg))
    assert parsed["To"] == "jürgen@example.de"
    assert envelope_recipients(msg)[0] == "jürgen@example.de"
    with pytest.raises(AddressError, match="SMTPUTF8") as info:
        _build(to=[("jürgen@example.de", "relation business e-mail")], allow_smtputf8=False)
    assert info.value.field == "relation business e-mail"


def test_a_german_customers_invoice_end_to_end(tmp_path: Path) -> None:
    """Document → language code → DE template → rendered → .eml, read back."""
    from decimal import Decimal

    from mailing.catalogue import document_context
    from mailing.config import ConfigSnapshot
    from mailing.demo.templates import demo_templates
    from mailing.render import template_for
    from store.records import Administration, Document, DocumentLine, LanguageCode, Relation

    admin = Administration(code="HOLT", name="Holtkamp B.V.", iban="NL91ABNA0417164300")
    templates = demo_templates("HOLT")
    cfg = ConfigSnapshot(
        administrations={"HOLT": admin},
        templates={t.code: t for t in templates},
        language_codes={
            ("HOLT", lang): LanguageCode(
                administration="HOLT",
                code=lang,
                locale=locale,
                templates={"sales_invoice": f"HOLT-{lang}-sales_invoice"},
            )
            for lang, locale in (("NL", "nl_NL"), ("DE", "de_DE"))
        },
    )
    doc = Document(
        administration="HOLT",
        type="sales_invoice",
        number="2025-777",
        relation="K1",
        date=dt.date(2025, 6, 2),
        due_date=dt.date(2025, 7, 2),
        lines=[
            DocumentLine(description="Pumpe", quantity=Decimal(2), unit_price=Decimal("517.28"))
        ],
    )
    for lang, subject, amount, due in (
        ("DE", "Rechnung 2025-777 von Holtkamp B.V.", "1.251,82\xa0€", "02.07.2025"),
        ("NL", "Factuur 2025-777 van Holtkamp B.V.", "€\xa01.251,82", "02-07-2025"),
    ):
        rel = Relation(administration="HOLT", code="K1", name="Müller GmbH", language=lang)
        t = template_for(cfg, rel, "sales_invoice")
        lc = cfg.language_of(rel)
        assert lc is not None
        r = render_template(t, document_context(doc, rel, admin, None), lc.locale)
        eml = tmp_path / f"{lang}.eml"
        eml.write_bytes(
            message_to_bytes(
                build_message(
                    MessageSpec(
                        sender="facturen@holtkamp.example",
                        sender_name="Holtkamp B.V.",
                        to=[("buchhaltung@mueller.example", "relation business e-mail")],
                        subject=r.subject,
                        html=r.html,
                        text=r.text,
                        attachments=[Attachment("2025-777.pdf", PDF, "application/pdf")],
                    )
                )
            )
        )
        msg = _parse(eml.read_bytes())
        assert msg["Subject"] == subject
        text = _content(msg.get_body(preferencelist=("plain",)))
        assert amount in text and due in text
        assert [a.get_filename() for a in msg.iter_attachments()] == ["2025-777.pdf"]
