"""Property tests: any configuration resolves to e-mail to someone valid, or print with a reason."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailing.addresses import check_address
from mailing.config import ConfigSnapshot
from mailing.errors import AddressError
from mailing.resolve import LEVELS, RULES, Resolution, resolve_all
from store.records import (
    DOC_TYPES,
    ORDER_DOC_TYPES,
    Administration,
    Document,
    LanguageCode,
    Profile,
    Relation,
    SystemSettings,
    Template,
    User,
)

VALID = [
    "ap@c1.example",
    "AP@c1.example",
    "ap@C1.EXAMPLE",
    "info@c2.example",
    "els@c2.example",
    "copy@acme.example",
    "Copy@Acme.example",
    "reply@acme.example",
    "jörg@bücher.example",
]
INVALID = ["", "   ", "ap", "a b@c1.example", "ap@", "@c1.example", "ap@@c1.example", "x@y..z"]
addresses = st.sampled_from(VALID + INVALID)
address_lists = st.lists(addresses, max_size=3)
PROFILE_CODES = ["P1", "P2", "P3", "P4"]
maybe_profile = st.sampled_from([None, "GONE", *PROFILE_CODES])


@st.composite
def profiles(draw: st.DrawFn) -> dict[str, Profile]:
    out = {}
    for i, code in enumerate(PROFILE_CODES):
        out[code] = Profile(
            code=code,
            system=draw(st.sampled_from(["smtp", "outbox"])),
            sender=f"sender{i}@office.example",
            bcc=", ".join(draw(st.lists(addresses, max_size=2))),
            reply_to=draw(addresses),
        )
    return out


@st.composite
def relations(draw: st.DrawFn, code: str) -> Relation:
    per_type = {}
    for doctype in draw(st.lists(st.sampled_from(DOC_TYPES), max_size=3, unique=True)):
        per_type[doctype] = {
            "to": draw(address_lists),
            "cc": draw(address_lists),
            "bcc": draw(address_lists),
        }
    contacts = [
        {
            "name": f"contact{i}",
            "email": draw(addresses),
            "roles": draw(
                st.lists(st.sampled_from(["main", "administration", "invoice"]), unique=True)
            ),
        }
        for i in range(draw(st.integers(0, 3)))
    ]
    return Relation.parse(
        {
            "administration": "A1",
            "code": code,
            "name": code,
            "language": draw(st.sampled_from(["NL", "EN", "XX"])),
            "business_email": draw(addresses),
            "opt_in": draw(st.lists(st.sampled_from(DOC_TYPES), unique=True)),
            "email_addresses": per_type,
            "contacts": contacts,
            "invoice_debtor": draw(st.sampled_from([None, "R1", "R2", "MISSING"])),
        }
    )


@st.composite
def configurations(draw: st.DrawFn) -> tuple[ConfigSnapshot, list[Document], str]:
    profs = draw(profiles())
    templates: dict[str, Template] = {}
    lcs: dict[tuple[str, str], LanguageCode] = {}
    for lang in ("NL", "EN"):
        assigned: dict[str, str] = {}
        for doctype in DOC_TYPES:
            choice = draw(st.sampled_from(["none", "missing", "ok"]))
            if choice == "none":
                continue
            code = f"{lang}_{doctype}"
            assigned[doctype] = code
            if choice == "ok":
                templates[code] = Template.parse(
                    {"code": code, "object": doctype, "profile": draw(maybe_profile)}
                )
        lcs[("A1", lang)] = LanguageCode.parse(
            {"administration": "A1", "code": lang, "templates": assigned}
        )
    rels = {("A1", c): draw(relations(c)) for c in ("R1", "R2", "R3")}
    users = {}
    if draw(st.booleans()):
        users["jan"] = User(name="jan", profile=draw(maybe_profile))
    cfg = ConfigSnapshot(
        system=SystemSettings(profile=draw(st.sampled_from(PROFILE_CODES))),
        administrations={"A1": Administration(code="A1", name="A", profile=draw(maybe_profile))},
        profiles=profs,
        users=users,
        templates=templates,
        language_codes=lcs,
        relations=rels,
    )
    docs = []
    for i in range(draw(st.integers(1, 4))):
        doctype = draw(st.sampled_from(DOC_TYPES))
        data: dict[str, Any] = {
            "administration": "A1",
            "type": doctype,
            "number": f"D{i}",
            "relation": draw(st.sampled_from(["R1", "R2", "R3", "GHOST"])),
            "invoice_debtor": draw(st.sampled_from([None, "R1", "R3", "MISSING"])),
            "date": dt.date(2025, 1, 1),
        }
        if doctype in ORDER_DOC_TYPES and draw(st.booleans()):
            data["order_override"] = {
                "to": draw(address_lists),
                "cc": draw(address_lists),
                "bcc": draw(address_lists),
            }
        docs.append(Document.parse(data))
    return cfg, docs, "jan"


def _valid(addr: str) -> bool:
    try:
        check_address(addr, "test")
    except AddressError:
        return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configurations())
def test_email_to_someone_valid_or_print_with_a_reason(
    case: tuple[ConfigSnapshot, list[Document], str],
) -> None:
    cfg, docs, user = case
    for r in resolve_all(cfg, docs, user):
        rec = r.recipients
        if r.action == "email":
            assert r.reason is None
            assert rec.to, "e-mail without a To address"
            assert rec.rule in RULES and rec.rule != "none"
        else:
            assert r.action == "print"
            assert r.reason in ("not_opted_in", "no_address")
            assert rec.to == rec.cc == rec.bcc == rec.reply_to == []
            assert r.warnings, "print must never be silent"
        every = rec.to + rec.cc + rec.bcc
        assert all(_valid(a) for a in every + rec.reply_to)
        assert len({a.lower() for a in every}) == len(every), "an address appears twice"
        assert len({a.lower() for a in rec.reply_to}) == len(rec.reply_to)
        # The sender is always a configured profile, with its own From address.
        assert r.sender.profile in cfg.profiles
        assert r.sender.address == check_address(cfg.profiles[r.sender.profile].sender, "x")
        assert r.sender.level in LEVELS
        sender_steps = [s for s in r.trace if s.rule.startswith("sender.") and s.decided]
        assert [s.rule for s in sender_steps] == [f"sender.{r.sender.level}"]
        if r.template is not None:
            assert r.template in cfg.templates
        assert Resolution.from_json(json.loads(json.dumps(r.to_json()))) == r
