"""Recovery at start: what a sender that died left in ``sending/``.

An item whose last event is its claim, made since this machine last booted, was
never offered to a server (the ``attempt`` event is written before a single byte
goes out, and a killed process loses no written data while the kernel runs): it
goes back to ``approved``. Every other one — offered, or claimed before a reboot or
power loss, when unsynced writes may be lost — goes to ``unknown``, and is never
sent again without an admin's say.

An item whose last event already names where it goes next (the sender writes an
outcome — ``sent`` with the server's reply, ``failed``, ``deferred`` — before the
rename, :meth:`store.spool.Batch.advance` with ``event_first``) was killed between
the two: the rename is completed, and the log already tells why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.spool.states import TRANSITIONS, State, check_transition

if TYPE_CHECKING:
    from store.spool.steps import SteppingBatch


def boot_id() -> str:
    """This boot of the machine (Linux); '' where unknown, which makes recovery strict."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def recover(batch: SteppingBatch) -> list[str]:
    """Deal with every item left in ``sending/``; return those now ``unknown``.

    Call only while holding the sender lock: then nobody is sending.
    """
    left = batch.items(State.SENDING)
    if not left:
        return []
    last = batch.last_events()
    boot = boot_id()
    moved: list[str] = []
    for ref in left:
        ev = last.get(ref.item, {})
        if _settled(ev):
            # The outcome was written, the rename not made: make it (the event is there).
            src, dst = check_transition(batch.id, ref.item, State.SENDING, str(ev["state"]))
            batch.move(ref.item, ref.kind, src, dst)
            continue
        if ev.get("event") == "claimed" and boot and ev.get("boot_id") == boot:
            batch.advance(
                ref.item,
                State.SENDING,
                State.APPROVED,
                {
                    "event": "requeued",
                    "detail": "claimed by a sender that stopped before offering it",
                },
                durable=False,
                kind=ref.kind,
            )
            continue
        if batch.advance(
            ref.item,
            State.SENDING,
            State.UNKNOWN,
            {
                "event": "unknown",
                "detail": "was being sent when the sender stopped; "
                "it may or may not have been delivered",
            },
            durable=False,
            kind=ref.kind,
        ):
            moved.append(ref.item)
    batch.settle(State.UNKNOWN, State.APPROVED, State.SENT, State.FAILED)
    return moved


_ONWARD = frozenset(s.value for s in TRANSITIONS[State.SENDING])
# The sender's outcomes of an item it offered: written before the rename.
OUTCOMES = frozenset({"sent", "recipients-refused", "recipients-deferred", "attempt-failed"})


def _settled(event: dict[str, object]) -> bool:
    """The item's try ended with this outcome, which names the state it goes to."""
    return event.get("event") in OUTCOMES and event.get("state") in _ONWARD
