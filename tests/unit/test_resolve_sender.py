"""SPEC §5, who sends: every branch of the sender hierarchy, one small configuration each;
the sender of reports and hand-written mail; a sender that cannot be used."""

from __future__ import annotations

from typing import Any

import pytest

from mailing.errors import ConfigError
from mailing.resolve import resolve_all, resolve_document, resolve_sender_for_object
from store.records import Profile
from tests.resolve_helpers import BIZ, PROFILES, Case, check_case, make_cfg, make_doc

CASES: dict[str, Case] = {
    # ---- SPEC §5: the sender hierarchy, most specific first
    "5.1 template profile wins over all": Case(
        cfg={"template_profile": "TPL", "admin_profile": "ADM", "user_profile": "PERS"},
        doc={},
        level="template",
        profile="TPL",
        rule="business_email",
        to=BIZ,
    ),
    "5.2 template without profile: administration": Case(
        cfg={"admin_profile": "ADM", "user_profile": "PERS"},
        doc={},
        level="administration",
        profile="ADM",
        rule="business_email",
        to=BIZ,
    ),
    "5.3 no template or administration profile: personal": Case(
        cfg={"user_profile": "PERS"},
        doc={},
        level="personal",
        profile="PERS",
        rule="business_email",
        to=BIZ,
    ),
    "5.4 nothing else: system": Case(
        cfg={},
        doc={},
        level="system",
        profile="SYS",
        rule="business_email",
        to=BIZ,
    ),
    "5.4 user without personal settings: system": Case(
        cfg={"user_exists": False},
        doc={},
        level="system",
        profile="SYS",
        rule="business_email",
        to=BIZ,
    ),
    "5 template profile does not exist: warned, administration": Case(
        cfg={"template_profile": "GONE", "admin_profile": "ADM"},
        doc={},
        level="administration",
        profile="ADM",
        rule="business_email",
        to=BIZ,
        warnings=["'GONE' of template T_INV does not exist"],
    ),
    "5 administration profile does not exist: warned, personal": Case(
        cfg={"admin_profile": "GONE", "user_profile": "PERS"},
        doc={},
        level="personal",
        profile="PERS",
        rule="business_email",
        to=BIZ,
        warnings=["'GONE' of administration A1 does not exist"],
    ),
    "5 personal profile of another system: warned, system": Case(
        cfg={"user_profile": "OUT"},
        doc={},
        level="system",
        profile="SYS",
        rule="business_email",
        to=BIZ,
        warnings=["must be of the same system"],
    ),
    "5 no template assigned to the type: warned, no template": Case(
        cfg={"template_code": None, "admin_profile": "ADM"},
        doc={},
        level="administration",
        profile="ADM",
        rule="business_email",
        to=BIZ,
        template=None,
        warnings=["assigns no template to sales_invoice"],
    ),
    "5 assigned template does not exist: warned, no template": Case(
        cfg={"template_exists": False, "template_profile": "TPL"},
        doc={},
        level="system",
        profile="SYS",
        rule="business_email",
        to=BIZ,
        template=None,
        warnings=["assigns template 'T_INV' to sales_invoice, which does not exist"],
    ),
    "5 template for another object: warned, still used": Case(
        cfg={"template_code": "T_REMINDER", "template_profile": "TPL"},
        doc={},
        level="template",
        profile="TPL",
        rule="business_email",
        to=BIZ,
        template="T_REMINDER",
        warnings=["Template T_REMINDER is for reminder"],
    ),
    "5 relation's language code does not exist: warned, no template": Case(
        cfg={"language": "DE", "template_profile": "TPL"},
        doc={},
        level="system",
        profile="SYS",
        rule="business_email",
        to=BIZ,
        template=None,
        warnings=["language code 'DE', which does not exist"],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_sender_branch(name: str) -> None:
    check_case(CASES[name])


def test_every_sender_level_is_covered_by_the_table() -> None:
    from mailing.resolve import LEVELS

    assert {c.level for c in CASES.values()} == set(LEVELS)


def test_missing_system_profile_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as exc:
        resolve_document(make_cfg(system=None, admin_profile="ADM"), make_doc(), "jan")
    assert exc.value.field == "system profile"
    assert "must always exist" in str(exc.value)
    with pytest.raises(ConfigError) as exc:
        resolve_all(make_cfg(system="GONE"), [make_doc()], "jan")
    assert exc.value.value == "GONE"


def test_invalid_sender_address_of_the_chosen_profile_is_a_config_error() -> None:
    profiles = {**PROFILES, "ADM": Profile(code="ADM", sender="acme at example")}
    with pytest.raises(ConfigError) as exc:
        resolve_document(make_cfg(admin_profile="ADM", profiles=profiles), make_doc(), "jan")
    assert exc.value.field == "sender (From) of profile ADM"
    assert exc.value.value == "acme at example"


@pytest.mark.parametrize(
    ("obj", "cfg", "level", "profile"),
    [
        ("report", {"admin_profile": "ADM", "user_profile": "PERS"}, "personal", "PERS"),
        ("manual", {"admin_profile": "ADM", "user_profile": None}, "administration", "ADM"),
        ("backup", {"admin_profile": "ADM", "user_profile": "OUT"}, "administration", "ADM"),
        ("manual", {"template_profile": "TPL"}, "system", "SYS"),
    ],
)
def test_reports_and_handwritten_mail_start_with_personal(
    obj: str, cfg: dict[str, Any], level: str, profile: str
) -> None:
    choice, trace = resolve_sender_for_object(make_cfg(**cfg), obj, "jan", "A1")
    assert (choice.level, choice.profile) == (level, profile)
    levels = [s.rule for s in trace if s.rule.startswith("sender.") and s.rule != "sender.template"]
    order = ["sender.personal", "sender.administration", "sender.system"]
    assert levels == order[: order.index(f"sender.{level}") + 1]
    assert [s.rule for s in trace if s.decided] == [f"sender.{level}"]
    if cfg.get("user_profile") == "OUT":
        assert any(s.rule == "warning" and "same system" in s.found for s in trace)


def test_object_sender_without_administration_skips_that_level() -> None:
    choice, trace = resolve_sender_for_object(make_cfg(admin_profile="ADM"), "report", "jan", None)
    assert choice.level == "system"
    assert any(s.found == "no administration given" for s in trace)
