"""Small configurations built from real records, for the resolution tests; a table case
(:class:`Case`) and its check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from mailing.config import ConfigSnapshot
from mailing.resolve import Resolution, resolve_document
from store.records import (
    Administration,
    Document,
    LanguageCode,
    Profile,
    Relation,
    SystemSettings,
    Template,
    User,
)

PROFILES = {
    "SYS": Profile(code="SYS", system="smtp", sender="system@office.example", sender_name="Office"),
    "ADM": Profile(code="ADM", system="smtp", sender="admin@acme.example", sender_name="Acme"),
    "PERS": Profile(code="PERS", system="smtp", sender="jan@office.example"),
    "TPL": Profile(code="TPL", system="smtp", sender="invoices@acme.example"),
    "OUT": Profile(code="OUT", system="outbox", sender="outbox@office.example"),
    "COPY": Profile(
        code="COPY",
        system="smtp",
        sender="sales@acme.example",
        bcc="archive@acme.example",
        reply_to="reply@acme.example",
    ),
}


def template_for(doctype: str, sales_invoice_code: str = "T_INV") -> str:
    """The template the helper's language code NL assigns to ``doctype``."""
    return sales_invoice_code if doctype == "sales_invoice" else f"T_{doctype.upper()}"


def make_cfg(
    *,
    system: str | None = "SYS",
    admin_profile: str | None = None,
    user_profile: str | None = None,
    user_exists: bool = True,
    template_profile: str | None = None,
    template_code: str | None = "T_INV",
    template_exists: bool = True,
    language: str = "NL",
    relations: list[dict[str, Any]] | None = None,
    profiles: dict[str, Profile] | None = None,
) -> ConfigSnapshot:
    """One administration A1 with language code NL; the relations given (default C1)."""
    templates = {}
    lc_templates: dict[str, str] = {}
    if template_code is not None:
        for doctype in ("sales_invoice", "order_confirmation", "reminder", "purchase_order"):
            code = template_for(doctype, template_code)
            lc_templates[doctype] = code
            if template_exists:
                templates[code] = Template.parse(
                    {"code": code, "object": doctype, "profile": template_profile}
                )
    rels = relations if relations is not None else [{"code": "C1"}]
    relation_records = {}
    for r in rels:
        data = {"administration": "A1", "name": r["code"], "language": language, **r}
        rec = Relation.parse(data)
        relation_records[("A1", rec.code)] = rec
    users = {}
    if user_exists:
        users["jan"] = User(name="jan", profile=user_profile)
    return ConfigSnapshot(
        system=SystemSettings(profile=system),
        administrations={"A1": Administration(code="A1", name="Acme", profile=admin_profile)},
        profiles=dict(profiles if profiles is not None else PROFILES),
        users=users,
        templates=templates,
        language_codes={
            ("A1", "NL"): LanguageCode(administration="A1", code="NL", templates=lc_templates)
        },
        relations=relation_records,
    )


def make_doc(
    doctype: str = "sales_invoice", number: str = "F1", relation: str = "C1", **kw: Any
) -> Document:
    return Document.parse(
        {
            "administration": "A1",
            "type": doctype,
            "number": number,
            "relation": relation,
            "date": dt.date(2025, 1, 15),
            **kw,
        }
    )


ALL_IN = ["sales_invoice", "order_confirmation", "reminder", "purchase_order", "packing_slip"]
BIZ = ["info@c1.example"]


@dataclass
class Case:
    """One row of a resolution table: a configuration, a document, what must come out."""

    cfg: dict[str, Any]
    doc: dict[str, Any]
    level: str
    profile: str
    rule: str
    action: str = "email"
    reason: str | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    template: str | None = "auto"  # the helper's template for the type
    warnings: list[str] = field(default_factory=list)  # substrings, each in some warning


def rel(**kw: Any) -> dict[str, Any]:
    """Relation C1, opted in to everything, with a business e-mail; ``kw`` changes it."""
    base: dict[str, Any] = {"code": "C1", "opt_in": ALL_IN, "business_email": "info@c1.example"}
    base.update(kw)
    return base


BIZ = ["info@c1.example"]


def run_case(case: Case) -> Resolution:
    """Resolve the case's document against the case's configuration, for user jan."""
    cfg_kw = dict(case.cfg)
    cfg_kw.setdefault("relations", [rel()])
    cfg = make_cfg(**cfg_kw)
    return resolve_document(cfg, make_doc(**case.doc), "jan")


def check_case(case: Case) -> None:
    """The case's configuration resolved: sender, recipients, template, warnings, trace."""
    r = run_case(case)
    assert (r.sender.level, r.sender.profile) == (case.level, case.profile)
    assert r.recipients.rule == case.rule
    assert (r.action, r.reason) == (case.action, case.reason)
    assert r.recipients.to == case.to
    assert r.recipients.cc == case.cc
    assert r.recipients.bcc == case.bcc
    assert r.recipients.reply_to == case.reply_to
    expected_template = case.template
    if expected_template == "auto":
        expected_template = template_for(case.doc.get("doctype", "sales_invoice"))
    assert r.template == expected_template
    for expected in case.warnings:
        assert any(expected in w for w in r.warnings), (expected, r.warnings)
    if not case.warnings:
        assert r.warnings == []
    # The trace names the deciding sender level and, for e-mail, the deciding rule.
    decided = [s.rule for s in r.trace if s.decided]
    assert f"sender.{case.level}" in decided
    if r.action == "email":
        assert f"recipients.{case.rule}" in decided
    else:
        # Print is never silent: a warning and a deciding step say why.
        assert r.warnings
        assert decided[-1].startswith("recipients.")
