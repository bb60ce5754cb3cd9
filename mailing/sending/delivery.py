"""What "sent" means: the server accepted every To and Cc recipient.

The profile's Bcc (the office's own copy) never counts as delivery: a message whose
customer address was refused is a failure even when the Bcc went through.

Per item, :class:`Recipients` keeps each envelope recipient's reply over every
attempt: who took it, who refused it for good (5xx), who asked to try later (4xx).
A retry goes to the recipients still waiting only, with the same bytes; one that
accepted it once is never offered it again (:func:`delivered_before` reads that
back from the batch's event log, so a later run knows it too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Reply = tuple[int, str]


def customers(meta: dict[str, Any], rcpts: list[str]) -> set[str]:
    """The To and Cc recipients of an item (every recipient when it does not say)."""
    chosen = meta.get("recipients") or {}
    return {*chosen.get("to", []), *chosen.get("cc", [])} or set(rcpts)


def refusal_sentence(refused: dict[str, Reply], accepted: list[str]) -> str:
    """Why an item whose customer address was refused is not sent, and what to do."""
    who = ", ".join(f"{r} ({c} {m})" for r, (c, m) in refused.items())
    took = (
        f"it took the message only for {', '.join(accepted)}"
        if accepted
        else "it took the message for nobody"
    )
    return (
        f"The server refused {who}; {took}. Correct the address, print the document, "
        "or send it again."
    )


def waiting_sentence(waiting: dict[str, Reply], delivered: list[str]) -> str:
    who = ", ".join(f"{r} ({c} {m})" for r, (c, m) in waiting.items())
    done = f" It was delivered to {', '.join(delivered)}." if delivered else ""
    return (
        f"The server asked to try {who} again later.{done} The next send offers it to the "
        "waiting recipients only."
    )


@dataclass
class Recipients:
    """One item's envelope recipients and what the server said to each."""

    customers: set[str]
    pending: list[str]
    delivered: list[str] = field(default_factory=list)
    refused: dict[str, Reply] = field(default_factory=dict)  # for good (5xx)
    waiting: dict[str, Reply] = field(default_factory=dict)  # try later (4xx)

    @classmethod
    def start(
        cls, meta: dict[str, Any], rcpts: list[str], delivered: Iterable[str] = ()
    ) -> Recipients:
        done = [r for r in rcpts if r in set(delivered)]
        return cls(
            customers=customers(meta, rcpts),
            pending=[r for r in rcpts if r not in done],
            delivered=done,
        )

    def take(self, accepted: list[str], refused: dict[str, Reply]) -> None:
        """One attempt's replies; the next attempt goes to the waiting recipients only."""
        for r in accepted:
            if r not in self.delivered:
                self.delivered.append(r)
            self.waiting.pop(r, None)
        for r, (code, text) in refused.items():
            if 400 <= code < 500:
                self.waiting[r] = (code, text)
            else:
                self.refused[r] = (code, text)
                self.waiting.pop(r, None)
        self.pending = [r for r in self.waiting if r in self.customers]

    @property
    def customers_refused(self) -> dict[str, Reply]:
        return {r: v for r, v in self.refused.items() if r in self.customers}

    @property
    def customers_waiting(self) -> dict[str, Reply]:
        return {r: v for r, v in self.waiting.items() if r in self.customers}

    def verdict(self) -> str:
        """``failed`` (a customer refused for good), ``waiting`` (a customer to try
        again later) or ``sent`` (every customer took it)."""
        if self.customers_refused:
            return "failed"
        if self.customers_waiting or not (self.customers & set(self.delivered)):
            return "waiting"
        return "sent"


# The events that list the recipients a server took the message for.
ACCEPTED_EVENTS = frozenset(
    {"recipients", "recipients-refused", "recipients-deferred", "attempt-failed", "sent"}
)


def delivered_before(events: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """Per item, the recipients a server already accepted it for (any earlier attempt)."""
    out: dict[str, set[str]] = {}
    for ev in events:
        if ev.get("event") in ACCEPTED_EVENTS and isinstance(ev.get("item"), str):
            accepted = ev.get("accepted") or []
            if accepted:
                out.setdefault(ev["item"], set()).update(a for a in accepted if isinstance(a, str))
    return out
