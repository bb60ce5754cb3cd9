"""The relations e-mail overview as data: opt-ins, recipients per document type, problems."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from mailing.addresses import check_address, split_addresses
from mailing.config import ConfigSnapshot
from mailing.errors import AddressError, ConfigError
from mailing.reports.terms import PRINT_REASONS, ReportError
from store.records import SUPPLIER_DOC_TYPES, Document, Profile, Relation, SystemSettings


class RecipientLine(BaseModel):
    """Who would receive one document type of a relation, or why it would be printed."""

    model_config = ConfigDict(extra="forbid")

    doc_type: str
    action: str  # "email", "print", or "error" (the sender cannot be chosen)
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    bcc: list[str] = Field(default_factory=list)
    rule: str = "none"
    sender: str = ""
    template: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        if self.action == "error":
            return f"{self.doc_type}: ERROR ({self.reason})"
        if self.action != "email":
            return f"{self.doc_type}: PRINT ({PRINT_REASONS.get(self.reason or '', self.reason)})"
        parts = [f"To {', '.join(self.to)}"]
        if self.cc:
            parts.append(f"Cc {', '.join(self.cc)}")
        if self.bcc:
            parts.append(f"Bcc {', '.join(self.bcc)}")
        return f"{self.doc_type}: {'; '.join(parts)} [{self.rule}]"


class RelationEntry(BaseModel):
    """One relation in the overview: its opt-ins, a line per opted-in type, its problems."""

    model_config = ConfigDict(extra="forbid")

    administration: str
    code: str
    name: str
    kind: str
    language: str
    opt_in: list[str]
    lines: list[RecipientLine] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class RelationsReport(BaseModel):
    """The relations overview; its JSON adds the number of relations, and of those with problems."""

    model_config = ConfigDict(extra="forbid")

    report: Literal["relations"] = "relations"
    generated: str
    administration: str | None
    problems: list[str] = Field(default_factory=list)  # of the installation, not one relation
    entries: list[RelationEntry]

    @property
    def with_problems(self) -> list[RelationEntry]:
        return [e for e in self.entries if e.problems]

    @model_serializer(mode="wrap")
    def _with_numbers(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The two numbers go between ``administration`` and ``problems``."""
        data: dict[str, Any] = handler(self)
        head = ("report", "generated", "administration")
        return {
            **{k: v for k, v in data.items() if k in head},
            "relations": len(self.entries),
            "relations_with_problems": len(self.with_problems),
            **{k: v for k, v in data.items() if k not in head},
        }

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


_PLACEHOLDER = "REPORT-PLACEHOLDER"


def _resolver_config(cfg: ConfigSnapshot, problems: list[str]) -> ConfigSnapshot:
    """``cfg``, or a copy with a stand-in system profile when it has none.

    Without a system profile nothing can be sent, which the report says; the
    recipients can still be shown.
    """
    from mailing.resolve import Resolver

    try:
        Resolver(cfg)
        return cfg
    except ConfigError as exc:
        problems.append(exc.message + " Nothing can be sent until it is set.")
    stand_in = Profile(code=_PLACEHOLDER, system="outbox", sender="nobody@example.com")
    return dataclasses.replace(
        cfg,
        system=SystemSettings(profile=_PLACEHOLDER),
        profiles={**cfg.profiles, _PLACEHOLDER: stand_in},
    )


def _address_problems(relation: Relation) -> list[str]:
    """Every invalid address anywhere on the relation, naming its field."""
    found: list[tuple[str, str]] = []
    for doc_type, aset in relation.email_addresses.items():
        for name, values in (("To", aset.to), ("Cc", aset.cc), ("Bcc", aset.bcc)):
            for raw in values:
                found += [(f"{name} for {doc_type}", a) for a in split_addresses(raw)]
    for c in relation.contacts:
        found += [(f"e-mail of contact {c.name}", a) for a in split_addresses(c.email)]
    found += [("business e-mail", a) for a in split_addresses(relation.business_email)]
    out = []
    for where, addr in found:
        try:
            check_address(addr, where)
        except AddressError:
            out.append(f"invalid address {addr!r} in {where}")
    return out


def relations_report(
    cfg: ConfigSnapshot, user: str, administration: str | None = None
) -> RelationsReport:
    """Per relation: opt-ins, who receives each opted-in document type, and problems."""
    from mailing.resolve import Resolver

    problems: list[str] = []
    if administration is not None and administration not in cfg.administrations:
        raise ReportError(
            f"Administration {administration!r} does not exist.",
            field="administration",
            value=administration,
            fix="give an existing administration code, or leave it out for all.",
        )
    resolver = Resolver(_resolver_config(cfg, problems))
    today = dt.date.today()
    entries: list[RelationEntry] = []
    for (admin, code), rel in sorted(cfg.relations.items()):
        if administration is not None and admin != administration:
            continue
        entry = RelationEntry(
            administration=admin,
            code=code,
            name=rel.name,
            kind=rel.kind,
            language=rel.language,
            opt_in=list(rel.opt_in),
        )
        own: list[str] = []
        printed: list[str] = []
        lc = cfg.language_codes.get((admin, rel.language))
        if lc is None:
            own.append(
                f"language code {rel.language!r} does not exist in administration {admin}, "
                "so no template goes with its documents"
            )
        if admin not in cfg.administrations:
            own.append(f"administration {admin} does not exist")
        if rel.invoice_debtor and (admin, rel.invoice_debtor) not in cfg.relations:
            own.append(f"invoice debtor {rel.invoice_debtor!r} does not exist")
        for doc_type in rel.opt_in:
            if rel.kind == "customer" and doc_type in SUPPLIER_DOC_TYPES:
                own.append(f"a customer opted in to {doc_type}, which goes to suppliers")
            elif rel.kind == "supplier" and doc_type not in SUPPLIER_DOC_TYPES:
                own.append(f"a supplier opted in to {doc_type}, which goes to customers")
            doc = Document(
                administration=admin,
                type=doc_type,
                number="CHECK",
                relation=code,
                date=today,
            )
            try:
                res = resolver.resolve(doc, user)
            except ConfigError as exc:  # e.g. a profile on the way has an invalid sender
                entry.lines.append(
                    RecipientLine(doc_type=doc_type, action="error", reason=exc.message)
                )
                own.append(f"{doc_type} cannot be mailed: {exc.message}")
                continue
            line = RecipientLine(
                doc_type=doc_type,
                action=res.action,
                to=list(res.recipients.to),
                cc=list(res.recipients.cc),
                bcc=list(res.recipients.bcc),
                rule=res.recipients.rule,
                sender=f"{res.sender.profile} ({res.sender.level})",
                template=res.template,
                reason=res.reason,
            )
            entry.lines.append(line)
            if res.action == "print":
                printed.append(doc_type)
            if lc is not None:
                tcode = lc.templates.get(doc_type)
                if not tcode:
                    own.append(
                        f"language code {lc.code} assigns no template to {doc_type}: "
                        "it cannot be mailed until one is assigned"
                    )
                elif tcode not in cfg.templates:
                    own.append(f"template {tcode!r} for {doc_type} does not exist")
        if printed:
            own.insert(
                0,
                f"opted in to {', '.join(printed)} but has no usable e-mail address: "
                f"{'these go' if len(printed) > 1 else 'it goes'} to print",
            )
        own += _address_problems(rel)
        entry.problems = list(dict.fromkeys(own))
        entries.append(entry)
    return RelationsReport(
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        administration=administration,
        entries=entries,
        problems=problems,
    )
