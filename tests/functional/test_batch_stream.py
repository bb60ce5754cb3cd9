"""The build streamed (mailing/batches/build.py, batch_select.py, batch_stream.py): a month cut in
parts is built in order across them, with both workers; a stored document that no longer
validates becomes a failed item naming its field, the others are built."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pypdf import PdfReader

from mailing.batches import build_batch
from mailing.config import ConfigSnapshot, load_documents
from mailing.demo import DEMO_USER, load_demo
from store.documents_files import PART_SIZE
from store.records import Document
from store.spool import HEAD_FILE
from store.store import Store


def test_a_month_in_parts_is_built_in_order_and_a_damaged_document_fails_alone(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "home", DEMO_USER)
    load_demo(store)
    cfg = ConfigSnapshot.load(store)
    mailable = [
        d
        for d in load_documents(store)
        if d.type == "sales_invoice"
        and d.administration == "HOLT"
        and "sales_invoice" in cfg.relations[(d.administration, d.relation)].opt_in
    ]
    day = dt.date(2031, 5, 7)  # a month of its own, cut in two parts
    copies = [
        mailable[i % len(mailable)].model_copy(update={"number": f"M{i:05d}", "date": day})
        for i in range(PART_SIZE + 40)
    ]
    store.put_many(copies)
    with store.transaction(Document) as tx:  # stored by an older version: no longer valid
        bad = copies[PART_SIZE + 5].dump() | {"currency": "euro"}
        tx.put_raw(bad)
    index = json.loads((store.home / "documents" / "index.json").read_bytes())
    assert [p for p in index["periods"] if p.startswith("2031-05")] == [
        "2031-05-p0000",
        "2031-05-p0001",
    ]

    batch = build_batch(store, DEMO_USER, "sales_invoice", date_from=day, date_to=day, workers=2)

    info = batch.info(fresh=True)
    numbers = [s["number"] for s in info["items"]]
    assert numbers == sorted(d.number for d in copies)  # administration, date, number
    assert [s["item"] for s in info["items"]] == [f"{i:05d}-{n}" for i, n in enumerate(numbers, 1)]
    counts = info["counts_at_build"]
    assert counts["failed"] == 1 and counts["draft"] + counts["print"] == PART_SIZE + 39
    failed = [s for s in info["items"] if s["state"] == "failed"]
    assert [s["number"] for s in failed] == [bad["number"]]
    assert "currency" in failed[0]["reason"] and "euro" in failed[0]["reason"]
    assert len(batch.items("draft")) == counts["draft"]
    printed = PdfReader(batch.path / "print" / "print.pdf")  # combined as it was read
    assert len(printed.pages) >= counts["print"] > 0
    # No summaries or temporary file left behind; only the listing's head cache stays.
    assert sorted(p.name for p in batch.path.glob(".*")) == [HEAD_FILE]
