"""`mailroom preview`: the exact message a document would be sent as, and why."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from pathlib import Path

from mailing.demo import load_demo
from store.records import Document
from store.store import Store
from tests.conftest import ROOT, cli_env
from tests.unit.test_import import ubl


def mailroom(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=120,
    )


def test_preview_writes_the_message_and_explains_it(tmp_path: Path) -> None:
    home = tmp_path / "h"
    load_demo(Store(home))
    eml = tmp_path / "out.eml"
    run = mailroom(
        home, "preview", "sales_invoice", "F20260001", "--admin", "HOLT", "--eml", str(eml)
    )
    assert run.returncode == 0, run.stderr
    assert "=>" in run.stdout and "Addresses for this document type" in run.stdout
    assert "[recipients." not in run.stdout
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "facturen@jansen-holt.example"
    assert msg["Cc"] == "controller@jansen-holt.example"
    assert msg["Bcc"] is None  # Bcc goes in the envelope only
    assert "F20260001" in msg["Subject"]
    names = [p.get_filename() for p in msg.iter_attachments()]
    assert names == ["Factuur F20260001.pdf"]  # in the relation's language


def test_preview_of_a_document_to_print_says_why(tmp_path: Path) -> None:
    home = tmp_path / "h"
    load_demo(Store(home))
    number = next(
        d.number
        for d in Store(home).all(Document)
        if d.administration == "HOLT" and d.type == "sales_invoice" and d.relation == "D1017"
    )
    run = mailroom(
        home,
        "preview",
        "sales_invoice",
        number,
        "--admin",
        "HOLT",
        "--eml",
        str(tmp_path / "x.eml"),
    )
    assert run.returncode == 0, run.stderr
    assert "goes to print (no_address)" in run.stdout
    assert not (tmp_path / "x.eml").exists()


def test_imported_ubl_goes_along_as_second_attachment(tmp_path: Path) -> None:
    home = tmp_path / "h"
    load_demo(Store(home))
    xml = tmp_path / "inv.xml"
    xml.write_text(ubl(number="UBL-7", party_id="D1011", name="Kapsalon Knip &amp; Go"))
    imported = mailroom(home, "documents", "import", str(xml), "--admin", "HOLT")
    assert imported.returncode == 0, imported.stderr
    eml = tmp_path / "ubl.eml"
    run = mailroom(home, "preview", "sales_invoice", "UBL-7", "--admin", "HOLT", "--eml", str(eml))
    assert run.returncode == 0, run.stderr
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts] == ["Factuur UBL-7.pdf", "UBL-7.xml"]
    assert parts[1].get_payload(decode=True) == xml.read_bytes()
    # The relation's name goes with its business e-mail (issue 24); the address is its own.
    assert [a.addr_spec for a in msg["To"].addresses] == ["info@knipengo-holt.example"]


def test_preview_of_unknown_document_is_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "h"
    load_demo(Store(home))
    run = mailroom(home, "preview", "sales_invoice", "NOPE-1", "--admin", "HOLT")
    assert run.returncode == 2
    assert "NOPE-1" in run.stderr and "Traceback" not in run.stderr
