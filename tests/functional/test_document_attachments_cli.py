"""`mailroom documents attach`: a document's own e-mail attachments (SPEC §7) through the
one door, from the real command line; the message then carries them."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from mailing.demo import load_demo
from store.records import Document
from store.store import Store
from tests.functional.test_preview_cli import mailroom


def test_attach_remove_and_the_message_carries_it(tmp_path: Path) -> None:
    home = tmp_path / "h"
    load_demo(Store(home))
    note = tmp_path / "werkbon.txt"
    note.write_text("Werkbon 17\n")
    terms = tmp_path / "voorwaarden.txt"
    terms.write_text("Voorwaarden\n")

    run = mailroom(
        home,
        "documents",
        "attach",
        "sales_invoice",
        "F20260001",
        "--admin",
        "HOLT",
        "--add",
        str(note),
        "--add",
        str(terms),
    )
    assert run.returncode == 0, run.stderr
    assert "werkbon.txt" in run.stdout and "voorwaarden.txt" in run.stdout
    run = mailroom(
        home,
        "documents",
        "attach",
        "sales_invoice",
        "F20260001",
        "--admin",
        "HOLT",
        "--remove",
        "voorwaarden.txt",
    )
    assert run.returncode == 0, run.stderr
    doc = Store(home).get(Document, "HOLT/sales_invoice/F20260001")
    assert [a.name for a in doc.attachments] == ["werkbon.txt"]

    eml = tmp_path / "out.eml"
    run = mailroom(
        home, "preview", "sales_invoice", "F20260001", "--admin", "HOLT", "--eml", str(eml)
    )
    assert run.returncode == 0, run.stderr
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert "werkbon.txt" in [p.get_filename() for p in msg.iter_attachments()]


def test_a_wrong_name_or_type_is_told_in_words_without_a_traceback(tmp_path: Path) -> None:
    home = tmp_path / "h"
    load_demo(Store(home))
    run = mailroom(
        home,
        "documents",
        "attach",
        "sales_invoice",
        "F20260001",
        "--admin",
        "HOLT",
        "--remove",
        "x.pdf",
    )
    assert run.returncode == 2
    assert "no attachment named 'x.pdf'" in run.stderr + run.stdout
    reminder = next(d for d in Store(home).all(Document) if d.type == "reminder")
    note = tmp_path / "n.txt"
    note.write_text("n\n")
    run = mailroom(
        home,
        "documents",
        "attach",
        "reminder",
        reminder.number,
        "--admin",
        reminder.administration,
        "--add",
        str(note),
    )
    assert run.returncode == 2
    out = run.stderr + run.stdout
    assert "A reminder has no attachments of its own" in out and "Traceback" not in out
    assert "sales invoice" in out
