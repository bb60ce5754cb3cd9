"""The Tools pane's doctor (d) and audit log (g), and the approval setting, at 80x24."""

from __future__ import annotations

from pathlib import Path

from mailing.batches import build_batch
from mailing.changes import change_items, set_sending_paused
from mailing.demo import load_demo
from store.store import Store
from tests.functional.tui.helpers import SIZE, wait_for


async def test_doctor_and_audit_log_from_the_tools_pane(tmp_path: Path) -> None:
    from tui.app import MailroomApp

    home = tmp_path / "home"
    store = Store(home, "alice")
    load_demo(store)
    batch = build_batch(
        store, "alice", "sales_invoice", administration="HOLT", numbers=["F20260001"]
    )
    change_items(Store(home, "bob"), "bob", batch.id, "approve", None)
    set_sending_paused(store, True, "month end")

    app = MailroomApp(store, "alice", first_pane="tools")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "doctor: ready to send?")
        await pilot.press("d")
        text = await wait_for(pilot, "1 thing to fix", tries=300)
        assert "FIX   Sending: paused: month end" in text  # first: what to fix
        assert "-> mailroom sending resume" in text
        await pilot.press("escape")

        await pilot.press("g")
        text = await wait_for(pilot, "Audit log: 2 change(s)")
        lines = text.splitlines()
        at_pause = next(i for i, ln in enumerate(lines) if "pause sending" in ln)
        at_approve = next(i for i, ln in enumerate(lines) if "approve" in ln and "bob" in ln)
        assert at_pause < at_approve  # newest first
        assert "alice" in lines[at_pause]
        await pilot.press("escape")

        await pilot.press("f6")
        text = await wait_for(pilot, "Approval by")
        assert "Anyone, also who built it" in text
