"""Issue 9, end to end at 80x24 with the keyboard only: demo data -> build an invoice batch
-> preview a message and find the trace's deciding rule -> approve -> send to a real
aiosmtpd server (STARTTLS, login, password in the keyring) -> the queue shows all sent,
the archive holds the copy documents, the server holds the messages."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from mailing.demo import load_demo
from mailing.sending.archive_files import archive_files
from store.records import Profile
from store.secrets import set_secret
from store.spool import Spool
from store.store import Store
from tests.functional.tui.helpers import SIZE, screen_text, wait_for
from tests.smtp_server import SMTPTestServer

LOGIN = "mailroom@office.example"
PASSWORD = "queue-e2e-pw-in-keyring-only"
DEMO_PROFILES = ("SYSTEM", "HOLT", "DEBITEUREN", "PERSONAL-DEMO")


def demo_over_smtp(home: Path, server: SMTPTestServer, folder: Path) -> Store:
    """The demo installation with its profiles sending to ``server`` instead of an outbox."""
    store = Store(home, "demo")
    load_demo(store)
    fields = server.profile_fields(folder, username=LOGIN)
    changed = []
    for code in DEMO_PROFILES:
        profile = store.get(Profile, code)
        data = profile.dump()
        data.update(fields)
        data["outbox_dir"] = ""
        changed.append(Profile.parse(data))
        set_secret(code, "password", PASSWORD)
    store.put_many(changed)
    return store


async def test_build_preview_approve_send_archive(tmp_path: Path) -> None:
    from tui.app import MailroomApp

    home = tmp_path / "home"
    with SMTPTestServer(users={LOGIN: PASSWORD}) as server:
        store = demo_over_smtp(home, server, tmp_path)
        app = MailroomApp(store, "demo", first_pane="profiles")
        async with app.run_test(size=SIZE) as pilot:
            # Documents (F7): HOLT sales invoices are the default filter.
            await pilot.press("f7")
            text = await wait_for(pilot, "F20260001")
            assert "110 shown" in text, text
            await pilot.press("b")  # build a batch of every document shown
            await wait_for(pilot, "Build a batch of 110 sales invoice")
            await pilot.press("y")
            text = await wait_for(pilot, "Open it in the queue")
            assert "92 draft" in text and "18 print" in text, text
            await pilot.press("y")
            text = await wait_for(pilot, "Queue: batch")
            assert "draft 92" in text, text
            assert app.focused is not None and app.focused.id == "page-rows"

            # Preview the first message: the headers and the trace's deciding steps.
            await pilot.press("enter")
            text = await wait_for(pilot, "<= DECIDED")
            assert "From:" in text and "Subject:" in text and "Factuur F20260025" in text
            decided = [ln for ln in text.splitlines() if "<= DECIDED" in ln]
            assert decided[0].startswith(">>") and "Sender from the administration" in decided[0], (
                text
            )
            await pilot.press("t", "end")  # the trace scrolls: the recipient rule decided too
            text = screen_text(app)
            assert any(
                "The relation's administration contact <= DECIDED" in ln for ln in text.splitlines()
            ), text
            await pilot.press("escape")

            # Approve: the dry-run summary first.
            await pilot.press("a")
            text = await wait_for(pilot, "Approve every draft message?")
            assert "92 messages will be mailed" in text
            assert "18 documents go to print" in text and "not opted" in text, text
            await pilot.press("y")
            text = await wait_for(pilot, "approved 92")

            # Send, in a worker, then the report.
            await pilot.press("s")
            await wait_for(pilot, "Send the 92 approved messages")
            await pilot.press("y")
            text = await wait_for(pilot, "Sending done", tries=300)
            assert "92 sent, 0 failed" in text, text
            await pilot.press("enter")
            text = await wait_for(pilot, "sent 92")
            assert "approved" not in text.split("sent 92")[0].split("Batch")[-1]

            # The archive (F9) lists the sent documents with their copy document.
            await pilot.press("f9")
            text = await wait_for(pilot, "HOLT  D1001  Sales invoice F20260001")
            assert "copy" in text and "sales_invoice" not in text, text
            assert "of 92" in text, text

    # The server holds every message once, with the PDF attached.
    assert len(server.messages) == 92
    ids = []
    for received in server.messages:
        msg = email.message_from_bytes(received.data, policy=email.policy.default)
        ids.append(msg["Message-ID"])
        assert any(p.get_content_type() == "application/pdf" for p in msg.iter_attachments())
        assert received.login == LOGIN
    assert len(set(ids)) == 92
    batch = Spool(home).batches()[0]
    assert batch.counts()["sent"] == 92 and batch.counts()["print"] == 18
    for record in (home / "archive").glob("HOLT/*/sales_invoice-*/record.json"):
        archive_files(record.parent)  # as the Archive pane does when it shows one
    copies = list((home / "archive").glob("HOLT/*/sales_invoice-*/copy-*.pdf"))
    assert len(copies) == 92
