"""What "sent" means: the server accepted every To and Cc recipient.

The profile's Bcc (the office's own copy) never counts as delivery: a message whose
customer address was refused is a failure even when the Bcc went through.
"""

from __future__ import annotations

from typing import Any


def customer_refusals(
    meta: dict[str, Any], rcpts: list[str], refused: dict[str, tuple[int, str]]
) -> dict[str, tuple[int, str]]:
    """The refused recipients that were To or Cc (every recipient, when the item does
    not say which were)."""
    chosen = meta.get("recipients") or {}
    wanted = {*chosen.get("to", []), *chosen.get("cc", [])} or set(rcpts)
    return {r: v for r, v in refused.items() if r in wanted}


def refusal_sentence(refused: dict[str, tuple[int, str]], accepted: list[str]) -> str:
    """Why an item whose customer address was refused is not sent, and what to do."""
    who = ", ".join(f"{r} ({c} {m})" for r, (c, m) in refused.items())
    took = ", ".join(accepted)
    return (
        f"The server refused {who}; it took the message only for {took}. Correct the "
        "address, print the document, or send it again."
    )
