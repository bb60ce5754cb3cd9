"""The index of sends (mailing/batches/history_index.py): "was this document sent before?" from
a few small files, true after every change to the spool, rebuilt when damaged."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from mailing.batches import INDEX_DIR, document_history, document_states
from store.spool import Batch, Spool, now_iso


def make_batch(home: Path, numbers: list[str], state: str, *, at: str = "") -> Batch:
    """A built batch of invoices of administration A, each message in ``state`` (sent
    ones with their "sent" event), as the build and ``mailroom send`` leave them."""
    spool = Spool(home)
    batch = spool.new_batch()
    items = []
    for i, number in enumerate(numbers, 1):
        item = f"{i:05d}-{number}"
        mid = f"<{number}@a.example>"
        raw = f"Message-ID: {mid}\r\nSubject: Invoice {number}\r\n\r\nInvoice.\r\n".encode()
        meta = {"item": item, "kind": "email", "message_id": mid, "document": {"number": number}}
        batch.add_item(item, "email", state, raw, meta, sync=False)
        if state == "sent":
            ev: dict[str, Any] = {"item": item, "event": "sent", "state": "sent"}
            ev.update({"message_id": mid, "accepted": [f"c{i}@x.example"], "at": at})
            batch.log(ev)
        items.append({"item": item, "number": number, "administration": "A", "kind": "email"})
    batch.write_info(
        {
            "id": batch.id,
            "type": "sales_invoice",
            "created_by": "anna",
            "created_at": now_iso(),
            "items": items,
            "approvals": [],
        }
    )
    batch.sync()
    batch.close()
    return batch


def key(number: str) -> tuple[str, str, str]:
    return ("A", "sales_invoice", number)


def test_sent_and_waiting_documents_and_a_change_of_state_are_seen(tmp_path: Path) -> None:
    home = tmp_path / "h"
    old = make_batch(home, ["F1", "F2"], "sent", at="2026-10-01T10:00:00")
    new = make_batch(home, ["F3", "F4"], "draft")
    h = document_history(home, keys=[key("F1"), key("F3"), key("F9")])
    last = h.last_sent(key("F1"))
    assert last is not None and (last.batch, last.message_id) == (old.id, "<F1@a.example>")
    assert last.at == "2026-10-01T10:00:00" and last.to == ("c1@x.example",)
    assert h.open == {key("F3"): (new.id, "00001-F3", "draft")}
    assert h.last_sent(key("F9")) is None
    # The administrator cancels F3: the next question sees it, without a stale index.
    moved, _ = Spool(home).batch(new.id).transition(["F3"], ("draft",), "cancelled", "cancel", "b")
    assert moved == ["00001-F3"]
    h = document_history(home, keys=[key("F3"), key("F4")])
    assert key("F3") not in h.open and h.open[key("F4")][0] == new.id
    states = document_states(home)
    assert states[key("F1")] == ("sent", old.id) and states[key("F4")] == ("in a batch", new.id)
    assert key("F3") not in states


def test_a_batch_that_did_not_change_is_not_read_again(tmp_path: Path) -> None:
    home = tmp_path / "h"
    old = make_batch(home, ["F1"], "sent", at="2026-10-01T10:00:00")
    assert document_history(home, keys=[key("F1")]).last_sent(key("F1")) is not None
    # Its event log is overwritten with bytes of the same size and time: were it read
    # again, F1's send would be gone.
    log = old.path / "events.jsonl"
    st = log.stat()
    log.write_bytes(b"x" * st.st_size)
    os.utime(log, ns=(st.st_atime_ns, st.st_mtime_ns))
    make_batch(home, ["F2"], "draft")  # another batch is new: it alone is read
    h = document_history(home, keys=[key("F1"), key("F2")])
    last = h.last_sent(key("F1"))
    assert last is not None and last.at == "2026-10-01T10:00:00"
    assert key("F2") in h.open


def test_a_damaged_or_missing_index_is_rebuilt_and_a_removed_batch_forgotten(
    tmp_path: Path,
) -> None:
    home = tmp_path / "h"
    first = make_batch(home, ["F1"], "sent", at="2026-10-01T10:00:00")
    second = make_batch(home, ["F1", "F2"], "sent", at="2026-11-01T10:00:00")
    h = document_history(home)
    assert [r.batch for r in h.sent[key("F1")]] == [first.id, second.id]
    folder = home / "spool" / INDEX_DIR
    for f in folder.glob("*.json"):
        f.write_bytes(b"{ damaged")
    h = document_history(home, keys=[key("F1")])
    assert [r.batch for r in h.sent[key("F1")]] == [first.id, second.id]
    shutil.rmtree(second.path)
    h = document_history(home, keys=[key("F1"), key("F2")])
    assert [r.batch for r in h.sent[key("F1")]] == [first.id]
    assert key("F2") not in h.sent
    index = json.loads((folder / "batches.json").read_bytes())
    assert set(index["batches"]) == {first.id}
    shutil.rmtree(folder)
    assert document_history(home, keys=[key("F1")]).last_sent(key("F1")) is not None


def test_the_states_of_a_page_of_new_documents_read_their_shards_not_the_years(
    tmp_path: Path,
) -> None:
    from mailing.batches import HistoryIndex

    home = tmp_path / "h"
    years = []
    for year in range(3):  # years of sent invoices H000001..H001500
        numbers = [f"H{i:06d}" for i in range(year * 500 + 1, year * 500 + 501)]
        years.append(make_batch(home, numbers, "sent", at=f"202{year}-06-01T10:00:00"))
    new = [f"N{i:03d}" for i in range(1, 21)]
    waiting = make_batch(home, new, "draft")
    page = [key(n) for n in new]
    assert document_states(home, page) == {k: ("in a batch", waiting.id) for k in page}
    # Numbers in a row share a shard: the page reads one shard file, not all 1,500 sends.
    index = HistoryIndex(home)
    assert len(index.entries(page)) == 20
    assert len(index._shards) == 1
    (only,) = index._shards.values()
    assert sum(len(held["docs"]) for held in only.values()) == 20
    # Five of them are sent (another batch): shown sent; that batch removed: waiting again.
    sent = make_batch(home, new[:5], "sent", at="2026-12-01T09:00:00")
    states = document_states(home, page)
    assert {k for k, v in states.items() if v == ("sent", sent.id)} == set(page[:5])
    assert all(states[k] == ("in a batch", waiting.id) for k in page[5:])
    shutil.rmtree(sent.path)
    assert document_states(home, page) == {k: ("in a batch", waiting.id) for k in page}
    assert document_states(home, [key("H000777")]) == {key("H000777"): ("sent", years[1].id)}
