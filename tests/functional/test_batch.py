"""Batch build rules: size limit refused at build, hold/cancel/approve of some items."""

from __future__ import annotations

from pathlib import Path

from mailing.batches import build_batch
from mailing.config import ConfigSnapshot, load_documents
from mailing.demo import DEMO_USER, load_demo
from store.records import Profile
from store.store import Store


def _demo(tmp_path: Path) -> tuple[Store, list[str]]:
    store = Store(tmp_path / "home", DEMO_USER)
    load_demo(store)
    cfg = ConfigSnapshot.load(store)
    numbers = [
        d.number
        for d in load_documents(store)
        if d.type == "sales_invoice"
        and d.administration == "HOLT"
        and "sales_invoice" in cfg.relations[(d.administration, d.relation)].opt_in
    ][:6]
    return store, numbers


def test_message_over_the_profile_limit_fails_at_build_unchanged(tmp_path: Path) -> None:
    store, numbers = _demo(tmp_path)
    with store.transaction() as tx:
        for p in tx.all(Profile):
            p.max_message_bytes = 2000
            tx.put(p)
    batch = build_batch(store, DEMO_USER, "sales_invoice", administration="HOLT", numbers=numbers)
    counts = batch.counts()
    assert counts["failed"] == len(numbers) and counts["draft"] == 0
    item = batch.items("failed")[0].item
    meta = batch.meta(item)
    assert "allows at most 2,000 bytes" in meta["error"]
    assert len(batch.read(item, "email", "failed")) == meta["size"] > 2000
    moved, skipped = batch.approve(None, "boss")
    assert moved == []


def test_hold_cancel_and_approve_some_items(tmp_path: Path) -> None:
    store, numbers = _demo(tmp_path)
    batch = build_batch(store, DEMO_USER, "sales_invoice", administration="HOLT", numbers=numbers)
    items = [r.item for r in batch.items("draft")]
    assert len(items) == len(numbers)
    meta = batch.meta(items[0])
    assert meta["message_id"] and meta["envelope"]["rcpts"]
    raw = batch.read(items[0], "email", "draft")
    assert b"\nBcc:" not in raw and meta["message_id"].encode() in raw
    held, _ = batch.transition([items[0]], ("draft", "approved"), "held", "held", "boss")
    assert held == [items[0]]
    moved, skipped = batch.approve(items[1:3], "boss")
    assert moved == items[1:3] and not skipped
    assert set(batch.approved_hashes()) == set(items[1:3])
    cancelled, _ = batch.transition(None, ("draft",), "cancelled", "cancelled", "boss")
    assert cancelled == items[3:]
    counts = batch.counts()
    assert (counts["held"], counts["approved"], counts["cancelled"]) == (1, 2, len(items) - 3)


def test_selection_by_dates_is_exactly_the_documents_of_the_period(tmp_path: Path) -> None:
    """The stored fields are compared before validating: the same documents as the rule."""
    import datetime as dt

    from mailing.batches import select_documents

    store, _ = _demo(tmp_path)
    docs = load_documents(store)
    dates = sorted({d.date for d in docs if d.type == "sales_invoice"})
    first, last = dates[len(dates) // 4], dates[3 * len(dates) // 4]
    for admin in (None, "HOLT"):
        got = select_documents(
            store, "sales_invoice", administration=admin, date_from=first, date_to=last
        )
        expected = [
            d
            for d in docs
            if d.type == "sales_invoice"
            and (admin is None or d.administration == admin)
            and first <= d.date <= last
        ]
        assert {d.id for d in got} == {d.id for d in expected} and expected
        assert all(first <= d.date <= last for d in got)
    # the last day counts; the day after does not
    only = select_documents(store, "sales_invoice", date_from=last, date_to=last)
    assert only and {d.date for d in only} == {last}
    after = last + dt.timedelta(days=1)
    assert all(d.date >= after for d in select_documents(store, "sales_invoice", date_from=after))
