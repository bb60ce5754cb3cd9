"""The states of a spool item and the one table of the moves allowed between them.

A state's value is the name of its folder in the batch (``draft/``, ``approved/``,
...): the state of an item is the folder its file is in. Every change of state,
by whatever part of the program, is checked against :data:`TRANSITIONS`
(:meth:`store.spool.Batch.advance` and :meth:`~store.spool.Batch.transition`).
"""

from __future__ import annotations

from enum import StrEnum

from store.spool.errors import SpoolError


class State(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    HELD = "held"
    SENDING = "sending"
    SENT = "sent"
    BOUNCED = "bounced"
    FAILED = "failed"
    UNKNOWN = "unknown"
    PRINT = "print"
    CANCELLED = "cancelled"


# Every state folder of a batch, in the order they are shown.
STATES: tuple[str, ...] = tuple(s.value for s in State)

# from-state -> the states an item may go to from there (and who moves it so).
TRANSITIONS: dict[State, frozenset[State]] = {
    # approve (with the message's SHA-256), hold, cancel
    State.DRAFT: frozenset({State.APPROVED, State.HELD, State.CANCELLED}),
    # approve, cancel
    State.HELD: frozenset({State.APPROVED, State.CANCELLED}),
    # the sender's claim; refused at send (changed since approval, profile gone);
    # hold; cancel
    State.APPROVED: frozenset({State.SENDING, State.FAILED, State.HELD, State.CANCELLED}),
    # accepted by the server; refused for good (5xx, every recipient); the
    # connection dropped after the data, or found here at start after an offer;
    # back to approved: deferred, profile paused, stop asked, or found here at
    # start never offered
    State.SENDING: frozenset({State.SENT, State.FAILED, State.UNKNOWN, State.APPROVED}),
    # resend (same bytes, same Message-ID), mark sent, cancel
    State.UNKNOWN: frozenset({State.APPROVED, State.SENT, State.CANCELLED}),
    # resend, cancel
    State.FAILED: frozenset({State.APPROVED, State.CANCELLED}),
    # a delivery report came back after the server took it (`mailroom bounces fetch`)
    State.SENT: frozenset({State.BOUNCED}),
    # final: nothing moves an item out of these
    State.BOUNCED: frozenset(),
    State.PRINT: frozenset(),
    State.CANCELLED: frozenset(),
}


class TransitionError(SpoolError):
    """A change of state the table does not allow; nothing was changed."""

    def __init__(self, batch_id: str, item: str | None, src: State, dst: State) -> None:
        self.batch_id = batch_id
        self.item = item
        self.src = src
        self.dst = dst
        what = f"Item {item} of batch {batch_id}" if item else f"An item of batch {batch_id}"
        targets = [s.value for s in State if s in TRANSITIONS[src]]
        if targets:
            fix = f"from {src} an item can go only to {', '.join(targets)}."
        else:
            fix = f"{src} is final: no item leaves it."
        super().__init__(
            f"{what} cannot go from {src} to {dst}; nothing was changed.",
            field="item" if item else "state",
            value=item if item else src.value,
            fix=fix,
        )


def state_of(name: str) -> State:
    """The state called ``name`` (a ``State`` or its folder name)."""
    try:
        return State(name)
    except ValueError:
        raise SpoolError(
            f"{name!r} is not a state of a spool item.",
            field="state",
            value=name,
            fix=f"use one of {', '.join(STATES)}.",
        ) from None


def allowed(src: str, dst: str) -> bool:
    """Whether the table lets an item go from ``src`` to ``dst``."""
    return state_of(dst) in TRANSITIONS[state_of(src)]


def check_transition(batch_id: str, item: str | None, src: str, dst: str) -> tuple[State, State]:
    """Both states, or TransitionError naming the item and both states."""
    s, d = state_of(src), state_of(dst)
    if d not in TRANSITIONS[s]:
        raise TransitionError(batch_id, item, s, d)
    return s, d
