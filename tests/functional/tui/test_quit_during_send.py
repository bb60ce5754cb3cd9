"""Quitting while a send runs: the question says the send goes on, and when the send
ends while the question is open, it says so (it never keeps saying a send runs)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from mailing.batches import build_batch
from mailing.changes import change_items
from tests.functional.tui.helpers import SIZE, wait_for, wait_until
from tests.functional.tui.test_queue_e2e import LOGIN, PASSWORD, demo_over_smtp
from tests.smtp_server import SMTPTestServer, _Handler


class GatedHandler(_Handler):
    """Takes each message only once the test opens the gate: the send stays running."""

    def __init__(self, server: SMTPTestServer, gate: threading.Event) -> None:
        super().__init__(server)
        self.gate = gate

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 120)
        return await super().handle_DATA(server, session, envelope)


async def test_the_quit_question_follows_a_send_that_ends_while_it_is_open(
    tmp_path: Path,
) -> None:
    from tui.app import MailroomApp

    gate = threading.Event()
    server = SMTPTestServer(users={LOGIN: PASSWORD})
    server._controller.handler = GatedHandler(server, gate)
    try:
        with server:
            store = demo_over_smtp(tmp_path / "home", server, tmp_path)
            batch = build_batch(
                store, "demo", "sales_invoice", administration="HOLT", numbers=["F20260001"]
            )
            approved, _ = change_items(store, "demo", batch.id, "approve", None)
            assert approved
            app = MailroomApp(store, "demo", first_pane="queue")
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(pilot, batch.id)
                await pilot.press("enter")
                await wait_for(pilot, f"approved {len(approved)}")
                await pilot.press("s")
                await wait_for(pilot, "Send the")
                await pilot.press("y")
                queue: Any = app.pane("queue")
                await wait_until(pilot, lambda: queue.sending is not None, "the send started")

                await pilot.press("ctrl+q")
                text = await wait_for(pilot, "A send is running")
                assert "goes on in the background" in " ".join(text.split()), text
                assert "Quit Mailroom?" in text

                gate.set()  # the server takes the message: the send ends
                await wait_for(pilot, "Sending done", tries=600)
                await pilot.press("enter")  # close the Queue's own message
                text = await wait_for(pilot, "The send has finished")
                assert "A send is running" not in text, text
                assert "Quit Mailroom?" in text
                await pilot.press("y")
            assert app.return_code == 0  # it quit
            assert len(server.messages) == len(approved)
    finally:
        gate.set()  # never leave the sender waiting
