"""The parts of a mail that is not a document (:mod:`mailing.manual`): recipients checked
one by one, attachments read within their bound, the sender chosen for the object, the
language and template of the object, the signature put before the HTML's end.
"""

from __future__ import annotations

import html as html_lib
import mimetypes
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mailing.addresses import check_address, split_addresses
from mailing.config import ConfigSnapshot
from mailing.errors import ConfigError, TemplateError
from mailing.names import safe_file_name
from mailing.resolve import TraceStep, resolve_sender_for_object
from store.errors import MailroomError

if TYPE_CHECKING:
    from mailing.message import Attachment
    from store.records import Profile, Template

MAX_ATTACHMENT_BYTES = 50_000_000  # 50 MB (decimal, as every size shown)


class MailError(MailroomError):
    """A hand-written (or backup, or report) message cannot be sent as asked."""


def check_recipients(values: Sequence[str], field_name: str) -> list[str]:
    """Split and check the addresses of one field (To, Cc or Bcc), naming it in an error."""
    out: list[str] = []
    for raw in values:
        for part in split_addresses(raw):
            addr = check_address(part, field_name)
            if addr.lower() not in (a.lower() for a in out):
                out.append(addr)
    return out


def check_named_recipients(
    values: Sequence[str], field_name: str
) -> tuple[list[str], dict[str, str]]:
    """As :func:`check_recipients`, where each may also be ``Name <address>`` (or
    ``"Vries, Jan de" <address>``): the addresses, and address (lower) -> name."""
    import email.utils

    out: list[str] = []
    names: dict[str, str] = {}
    for raw in values:
        if "<" not in raw and '"' not in raw:
            parts = [("", p) for p in split_addresses(raw)]
        else:
            parts = email.utils.getaddresses([raw.replace(";", ",")])
        for name, part in parts:
            addr = check_address(part or raw, field_name)
            if addr.lower() not in (a.lower() for a in out):
                out.append(addr)
            if name.strip():
                names[addr.lower()] = " ".join(name.split())
    return out, names


def read_attachments(paths: Sequence[Path]) -> list[Attachment]:
    """Read files the user names as attachments; an unreadable one is named in the error."""
    from mailing.message import Attachment

    out: list[Attachment] = []
    for path in paths:
        p = Path(path).expanduser()
        try:
            if p.stat().st_size > MAX_ATTACHMENT_BYTES:
                raise MailError(
                    f"The attachment {str(p)!r} is larger than "
                    f"{MAX_ATTACHMENT_BYTES // 1_000_000} MB.",
                    field="attachment",
                    value=str(p),
                    fix="send a smaller file, or share it another way.",
                )
            content = p.read_bytes()
        except OSError as exc:
            raise MailError(
                f"The attachment {str(p)!r} cannot be read ({exc.strerror}).",
                field="attachment",
                value=str(p),
                fix="check the path and its permissions.",
            ) from None
        ctype = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
        out.append(Attachment(p.name, content, ctype))
    return out


def sender_for(
    cfg: ConfigSnapshot, obj: str, user: str, administration: str | None, profile: str | None
) -> tuple[Profile, str, str, str, list[TraceStep]]:
    """(profile, From address, display name, level, trace)."""
    if profile:
        rec = cfg.profiles.get(profile)
        if rec is None:
            raise ConfigError(
                f"The profile {profile!r} does not exist.",
                field="profile",
                value=profile,
                fix="give an existing profile code, or leave --profile out to use the "
                "sender order (personal, administration, system).",
            )
        where = f"sender (From) of profile {rec.code}"
        if not rec.sender.strip():
            raise ConfigError(
                f"Profile {rec.code} has no sender (From) address.",
                field=where,
                value="",
                fix=f"fill in the sender address of profile {rec.code}.",
            )
        addr = check_address(rec.sender, where)
        trace = [
            TraceStep(
                "sender.given",
                "profile given for this message",
                f"profile {rec.code} ({addr})",
                True,
            )
        ]
        return rec, addr, rec.sender_name, "given", trace
    choice, trace = resolve_sender_for_object(cfg, obj, user, administration)
    return cfg.profiles[choice.profile], choice.address, choice.name, choice.level, trace


def locale_of(cfg: ConfigSnapshot, administration: str | None) -> str:
    chosen = cfg.administrations.get(administration) if administration else None
    admins = [chosen] if chosen is not None else []
    if not admins and len(cfg.administrations) == 1:
        admins = list(cfg.administrations.values())
    for admin in admins:
        lc = cfg.language_codes.get((admin.code, admin.default_language))
        if lc is not None:
            return lc.locale
    return "nl_NL"


def template_for(cfg: ConfigSnapshot, obj: str, code: str | None, *, auto: bool) -> Template | None:
    """The template asked for (it must be of ``obj``), or with ``auto`` the first of ``obj``."""
    if code:
        t = cfg.templates.get(code)
        if t is None:
            raise TemplateError(
                f"The template {code!r} does not exist.",
                field="template",
                value=code,
                fix="give an existing template code, or leave --template out.",
            )
        if t.object != obj:
            raise TemplateError(
                f"The template {code!r} is for {t.object}, not for {obj}.",
                field="template",
                value=code,
                fix=f"choose a template whose object is {obj}.",
            )
        return t
    if auto:
        found = sorted((t for t in cfg.templates.values() if t.object == obj), key=lambda t: t.code)
        return found[0] if found else None
    return None


def prepend_html(document: str, text: str) -> str:
    block = "<p>" + html_lib.escape(text.strip("\n")).replace("\n", "<br>\n") + "</p>\n"
    m = re.search(r"<body[^>]*>\s*", document, re.IGNORECASE)
    if m is None:
        return block + document
    return document[: m.end()] + block + document[m.end() :]


def safe_part_name(name: str) -> str:
    return safe_file_name(name, "message")
