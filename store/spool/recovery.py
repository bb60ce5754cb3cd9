"""Recovery at start: what a sender that died left in ``sending/``.

An item whose last event is its claim, made since this machine last booted, was
never offered to a server (the ``attempt`` event is written before a single byte
goes out, and a killed process loses no written data while the kernel runs): it
goes back to ``approved``. Every other one — offered, or claimed before a reboot or
power loss, when unsynced writes may be lost — goes to ``unknown``, and is never
sent again without an admin's say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.spool.states import State

if TYPE_CHECKING:
    from store.spool.batch import Batch


def boot_id() -> str:
    """This boot of the machine (Linux); '' where unknown, which makes recovery strict."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def recover(batch: Batch) -> list[str]:
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
    batch.settle(State.UNKNOWN, State.APPROVED)
    return moved
