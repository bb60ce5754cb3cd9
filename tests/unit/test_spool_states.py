"""The spool's one state table: every allowed move works and logs one event; every
other move is refused, naming the item and both states, and changes nothing on disk."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from store.errors import MailroomError
from store.spool import (
    STATES,
    TRANSITIONS,
    Batch,
    Spool,
    SpoolError,
    State,
    TransitionError,
    allowed,
    now_iso,
)

ALLOWED = [(src, dst) for src, targets in TRANSITIONS.items() for dst in sorted(targets)]
# Staying put is not a move either: draft -> draft is refused like sent -> approved.
FORBIDDEN = [(s, d) for s, d in itertools.product(State, State) if d not in TRANSITIONS[s]]


def _batch(home: Path, n: int = 1, state: str = "draft") -> tuple[Batch, list[str]]:
    """A batch of ``n`` tiny messages in ``state`` (laid out by the bare rename)."""
    batch = Spool(home).new_batch()
    items = [f"{i:05d}-F{i}" for i in range(1, n + 1)]
    for item in items:
        batch.add_item(item, "email", "draft", b"Subject: x\r\n\r\nx\r\n", {"item": item})
        if state != "draft":
            assert batch.move(item, "email", "draft", state)
    batch.write_info({"id": batch.id, "type": "sales_invoice", "created_at": now_iso()})
    return batch, items


def _snapshot(batch: Batch) -> dict[str, bytes]:
    return {
        str(p.relative_to(batch.path)): p.read_bytes()
        for p in sorted(batch.path.rglob("*"))
        if p.is_file()
    }


def test_the_table_covers_every_state_and_the_folders_are_the_states(tmp_path: Path) -> None:
    assert set(TRANSITIONS) == set(State)
    assert STATES == tuple(s.value for s in State)
    batch, _ = _batch(tmp_path)
    assert {p.name for p in batch.path.iterdir() if p.is_dir()} == {*STATES, "meta"}
    # the final states: nothing leaves them
    assert not TRANSITIONS[State.BOUNCED] | TRANSITIONS[State.CANCELLED] | TRANSITIONS[State.PRINT]
    # a sent message leaves sent only when a delivery report says it bounced
    assert TRANSITIONS[State.SENT] == {State.BOUNCED}


@pytest.mark.parametrize("durable", [True, False])
def test_every_allowed_move_works_and_logs_one_event(tmp_path: Path, durable: bool) -> None:
    batch, items = _batch(tmp_path, len(ALLOWED))
    for item, (src, dst) in zip(items, ALLOWED, strict=True):
        if src != State.DRAFT:
            assert batch.move(item, "email", "draft", src)
        before = list(batch.events())
        ok = batch.advance(item, src, dst, {"event": "walked", "by": "tester"}, durable=durable)
        assert ok, (src, dst)
        assert batch.locate(item).state == dst
        assert not batch.file_of(item, "email", src).exists()
        new = list(batch.events())[len(before) :]
        assert len(new) == 1, (src, dst, new)
        assert {k: new[0][k] for k in ("item", "event", "state", "by")} == {
            "item": item,
            "event": "walked",
            "state": dst.value,
            "by": "tester",
        }
    batch.close()
    counts = batch.counts()
    for dst in {d for _, d in ALLOWED}:
        assert counts[dst] == sum(1 for _, d in ALLOWED if d == dst)


def test_the_event_says_the_state_it_went_to(tmp_path: Path) -> None:
    """An ``item`` or ``state`` in the event given cannot contradict the move."""
    batch, [item] = _batch(tmp_path, 1, "approved")
    assert batch.advance(item, "approved", "held", {"event": "held", "state": "sent", "item": "x"})
    [ev] = list(batch.events())
    assert (ev["item"], ev["state"]) == (item, "held")
    assert list(ev)[:4] == ["at", "item", "event", "state"]
    batch.close()


@pytest.mark.parametrize(("src", "dst"), FORBIDDEN, ids=[f"{s}->{d}" for s, d in FORBIDDEN])
def test_every_other_move_is_refused_and_changes_nothing(
    tmp_path: Path, src: State, dst: State
) -> None:
    batch, [item] = _batch(tmp_path, 1, src)
    before = _snapshot(batch)
    with pytest.raises(TransitionError) as exc:
        batch.advance(item, src, dst, {"event": "walked", "by": "tester"})
    message = str(exc.value)
    assert f"Item {item} of batch {batch.id} cannot go from {src} to {dst}" in message
    assert isinstance(exc.value, MailroomError) and exc.value.value == item
    assert (exc.value.src, exc.value.dst) == (src, dst)
    batch.close()
    assert _snapshot(batch) == before
    assert not allowed(src, dst)


def test_sent_to_approved_and_cancelled_to_sending_are_refused_in_a_sentence(
    tmp_path: Path,
) -> None:
    batch, [a, b] = _batch(tmp_path, 2, "sent")
    batch.move(b, "email", "sent", "cancelled")
    before = _snapshot(batch)
    with pytest.raises(TransitionError) as exc:
        batch.advance(a, "sent", "approved", {"event": "resend"})
    assert str(exc.value) == (
        f"Item {a} of batch {batch.id} cannot go from sent to approved; nothing was changed. "
        "Fix: from sent an item can go only to bounced."
    )
    with pytest.raises(TransitionError) as exc:
        batch.advance(b, State.CANCELLED, State.SENDING, {"event": "claimed"})
    assert f"Item {b} of batch {batch.id} cannot go from cancelled to sending" in str(exc.value)
    with pytest.raises(TransitionError) as exc:
        batch.advance(a, "draft", "sending", {"event": "claimed"})
    assert "from draft an item can go only to approved, held, cancelled." in str(exc.value)
    assert _snapshot(batch) == before


def test_a_lost_race_moves_and_logs_nothing(tmp_path: Path) -> None:
    """The item is not in the from-state (another process moved it first): False."""
    batch, [item] = _batch(tmp_path, 1, "held")
    before = _snapshot(batch)
    assert batch.advance(item, "approved", "sending", {"event": "claimed"}) is False
    batch.close()
    assert _snapshot(batch) == before


def test_a_state_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    batch, [item] = _batch(tmp_path, 1)
    with pytest.raises(SpoolError, match="'returned' is not a state of a spool item"):
        batch.advance(item, "draft", "returned", {"event": "returned"})
    assert batch.locate(item).state == "draft"


def test_many_at_once_go_by_the_same_table(tmp_path: Path) -> None:
    batch, items = _batch(tmp_path, 5)
    moved, skipped = batch.transition(None, ("draft",), "held", "held", "boss")
    assert moved == items and skipped == []
    assert [e["state"] for e in batch.events()] == ["held"] * 5
    # one item sent meanwhile: it is skipped, the others go
    batch.move(items[0], "email", "held", "sent")
    moved, skipped = batch.transition(items, ("held",), "cancelled", "cancelled", "boss")
    assert moved == items[1:] and skipped == [(items[0], "is sent")]
    before = _snapshot(batch)
    with pytest.raises(TransitionError, match=f"An item of batch {batch.id} cannot go from sent"):
        batch.transition(None, ("sent",), "approved", "approved again", "boss")
    with pytest.raises(TransitionError, match="cannot go from cancelled to held"):
        batch.transition(items, ("cancelled", "draft"), "held", "held", "boss")
    batch.close()
    assert _snapshot(batch) == before


def test_error_items_are_cancelled_by_the_same_table(tmp_path: Path) -> None:
    batch, _ = _batch(tmp_path, 0)
    batch.add_item("00001-X", "error", "failed", b"could not render", {"item": "00001-X"})
    assert batch.advance("00001-X", "failed", "cancelled", {"event": "cancelled"}, kind="error")
    assert batch.locate("00001-X").state == "cancelled"
    batch.close()
