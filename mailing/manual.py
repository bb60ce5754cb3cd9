"""Mail that is not a document: hand-written e-mail, and the carrier of backups and reports.

All three go the same way (SPEC §5, §8):

- the sender: the profile given for this message, else the order for objects
  without a document: personal, administration, system
  (:func:`mailing.resolve.resolve_sender_for_object`), with its trace;
- To, Cc and Bcc are checked one by one, an error naming the field and value;
  the profile's Bcc and Reply-To are added, as for documents;
- a template of the object when one is asked for (or, for backups and reports,
  when one exists), rendered in the sandbox; the user's signature is appended;
- built by :func:`mailing.message.build_message`, sent through the profile's
  transport, and recorded in ``archive/<object>/<date>-<message-id>/``: the
  ``.eml`` (not for backups, which would double the data folder each time) and
  ``record.json`` with the server's reply.

Sending is refused while sending is paused for the installation (``mailroom
sending resume`` lifts it), as for batches.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from mailing.config import ConfigSnapshot
from mailing.errors import AddressError, ConfigError
from mailing.manual_parts import (
    MailError,
    check_named_recipients,
    check_recipients,
    locale_of,
    prepend_html,
    read_attachments,
    safe_part_name,
    sender_for,
    template_for,
)
from mailing.resolve import TraceStep
from store.db import atomic_write_bytes
from store.permissions import make_dirs

if TYPE_CHECKING:
    from mailing.message import Attachment
    from mailing.reports import MadeReport
    from store.records import Template
    from store.store import Store


class SentMail(BaseModel):
    """What happened to one message: who sent it, to whom, what the server said.

    The fields in this order are the JSON of ``mailroom mail --json`` and of the
    archived ``record.json``.
    """

    model_config = ConfigDict(extra="forbid")

    object: str
    message_id: str
    subject: str
    profile: str
    sender: str
    level: str  # the sender level that won, or "given" for --profile
    to: list[str]
    cc: list[str]
    bcc: list[str]
    accepted: list[str]
    refused: dict[str, tuple[int, str]] = Field(default_factory=dict)
    reply: str = ""
    size: int = 0
    archive: Path | None = None
    trace: list[TraceStep]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# ---------------------------------------------------------------- the one way out


def send_mail(
    store: Store,
    user: str,
    obj: str,
    *,
    to: Sequence[str],
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    subject: str = "",
    body: str = "",
    attachments: Sequence[Attachment] = (),
    template: str | None = None,
    auto_template: bool = False,
    values: dict[str, Any] | None = None,
    profile: str | None = None,
    administration: str | None = None,
    max_bytes: int = 0,
    keep_eml: bool = True,
) -> SentMail:
    """Build and send one message of ``obj`` (manual, backup or report); see the module doc."""
    from mailing.catalogue import object_context
    from mailing.message import (
        Attachment,
        MessageSpec,
        build_message,
        envelope_recipients,
        make_message_id,
        message_to_bytes,
    )
    from mailing.render import render_template
    from mailing.sending import check_not_paused
    from mailing.transports import open_transport

    cfg = ConfigSnapshot.load(store)
    check_not_paused(cfg)
    if administration is not None and administration not in cfg.administrations:
        raise ConfigError(
            f"The administration {administration!r} does not exist.",
            field="administration",
            value=administration,
            fix="give an existing administration code, or leave it out.",
        )
    to_list, names = check_named_recipients(to, "To")
    cc_list, cc_names = check_named_recipients(cc, "Cc")
    names.update(cc_names)
    bcc_list = check_recipients(bcc, "Bcc")
    if not to_list:
        raise AddressError(
            "The message has no To address.",
            field="To",
            value="",
            fix="give at least one recipient with --to.",
        )
    prof, from_addr, from_name, level, trace = sender_for(cfg, obj, user, administration, profile)
    user_rec = cfg.users.get(user)
    signature = user_rec.signature if user_rec is not None else ""
    tmpl = template_for(cfg, obj, template, auto=auto_template)
    files = list(attachments)
    html: str | None = None
    text = body
    if tmpl is not None:
        admin_rec = cfg.administrations.get(administration) if administration else None
        ctx = object_context(obj, admin_rec, user_rec, **(values or {}))
        rendered = render_template(tmpl, ctx, locale_of(cfg, administration), signature=signature)
        subject = subject or rendered.subject
        text = f"{body.strip()}\n\n{rendered.text}" if body.strip() else rendered.text
        if rendered.html is not None and prof.html:
            html = prepend_html(rendered.html, body) if body.strip() else rendered.html
        for ref in rendered.attachments:
            files.append(Attachment(ref.name, store.files.read(ref), ref.content_type))
        signature = ""  # the template placed it
    if not subject.strip():
        raise MailError(
            "The message has no subject.",
            field="subject",
            value="",
            fix="give a subject with --subject (or a template that has one).",
        )
    # The profile's Bcc and Reply-To, as for documents (SPEC §6).
    reply_to = check_recipients([prof.reply_to], f"Reply-To of profile {prof.code}")
    for extra in check_recipients([prof.bcc], f"Bcc of profile {prof.code}"):
        if extra.lower() not in {a.lower() for a in (*to_list, *cc_list, *bcc_list)}:
            bcc_list.append(extra)
    domain = from_addr.rpartition("@")[2] or "mailroom.invalid"
    message_id = make_message_id(domain)
    msg = build_message(
        MessageSpec(
            sender=from_addr,
            sender_name=from_name,
            to=[(a, "To") for a in to_list],
            cc=[(a, "Cc") for a in cc_list],
            bcc=[(a, "Bcc") for a in bcc_list],
            reply_to=reply_to,
            subject=subject.strip(),
            html=html,
            text=text,
            attachments=files,
            message_id=message_id,
            date=dt.datetime.now(dt.UTC),
            domain=domain,
            signature=signature,
            sender_field=f"sender (From) of profile {prof.code}",
            names=names,
        )
    )
    raw = message_to_bytes(msg)
    limits = [n for n in (max_bytes, prof.max_message_bytes) if n]
    if limits and len(raw) > min(limits):
        from mailing.names import human_size

        raise MailError(
            f"The message is {human_size(len(raw))}; the limit is {human_size(min(limits))}"
            f"{' (of profile ' + prof.code + ')' if min(limits) == prof.max_message_bytes else ''}.",
            field="size",
            value=len(raw),
            fix="send fewer or smaller attachments, or raise the limit.",
        )
    rcpts = envelope_recipients(msg, bcc_list)
    with open_transport(prof, store.home) as transport:
        result = transport.send(raw, from_addr, rcpts)
    sent = SentMail(
        object=obj,
        message_id=message_id,
        subject=subject.strip(),
        profile=prof.code,
        sender=from_addr,
        level=level,
        trace=trace,
        to=to_list,
        cc=cc_list,
        bcc=bcc_list,
        accepted=list(result.accepted),
        refused=dict(result.refused),
        reply=result.reply,
        size=len(raw),
    )
    sent.archive = _archive(store, user, sent, raw if keep_eml else None, tmpl)
    return sent


def _archive(
    store: Store, user: str, sent: SentMail, raw: bytes | None, tmpl: Template | None
) -> Path:
    now = dt.datetime.now()
    folder = (
        store.home
        / "archive"
        / sent.object
        / f"{now.strftime('%Y%m%d-%H%M%S')}-{safe_part_name(sent.message_id.strip('<>'))}"
    )
    make_dirs(folder)
    if raw is not None:
        atomic_write_bytes(folder / "message.eml", raw)
    record = {
        **sent.to_json(),
        "archive": None,
        "template": tmpl.code if tmpl is not None else None,
        "sent_by": user,
        "sent_at": now.astimezone().isoformat(timespec="seconds"),
    }
    atomic_write_bytes(
        folder / "record.json", json.dumps(record, indent=2, ensure_ascii=False).encode()
    )
    return folder


# ---------------------------------------------------------------- the three uses


def send_manual(
    store: Store,
    user: str,
    to: Sequence[str],
    cc: Sequence[str],
    bcc: Sequence[str],
    subject: str,
    body: str,
    attachments: Sequence[Path] = (),
    template: str | None = None,
    profile: str | None = None,
    administration: str | None = None,
    recipient_name: str = "",
    relation_name: str = "",
) -> SentMail:
    """Send a hand-written e-mail (SPEC §8), archived under ``archive/manual/``."""
    return send_mail(
        store,
        user,
        "manual",
        to=to,
        cc=cc,
        bcc=bcc,
        subject=subject,
        body=body,
        attachments=read_attachments(attachments),
        template=template,
        values={"recipient_name": recipient_name, "relation_name": relation_name},
        profile=profile,
        administration=administration,
    )


def send_report(
    store: Store,
    user: str,
    report: MadeReport,
    to: Sequence[str],
    *,
    cc: Sequence[str] = (),
    profile: str | None = None,
    administration: str | None = None,
    template: str | None = None,
) -> SentMail:
    """Mail a report as PDF with the report sender order (personal, administration, system)."""
    from mailing.message import Attachment

    today = dt.date.today().isoformat()
    return send_mail(
        store,
        user,
        "report",
        to=to,
        cc=cc,
        subject="" if (template or _has_template(store, "report")) else f"{report.title} ({today})",
        body=(
            ""
            if (template or _has_template(store, "report"))
            else f"Attached: {report.title}, made on {today}.\n\n{report.summary}.\n"
        ),
        attachments=[Attachment(report.file_name, report.pdf, "application/pdf")],
        template=template,
        auto_template=True,
        values={"report_name": report.title, "period": today, "file_name": report.file_name},
        profile=profile,
        administration=administration,
    )


def _has_template(store: Store, obj: str) -> bool:
    from store.records import Template

    return any(t.object == obj for t in store.all(Template))
