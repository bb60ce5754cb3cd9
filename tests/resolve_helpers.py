"""Small configurations built from real records, for the resolution tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mailing.config import ConfigSnapshot
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
