"""Reports: the relations e-mail overview and the batch report, as data and as PDF (read back)."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from mailing.addresses import check_address, split_addresses
from mailing.config import ConfigSnapshot
from mailing.demo import load_demo
from mailing.errors import AddressError
from mailing.reports import (
    ReportError,
    batch_pdf,
    batch_report,
    make_report,
    relations_pdf,
    relations_report,
)
from mailing.resolve import resolve_document
from store.records import (
    Administration,
    Document,
    LanguageCode,
    Profile,
    Relation,
    SystemSettings,
    Template,
)
from store.store import Store
from tests.conftest import PYTHON, ROOT, cli_env


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("demo"), "demo")
    load_demo(store)
    return store


def pdf_text(pdf: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text), reader


def relations_that_cannot_be_mailed(store: Store) -> set[str]:
    """The oracle: a relation opted in to a type that resolves to print, or with a bad address."""
    cfg = ConfigSnapshot.load(store)
    bad: set[str] = set()
    for (admin, code), rel in cfg.relations.items():
        for doc_type in rel.opt_in:
            doc = Document(
                administration=admin, type=doc_type, number="X1", relation=code, date="2026-11-01"
            )
            if resolve_document(cfg, doc, "demo").action == "print":
                bad.add(f"{admin}/{code}")
        raw = [rel.business_email, *(c.email for c in rel.contacts)]
        for aset in rel.email_addresses.values():
            raw += [*aset.to, *aset.cc, *aset.bcc]
        for value in raw:
            for addr in split_addresses(value):
                try:
                    check_address(addr, "x")
                except AddressError:
                    bad.add(f"{admin}/{code}")
    return bad


def test_relations_overview_lists_every_relation_with_a_problem(demo: Store) -> None:
    report = relations_report(ConfigSnapshot.load(demo), "demo")
    assert len(report.entries) == 40
    flagged = {f"{e.administration}/{e.code}" for e in report.with_problems}
    expected = relations_that_cannot_be_mailed(demo)
    assert flagged == expected
    # The demo's deliberate cases are among them; the well-configured ones are not.
    assert {"HOLT/D1017", "KORN/D1017"} <= flagged
    assert not flagged & {"HOLT/D1001", "HOLT/D1011", "HOLT/C2001", "HOLT/D1015"}
    kok = next(e for e in report.entries if (e.administration, e.code) == ("HOLT", "D1017"))
    assert "sales_invoice" in kok.problems[0] and "no usable e-mail address" in kok.problems[0]
    assert all(line.action == "print" for line in kok.lines)
    jansen = next(e for e in report.entries if (e.administration, e.code) == ("HOLT", "D1001"))
    inv = next(line for line in jansen.lines if line.doc_type == "sales_invoice")
    assert inv.to == ["facturen@jansen-holt.example"] and inv.rule == "per_type"
    assert "controller@jansen-holt.example" in inv.cc


def test_relations_pdf_says_the_problems(demo: Store) -> None:
    report = relations_report(ConfigSnapshot.load(demo), "demo")
    text, reader = pdf_text(relations_pdf(report))
    assert len(reader.pages) > 1
    width, height = (float(x) for x in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (595, 842)  # A4
    assert f"page 1 of {len(reader.pages)}" in text
    assert f"40 relations, {len(report.with_problems)} with problems" in text
    section = text.split("Relations with problems", 1)[1].split("All relations", 1)[0]
    for entry in report.with_problems:
        assert f"{entry.administration}/{entry.code} {entry.name}" in section
    assert "Timmerbedrijf Kok: opted in to sales_invoice" in section
    assert "but has no usable e-mail address" in section
    # Every relation is in the table, with its recipients.
    for entry in report.entries:
        assert f"{entry.administration}/{entry.code}" in text
    assert "To facturen@jansen-holt.example" in text


def test_relations_report_names_configuration_problems(tmp_path: Path) -> None:
    store = Store(tmp_path / "home", "u")
    store.put_many(
        [
            Administration(code="A", name="A B.V."),
            Template(code="INV", object="sales_invoice", subject="x"),
            LanguageCode(administration="A", code="NL", templates={"sales_invoice": "INV"}),
            Relation(
                administration="A",
                code="R1",
                name="No language",
                language="FR",
                opt_in=["sales_invoice"],
                business_email="r1@example.com",
            ),
            Relation(
                administration="A",
                code="R2",
                name="No reminder template",
                opt_in=["reminder", "purchase_order"],
                business_email="r2@example.com",
            ),
            Relation(
                administration="A",
                code="R3",
                name="Fine",
                opt_in=["sales_invoice"],
                business_email="r3@example.com",
            ),
        ]
    )
    report = relations_report(ConfigSnapshot.load(store), "u")
    # No system profile: said once, and the recipients are still shown.
    assert any("No system profile" in p for p in report.problems)
    problems = {e.code: e.problems for e in report.entries}
    assert any("language code 'FR' does not exist" in p for p in problems["R1"])
    assert any("assigns no template to reminder" in p for p in problems["R2"])
    assert any("customer opted in to purchase_order" in p for p in problems["R2"])
    assert problems["R3"] == []
    r3 = next(e for e in report.entries if e.code == "R3")
    assert r3.lines[0].to == ["r3@example.com"]
    text, _ = pdf_text(relations_pdf(report))
    assert "Problem of the installation: No system profile" in text
    with pytest.raises(ReportError, match="'ZZ' does not exist"):
        relations_report(ConfigSnapshot.load(store), "u", administration="ZZ")


def test_batch_report_says_what_was_sent_to_whom_and_what_was_printed(
    tmp_path: Path,
) -> None:
    from mailing.batches import build_batch
    from mailing.sending import send
    from store.spool import Spool

    store = Store(tmp_path / "home", "demo")
    load_demo(store)
    batch = build_batch(
        store,
        "demo",
        "sales_invoice",
        administration="HOLT",
        numbers=["F20260001", "F20260015", "F20260017"],
        workers=1,
    )
    Spool(store.home).batch(batch.id).approve(None, "demo")
    send(store, "demo", batch.id)

    report = batch_report(store, batch.id)
    rows = {r.number: r for r in report.rows}
    assert rows["F20260001"].state == "sent"
    assert rows["F20260001"].to == ["facturen@jansen-holt.example"]
    assert "written to" in rows["F20260001"].why  # the outbox transport's reply
    assert (rows["F20260015"].kind, rows["F20260015"].state) == ("print", "print")
    assert "has not opted in" in rows["F20260015"].why
    assert "no usable e-mail address" in rows["F20260017"].why
    assert report.counts() == {"print": 2, "sent": 1}

    text, reader = pdf_text(batch_pdf(report))
    assert f"Batch report {batch.id}" in text and "1 sent" in text and "2 print" in text
    printed = text.split("Printed instead of mailed, and why", 1)[1].split("Every item", 1)[0]
    assert "sales_invoice F20260015 (D1015): the relation has not opted in" in printed
    assert "F20260017 (D1017): no usable e-mail address" in printed
    assert "To facturen@jansen-holt.example" in text
    assert "page 1 of" in text

    made = make_report(store, "demo", "batch")  # the latest batch by default
    assert made.title == f"Batch report {batch.id}" and made.pdf.startswith(b"%PDF")


def test_report_mailed_with_the_report_sender_order(demo: Store, tmp_path: Path) -> None:
    from mailing.manual import send_report

    made = make_report(demo, "demo", "relations", administration="KORN")
    assert made.data.to_json()["relations"] == 20
    sent = send_report(demo, "demo", made, ["accountant@example.net"])
    assert (sent.profile, sent.level) == ("PERSONAL-DEMO", "personal")
    sent = send_report(demo, "nobody", made, ["accountant@example.net"], administration="HOLT")
    assert (sent.profile, sent.level) == ("HOLT", "administration")
    assert sent.archive is not None and (sent.archive / "message.eml").exists()
    eml = (sent.archive / "message.eml").read_bytes()
    import email
    import email.policy

    msg = email.message_from_bytes(eml, policy=email.policy.default)
    (pdf,) = [p for p in msg.iter_attachments()]  # type: ignore[attr-defined]
    assert pdf.get_content_type() == "application/pdf"
    text, _ = pdf_text(pdf.get_content())
    assert "administration KORN" in text and "KORN/D1017" in text


def test_report_command_writes_the_pdf_and_mails_it(demo: Store, tmp_path: Path) -> None:
    out = tmp_path / "relations.pdf"
    run = subprocess.run(
        [
            PYTHON,
            "-m",
            "tui",
            "--home",
            str(demo.home),
            "--user",
            "demo",
            "report",
            "relations",
            "--pdf",
            str(out),
            "--mail-to",
            "boss@example.net",
        ],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "4 with problems" in run.stderr and "profile PERSONAL-DEMO" in run.stdout
    text, _ = pdf_text(out.read_bytes())
    assert "Relations with problems" in text
    bad = subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(demo.home), "report", "relations", "--batch", "x"],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--batch only goes with the batch report" in bad.stderr


def test_unknown_report_is_refused(demo: Store) -> None:
    with pytest.raises(ReportError, match="choose one of: relations, batch"):
        make_report(demo, "demo", "sales")


def test_reports_need_no_sending_profile_to_be_made(tmp_path: Path) -> None:
    store = Store(tmp_path / "home", "u")
    store.put_many([SystemSettings(profile="P"), Profile(code="P", sender="p@example.com")])
    made = make_report(store, "u", "relations")
    assert made.summary == "0 relations, 0 with problems"


def test_a_sender_that_cannot_be_used_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    store = Store(tmp_path / "home", "u")
    store.put_many(
        [
            SystemSettings(profile="P"),
            Profile(code="P", sender="p@example.com"),
            Profile(code="BAD", sender="not an address"),
            Administration(code="A", name="A B.V.", profile="BAD"),
            Template(code="INV", object="sales_invoice", subject="x"),
            LanguageCode(administration="A", code="NL", templates={"sales_invoice": "INV"}),
            Relation(
                administration="A",
                code="R1",
                name="R",
                opt_in=["sales_invoice"],
                business_email="r1@example.com",
            ),
        ]
    )
    report = relations_report(ConfigSnapshot.load(store), "u")
    (entry,) = report.entries
    assert entry.lines[0].action == "error"
    assert "sales_invoice cannot be mailed" in entry.problems[0]
    assert "not an address" in entry.problems[0]
