"""An admin's say over a message the sender could not settle: resend it, or mark it sent.

A message in ``unknown/`` may or may not have been delivered; one in ``failed/``
was refused. Neither is sent again unless an admin says so (``batch resend``), and
an admin who learns that an unknown one did arrive says so (``batch mark-sent``).
Each is one :meth:`store.spool.Batch.advance`, durable before it returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.errors import MailroomError
from store.spool import Spool, State

if TYPE_CHECKING:
    from store.store import Store


def _settle(
    store: Store,
    user: str,
    batch_id: str,
    item: str,
    sources: tuple[State, ...],
    dst: State,
    event: str,
    only: str,
) -> str:
    batch = Spool(store.home).batch(batch_id)
    try:
        name = batch.find_item(item)
        ref = batch.locate(name)
        if ref.kind != "email" or ref.state not in sources:
            raise MailroomError(
                f"Item {name} of batch {batch_id} is {ref.state}; {only}.",
                field="item",
                value=name,
                fix="see its state with `mailroom batch show`.",
            )
        if not batch.advance(name, ref.state, dst, {"event": event, "by": user}):
            raise MailroomError(
                f"Item {name} of batch {batch_id} changed state meanwhile; nothing was done.",
                field="item",
                value=name,
                fix="see its state with `mailroom batch show`.",
            )
    finally:
        batch.close()
    return name


def resend(store: Store, user: str, batch_id: str, item: str) -> str:
    """Put an unknown or failed message back to approved, same bytes, same Message-ID."""
    return _settle(
        store,
        user,
        batch_id,
        item,
        (State.UNKNOWN, State.FAILED),
        State.APPROVED,
        "resend",
        "only unknown or failed messages can be sent again",
    )


def mark_sent(store: Store, user: str, batch_id: str, item: str) -> str:
    """An admin confirms that an unknown message did arrive."""
    return _settle(
        store,
        user,
        batch_id,
        item,
        (State.UNKNOWN,),
        State.SENT,
        "marked-sent",
        "only unknown messages can be marked sent",
    )
