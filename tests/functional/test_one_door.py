"""One door for every change: the same bad values are refused at every entry — a form's
save (the door the TUI calls), the command line, `config import` — each naming the
field, and nothing in the data folder changes (its bytes are compared)."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mailing.changes import (
    ChangeRefused,
    export_config_json,
    import_config,
    save_record,
    save_settings,
    update_profile,
)
from store.records import Profile, Relation, Template, User
from store.store import Store
from tests.functional.tui.helpers import seed
from tui.cli import main

CRLF = "a@b.nl\r\nBcc: evil@x.org"
NOT_AN_ADDRESS = "jan at c1.example"


def fingerprint(home: Path) -> dict[str, str]:
    """Every file of the data folder by its SHA-256."""
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    store = Store(home, "tester")
    seed(store, relations=3)
    store.put(Profile(code="SMTP1", server="smtp.example.com", sender="info@holtkamp.example"))
    store.put(
        Profile(
            code="MINE", system="outbox", sender="me@holtkamp.example", auth="none", outbox_dir="o"
        )
    )
    store.put(User(name="tester", profile="MINE"))
    return home


def exported(home: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(export_config_json(Store(home)))
    return data


# (what, position in a config file, change to a relation's dump)
RELATION_CASES: list[tuple[str, str, Callable[[dict[str, Any]], None]]] = [
    (
        "CR/LF in the business e-mail",
        "business_email",
        lambda r: r.update(business_email=CRLF),
    ),
    (
        "stray text in the business e-mail",
        "business_email",
        lambda r: r.update(business_email=NOT_AN_ADDRESS),
    ),
    (
        "CR/LF in a per-type To",
        "email_addresses.sales_invoice.to[0]",
        lambda r: r.update(email_addresses={"sales_invoice": {"to": [CRLF]}}),
    ),
    (
        "stray text in a per-type Cc",
        "email_addresses.reminder.cc[1]",
        lambda r: r.update(email_addresses={"reminder": {"cc": ["ok@c1.example", NOT_AN_ADDRESS]}}),
    ),
    (
        "CR/LF in a contact's e-mail",
        "contacts[0].email",
        lambda r: r.update(contacts=[{"name": "Jan", "email": CRLF, "roles": ["main"]}]),
    ),
    (
        "a language code that does not exist",
        "language",
        lambda r: r.update(language="FR"),
    ),
]


@pytest.mark.parametrize("what,field,change", RELATION_CASES, ids=[c[0] for c in RELATION_CASES])
def test_bad_relation_refused_by_the_form_door(
    home: Path, what: str, field: str, change: Callable[[dict[str, Any]], None]
) -> None:
    store = Store(home, "tester")
    rel = store.get(Relation, "HOLT/C00001").dump()
    change(rel)
    before = fingerprint(home)
    with pytest.raises(ChangeRefused) as info:
        save_record(store, Relation.parse(rel), "HOLT/C00001")
    assert f"relation HOLT/C00001.{field}" in str(info.value)
    assert "nothing was changed" in str(info.value)
    assert fingerprint(home) == before


@pytest.mark.parametrize("what,field,change", RELATION_CASES, ids=[c[0] for c in RELATION_CASES])
def test_bad_relation_refused_by_config_import(
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    what: str,
    field: str,
    change: Callable[[dict[str, Any]], None],
) -> None:
    data = exported(home)
    change(data["relations"][1])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    before = fingerprint(home)
    assert main(["--home", str(home), "config", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"relations[1].{field}" in err
    assert "nothing was imported" in err
    assert "Traceback" not in err
    assert fingerprint(home) == before


def _unsafe(body: str) -> Callable[[dict[str, Any]], None]:
    return lambda t: t.update(body=body)


TEMPLATE_CASES = [
    ("reaches Python's internals", _unsafe("{{ ''.__class__.__mro__ }}"), "__mro__"),
    ("includes another template", _unsafe("{% include 'x' %}"), "include"),
    ("builds a gigabyte string", _unsafe("{{ 'A' * 10**9 }}"), "body"),
    ("names a field the object lacks", _unsafe("{{ no_such_field }}"), "no_such_field"),
]


@pytest.mark.parametrize("what,change,word", TEMPLATE_CASES, ids=[c[0] for c in TEMPLATE_CASES])
def test_unsafe_template_refused_by_form_door_and_import(
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    what: str,
    change: Callable[[dict[str, Any]], None],
    word: str,
) -> None:
    store = Store(home, "tester")
    tpl = store.get(Template, "INV-NL").dump()
    change(tpl)
    before = fingerprint(home)
    with pytest.raises(ChangeRefused) as info:
        save_record(store, Template.parse(tpl), "INV-NL")
    assert "template INV-NL" in str(info.value) and word in str(info.value)
    data = exported(home)
    change(data["templates"][0])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    assert main(["--home", str(home), "config", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "templates[0]" in err and word in err
    assert fingerprint(home) == before


def test_template_in_the_wrong_slot_is_refused(home: Path, tmp_path: Path) -> None:
    data = exported(home)
    data["templates"][0]["object"] = "reminder"
    data["language_codes"][0]["templates"] = {"sales_invoice": "INV-NL"}
    before = fingerprint(home)
    with pytest.raises(Exception) as info:
        import_config(Store(home), copy.deepcopy(data), "bad.json")
    text = str(info.value)
    assert "language_codes[0].templates.sales_invoice" in text
    assert "is for reminders, not for sales invoices" in text
    assert fingerprint(home) == before


def test_configuration_without_a_system_profile_is_refused(home: Path) -> None:
    data = exported(home)
    data["system"]["profile"] = None
    data["users"] = []
    with pytest.raises(Exception) as info:
        import_config(Store(home), data, "bad.json")
    assert "system.profile: there is no system profile" in str(info.value)


def test_personal_profile_of_another_system_refused_by_import_settings_and_cli(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = exported(home)
    data["users"][0]["profile"] = "SMTP1"  # the system profile is an outbox one
    before = fingerprint(home)
    with pytest.raises(Exception) as info:
        import_config(Store(home), data, "bad.json")
    assert "users[0].profile" in str(info.value) and "same system" in str(info.value)
    # The Settings pane's door.
    with pytest.raises(ChangeRefused) as refused:
        save_settings(
            Store(home, "tester"),
            "tester",
            system_profile="OUTBOX",
            admin_profiles={},
            full_name="",
            personal_profile="SMTP1",
            signature="",
        )
    assert "user tester.profile" in str(refused.value)
    # `profile set OUTBOX --system smtp` would change the system profile's system under
    # the user's outbox personal profile: refused, with the user named.
    code = main(
        [
            "--home",
            str(home),
            "profile",
            "set",
            "OUTBOX",
            "--system",
            "smtp",
            "--server",
            "s.example",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert "user tester.profile" in err and "same system" in err
    with pytest.raises(ChangeRefused):
        update_profile(Store(home), "OUTBOX", {"system": "smtp", "server": "s.example"})
    assert fingerprint(home) == before


def test_deleting_a_profile_in_use_is_refused(home: Path) -> None:
    from mailing.changes import delete_profile

    before = fingerprint(home)
    with pytest.raises(ChangeRefused) as info:
        delete_profile(Store(home), "OUTBOX")
    assert "system.profile: the profile 'OUTBOX' does not exist" in str(info.value)
    assert fingerprint(home) == before


def test_relation_without_a_language_gets_its_administrations_default(home: Path) -> None:
    data = exported(home)
    data["administrations"][0]["default_language"] = "EN"
    for rel in data["relations"]:
        del rel["language"]
    import_config(Store(home), data, "config.json")
    assert {r.language for r in Store(home).all(Relation)} == {"EN"}


def test_config_file_with_a_bom_and_hostile_json(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "bom.json"
    good.write_bytes(b"\xef\xbb\xbf" + json.dumps(exported(home)).encode())
    assert main(["--home", str(home), "config", "import", str(good)]) == 0
    capsys.readouterr()
    before = fingerprint(home)
    for name, payload, words in [
        ("deep.json", b"[" * 200_000, "too deep"),
        ("digits.json", b'{"format": ' + b"9" * 5000 + b"}", "cannot be read"),
        ("latin1.json", '{"format": "caf\xe9"}'.encode("latin-1"), "line 1, column"),
    ]:
        path = tmp_path / name
        path.write_bytes(payload)
        assert main(["--home", str(home), "config", "import", str(path)]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, err
    assert fingerprint(home) == before


def test_an_unexpected_error_is_a_sentence_and_a_crash_report(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file under a file is a sentence now (exit 2); a fault of ours stands in here.
    assert main(["--home", str(home), "config", "export", str(home / "mailroom.json" / "x")]) == 2
    assert "cannot be written" in capsys.readouterr().err
    import mailing.changes.files

    def broken(store: object) -> str:
        raise RuntimeError("a fault of ours")

    monkeypatch.setattr(mailing.changes.files, "export_config_json", broken)
    code = main(["--home", str(home), "config", "export"])
    err = capsys.readouterr().err
    assert code == 70
    assert "Traceback" not in err
    assert "nothing was half written" in err
    reports = list((home / "crash-reports").glob("crash-*.txt"))
    assert len(reports) == 1 and str(reports[0]) in err
    assert "Traceback" in reports[0].read_text()
    assert reports[0].stat().st_mode & 0o077 == 0


def test_cancel_takes_the_same_items_from_the_queue_and_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mailing.changes import BATCH_ACTIONS, change_items
    from tests.send_support import make_store, spool_batch

    outcomes = []
    for door in ("queue", "cli"):
        store = make_store(tmp_path / door, {"system": "outbox", "outbox_dir": "out"})
        batch = spool_batch(store, 4, approve=False)
        names = [r.item for r in batch.items("draft")]
        for name, state in zip(names, ("approved", "held", "failed"), strict=False):
            batch.move(name, "email", "draft", state)
        if door == "queue":
            change_items(store, "alice", batch.id, "cancel", None)
        else:
            assert main(["--home", str(store.home), "batch", "cancel", batch.id]) == 0
        outcomes.append(batch.counts())
    assert outcomes[0] == outcomes[1]
    assert outcomes[0]["cancelled"] == 4
    assert "failed" in BATCH_ACTIONS["cancel"].sources


@pytest.mark.parametrize(
    "what,make,words",
    [
        ("US Letter", "letter", "US Letter"),
        ("A4 landscape", "landscape", "A4 landscape"),
        ("images that inflate to gigabytes", "bomb", "first background"),
    ],
)
def test_a_letterhead_that_is_not_a4_portrait_or_safe_is_refused_by_import(
    home: Path, what: str, make: str, words: str
) -> None:
    import base64

    from reportlab.lib.pagesizes import A4, landscape, letter

    from tests.pdf_helpers import background_pdf, zip_bomb_pdf

    pdf = {
        "letter": lambda: background_pdf("LETTERHEAD", pagesize=letter),
        "landscape": lambda: background_pdf("LETTERHEAD", pagesize=landscape(A4)),
        "bomb": zip_bomb_pdf,
    }[make]()
    sha = hashlib.sha256(pdf).hexdigest()
    data = exported(home)
    data["files"][sha] = base64.b64encode(pdf).decode()
    data["language_codes"][0]["first_background"] = {
        "sha256": sha,
        "name": "briefpapier.pdf",
        "size": len(pdf),
        "content_type": "application/pdf",
    }
    before = fingerprint(home)
    with pytest.raises(Exception) as info:
        import_config(Store(home), data, "config.json")
    text = str(info.value)
    assert "language_codes[0].first_background" in text and words in text, text
    assert fingerprint(home) == before


def test_a_nul_in_a_header_value_is_called_a_nul_not_a_line_break() -> None:
    from mailing.addresses import check_header_value
    from mailing.errors import AddressError

    with pytest.raises(AddressError) as info:
        check_header_value("Invoice\x00 F1", "subject")
    assert "NUL character" in str(info.value) and "line break" not in str(info.value)
    with pytest.raises(AddressError) as info:
        check_header_value("Invoice\r\nBcc: x@y.z", "subject")
    assert "line break" in str(info.value)


def test_a_profile_that_cannot_send_is_refused_alike_by_the_form_and_the_command_line(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mailing.changes import save_profile

    before = fingerprint(home)
    profile = Profile(code="NOSERVER", sender="info@holtkamp.example")  # smtp, no server
    with pytest.raises(ChangeRefused) as form:
        save_profile(Store(home), profile, None, "secret-password")
    code = main(
        ["--home", str(home), "profile", "add", "NOSERVER", "--sender", "info@holtkamp.example"]
    )
    cli = capsys.readouterr().err
    assert code == 2
    assert "an SMTP profile needs a server" in str(form.value)
    assert "an SMTP profile needs a server" in cli
    assert fingerprint(home) == before
    # The refused form stored no password either.
    from mailing.changes import has_password

    assert not has_password("NOSERVER")


@pytest.mark.parametrize(
    "path,words",
    [
        ("/proc/self/environ", "system folder"),
        ("/dev/zero", "system folder"),
        ("/etc", "is a folder"),
    ],
)
def test_a_file_a_form_points_at_must_be_a_regular_file_outside_system_folders(
    home: Path, path: str, words: str
) -> None:
    from mailing.changes import copy_in_file
    from store.errors import MailroomError

    before = fingerprint(home)
    with pytest.raises(MailroomError) as info:
        copy_in_file(Store(home), path, "attachment")
    assert words in str(info.value) and path in str(info.value)
    assert fingerprint(home) == before


def test_a_sparse_file_of_three_gigabytes_is_refused_before_it_is_read(
    home: Path, tmp_path: Path
) -> None:
    from mailing.changes import copy_in_file
    from store.errors import MailroomError

    big = tmp_path / "huge.pdf"
    with open(big, "wb") as fh:
        fh.truncate(3 * 1024**3)
    with pytest.raises(MailroomError) as info:
        copy_in_file(Store(home), big, "attachment")
    assert "at most 50 MB" in str(info.value)
    small = tmp_path / "terms.pdf"
    small.write_bytes(b"%PDF-1.4 terms")
    ref = copy_in_file(Store(home), small, "attachment")
    assert ref.name == "terms.pdf" and ref.size == 14


@pytest.mark.parametrize("value", [CRLF, NOT_AN_ADDRESS], ids=["CR/LF", "stray text"])
def test_the_same_bad_address_is_refused_by_documents_import(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """An order's own To (SPEC §6.2) is an address like any other: the same values are
    refused when documents are imported, naming the document and the field."""
    store = Store(home, "tester")
    supplier = Relation(
        administration="HOLT",
        code="S100",
        kind="supplier",
        name="Supplier B.V.",
        business_email="orders@supplier.example",
        opt_in=["purchase_order"],
    )
    save_record(store, supplier)
    data = {
        "documents": [
            {
                "administration": "HOLT",
                "type": "purchase_order",
                "number": "PO-9",
                "relation": "S100",
                "date": "2026-11-02",
                "order_override": {"to": [value]},
                "lines": [{"description": "Toner", "quantity": 3, "unit_price": "60"}],
            }
        ]
    }
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(data))
    before = fingerprint(home)
    assert main(["--home", str(home), "documents", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "documents[0]" in err and "order_override" in err, err
    assert "Traceback" not in err
    assert fingerprint(home) == before
