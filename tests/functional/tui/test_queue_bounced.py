"""The Queue pane at 80x24 after a delivery report came back: the item's state word is
"bounced" with the reason, and the state filter has "bounced"."""

from __future__ import annotations

from pathlib import Path

from mailing.bounces.intake import ItemIndex, record_bounces
from mailing.bounces.parse import read_report
from mailing.sending import SendOptions, send
from mailing.transports.dsn import envelope_id
from tests import bounce_samples as samples
from tests.functional.tui.helpers import SIZE, wait_for
from tests.send_support import make_store, spool_batch

OUTBOX = {"system": "outbox", "outbox_dir": "outbox", "auth": "none"}
CUSTOMER = "klant@example.com"


async def test_a_bounced_item_shows_bounced_with_the_reason_and_filters(tmp_path: Path) -> None:
    from tui.app import MailroomApp

    store = make_store(tmp_path / "home", OUTBOX)
    batch = spool_batch(store, 3, [CUSTOMER])
    assert send(store, "carol", batch.id, SendOptions(backoff=(0.0,))).count("sent") == 3
    item = "00002-F2"
    report = read_report(
        samples.postfix_dsn(envelope_id(batch.id, item), "<batchtest.2@sender.example>", CUSTOMER)
    )
    assert report is not None
    bounces = record_bounces(store.home, report, ItemIndex(store.home)).bounces
    assert bounces and bounces[0].item == item and bounces[0].kind == "hard"

    async with MailroomApp(store, "alice", first_pane="queue").run_test(size=SIZE) as pilot:
        await wait_for(pilot, batch.id)
        await pilot.press("enter")
        text = await wait_for(pilot, "bounced (hard) for klant@example")
        assert "sent 2" in text and "bounced 1" in text
        await pilot.press(
            *["f"] * 6
        )  # all -> draft -> approved -> held -> sending -> sent -> bounced
        text = await wait_for(pilot, "filter: bounced")
        assert "1-1 of 1" in text and "F2" in text and "F1 " not in text
        # Its preview gives the reason from the report.
        await pilot.press("enter")
        text = await wait_for(pilot, "A delivery report came back")
        assert "550 5.1.1" in text


async def test_a_batch_sent_in_test_mode_says_sent_to_the_test_address(tmp_path: Path) -> None:
    from mailing.changes import set_redirect
    from tui.app import MailroomApp

    store = make_store(tmp_path / "home", OUTBOX)
    set_redirect(store, "alice", "test@office.example")
    batch = spool_batch(store, 2, [CUSTOMER])
    assert send(store, "carol", batch.id, SendOptions(backoff=(0.0,))).count("sent") == 2
    async with MailroomApp(store, "alice", first_pane="queue").run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, batch.id)
        assert "sent to the test address 2" in text
        await pilot.press("enter")
        text = await wait_for(pilot, "sent to the test address only")
        assert "sent 2" not in text
