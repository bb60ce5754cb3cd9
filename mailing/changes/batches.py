"""The doors for changes to a batch: approve, hold, cancel, resend, mark sent.

One table says which items each action takes, so the Queue pane and the command
line cannot drift apart (they did: cancel took failed render items in one and not
in the other).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.spool import Batch
    from store.store import Store


@dataclass(frozen=True)
class BatchAction:
    name: str
    done: str  # "held": for messages and the event log
    sources: tuple[str, ...]  # states an item may be in
    dst: str
    kinds: tuple[str, ...]  # "email" messages, "error" items that could not be rendered


BATCH_ACTIONS: dict[str, BatchAction] = {
    "approve": BatchAction("approve", "approved", ("draft", "held"), "approved", ("email",)),
    "hold": BatchAction("hold", "held", ("draft", "approved"), "held", ("email",)),
    "release": BatchAction("release", "released", ("held",), "approved", ("email",)),
    "cancel": BatchAction(
        "cancel",
        "cancelled",
        ("draft", "approved", "held", "unknown", "failed"),
        "cancelled",
        ("email", "error"),
    ),
    "resend": BatchAction(
        "resend", "approved again", ("unknown", "failed"), "approved", ("email",)
    ),
    "mark_sent": BatchAction("mark_sent", "marked sent", ("unknown",), "sent", ("email",)),
}


def change_items(
    store: Store, user: str, batch_id: str, action: str, items: Iterable[str] | None
) -> tuple[list[str], list[tuple[str, str]]]:
    """Do ``action`` to ``items`` of a batch (None: every item the action applies to).

    Returns (done, [(item, why not)]).
    """
    from store.errors import MailroomError
    from store.spool import Spool

    spec = BATCH_ACTIONS.get(action)
    if spec is None:
        raise MailroomError(
            f"{action!r} is not something that can be done to a batch.",
            field="action",
            value=action,
            fix=f"use one of {', '.join(BATCH_ACTIONS)}.",
        )
    batch = Spool(store.home).batch(batch_id)
    try:
        if action in ("approve", "resend", "release"):
            _four_eyes(store, user, batch_id, batch.info().get("created_by") or "")
        done, skipped = _do(store, user, batch, spec, items)
    finally:
        batch.close()
    if done:
        from mailing.changes.audit import append

        append(
            store.home,
            user,
            action.replace("_", " "),
            f"batch {batch_id}",
            {"states": list(spec.sources)},
            {"state": spec.dst, "items": done[:50], "count": len(done)},
        )
    return done, skipped


def _four_eyes(store: Store, user: str, batch_id: str, builder: str) -> None:
    """With ``approval: other-user`` who built a batch may not approve its messages."""
    from mailing.changes.problems import ChangeRefused, Problem
    from store.records import User

    if store.system().approval != "other-user" or not builder or builder != user:
        return
    others = sorted(u.name for u in store.all(User) if u.name != builder)
    who = (
        f"another administrator, e.g. {', '.join(others)}"
        if others
        else f"any administrator other than {builder}"
    )
    raise ChangeRefused(
        f"Batch {batch_id} not approved",
        [
            Problem(
                f"batch {batch_id}",
                f"was built by {builder}, and this office approves with four eyes "
                "(approval: other-user): who built a batch may not approve it",
                user,
                f"ask {who} to approve it.",
            )
        ],
    )


def _do(
    store: Store, user: str, batch: Batch, spec: BatchAction, items: Iterable[str] | None
) -> tuple[list[str], list[tuple[str, str]]]:
    from mailing.sending import mark_sent, resend
    from store.errors import MailroomError

    action = spec.name
    if action == "approve":
        return batch.approve(None if items is None else list(items), user)
    if action in ("resend", "mark_sent"):
        fn = resend if action == "resend" else mark_sent
        done: list[str] = []
        skipped: list[tuple[str, str]] = []
        names = (
            [r.item for s in spec.sources for r in batch.items(s) if r.kind in spec.kinds]
            if items is None
            else list(items)
        )
        for name in names:
            try:
                done.append(fn(store, user, batch.id, name))
            except MailroomError as exc:
                skipped.append((name, exc.message))
        return done, skipped
    return batch.transition(items, spec.sources, spec.dst, spec.done, user, kinds=spec.kinds)
