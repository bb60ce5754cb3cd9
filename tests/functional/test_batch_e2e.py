"""End to end: 200 demo invoices -> batch -> approve -> send to a real aiosmtpd server.

Driven through the command line, as an admin would (and cron does).
"""

from __future__ import annotations

import collections
import email
import email.policy
import io
import json
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest
from pypdf import PdfReader

from mailing.config import ConfigSnapshot, load_documents
from mailing.demo import DEMO_USER, load_demo
from mailing.sending.archive_files import archive_files
from store.records import Profile
from store.spool import Spool
from store.store import Store
from tests.conftest import PYTHON, cli_env
from tests.pdfa_check import assert_pdfa3b
from tests.smtp_server import SMTPTestServer

# Slow (real processes, kills, hundreds of messages): `pytest -m 'not slow'` skips it
# in the developers' quick loop; CI runs everything.
pytestmark = pytest.mark.slow


def mailroom(home: Path, *args: str, user: str = DEMO_USER) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(home), "--user", user, *args],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_200_invoices_built_approved_and_sent_each_once_with_its_pdf(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home, DEMO_USER)
    load_demo(store)
    with SMTPTestServer(security="starttls") as server:
        # every demo profile sends to the test server instead of the outbox folder
        fields = server.profile_fields(tmp_path)
        with store.transaction() as tx:
            for p in tx.all(Profile):
                tx.put(Profile.parse({**p.dump(), **fields, "outbox_dir": ""}))
        invoices = sorted(
            (d for d in load_documents(store) if d.type == "sales_invoice"),
            key=lambda d: d.number,
        )[:200]
        numbers = ",".join(d.number for d in invoices)

        built = mailroom(home, "batch", "create", "--type", "sales_invoice", "--numbers", numbers)
        assert built.returncode == 0, built.stderr
        batch_id = built.stdout.strip()  # the id alone: the summary went to stderr
        assert batch_id == built.stdout.strip().splitlines()[-1]
        assert "documents in" in built.stderr
        batch = Spool(home).batch(batch_id)
        assert batch.info()["created_by"] == DEMO_USER

        shown = json.loads(mailroom(home, "batch", "show", batch_id, "--json").stdout)
        drafts = {r["item"] for r in shown["items"] if r["state"] == "draft"}
        to_print = {r["item"] for r in shown["items"] if r["state"] == "print"}
        assert len(drafts) + len(to_print) == 200 == len(shown["items"])

        # The print list holds exactly the documents SPEC §6.5 sends to print: the
        # relation did not opt in to invoices by mail, or no address was found.
        cfg = ConfigSnapshot.load(store)
        docs = {(d.administration, d.number): d for d in invoices}
        assert len(docs) == 200
        seen = set()
        for item in batch.all_items():
            meta = batch.meta(item)
            key = (meta["document"]["administration"], meta["document"]["number"])
            seen.add(key)
            doc = docs[key]
            rel = cfg.relations[(doc.administration, doc.relation)]
            if "sales_invoice" not in rel.opt_in:
                assert item in to_print and meta["reason"] == "not_opted_in"
            elif item in to_print:
                assert meta["reason"] == "no_address"
                assert not meta["resolution"]["recipients"]["to"]
            else:
                assert item in drafts and meta["envelope"]["rcpts"]
        assert seen == set(docs)
        assert to_print, "the demo has relations that get their invoices on paper"
        printed = PdfReader(batch.path / "print" / "print.pdf")
        assert len(printed.pages) >= len(to_print)
        text = "".join(page.extract_text() for page in printed.pages)
        assert all(batch.meta(i)["document"]["number"] in text for i in to_print)

        approved = mailroom(home, "batch", "approve", batch_id, user="boss")
        assert approved.returncode == 0, approved.stderr
        assert batch.info(fresh=True)["approvals"][0]["by"] == "boss"

        sent = mailroom(home, "send", batch_id, user="carol")
        assert sent.returncode == 0, sent.stdout + sent.stderr

    # exactly the approved messages, each once
    by_id = collections.Counter()
    for m in server.messages:
        msg = email.message_from_bytes(m.data, _class=EmailMessage, policy=email.policy.default)
        by_id[msg["Message-ID"]] += 1
        assert msg["Bcc"] is None  # blind copies travel in the envelope only
        pdfs = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]  # type: ignore[attr-defined]
        assert len(pdfs) == 1
        pdf_text = PdfReader(io.BytesIO(pdfs[0].get_payload(decode=True))).pages[0].extract_text()
        # "Factuur F20260001.pdf", "Rechnung ...": the type's word in the customer's language
        word, number = pdfs[0].get_filename().removesuffix(".pdf").rsplit(" ", 1)
        assert word in {"Factuur", "Rechnung", "Invoice"}
        assert number in pdf_text
    expected_ids = {batch.meta(r.item)["message_id"] for r in batch.items("sent")}
    assert len(expected_ids) == len(drafts) == len(server.messages)
    assert set(by_id) == expected_ids and max(by_id.values()) == 1
    # envelope: To, Cc and Bcc of the side-car, bytes = the approved bytes
    for ref in batch.items("sent")[:20]:
        meta = batch.meta(ref.item)
        raw = batch.read(ref.item, "email", "sent")
        got = next(m for m in server.messages if m.data == raw)
        assert got.rcpt_tos == meta["envelope"]["rcpts"]
    assert batch.counts()["sent"] == len(drafts)
    # the archive holds the copy document of each sent invoice (taken out of the
    # message sent when asked for)
    for record in (home / "archive").rglob("record.json"):
        archive_files(record.parent)
    copies = list((home / "archive").rglob("copy-*.pdf"))
    assert len(copies) == len(drafts)
    # an archival PDF/A-3b, the one that was sent, with the word in the customer's language
    assert_pdfa3b(copies[0].read_bytes(), tmp_path / "copy.pdf")
    assert copies[0].name.split(" ")[0] in {"copy-Factuur", "copy-Rechnung", "copy-Invoice"}
