"""From a document to the exact message that would be sent: one path for preview and batch.

``Composer.compose(doc)`` resolves the sender and recipients (with the trace),
draws the PDF on the language code's letterhead, renders the template and
builds the message bytes. The batch build and ``mailroom preview`` both call it,
so what the admin previews is what the batch holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mailing.config import ConfigSnapshot
from mailing.errors import ConfigError

if TYPE_CHECKING:
    from mailing.pdf.letterhead import Letterhead
    from mailing.resolve import Resolution
    from store.records import Administration, Document, LanguageCode, Relation, StoredFileRef
    from store.store import Store


@dataclass
class Composed:
    """A document, resolved and rendered. ``raw`` is None when it goes to print."""

    doc: Document
    resolution: Resolution
    relation: Relation
    administration: Administration
    language: LanguageCode | None
    language_code: str
    pdf: bytes
    pdf_name: str
    raw: bytes | None = None
    ubl: bytes | None = None  # Peppol UBL beside the PDF (the relation's e-invoice form)
    ubl_name: str = ""
    message_id: str = ""
    subject: str = ""
    attachments: list[tuple[str, int]] = field(default_factory=list)  # (file name, size)
    # Where each attachment's base64 lies in ``raw`` (start, end), or None when it is
    # not found as one block: the archive decodes it from there without parsing.
    spans: list[tuple[int, int] | None] = field(default_factory=list)
    page_warnings: list[str] = field(default_factory=list)  # texts cut to fit the page


class Composer:
    """Composes documents against one configuration snapshot (one per batch or worker)."""

    def __init__(self, store: Store, user: str, cfg: ConfigSnapshot | None = None) -> None:
        from mailing.resolve import Resolver

        self.store = store
        self.user = user
        self.cfg = cfg or ConfigSnapshot.load(store)
        self.resolver = Resolver(self.cfg)
        self._files: dict[str, bytes] = {}

    def file(self, ref: StoredFileRef) -> bytes:
        data = self._files.get(ref.sha256)
        if data is None:
            data = self.store.files.read(ref)
            if len(self._files) < 64:
                self._files[ref.sha256] = data
        return data

    def letterhead(self, language: LanguageCode | None) -> Letterhead | None:
        from mailing.pdf.letterhead import Letterhead

        return Letterhead.from_refs(self.store, language)

    def compose(self, doc: Document, *, now: dt.datetime | None = None) -> Composed:
        from mailing.einvoice import e_invoice_for
        from mailing.pdf.layout import render_document_pdf
        from mailing.pdf.layout_texts import attachment_name
        from mailing.pdf.render import parties_of

        res = self.resolver.resolve(doc, self.user)
        address_relation, admin = parties_of(self.cfg, doc)
        relation = self.cfg.relation_of(doc) or address_relation
        language = self.cfg.language_of(relation)
        lang_code = language.code if language is not None else relation.language
        einvoice = e_invoice_for(doc, address_relation, admin)
        cut: list[str] = []
        pdf = render_document_pdf(
            doc,
            address_relation,
            admin,
            language=lang_code,
            letterhead=self.letterhead(language),
            facturx=einvoice.facturx,
            warnings=cut,
        )
        out = Composed(
            doc=doc,
            resolution=res,
            relation=relation,
            administration=admin,
            language=language,
            language_code=lang_code,
            pdf=pdf,
            pdf_name=attachment_name(doc.type, doc.number, lang_code),
            ubl=einvoice.ubl,
            ubl_name=einvoice.ubl_name,
            page_warnings=cut,
        )
        if res.action == "email":
            self._message(out, now or dt.datetime.now(dt.UTC))
        return out

    def _message(self, out: Composed, now: dt.datetime) -> None:
        from mailing.catalogue import document_context
        from mailing.message import (
            Attachment,
            InlineImage,
            MessageSpec,
            build_message_bytes,
            make_message_id,
        )
        from mailing.render import render_template

        cfg, doc, res = self.cfg, out.doc, out.resolution
        profile = cfg.profiles[res.sender.profile]
        template = cfg.templates.get(res.template) if res.template else None
        if template is None:
            raise ConfigError(
                f"No template goes with {doc.type} for language code {out.language_code} "
                f"of administration {doc.administration}.",
                field="templates",
                value=f"{doc.administration}/{out.language_code}",
                fix=f"assign a {doc.type} template to language code {out.language_code}.",
            )
        user = cfg.users.get(self.user)
        context = document_context(doc, out.relation, out.administration, user)
        locale = out.language.locale if out.language is not None else "nl_NL"
        signature = user.signature if user is not None and res.sender.level == "personal" else ""
        rendered = render_template(template, context, locale, signature=signature)
        # SPEC §7 order: the document, then (for a UBL import) its XML, the template's
        # attachments, the document's own.
        attachments = [Attachment(out.pdf_name, out.pdf, "application/pdf")]
        if doc.ubl is not None:
            attachments.append(Attachment(doc.ubl.name, self.file(doc.ubl), "application/xml"))
        elif out.ubl is not None:  # the relation takes Peppol UBL beside the PDF
            attachments.append(Attachment(out.ubl_name, out.ubl, "application/xml"))
        for ref in (*template.attachments, *doc.attachments):
            attachments.append(Attachment(ref.name, self.file(ref), ref.content_type))
        images = [
            InlineImage(ref.name, self.file(ref), ref.content_type) for ref in template.images
        ]
        domain = res.sender.address.rpartition("@")[2] or "mailroom.invalid"
        message_id = make_message_id(domain)
        spec = MessageSpec(
            sender=res.sender.address,
            sender_name=res.sender.name,
            to=list(res.recipients.to),
            cc=list(res.recipients.cc),
            bcc=list(res.recipients.bcc),
            reply_to=list(res.recipients.reply_to),
            names=res.recipients.names,
            subject=rendered.subject,
            html=rendered.html if profile.html else None,
            text=rendered.text,
            attachments=attachments,
            images=images,
            message_id=message_id,
            date=now,
            domain=domain,
        )
        raw, _smtputf8 = build_message_bytes(spec)
        out.raw = raw
        out.message_id = message_id
        out.subject = rendered.subject
        out.attachments = [(a.filename, len(a.content)) for a in attachments]
        out.spans = attachment_spans(raw, [a.content for a in attachments])


def attachment_spans(raw: bytes, contents: list[bytes]) -> list[tuple[int, int] | None]:
    """Where each content's base64 (76-character CRLF lines) is in ``raw``, in order.

    Found by its first line (the base64 of its first 57 bytes) and its length, which
    the content's size fixes: nothing is encoded twice. The archive checks the
    decoded size, and parses the message instead when it does not match.
    """
    import binascii

    spans: list[tuple[int, int] | None] = []
    at = 0
    for content in contents:
        if not content:
            spans.append(None)
            continue
        first = binascii.b2a_base64(content[:57], newline=False) + b"\r\n"
        start = raw.find(first, at)
        while start > 0 and raw[start - 4 : start] != b"\r\n\r\n":  # a part's body starts
            start = raw.find(first, start + 1)
        if start < 0:
            spans.append(None)
            continue
        chars = 4 * ((len(content) + 2) // 3)
        at = start + chars + 2 * ((chars + 75) // 76)
        spans.append((start, at))
    return spans
