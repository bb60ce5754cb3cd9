"""`mailroom resolve`: one document or all, as text and as JSON, against a real data folder."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from store.records import Record
from store.store import Store
from tests.conftest import PYTHON, ROOT, cli_env
from tests.resolve_helpers import make_cfg, make_doc
from tui.cli import main


def _fill(home: Path) -> None:
    cfg = make_cfg(
        template_profile="TPL",
        user_profile="PERS",
        relations=[
            {
                "code": "C1",
                "opt_in": ["sales_invoice", "reminder"],
                "email_addresses": {"sales_invoice": {"to": ["ap@c1.example"]}},
            },
            {"code": "C2", "opt_in": [], "business_email": "info@c2.example"},
            {"code": "C3", "opt_in": ["sales_invoice"], "business_email": "info@c3.example"},
        ],
    )
    records: list[Record] = [
        cfg.system,
        *cfg.administrations.values(),
        *cfg.profiles.values(),
        *cfg.users.values(),
        *cfg.templates.values(),
        *cfg.language_codes.values(),
        *cfg.relations.values(),
        make_doc(number="F1", relation="C1"),
        make_doc(number="F2", relation="C2"),
        make_doc(number="F3", relation="C3"),
        make_doc(doctype="packing_slip", number="P1", relation="C1"),
    ]
    Store(home, "jan").put_many(records)
    from mailing.identity import mark_demo

    mark_demo(home)  # jan and piet are names, not logins: a demo folder allows them


def _run(capsys: pytest.CaptureFixture[str], home: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), "--user", "jan", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_resolve_one_document_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(tmp_path)
    code, out, _ = _run(capsys, tmp_path, "resolve", "sales_invoice", "F1", "--json")
    assert code == 0
    data: dict[str, Any] = json.loads(out)
    assert data["document"] == {
        "type": "sales_invoice",
        "number": "F1",
        "administration": "A1",
        "relation": "C1",
    }
    assert data["action"] == "email" and data["reason"] is None
    assert data["sender"] == {
        "profile": "TPL",
        "address": "invoices@acme.example",
        "name": "",
        "level": "template",
    }
    assert data["recipients"]["to"] == ["ap@c1.example"]
    assert data["recipients"]["rule"] == "per_type"
    assert data["template"] == "T_INV"
    assert data["warnings"] == []
    assert any(s["decided"] and s["rule"] == "recipients.per_type" for s in data["trace"])


def test_resolve_as_another_user_and_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(tmp_path)
    # packing slips have no template in the language code: personal profile of jan ...
    code, out, _ = _run(capsys, tmp_path, "resolve", "packing_slip", "P1", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["sender"]["level"] == "personal"
    assert data["action"] == "print" and data["reason"] == "not_opted_in"
    # ... but a user without personal settings gets the system profile.
    code, out, _ = _run(
        capsys, tmp_path, "resolve", "packing_slip", "P1", "--admin", "A1", "--user", "piet"
    )
    assert code == 0
    assert "profile SYS (the system profile)" in out
    assert "to print (not opted in to e-mail)" in out
    assert "assigns no template to packing slip" in out
    assert "not_opted_in" not in out and "packing_slip" not in out


def test_resolve_all_of_a_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(tmp_path)
    code, out, _ = _run(capsys, tmp_path, "resolve", "--all", "--type", "sales_invoice", "--json")
    assert code == 0
    data = json.loads(out)
    assert [d["document"]["number"] for d in data] == ["F1", "F2", "F3"]
    assert [(d["action"], d["reason"], d["recipients"]["rule"]) for d in data] == [
        ("email", None, "per_type"),
        ("print", "not_opted_in", "none"),
        ("email", None, "business_email"),
    ]
    code, out, _ = _run(capsys, tmp_path, "resolve", "--all")
    assert code == 0
    assert "4 document(s)" in out and "PRINT  (not_opted_in)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["resolve", "sales_invoice", "F9"], "There is no sales_invoice F9"),
        (["resolve", "invoice", "F1"], "'invoice' is not a document type"),
        (["resolve"], "Say which document"),
        (["resolve", "--all", "--type", "nope"], "'nope' is not a document type"),
    ],
)
def test_user_errors_are_messages_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    _fill(tmp_path)
    code, out, err = _run(capsys, tmp_path, *argv)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_missing_system_profile_is_reported_as_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(tmp_path)
    from store.records import SystemSettings

    Store(tmp_path, "jan").put(SystemSettings(profile=None))
    code, _, err = _run(capsys, tmp_path, "resolve", "sales_invoice", "F1")
    assert code == 2
    assert "No system profile is set" in err and "Fix:" in err


def test_resolve_in_a_subprocess(tmp_path: Path) -> None:
    _fill(tmp_path)
    proc = subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(tmp_path), "resolve", "sales_invoice", "F3", "--json"],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["recipients"]["to"] == ["info@c3.example"]
    assert data["sender"]["profile"] == "TPL"


def test_same_number_in_two_administrations_needs_admin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(tmp_path)
    other = make_doc(number="F1", relation="C1").model_copy(update={"administration": "B2"})
    Store(tmp_path, "jan").put(other)
    code, _, err = _run(capsys, tmp_path, "resolve", "sales_invoice", "F1")
    assert code == 2 and "several administrations (A1, B2)" in err and "--admin" in err
    code, out, _ = _run(
        capsys, tmp_path, "resolve", "sales_invoice", "F1", "--admin", "B2", "--json"
    )
    assert code == 0
    data = json.loads(out)
    # B2 has no relation C1: print, and the warning says why.
    assert (data["action"], data["reason"]) == ("print", "no_address")
    assert any("does not exist in administration B2" in w for w in data["warnings"])


def test_benchmark_prints_resolve_against_load(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            PYTHON,
            str(ROOT / "benchmarks" / "resolve.py"),
            "--documents",
            "400",
            "--relations",
            "400",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr  # 1: ratio over target
    out = proc.stdout
    assert "ratio resolve/load:" in out
    for name in (
        "per_type",
        "invoice_debtor_contact",
        "administration_contact",
        "main_contact",
        "business_email",
        "none",
    ):
        assert name in out
