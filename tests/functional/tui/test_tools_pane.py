"""Tools pane (issue 10 in the TUI) at 80x24, keyboard only: a backup file, the relations
report saved as PDF and mailed, a hand-written e-mail with an address picked from the
relations and an attachment, and a restore that asks first and leaves sending paused."""

from __future__ import annotations

import email
import email.policy
import io
from pathlib import Path

from pypdf import PdfReader

from store.store import Store
from tests.functional.tui.helpers import SIZE, type_text, wait_focus, wait_for
from tests.functional.tui.test_queue_e2e import LOGIN, PASSWORD, demo_over_smtp
from tests.smtp_server import SMTPTestServer


async def test_backup_report_mail_restore(tmp_path: Path) -> None:
    from tui.app import MailroomApp

    backup = tmp_path / "b.tar.gz"
    pdf = tmp_path / "relations.pdf"
    attachment = tmp_path / "note.txt"
    attachment.write_text("see attached\n")
    with SMTPTestServer(users={LOGIN: PASSWORD}) as server:
        store = demo_over_smtp(tmp_path / "home", server, tmp_path)
        app = MailroomApp(store, "demo", first_pane="tools")
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, "make a backup file")
            # A backup file.
            await pilot.press("c")
            await wait_for(pilot, "Write the backup")
            await pilot.press("ctrl+u")
            await type_text(pilot, str(backup))
            await pilot.press("enter")
            await wait_for(pilot, "SHA-256")
            assert backup.exists()

            # The relations report: saved and mailed.
            await pilot.press("p")
            await wait_for(pilot, "Which report?")
            await type_text(pilot, "relations")
            await pilot.press("enter")
            await wait_for(pilot, "Save the PDF to")
            await pilot.press("ctrl+u")
            await type_text(pilot, str(pdf))
            await pilot.press("enter")
            await wait_for(pilot, "Mail it to")
            await type_text(pilot, "boss@office.example")
            await pilot.press("enter")
            text = await wait_for(pilot, "mailed to boss@office.example")
            assert "with problems" in text

            # A hand-written e-mail: To picked from the relations, an attachment.
            await pilot.press("n")
            text = await wait_for(pilot, "New hand-written e-mail")
            # From whom, through which profile and server, is on the screen.
            from_line = next(line for line in text.splitlines() if "From:" in line)
            assert "profile" in from_line and ":" in from_line.split("profile", 1)[1]
            # F1 lists this screen's own keys, not the Tools pane's.
            await pilot.press("f1")
            help_text = await wait_for(pilot, "Keys of the hand-written e-mail")
            assert "Pick a relation or contact address" in help_text
            assert "Restore" not in help_text and "id:" not in help_text
            await pilot.press("escape")
            await wait_focus(pilot, "c-to")
            await pilot.press("ctrl+o")
            await wait_for(pilot, "Add to To")
            await type_text(pilot, "facturen@jansen")
            await pilot.press("enter")
            await pilot.press("tab", "tab", "tab")  # Cc, Bcc, Subject
            await type_text(pilot, "Your question")
            await pilot.press("tab")
            await type_text(pilot, str(attachment))
            await pilot.press("tab", "tab")  # template (none), body
            await type_text(pilot, "Dear customer, see the note.")
            await pilot.press("ctrl+s")
            # Nothing goes out before the user says yes.
            text = await wait_for(pilot, "Send this e-mail now?")
            assert "To: facturen@jansen-holt.example" in text and "Subject: Your question" in text
            assert not server.messages or all(
                "Your question" not in m.data.decode("utf-8", "replace") for m in server.messages
            )
            await pilot.press("y")
            text = await wait_for(pilot, "'Your question' sent to")
            assert "New hand-written e-mail" not in text

            # Restore: checked first, asked, then sending is paused until resumed.
            await pilot.press("r")
            await wait_for(pilot, "Restore from a backup file")
            await type_text(pilot, str(backup))
            await pilot.press("enter")
            text = await wait_for(pilot, "Replace ALL data")
            await pilot.press("y")
            text = await wait_for(pilot, "SENDING IS PAUSED")
            assert "restored" in text
            await pilot.press("u")
            await wait_for(pilot, "Resume sending?")
            await pilot.press("y")
            text = await wait_for(pilot, "Sending is allowed again")
            assert "SENDING IS PAUSED" not in text

    assert not Store(tmp_path / "home").system().sending_paused
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    assert "Relations" in "".join(p.extract_text() or "" for p in reader.pages)
    subjects = {}
    for received in server.messages:
        msg = email.message_from_bytes(received.data, policy=email.policy.default)
        subjects[str(msg["Subject"])] = (received.rcpt_tos, msg)
    report = next(v for k, v in subjects.items() if "Relations" in k)
    assert "boss@office.example" in report[0]
    rcpts, mail = subjects["Your question"]
    assert "facturen@jansen-holt.example" in rcpts
    names = [p.get_filename() for p in mail.iter_attachments()]
    assert names == ["note.txt"]
    assert "see the note" in mail.get_body(preferencelist=("plain",)).get_content()
