"""`batch list` and the Queue's batches read a small head file beside ``batch.json``
(``Batch.head``) instead of every item of every batch: the counts and approvals shown
stay right for a new batch, after approve and send, for an older batch without the head
file, and when batch.json changes behind the head's back."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mailing.sending import send
from screens.widgets.spool_batches import list_batches
from store.spool import COUNTS_FILE, HEAD_FILE, STATES, Spool
from tests.send_support import make_store, spool_batch
from tui.cli import main


def listed(home: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    assert main(["--home", str(home), "batch", "list", "--json"]) == 0
    return {r["id"]: r for r in json.loads(capsys.readouterr().out)}


def test_counts_and_approvals_of_a_new_batch_after_approve_and_after_send(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = make_store(tmp_path / "home", {"system": "outbox"})
    batch = spool_batch(store, 3, approve=False)
    assert (batch.path / HEAD_FILE).exists()  # written with batch.json
    row = listed(store.home, capsys)[batch.id]
    assert row["counts"] == {"draft": 3} and row["approved_by"] == []
    assert (row["type"], row["created_by"], row["complete"]) == ("sales_invoice", "alice", True)

    Spool(store.home).batch(batch.id).approve(None, "bob")
    row = listed(store.home, capsys)[batch.id]
    assert row["counts"] == {"approved": 3} and row["approved_by"] == ["bob"]
    queue = {s.id: s for s in list_batches(store.home)}[batch.id]
    assert queue.approved_by == ["bob"] and queue.counts["approved"] == 3

    assert send(store, "carol").count("sent") == 3
    row = listed(store.home, capsys)[batch.id]
    assert row["counts"] == {"sent": 3} and row["approved_by"] == ["bob"]
    assert main(["--home", str(store.home), "batch", "list"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(batch.id))
    assert "3 sent" in line and "sales_invoice" in line and "alice" in line


def test_an_older_batch_without_the_head_file_is_listed_and_given_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = make_store(tmp_path / "home", {"system": "outbox"})
    batch = spool_batch(store, 2)
    (batch.path / HEAD_FILE).unlink()  # as a batch built before the head file existed
    row = listed(store.home, capsys)[batch.id]
    assert row["counts"] == {"approved": 2} and row["approved_by"] == ["bob"]
    assert row["created_by"] == "alice" and row["complete"]
    assert (batch.path / HEAD_FILE).exists()  # for the next listing
    assert listed(store.home, capsys)[batch.id] == row


def test_a_batch_json_changed_behind_the_head_is_read_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = make_store(tmp_path / "home", {"system": "outbox"})
    batch = spool_batch(store, 1, approve=False)
    assert listed(store.home, capsys)[batch.id]["created_by"] == "alice"
    # Another tool rewrites batch.json in place (same inode), the head file left stale.
    info = json.loads((batch.path / "batch.json").read_bytes())
    info["created_by"] = "someone-else"
    (batch.path / "batch.json").write_text(json.dumps(info))
    assert listed(store.home, capsys)[batch.id]["created_by"] == "someone-else"
    # Damaged behind the head's back: shown as damaged, not from the stale head.
    (batch.path / "batch.json").write_bytes(b"{garbage")
    row = listed(store.home, capsys)[batch.id]
    assert "not valid JSON" in row["damaged"] and not row["complete"]


def test_counts_kept_beside_a_settled_batch_follow_every_change_of_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = make_store(tmp_path / "home", {"system": "outbox"})
    batch = spool_batch(store, 3, approve=False)
    assert listed(store.home, capsys)[batch.id]["counts"] == {"draft": 3}
    assert not (batch.path / COUNTS_FILE).exists()  # its folders changed just now
    for state in STATES:  # as a batch built last month
        if (batch.path / state).exists():
            os.utime(batch.path / state, ns=(10**18, 10**18))
    assert listed(store.home, capsys)[batch.id]["counts"] == {"draft": 3}
    assert (batch.path / COUNTS_FILE).exists()
    assert listed(store.home, capsys)[batch.id]["counts"] == {"draft": 3}
    Spool(store.home).batch(batch.id).approve(None, "bob")
    assert listed(store.home, capsys)[batch.id]["counts"] == {"approved": 3}
    assert send(store, "carol").count("sent") == 3
    assert listed(store.home, capsys)[batch.id]["counts"] == {"sent": 3}
    assert {s.id: s for s in list_batches(store.home)}[batch.id].counts["sent"] == 3
