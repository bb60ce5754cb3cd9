"""SPEC §6, who receives: every branch of the recipient rules, one small configuration
each; the profile's Bcc; a resolution as JSON and for a whole batch."""

from __future__ import annotations

import pytest

from mailing.resolve import Resolution, resolve_all, resolve_document
from store.records import Profile
from tests.resolve_helpers import (
    BIZ,
    PROFILES,
    Case,
    check_case,
    make_cfg,
    make_doc,
    rel,
    run_case,
)

CASES: dict[str, Case] = {
    # ---- SPEC §6.1: opt-in
    "6.1 not opted in: print": Case(
        cfg={"relations": [rel(opt_in=["reminder"])]},
        doc={},
        level="system",
        profile="SYS",
        rule="none",
        action="print",
        reason="not_opted_in",
        warnings=["has not opted in to receive sales_invoice"],
    ),
    # ---- SPEC §6.2: order override replaces everything
    "6.2 order override replaces per-type addresses": Case(
        cfg={
            "relations": [
                rel(email_addresses={"order_confirmation": {"to": ["orders@c1.example"]}})
            ]
        },
        doc={
            "doctype": "order_confirmation",
            "order_override": {"to": ["buyer@c1.example"], "cc": ["boss@c1.example"]},
        },
        level="system",
        profile="SYS",
        rule="order_override",
        to=["buyer@c1.example"],
        cc=["boss@c1.example"],
    ),
    "6.2 purchase order override": Case(
        cfg={"relations": [rel(kind="supplier")]},
        doc={"doctype": "purchase_order", "order_override": {"to": ["sales@sup.example"]}},
        level="system",
        profile="SYS",
        rule="order_override",
        to=["sales@sup.example"],
    ),
    "6.2 order override with only invalid addresses: print, not a fall-back": Case(
        cfg={},
        doc={"doctype": "order_confirmation", "order_override": {"to": ["not an address"]}},
        level="system",
        profile="SYS",
        rule="order_override",
        action="print",
        reason="no_address",
        warnings=["order override of order_confirmation F1 To 'not an address'"],
    ),
    "6.2 empty order override: per-type": Case(
        cfg={
            "relations": [
                rel(email_addresses={"order_confirmation": {"to": ["orders@c1.example"]}})
            ]
        },
        doc={"doctype": "order_confirmation", "order_override": {}},
        level="system",
        profile="SYS",
        rule="per_type",
        to=["orders@c1.example"],
    ),
    # ---- SPEC §6.3: per document type
    "6.3 per-type To, Cc and Bcc": Case(
        cfg={
            "relations": [
                rel(
                    email_addresses={
                        "sales_invoice": {
                            "to": ["ap@c1.example"],
                            "cc": ["cfo@c1.example"],
                            "bcc": ["audit@c1.example"],
                        },
                        "reminder": {"to": ["wrong-type@c1.example"]},
                    },
                    contacts=[{"name": "Piet", "email": "piet@c1.example", "roles": ["main"]}],
                )
            ]
        },
        doc={},
        level="system",
        profile="SYS",
        rule="per_type",
        to=["ap@c1.example"],
        cc=["cfo@c1.example"],
        bcc=["audit@c1.example"],
    ),
    "6.3 per-type To invalid: print with the field named": Case(
        cfg={"relations": [rel(email_addresses={"sales_invoice": {"to": ["ap@@c1"]}})]},
        doc={},
        level="system",
        profile="SYS",
        rule="per_type",
        action="print",
        reason="no_address",
        warnings=["relation C1 per-type To for sales_invoice 'ap@@c1'", "no valid To or Cc"],
    ),
    "6.3 per-type To invalid, Cc valid: the Cc becomes the To": Case(
        cfg={
            "relations": [
                rel(email_addresses={"sales_invoice": {"to": ["ap@@c1"], "cc": ["cfo@c1.example"]}})
            ]
        },
        doc={},
        level="system",
        profile="SYS",
        rule="per_type",
        to=["cfo@c1.example"],
        warnings=[
            "per-type To for sales_invoice 'ap@@c1'",
            "the Cc (cfo@c1.example) is used as To",
        ],
    ),
    "6.2 order override with only a Bcc: print": Case(
        cfg={},
        doc={"doctype": "order_confirmation", "order_override": {"bcc": ["boss@c1.example"]}},
        level="system",
        profile="SYS",
        rule="order_override",
        action="print",
        reason="no_address",
        warnings=["a Bcc is never used alone"],
    ),
    "6.3 per-type with a valid and an invalid To: the valid one": Case(
        cfg={
            "relations": [
                rel(email_addresses={"sales_invoice": {"to": ["x y@c1", "ap@c1.example"]}})
            ]
        },
        doc={},
        level="system",
        profile="SYS",
        rule="per_type",
        to=["ap@c1.example"],
        warnings=["per-type To for sales_invoice 'x y@c1'"],
    ),
    # ---- SPEC §6.4: fall-backs
    "6.4.1 sales invoice: contact of the document's invoice debtor": Case(
        cfg={
            "relations": [
                rel(
                    invoice_debtor="C2",
                    contacts=[
                        {"name": "Adm", "email": "adm@c1.example", "roles": ["administration"]}
                    ],
                ),
                {
                    "code": "C2",
                    "contacts": [{"name": "Els", "email": "els@c2.example", "roles": ["invoice"]}],
                },
                {
                    "code": "C3",
                    "contacts": [{"name": "Kim", "email": "kim@c3.example", "roles": ["invoice"]}],
                },
            ]
        },
        doc={"invoice_debtor": "C3"},
        level="system",
        profile="SYS",
        rule="invoice_debtor_contact",
        to=["kim@c3.example"],
    ),
    "6.4.1 sales invoice: contact of the relation's invoice debtor": Case(
        cfg={
            "relations": [
                rel(invoice_debtor="C2"),
                {
                    "code": "C2",
                    "contacts": [{"name": "Els", "email": "els@c2.example", "roles": ["invoice"]}],
                },
            ]
        },
        doc={},
        level="system",
        profile="SYS",
        rule="invoice_debtor_contact",
        to=["els@c2.example"],
    ),
    "6.4.1 sales invoice: the relation's own invoice contact": Case(
        cfg={
            "relations": [
                rel(contacts=[{"name": "Els", "email": "els@c1.example", "roles": ["invoice"]}])
            ]
        },
        doc={},
        level="system",
        profile="SYS",
        rule="invoice_debtor_contact",
        to=["els@c1.example"],
    ),
    "6.4.1 invoice debtor does not exist: warned, next fall-back": Case(
        cfg={"relations": [rel(invoice_debtor="NOPE")]},
        doc={},
        level="system",
        profile="SYS",
        rule="business_email",
        to=BIZ,
        warnings=["invoice debtor NOPE"],
    ),
    "6.4.2 not an invoice: invoice contact ignored, administration contact": Case(
        cfg={
            "relations": [
                rel(
                    contacts=[
                        {"name": "Els", "email": "els@c1.example", "roles": ["invoice"]},
                        {"name": "Adm", "email": "adm@c1.example", "roles": ["administration"]},
                        {"name": "Main", "email": "main@c1.example", "roles": ["main"]},
                    ]
                )
            ]
        },
        doc={"doctype": "reminder"},
        level="system",
        profile="SYS",
        rule="administration_contact",
        to=["adm@c1.example"],
    ),
    "6.4.2 administration contact invalid: warned, main contact": Case(
        cfg={
            "relations": [
                rel(
                    contacts=[
                        {"name": "Jan", "email": "jan at c1", "roles": ["administration"]},
                        {"name": "Main", "email": "main@c1.example", "roles": ["main"]},
                    ]
                )
            ]
        },
        doc={"doctype": "reminder"},
        level="system",
        profile="SYS",
        rule="main_contact",
        to=["main@c1.example"],
        warnings=["contact 'Jan' (administration contact) of relation C1 'jan at c1'"],
    ),
    "6.4.3 main contact": Case(
        cfg={
            "relations": [
                rel(
                    contacts=[
                        {"name": "NoMail", "email": "", "roles": ["administration"]},
                        {"name": "Main", "email": "main@c1.example", "roles": ["main"]},
                    ]
                )
            ]
        },
        doc={},
        level="system",
        profile="SYS",
        rule="main_contact",
        to=["main@c1.example"],
    ),
    "6.4.4 business e-mail": Case(
        cfg={"relations": [rel(email_addresses={"sales_invoice": {}})]},
        doc={},
        level="system",
        profile="SYS",
        rule="business_email",
        to=BIZ,
    ),
    # ---- SPEC §6.5: nothing found
    "6.5 no address anywhere: print": Case(
        cfg={"relations": [rel(business_email="")]},
        doc={},
        level="system",
        profile="SYS",
        rule="none",
        action="print",
        reason="no_address",
        warnings=["No usable e-mail address"],
    ),
    "6.5 relation does not exist: print": Case(
        cfg={"template_profile": "TPL"},
        doc={"relation": "GHOST"},
        level="system",
        profile="SYS",
        rule="none",
        action="print",
        reason="no_address",
        template=None,
        warnings=["Relation GHOST of sales_invoice F1 does not exist"],
    ),
    # ---- profile Bcc and Reply-To, and duplicates
    "6 profile Bcc and Reply-To added, duplicates removed case-insensitively": Case(
        cfg={
            "template_profile": "COPY",
            "relations": [
                rel(
                    email_addresses={
                        "sales_invoice": {
                            "to": ["AP@c1.example", "ap@c1.example"],
                            "cc": ["ap@C1.example", "cfo@c1.example"],
                            "bcc": ["CFO@c1.example", "Archive@acme.example"],
                        }
                    }
                )
            ],
        },
        doc={},
        level="template",
        profile="COPY",
        rule="per_type",
        to=["AP@c1.example"],
        cc=["cfo@c1.example"],
        bcc=["Archive@acme.example"],
        reply_to=["reply@acme.example"],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_recipient_branch(name: str) -> None:
    check_case(CASES[name])


def test_every_recipient_rule_is_covered_by_the_table() -> None:
    from mailing.resolve import RULES

    assert {c.rule for c in CASES.values()} == set(RULES)


def test_invalid_profile_bcc_is_warned_and_skipped() -> None:
    profiles = {**PROFILES, "SYS": Profile(code="SYS", sender="s@office.example", bcc="copy@")}
    r = resolve_document(make_cfg(profiles=profiles, relations=[rel()]), make_doc(), "jan")
    assert r.action == "email" and r.recipients.bcc == []
    assert any("Bcc of profile SYS 'copy@'" in w for w in r.warnings)


def test_json_round_trip_keeps_everything() -> None:
    case = CASES["6 profile Bcc and Reply-To added, duplicates removed case-insensitively"]
    r = run_case(case)
    data = r.to_json()
    assert set(data) == {
        "document",
        "action",
        "reason",
        "sender",
        "recipients",
        "template",
        "warnings",
        "trace",
    }
    assert data["document"] == {
        "type": "sales_invoice",
        "number": "F1",
        "administration": "A1",
        "relation": "C1",
    }
    assert set(data["sender"]) == {"profile", "address", "name", "level"}
    assert set(data["recipients"]) == {"to", "cc", "bcc", "reply_to", "rule", "names"}
    assert set(data["trace"][0]) == {"rule", "looked_at", "found", "decided"}
    assert Resolution.from_json(data) == r
    import json

    assert Resolution.from_json(json.loads(json.dumps(data))).to_json() == data


def test_resolve_all_matches_resolve_document_one_by_one() -> None:
    relations = [
        rel(),
        rel(code="C2", opt_in=[]),
        rel(
            code="C3",
            contacts=[{"name": "A", "email": "a@c3.example", "roles": ["main"]}],
            business_email="",
        ),
    ]
    cfg = make_cfg(relations=relations, template_profile="COPY")
    docs = [make_doc(number=f"F{i}", relation=f"C{1 + i % 3}") for i in range(9)]
    batch = resolve_all(cfg, docs, "jan")
    assert [r.to_json() for r in batch] == [resolve_document(cfg, d, "jan").to_json() for d in docs]
    # Caching must not leak one document's warnings or steps into another's.
    assert batch[0].warnings == [] and batch[1].reason == "not_opted_in"
    assert len(batch[0].trace) == len(batch[3].trace)
