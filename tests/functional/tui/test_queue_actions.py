"""Queue pane at 80x24, keyboard only: paging through a large batch, filters, hold, cancel,
approve marked, unknown items (re-send, mark sent), and following another sender."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from store.spool import Spool
from store.store import Store
from tests.functional.tui.helpers import SIZE, settle, wait_for
from tests.send_support import make_store, spool_batch

OUTBOX = {"system": "outbox", "outbox_dir": "outbox", "auth": "none"}


def queue_app(store: Store) -> Any:
    from tui.app import MailroomApp

    return MailroomApp(store, "alice", first_pane="queue")


async def test_paging_filters_hold_cancel_approve_marked(tmp_path: Path) -> None:
    store = make_store(tmp_path / "home", OUTBOX)
    batch = spool_batch(store, 450, approve=False)
    async with queue_app(store).run_test(size=SIZE) as pilot:
        await wait_for(pilot, batch.id)
        await pilot.press("enter")
        text = await wait_for(pilot, "1-50 of 450")  # a page of 50 rows
        assert "F1 " in text
        await pilot.press("end")  # the last message of the whole batch, one page fetched
        text = await wait_for(pilot, "401-450 of 450")
        assert "F450" in text
        await pilot.press("home")
        await wait_for(pilot, "1-50 of 450")
        await pilot.press("ctrl+f")
        await wait_for(pilot, "51-100 of 450")
        await pilot.press("home")

        # Hold the first (asks), release it and hold it again, cancel the second (asks),
        # approve two marked ones.
        await pilot.press("h")
        await wait_for(pilot, "Hold 1 item? They are not sent until released (u).")
        await pilot.press("y")
        text = await wait_for(pilot, "held 1")
        await pilot.press("u")
        await wait_for(pilot, "Release 1 item?")
        await pilot.press("y")
        text = await wait_for(pilot, "approved 1")
        await pilot.press("h")
        await wait_for(pilot, "Hold 1 item?")
        await pilot.press("y")
        text = await wait_for(pilot, "held 1")
        await pilot.press("down", "x")
        await wait_for(pilot, "Cancel 1 item?")
        await pilot.press("y")
        text = await wait_for(pilot, "cancelled 1")
        await pilot.press("down", "space", "space")
        await wait_for(pilot, "2 marked")
        await pilot.press("a")
        text = await wait_for(pilot, "Approve the 2 marked draft messages?")
        assert "2 messages will be mailed" in text
        await pilot.press("y")
        text = await wait_for(pilot, "approved 2")
        assert "draft 446" in text, text

        # Filter by state: f cycles all -> draft -> approved.
        await pilot.press("f", "f")
        text = await wait_for(pilot, "filter: approved")
        assert "1-2 of 2" in text
        # Warnings only: these messages have none.
        await pilot.press("w")
        text = await wait_for(pilot, "warnings only")
        assert "no items" in text

    b = Spool(store.home).batch(batch.id)
    counts = b.counts()
    assert (counts["held"], counts["cancelled"], counts["approved"]) == (1, 1, 2)
    approvals = b.approved_hashes()
    assert sorted(approvals) == ["00003-F3", "00004-F4"]
    assert approvals["00003-F3"]["by"] == "alice"


async def test_approve_dry_run_counts_what_the_approval_approves(tmp_path: Path) -> None:
    """A marked item already sent is not "to be mailed": the dry run and the approval
    both count the one draft, and no document number or state word is left over."""
    store = make_store(tmp_path / "home", OUTBOX)
    batch = spool_batch(store, 3, approve=False)
    first = sorted(batch.all_items())[0]
    assert batch.move(first, "email", "draft", "sent")
    async with queue_app(store).run_test(size=SIZE) as pilot:
        await wait_for(pilot, batch.id)
        await pilot.press("enter")
        await wait_for(pilot, "1-3 of 3")
        await pilot.press("home", "space", "space")
        await wait_for(pilot, "2 marked")
        await pilot.press("a")
        text = await wait_for(pilot, "Approve the 1 marked draft message?")
        assert "1 message will be mailed" in text, text
        assert "Already: 1 sent" in text, text
        await pilot.press("y")
        text = await wait_for(pilot, "approved 1")
        assert "is sent" not in text and "not:" not in text, text
    counts = Spool(store.home).batch(batch.id).counts()
    assert (counts["approved"], counts["sent"], counts["draft"]) == (1, 1, 1)


async def test_unknown_items_resend_and_mark_sent(tmp_path: Path) -> None:
    store = make_store(tmp_path / "home", OUTBOX)
    batch = spool_batch(store, 3, approve=True)
    # Two messages were in flight when a sender died.
    for item in ("00001-F1", "00002-F2"):
        assert batch.move(item, "email", "approved", "unknown")
    async with queue_app(store).run_test(size=SIZE) as pilot:
        await wait_for(pilot, batch.id)
        await pilot.press("enter")
        text = await wait_for(pilot, "unknown 2")
        assert "UNKNOWN" in text
        await pilot.press("r")
        await wait_for(pilot, "Send 1 message again")
        await pilot.press("y")
        text = await wait_for(pilot, "approved 2")
        await pilot.press("down", "k")
        await wait_for(pilot, "Mark 1 unknown message as sent")
        await pilot.press("y")
        text = await wait_for(pilot, "sent 1")
        # Marking a message that is not unknown is refused with our message.
        await pilot.press("k")
        await pilot.press("y")
        text = await wait_for(pilot, "Not every item was changed")
        assert "is sent;" in text and "unknown messages can be marked sent" in text, text
        assert "Traceback" not in text
    counts = Spool(store.home).batch(batch.id).counts()
    assert (counts["approved"], counts["sent"], counts["unknown"]) == (2, 1, 0)


async def test_follows_another_sender(tmp_path: Path) -> None:
    store = make_store(tmp_path / "home", OUTBOX)
    batch = spool_batch(store, 5, approve=True)
    spool = Spool(store.home)
    async with queue_app(store).run_test(size=SIZE) as pilot:
        await wait_for(pilot, batch.id)
        await pilot.press("enter")
        await wait_for(pilot, "approved 5")
        with spool.sender_lock("bob"):
            text = await wait_for(pilot, "SENDING NOW by bob")
            # The other process sends two: the pane follows from the spool.
            for item in ("00001-F1", "00002-F2"):
                batch.move(item, "email", "approved", "sent")
            text = await wait_for(pilot, "2/5 of this batch done")
            assert "sent 2" in text
            # Our own send is not started while bob sends: the dialog says who sends
            # and that that send goes on.
            await pilot.press("s")
            text = await wait_for(pilot, "A send is already running")
            assert "bob is sending" in text and "it goes on" in text
            assert "stopped" not in text
            await pilot.press("enter")
        text = await wait_for(pilot, "The other sender has finished")


async def test_command_palette_opens_a_batch(tmp_path: Path) -> None:
    from tui.app import MailroomApp

    store = make_store(tmp_path / "home", OUTBOX)
    batch = spool_batch(store, 4, approve=False)
    app = MailroomApp(store, "alice", first_pane="profiles")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"open", "space", *"batch", "space")
        await pilot.press(*batch.id[-4:])
        await wait_for(pilot, f"Open batch {batch.id}")
        await pilot.press("enter")
        text = await wait_for(pilot, f"Queue: batch {batch.id}")
        assert "draft 4" in text


async def test_an_item_seen_in_two_state_folders_mid_move_is_listed_once(tmp_path: Path) -> None:
    """The sender moves items between state folders while the pane lists them one
    folder after another: an item seen in both is one row, never a crash."""
    import os

    store = make_store(tmp_path / "home", OUTBOX)
    batch = spool_batch(store, 3, approve=True)
    spool = Spool(store.home)
    async with queue_app(store).run_test(size=SIZE) as pilot:
        await wait_for(pilot, batch.id)
        await pilot.press("enter")
        await wait_for(pilot, "approved 3")
        with spool.sender_lock("bob"):
            await wait_for(pilot, "SENDING NOW by bob")
            # As the listing sees it halfway through a rename: in approved and in sent.
            approved = batch.file_of("00001-F1", "email", "approved")
            (batch.path / "sent").mkdir(exist_ok=True)
            os.link(approved, batch.path / "sent" / approved.name)
            text = await wait_for(pilot, "sent 1")
            assert "Something went wrong" not in text
            assert sum("F1 " in line for line in text.splitlines()) == 1, text
            approved.unlink()
            text = await wait_for(pilot, "1/3 of this batch done")
            assert "Something went wrong" not in text
