"""The TUI action "Fetch bounces" (command palette), at 80x24, against a real Dovecot:
the reports are read in the background and the result is said in a message."""

from __future__ import annotations

from pathlib import Path

from mailing.sending import SendOptions, send
from mailing.transports.dsn import envelope_id
from store.secrets import set_secret
from store.spool import Spool
from tests import bounce_samples as samples
from tests.functional.tui.helpers import SIZE, type_text, wait_for
from tests.imap_server import PASSWORD, USER, DovecotServer
from tests.send_support import make_store, spool_batch
from tests.smtp_server import free_port

CUSTOMER = "klant@example.com"


async def test_fetch_bounces_from_the_palette(tmp_path: Path) -> None:
    from tui.app import MailroomApp

    with DovecotServer() as imap:
        ca_file = tmp_path / "ca.pem"
        ca_file.write_bytes(imap.ca_file.read_bytes())
        store = make_store(
            tmp_path / "home",
            {"system": "outbox", "outbox_dir": "outbox", "ca_file": str(ca_file)},
            auth="password",
            username=USER,
            imap_server=imap.host,
            imap_port=imap.port,
        )
        set_secret("P", "password", PASSWORD)
        batch = spool_batch(store, 2, [CUSTOMER])
        assert send(store, "carol", batch.id, SendOptions(backoff=(0.0,))).count("sent") == 2
        imap.append(
            "INBOX",
            samples.postfix_dsn(
                envelope_id(batch.id, "00002-F2"), "<batchtest.2@sender.example>", CUSTOMER
            ),
        )
        # About another recipient of invoice 1 (a forward): proves nothing.
        imap.append(
            "INBOX",
            samples.postfix_dsn(
                envelope_id(batch.id, "00001-F1"),
                "<batchtest.1@sender.example>",
                "dead@fwd.example",
            ),
        )
        async with MailroomApp(store, "alice", first_pane="queue").run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+p")
            await type_text(pilot, "Fetch bounces")
            await wait_for(pilot, "Fetch bounces of profile P")
            await pilot.press("enter")
            text = _flat(await wait_for(pilot, "1 bounce recorded"))
            assert f"F2 ({CUSTOMER}: 550 5.1.1" in text
            assert "1 report proved nothing and changed nothing" in text
            await pilot.press("escape")
            await pilot.press("ctrl+p")
            await type_text(pilot, "Unmatched delivery")
            await wait_for(pilot, "Unmatched delivery reports")
            await pilot.press("enter")
            text = _flat(await wait_for(pilot, "changed nothing (they stay in the"))
            assert "dead@fwd.example" in text and "not one of its recipients" in text
        assert Spool(store.home).batch(batch.id).counts()["bounced"] == 1

        # A mailbox that cannot be reached is said in words; the app goes on.
        from mailing.changes import update_profile

        update_profile(store, "P", {"imap_port": free_port()})
        async with MailroomApp(store, "alice", first_pane="queue").run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+p")
            await type_text(pilot, "Fetch bounces")
            await wait_for(pilot, "Fetch bounces of profile P")
            await pilot.press("enter")
            text = await wait_for(pilot, "Bounces not read")
            assert "Profile P: the mailbox 127.0.0.1:" in text and "cannot be read" in text
            assert "(Connection refused)" in text and "Traceback" not in text


def _flat(screen: str) -> str:
    """The screen's words in one line (a modal wraps its text between borders)."""
    return " ".join(screen.replace("█", " ").replace("│", " ").split())
